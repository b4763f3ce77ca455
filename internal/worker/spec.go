// Package worker holds the backend-neutral meaning of a Hodei worker: its
// spec, the validation of that spec, the GPU catalog and the canonical form
// stored on every object the provider creates. It knows neither Terraform nor
// any backend's types.
package worker

import (
	"fmt"
	"time"
)

// Backend names where a worker runs.
type Backend string

const (
	BackendDocker     Backend = "docker"
	BackendKubernetes Backend = "kubernetes"
)

// Backends lists the valid backend names.
var Backends = []string{string(BackendDocker), string(BackendKubernetes)}

// Labels and annotations the provider puts on every object it makes.
const (
	LabelManagedBy      = "app.kubernetes.io/managed-by"
	ManagedByValue      = "hodei"
	LabelWorker         = "hodei.io/worker"
	LabelProvider       = "hodei.io/provider"
	AnnotationSpec      = "hodei.io/spec"
	DefaultTopologyKey  = "kubernetes.io/hostname"
	DefaultRestart      = "Always"
	ContainerName       = "worker"
	DefaultNamespace    = "default"
	DefaultGPUNodeLabel = "accelerator"

	DefaultGPUCount           = 1
	DefaultTolerationOperator = "Equal"
	DefaultMaxSkew            = 1
	DefaultWhenUnsatisfiable  = "DoNotSchedule"
)

// Image pull policies, as Kubernetes names them. Unset means Kubernetes's
// own default there (Always for a :latest or untagged image, else
// IfNotPresent) and PullIfNotPresent on Docker.
const (
	PullAlways       = "Always"
	PullIfNotPresent = "IfNotPresent"
	PullNever        = "Never"
)

// WaitFor is how far Create waits for a new worker: wait_for's values.
type WaitFor string

const (
	// WaitRunning: the container runs (through Docker's startup window) and,
	// on Kubernetes, is ready.
	WaitRunning WaitFor = "running"
	// WaitScheduled: the pod is bound to a node; a Docker container is
	// started without waiting.
	WaitScheduled WaitFor = "scheduled"
	// WaitNone: created (a container also started), without waiting.
	WaitNone WaitFor = "none"
	// WaitReady: the readiness probe passes: the pod's Ready condition on
	// Kubernetes, health status "healthy" on Docker. It needs a readiness
	// block.
	WaitReady WaitFor = "ready"
	// DefaultWaitFor is what an unset wait_for means, on every backend.
	DefaultWaitFor = WaitRunning
)

// OrDefault is w, or DefaultWaitFor when w is empty: the one meaning of "".
func (w WaitFor) OrDefault() WaitFor {
	if w == "" {
		return DefaultWaitFor
	}
	return w
}

// Enumerations accepted by the spec.
var (
	RestartPolicies     = []string{"Always", "OnFailure", "Never"}
	WaitForValues       = []string{string(WaitRunning), string(WaitScheduled), string(WaitNone), string(WaitReady)}
	Operators           = []string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}
	TolerationOperators = []string{"Equal", "Exists"}
	TaintEffects        = []string{"NoSchedule", "PreferNoSchedule", "NoExecute", ""}
	WhenUnsatisfiable   = []string{"DoNotSchedule", "ScheduleAnyway"}
	StorageMedia        = []string{"", "Memory"}
	HostPathTypes       = []string{"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"}
	PullPolicies        = []string{PullAlways, PullIfNotPresent, PullNever}
)

