package worker

import (
	"context"
	"fmt"
	"time"
)

// Driver makes workers real on one backend. Every call takes its deadline
// from ctx.
//
// uid is the identity of the object that the Terraform state holds (pod UID,
// container ID). Update and Delete act on that object only: an object of the
// worker's name with another identity was replaced outside Terraform or made
// by another Terraform state, and is never changed or deleted (a
// *ReplacedError). An empty uid, from a state that has none, checks nothing.
type Driver interface {
	// Create makes the worker and waits as waitFor says ("" is
	// DefaultWaitFor). A failed create
	// leaves nothing behind and never deletes an object it did not make: an
	// owned object of the worker's name is waited for (NameWaitWindow) as it
	// may be on its way out, and is otherwise an *ExistsError.
	Create(ctx context.Context, spec *Spec, waitFor WaitFor) (*Observed, error)
	// Read returns nil, nil when the worker is gone.
	Read(ctx context.Context, ref Ref) (*Observed, error)
	// Update applies the changes that this backend makes in place to the
	// object whose identity is uid.
	Update(ctx context.Context, spec *Spec, uid string) (*Observed, error)
	// Delete stops the object whose identity is uid and waits until it is
	// gone; gone already is success. Another object of the worker's name is
	// left alone: a *ReplacedError.
	Delete(ctx context.Context, ref Ref, uid string) error
}

// NotOwnedError says that an object with the worker's name exists but the
// provider did not make it.
type NotOwnedError struct {
	Ref  Ref
	Kind string
}

func (e *NotOwnedError) Error() string {
	return fmt.Sprintf("a %s named %q already exists and was not created by the hodei provider "+
		"(it lacks the label %s=%s); it is left untouched: rename the worker or remove that %s",
		e.Kind, e.Ref.Name, LabelManagedBy, ManagedByValue, e.Kind)
}

// ReplacedError says that the object of the worker's name is not the one the
// Terraform state holds: it has another identity (pod UID, container ID).
// It was left untouched.
type ReplacedError struct {
	Ref      Ref
	Kind     string
	StateUID string
	LiveUID  string
}

func (e *ReplacedError) Error() string {
	word := identityWord(e.Ref)
	return fmt.Sprintf("the %s %s is not the one this Terraform state holds: it has %s %s, the state holds %s %s "+
		"(it was replaced outside Terraform, or another Terraform state or resource made it); it is left untouched",
		e.Kind, objectName(e.Ref), word, e.LiveUID, word, e.StateUID)
}

// CheckIdentity is a *ReplacedError when live is not the object whose
// identity the state holds; an empty stateUID checks nothing.
func CheckIdentity(ref Ref, kind, stateUID, liveUID string) error {
	if stateUID == "" || stateUID == liveUID {
		return nil
	}
	return &ReplacedError{Ref: ref, Kind: kind, StateUID: stateUID, LiveUID: liveUID}
}

// ExistsError says that create found an object of the worker's name that the
// provider made, for this worker name but not for this Terraform resource
// instance as far as it can tell, and that it did not go away within the
// wait. Create leaves it alone: another state, or another resource address
// of this one, may own it.
type ExistsError struct {
	Ref    Ref
	Kind   string
	UID    string
	Waited time.Duration
}

func (e *ExistsError) Error() string {
	waited := ""
	if e.Waited > 0 {
		waited = " and did not go away within " + e.Waited.Round(time.Second).String()
	}
	return fmt.Sprintf("a %s %s (%s %s) made by the hodei provider already exists%s. "+
		"It is left untouched: another Terraform state, or another resource address, may own it "+
		"(create_before_destroy with a fixed name, or a resource address renamed without a moved block, leads here). "+
		"If this resource should manage it, import it: terraform import hodei_worker.<address> %s; "+
		"if nothing manages it, delete that %s; or give the worker a name of its own",
		e.Kind, objectName(e.Ref), identityWord(e.Ref), e.UID, waited, e.Ref.ID(), e.Kind)
}

// NameWaitLimit bounds how long create waits for an owned object of the
// worker's name to go away.
const NameWaitLimit = 30 * time.Second

// NameWaitWindow is how long create waits for an owned object of the
// worker's name to go away: NameWaitLimit, or less when ctx ends sooner.
func NameWaitWindow(ctx context.Context) time.Duration {
	window := NameWaitLimit
	if deadline, ok := ctx.Deadline(); ok {
		window = min(window, max(time.Until(deadline), 0))
	}
	return window
}

func objectName(ref Ref) string {
	if ref.Backend == BackendKubernetes {
		return ref.Namespace + "/" + ref.Name
	}
	return fmt.Sprintf("%q", ref.Name)
}

func identityWord(ref Ref) string {
	if ref.Backend == BackendKubernetes {
		return "UID"
	}
	return "ID"
}

// ObjectKind is what a worker is on its backend: a pod or a container.
func ObjectKind(b Backend) string {
	if b == BackendKubernetes {
		return "pod"
	}
	return "container"
}
