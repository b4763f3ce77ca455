package worker

import "time"

// Status is the phase of a worker, the same words on every backend.
type Status string

const (
	StatusPending   Status = "Pending"
	StatusRunning   Status = "Running"
	StatusSucceeded Status = "Succeeded"
	StatusFailed    Status = "Failed"
	StatusUnknown   Status = "Unknown"
)

// Exited tells whether the worker has stopped for good.
func (s Status) Exited() bool { return s == StatusSucceeded || s == StatusFailed }

// Observed is what a backend found: the spec as the object shows it and the
// facts only the backend knows.
type Observed struct {
	Spec      Spec
	Status    Status
	NodeName  string
	IP        string
	UID       string
	StartedAt time.Time
	// Devices are what the worker's ResourceClaim was allocated (DRA
	// only). DevicesLost says that the claim the pod names is gone or
	// no longer allocated: the worker's devices were taken out of band.
	Devices     []Device
	DevicesLost bool
}