// Spec is what a worker declares. Quantities keep the user's spelling; they
// compare by value (see QuantityEqual). Nil and empty maps and lists are kept
// apart so that the canonical form reproduces a configuration exactly.
type Spec struct {
	Name          string            `json:"name"`
	Backend       Backend           `json:"backend"`
	Namespace     string            `json:"namespace,omitempty"`
	Image         string            `json:"image"`
	Command       []string          `json:"command"`
	Args          []string          `json:"args"`
	Env           map[string]string `json:"env"`
	WorkingDir    string            `json:"working_dir,omitempty"`
	Labels        map[string]string `json:"labels"`
	Annotations   map[string]string `json:"annotations"`
	RestartPolicy string            `json:"restart_policy"`
	Resources     *Resources        `json:"resources,omitempty"`
	GPU           *GPU              `json:"gpu,omitempty"`
	Volumes       []Volume          `json:"volumes,omitempty"`
	Scheduling    *Scheduling       `json:"scheduling,omitempty"`
	Security      *Security         `json:"security,omitempty"`

	// ImagePullPolicy is empty when unset: each backend's default (see
	// PullAlways). ImagePullSecrets name Kubernetes Secrets.
	ImagePullPolicy  string   `json:"image_pull_policy,omitempty"`
	ImagePullSecrets []string `json:"image_pull_secrets"`

	// Kubernetes Secret and ConfigMap references (see secrets.go).
	EnvFrom   []EnvFrom `json:"env_from,omitempty"`
	SecretEnv []KeyEnv  `json:"secret_env,omitempty"`
	ConfigEnv []KeyEnv  `json:"config_env,omitempty"`
	// SecretEnvWO holds write-only values: they are never encoded, so no
	// canonical form, state or label carries them. SecretEnvWOVersion is
	// kept: a new version delivers new values.
	SecretEnvWO        map[string]string `json:"-"`
	SecretEnvWOVersion *int64            `json:"secret_env_wo_version,omitempty"`
	// ServiceAccountName is empty for the namespace's default account. The
	// API token is mounted only when AutomountServiceAccountToken asks.
	ServiceAccountName           string `json:"service_account_name,omitempty"`
	AutomountServiceAccountToken bool   `json:"automount_service_account_token,omitempty"`
	// RuntimeClassName is the Kubernetes RuntimeClass, or the Docker
	// runtime; empty means the GPU type's catalog default, else none.
	RuntimeClassName string `json:"runtime_class_name,omitempty"`
	// ShmSize is the size of /dev/shm, a quantity.
	ShmSize string `json:"shm_size,omitempty"`
	// TerminationGracePeriod is a duration in whole seconds ("30s"), empty
	// for each backend's default (30 s on Kubernetes, 10 s on Docker).
	TerminationGracePeriod string     `json:"termination_grace_period,omitempty"`
	Readiness              *Readiness `json:"readiness,omitempty"`
}

// ShmVolumeName is the pod volume that backs shm_size at ShmMountPath; a
// user volume may take neither.
const (
	ShmVolumeName = "hodei-shm"
	ShmMountPath  = "/dev/shm"
)

// RuntimeClass is the runtime the worker runs with: its own
// runtime_class_name, else its GPU type's catalog default, else none.
func (s *Spec) RuntimeClass(c *Catalog) string {
	if s.RuntimeClassName != "" {
		return s.RuntimeClassName
	}
	if s.GPU != nil {
		if t, ok := c.Lookup(s.GPU.Type); ok {
			return t.RuntimeClass
		}
	}
	return ""
}

// Readiness is a probe that tells when the worker serves; exactly one of
// Exec, HTTPGet and TCPSocket is set. Durations are whole seconds.
type Readiness struct {
	Exec             *ExecProbe      `json:"exec,omitempty"`
	HTTPGet          *HTTPGetProbe   `json:"http_get,omitempty"`
	TCPSocket        *TCPSocketProbe `json:"tcp_socket,omitempty"`
	Period           string          `json:"period"`
	FailureThreshold int64           `json:"failure_threshold"`
	InitialDelay     string          `json:"initial_delay"`
}

// Timing is the probe's period and initial delay in whole seconds.
func (r *Readiness) Timing() (period, initialDelay int64, err error) {
	if period, err = Seconds(r.Period); err != nil {
		return 0, 0, fmt.Errorf("readiness.period: %w", err)
	}
	if initialDelay, err = Seconds(r.InitialDelay); err != nil {
		return 0, 0, fmt.Errorf("readiness.initial_delay: %w", err)
	}
	return period, initialDelay, nil
}

// ExecProbe runs a command in the container; exit 0 is ready.
type ExecProbe struct {
	Command []string `json:"command"`
}

// HTTPGetProbe asks the container for a path; a 2xx or 3xx answer is ready.
type HTTPGetProbe struct {
	Path   string `json:"path"`
	Port   int64  `json:"port"`
	Scheme string `json:"scheme"`
}

// TCPSocketProbe connects to a port; an accepted connection is ready.
type TCPSocketProbe struct {
	Port int64 `json:"port"`
}

// Readiness defaults, Kubernetes's own.
const (
	DefaultProbePeriod           = "10s"
	DefaultProbeFailureThreshold = 3
	DefaultProbeInitialDelay     = "0s"
	DefaultHTTPPath              = "/"
	DefaultHTTPScheme            = "HTTP"
	// MaxTerminationGracePeriod bounds termination_grace_period: an hour
	// is far beyond any drain a delete should wait for.
	MaxTerminationGracePeriod = time.Hour
)

// HTTPSchemes are the schemes http_get accepts.
var HTTPSchemes = []string{"HTTP", "HTTPS"}

// Seconds is a duration in whole seconds ("1m", "30s") as a count of
// seconds; empty is 0.
func Seconds(d string) (int64, error) {
	if d == "" {
		return 0, nil
	}
	v, err := time.ParseDuration(d)
	if err != nil {
		return 0, err
	}
	if v%time.Second != 0 {
		return 0, fmt.Errorf("%q is not a whole number of seconds", d)
	}
	return int64(v / time.Second), nil
}

// DurationEqual compares two durations by value ("1m" = "60s"); spellings
// that do not parse compare as written.
func DurationEqual(a, b string) bool {
	x, errA := time.ParseDuration(a)
	y, errB := time.ParseDuration(b)
	if errA != nil || errB != nil || a == "" || b == "" {
		return a == b
	}
	return x == y
}

// Resources are requests and limits as Kubernetes quantities.
type Resources struct {
	CPU         string `json:"cpu,omitempty"`
	Memory      string `json:"memory,omitempty"`
	CPULimit    string `json:"cpu_limit,omitempty"`
	MemoryLimit string `json:"memory_limit,omitempty"`

	EphemeralStorage      string `json:"ephemeral_storage,omitempty"`
	EphemeralStorageLimit string `json:"ephemeral_storage_limit,omitempty"`
}

// GPU asks for Count devices of a catalog type, optionally selected by
// attribute. Allocation is the resolved mode (see AllocationDRA); empty in a
// spec not resolved yet, and in one stored before the mode existed.
type GPU struct {
	Count      int64    `json:"count"`
	Type       string   `json:"type"`
	Allocation string   `json:"allocation,omitempty"`
	MinMemory  string   `json:"min_memory,omitempty"`
	Product    []string `json:"product,omitempty"`
	MIGProfile string   `json:"mig_profile,omitempty"`
}

// Volume is one mount; exactly one of its sources is set.
type Volume struct {
	Name       string            `json:"name"`
	MountPath  string            `json:"mount_path"`
	ReadOnly   bool              `json:"read_only,omitempty"`
	SubPath    string            `json:"sub_path,omitempty"`
	Persistent *PersistentSource `json:"persistent,omitempty"`
	Ephemeral  *EphemeralSource  `json:"ephemeral,omitempty"`
	HostPath   *HostPathSource   `json:"host_path,omitempty"`
	Secret     *KeysSource       `json:"secret,omitempty"`
	ConfigMap  *KeysSource       `json:"config_map,omitempty"`
}

// PersistentSource is a claim on storage that outlives the worker.
type PersistentSource struct {
	ClaimName string `json:"claim_name"`
}

// EphemeralSource is scratch space that lives and dies with the worker.
type EphemeralSource struct {
	SizeLimit string `json:"size_limit,omitempty"`
	Medium    string `json:"medium,omitempty"`
}

// HostPathSource mounts a path of the host.
type HostPathSource struct {
	Path string `json:"path"`
	Type string `json:"type,omitempty"`
}

// Scheduling says where a worker may and should run.
type Scheduling struct {
	NodeSelector      map[string]string `json:"node_selector"`
	PriorityClassName string            `json:"priority_class_name,omitempty"`
	NodeAffinity      []NodeAffinity    `json:"node_affinity,omitempty"`
	PodAffinity       []PodAffinity     `json:"pod_affinity,omitempty"`
	PodAntiAffinity   []PodAffinity     `json:"pod_anti_affinity,omitempty"`
	Tolerations       []Toleration      `json:"toleration,omitempty"`
	TopologySpread    []TopologySpread  `json:"topology_spread,omitempty"`
}

// NodeAffinity is a required or weighted-preferred node selector term.
type NodeAffinity struct {
	Required         bool              `json:"required,omitempty"`
	Weight           *int32            `json:"weight,omitempty"`
	MatchExpressions []MatchExpression `json:"match_expression,omitempty"`
}

// MatchExpression is one node selector requirement.
type MatchExpression struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

// PodAffinity is one pod (anti-)affinity term.
type PodAffinity struct {
	Labels      map[string]string `json:"labels"`
	TopologyKey string            `json:"topology_key"`
	Required    bool              `json:"required,omitempty"`
	Weight      *int32            `json:"weight,omitempty"`
	Namespaces  []string          `json:"namespaces"`
}

// Toleration lets a worker onto nodes with a matching taint.
type Toleration struct {
	Key               string `json:"key,omitempty"`
	Operator          string `json:"operator"`
	Value             string `json:"value,omitempty"`
	Effect            string `json:"effect,omitempty"`
	TolerationSeconds *int64 `json:"toleration_seconds,omitempty"`
}

// TopologySpread is one topology spread constraint; nil Labels means the
// worker's own labels.
type TopologySpread struct {
	MaxSkew           int32             `json:"max_skew"`
	TopologyKey       string            `json:"topology_key"`
	WhenUnsatisfiable string            `json:"when_unsatisfiable"`
	Labels            map[string]string `json:"labels"`
}

// Security is the process's identity and privileges.
type Security struct {
	RunAsUser              *int64   `json:"run_as_user,omitempty"`
	RunAsGroup             *int64   `json:"run_as_group,omitempty"`
	RunAsNonRoot           bool     `json:"run_as_non_root,omitempty"`
	ReadOnlyRootFilesystem bool     `json:"read_only_root_filesystem,omitempty"`
	AddCapabilities        []string `json:"add_capabilities"`
}

// FillDefaults gives every unset value that has a default its default, as
// the plan does: a configuration checked before planning (terraform
// validate) then means what it will mean at plan.
func (s *Spec) FillDefaults() {
	orDefault := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	orDefault(&s.RestartPolicy, DefaultRestart)
	if r := s.Readiness; r != nil {
		orDefault(&r.Period, DefaultProbePeriod)
		orDefault(&r.InitialDelay, DefaultProbeInitialDelay)
		if r.FailureThreshold == 0 {
			r.FailureThreshold = DefaultProbeFailureThreshold
		}
		if r.HTTPGet != nil {
			orDefault(&r.HTTPGet.Path, DefaultHTTPPath)
			orDefault(&r.HTTPGet.Scheme, DefaultHTTPScheme)
		}
	}
	if s.GPU != nil && s.GPU.Count == 0 {
		s.GPU.Count = DefaultGPUCount
	}
	if s.Scheduling == nil {
		return
	}
	for _, terms := range [][]PodAffinity{s.Scheduling.PodAffinity, s.Scheduling.PodAntiAffinity} {
		for i := range terms {
			orDefault(&terms[i].TopologyKey, DefaultTopologyKey)
		}
	}
	for i := range s.Scheduling.Tolerations {
		orDefault(&s.Scheduling.Tolerations[i].Operator, DefaultTolerationOperator)
	}
	for i := range s.Scheduling.TopologySpread {
		ts := &s.Scheduling.TopologySpread[i]
		orDefault(&ts.WhenUnsatisfiable, DefaultWhenUnsatisfiable)
		if ts.MaxSkew == 0 {
			ts.MaxSkew = DefaultMaxSkew
		}
	}
}

// OwnershipLabels are the labels that mark an object as this worker's.
func (s *Spec) OwnershipLabels() map[string]string {
	return map[string]string{LabelManagedBy: ManagedByValue, LabelWorker: s.Name}
}

// IsOwned tells whether an object's labels say that the provider made it for
// the worker name.
func IsOwned(labels map[string]string, name string) bool {
	return labels[LabelManagedBy] == ManagedByValue && labels[LabelWorker] == name
}

// UserLabels drops the labels that the provider adds itself.
func UserLabels(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		if k == LabelManagedBy || k == LabelWorker || k == AnnotationSpec {
			continue
		}
		out[k] = v
	}
	return out
}
