package worker

import (
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Policy is what the provider's configuration adds to validation.
type Policy struct {
	Catalog           *Catalog
	HostPathAllowlist []string
}

// ResolveBackend picks the backend: the attribute, else the hodei.io/provider
// label, else the provider default, else docker. An attribute and a label that
// disagree are an error.
func ResolveBackend(attribute string, labels map[string]string, providerDefault string) (Backend, error) {
	label := labels[LabelProvider]
	switch {
	case attribute != "" && label != "" && attribute != label:
		return "", fmt.Errorf("backend is %q but the label %s says %q; set one of them, or make them agree", attribute, LabelProvider, label)
	case attribute != "":
		return Backend(attribute), nil
	case label != "":
		return Backend(label), nil
	case providerDefault != "":
		return Backend(providerDefault), nil
	}
	return BackendDocker, nil
}

// Validate checks a spec against the contract: every rule that the
// configuration alone decides, then CheckPolicy's. Empty optional values
// are treated as unset, and so is an empty backend, which the provider
// resolves at plan.
func Validate(s *Spec, policy Policy) Problems {
	var ps Problems
	checkDNSLabel(&ps, Path{"name"}, s.Name, "name")
	if s.Backend != "" && !slices.Contains(Backends, string(s.Backend)) {
		ps.errorf(Path{"backend"}, "Invalid backend", "%q is not one of %s.", s.Backend, quoteList(Backends))
	}
	if s.Namespace != "" {
		checkDNSLabel(&ps, Path{"namespace"}, s.Namespace, "namespace")
	}
	checkImage(&ps, s.Image)
	checkImagePull(&ps, s)
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if errs := validation.IsEnvVarName(k); len(errs) > 0 {
			ps.errorf(Path{"env"}, "Invalid environment variable name", "%q: %s.", k, strings.Join(errs, "; "))
		}
	}
	if s.WorkingDir != "" && !path.IsAbs(s.WorkingDir) {
		ps.errorf(Path{"working_dir"}, "Invalid working directory", "%q is not an absolute path; write it from the root, e.g. /%s.", s.WorkingDir, s.WorkingDir)
	}
	checkLabels(&ps, Path{"labels"}, s.Labels)
	checkReservedLabels(&ps, s.Labels)
	if errs := apivalidation.ValidateAnnotations(s.Annotations, field.NewPath("annotations")); len(errs) > 0 {
		ps.errorf(Path{"annotations"}, "Invalid annotations", "%s.", sortedAggregate(errs))
	}
	if _, reserved := s.Annotations[AnnotationSpec]; reserved {
		ps.errorf(Path{"annotations"}, "Reserved annotation", "%s is written by the provider; remove it from annotations.", AnnotationSpec)
	}
	checkOneOf(&ps, Path{"restart_policy"}, s.RestartPolicy, RestartPolicies)
	checkResources(&ps, s.Resources)
	checkGPU(&ps, s.GPU)
	checkVolumes(&ps, s.Volumes)
	checkScheduling(&ps, s.Scheduling)
	checkSecurity(&ps, s.Security)
	checkEnvReferences(&ps, s)
	checkIdentityAndRuntime(&ps, s)
	checkLifecycle(&ps, s)
	if s.Backend == BackendDocker {
		ps = append(ps, CheckDockerGPU(s)...)
	}
	return append(ps, CheckPolicy(s, policy)...)
}

// CheckPolicy checks what the provider's configuration decides: that the GPU
// type is in the catalog and host paths lie within the allowlist. A nil
// catalog (not known yet) and an empty allowlist check nothing.
func CheckPolicy(s *Spec, policy Policy) Problems {
	var ps Problems
	if g := s.GPU; g != nil && g.Type != "" && policy.Catalog != nil {
		if t, ok := policy.Catalog.Lookup(g.Type); !ok {
			ps.errorf(Path{"gpu", "type"}, "Unknown GPU type", "%s.", policy.Catalog.UnknownTypeError(g.Type))
		} else {
			checkGPUVendor(&ps, g, t)
		}
	}
	for i, v := range s.Volumes {
		if v.HostPath != nil && path.IsAbs(v.HostPath.Path) && path.Clean(v.HostPath.Path) == v.HostPath.Path {
			checkAllowed(&ps, Path{"volume", i, "host_path", "path"}, v.HostPath.Path, policy.HostPathAllowlist)
		}
	}
	return ps
}

func quoteList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}
	return strings.Join(quoted, ", ")
}

func checkOneOf(ps *Problems, p Path, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		ps.errorf(p, "Invalid value", "%q is not one of %s.", value, quoteList(allowed))
	}
}

func checkDNSLabel(ps *Problems, p Path, value, what string) {
	if errs := validation.IsDNS1123Label(value); len(errs) > 0 {
		ps.errorf(p, "Invalid "+what, "%q is not a DNS-1123 label: %s.", value, strings.Join(errs, "; "))
	}
}

func checkDNSSubdomain(ps *Problems, p Path, value, what string) {
	if errs := validation.IsDNS1123Subdomain(value); len(errs) > 0 {
		ps.errorf(p, "Invalid "+what, "%q is not a DNS-1123 subdomain: %s.", value, strings.Join(errs, "; "))
	}
}

func checkQualifiedName(ps *Problems, p Path, value, what string) {
	if errs := validation.IsQualifiedName(value); len(errs) > 0 {
		ps.errorf(p, "Invalid "+what, "%q: %s.", value, strings.Join(errs, "; "))
	}
}

func checkImage(ps *Problems, image string) {
	if image == "" {
		ps.errorf(Path{"image"}, "Missing image", "image must name a container image, e.g. \"busybox:1.36\".")
		return
	}
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		ps.errorf(Path{"image"}, "Invalid image reference", "%q: %s; write it as [registry/]repository[:tag][@digest], lower case.", image, err)
	}
}

func checkImagePull(ps *Problems, s *Spec) {
	if s.ImagePullPolicy != "" {
		checkOneOf(ps, Path{"image_pull_policy"}, s.ImagePullPolicy, PullPolicies)
	}
	seen := map[string]bool{}
	for i, name := range s.ImagePullSecrets {
		checkDNSSubdomain(ps, Path{"image_pull_secrets", i}, name, "image pull secret name")
		if seen[name] {
			ps.errorf(Path{"image_pull_secrets", i}, "Duplicate image pull secret", "%q is listed twice; list each Secret once.", name)
		}
		seen[name] = true
	}
}

func checkLabels(ps *Problems, p Path, labels map[string]string) {
	if errs := metav1validation.ValidateLabels(labels, field.NewPath(p.String())); len(errs) > 0 {
		ps.errorf(p, "Invalid labels", "%s.", sortedAggregate(errs))
	}
}

// sortedAggregate is the errors' message in sorted order: apimachinery
// validates a map in Go's random key order.
func sortedAggregate(errs field.ErrorList) string {
	errs = slices.Clone(errs)
	slices.SortFunc(errs, func(a, b *field.Error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs.ToAggregate().Error()
}

func checkReservedLabels(ps *Problems, labels map[string]string) {
	for _, key := range []string{LabelManagedBy, LabelWorker, AnnotationSpec} {
		if _, ok := labels[key]; ok {
			ps.errorf(Path{"labels"}, "Reserved label", "%s is set by the provider itself; remove it from labels.", key)
		}
	}
	if v, ok := labels[LabelProvider]; ok && !slices.Contains(Backends, v) {
		ps.errorf(Path{"labels"}, "Invalid backend label", "%s=%q is not one of %s.", LabelProvider, v, quoteList(Backends))
	}
}

// checkQuantity parses a quantity and returns it when valid and positive.
func checkQuantity(ps *Problems, p Path, value string) *resource.Quantity {
	if value == "" {
		return nil
	}
	q, err := ParseQuantity(value)
	if err != nil {
		ps.errorf(p, "Invalid quantity", "%q is not a Kubernetes quantity (e.g. \"500m\", \"2\", \"4Gi\"): %s.", value, err)
		return nil
	}
	if q.Sign() <= 0 {
		ps.errorf(p, "Invalid quantity", "%q must be greater than zero.", value)
		return nil
	}
	return &q
}

func checkResources(ps *Problems, r *Resources) {
	if r == nil {
		return
	}
	base := Path{"resources"}
	checkRequestLimit(ps, base, "ephemeral_storage", r.EphemeralStorage, r.EphemeralStorageLimit)
	cpu := checkQuantity(ps, base.Child("cpu"), r.CPU)
	mem := checkQuantity(ps, base.Child("memory"), r.Memory)
	cpuLimit := checkQuantity(ps, base.Child("cpu_limit"), r.CPULimit)
	memLimit := checkQuantity(ps, base.Child("memory_limit"), r.MemoryLimit)
	if cpu != nil && cpuLimit != nil && cpu.Cmp(*cpuLimit) > 0 {
		ps.errorf(base.Child("cpu"), "Request above limit", "cpu %q is more than cpu_limit %q; a request must not exceed its limit.", r.CPU, r.CPULimit)
	}
	if mem != nil && memLimit != nil && mem.Cmp(*memLimit) > 0 {
		ps.errorf(base.Child("memory"), "Request above limit", "memory %q is more than memory_limit %q; a request must not exceed its limit.", r.Memory, r.MemoryLimit)
	}
	if cpu != nil && cpu.MilliValue() < 1 || cpuLimit != nil && cpuLimit.MilliValue() < 1 {
		ps.errorf(base.Child("cpu"), "CPU too small", "the smallest CPU amount is 1m.")
	}
}

// checkRequestLimit checks a request attribute and its "<name>_limit":
// both positive quantities, the request not above the limit.
func checkRequestLimit(ps *Problems, base Path, name, request, limit string) {
	req := checkQuantity(ps, base.Child(name), request)
	lim := checkQuantity(ps, base.Child(name+"_limit"), limit)
	if req != nil && lim != nil && req.Cmp(*lim) > 0 {
		ps.errorf(base.Child(name), "Request above limit", "%s %q is more than %s_limit %q; a request must not exceed its limit.", name, request, name, limit)
	}
}

// checkIdentityAndRuntime checks service_account_name, runtime_class_name
// and shm_size, and that no volume takes the place of the /dev/shm volume.
func checkIdentityAndRuntime(ps *Problems, s *Spec) {
	if s.ServiceAccountName != "" {
		checkDNSSubdomain(ps, Path{"service_account_name"}, s.ServiceAccountName, "service account name")
	}
	if s.RuntimeClassName != "" {
		checkDNSSubdomain(ps, Path{"runtime_class_name"}, s.RuntimeClassName, "runtime class name")
	}
	checkQuantity(ps, Path{"shm_size"}, s.ShmSize)
	for i, v := range s.Volumes {
		if v.Name == ShmVolumeName {
			ps.errorf(Path{"volume", i, "name"}, "Reserved volume name", "%q is the provider's volume for shm_size; give the volume another name.", v.Name)
		}
		if s.ShmSize != "" && v.MountPath == ShmMountPath {
			ps.errorf(Path{"volume", i, "mount_path"}, "Mount path taken by shm_size", "shm_size mounts %s; remove this volume or shm_size.", ShmMountPath)
		}
	}
}

func checkGPU(ps *Problems, g *GPU) {
	if g == nil {
		return
	}
	base := Path{"gpu"}
	if g.Count < 1 || g.Count > MaxGPUCount {
		ps.errorf(base.Child("count"), "Invalid GPU count", "%d is outside 1..%d.", g.Count, MaxGPUCount)
	}
	if g.Type == "" {
		ps.errorf(base.Child("type"), "Missing GPU type", "gpu needs a type, one of %s, or a gpu_type of the provider.", strings.Join(DefaultCatalog().Names(), ", "))
	}
	checkGPUSelection(ps, g)
}

func checkVolumes(ps *Problems, volumes []Volume) {
	names := map[string]int{}
	mounts := map[string]int{}
	for i, v := range volumes {
		base := Path{"volume", i}
		checkDNSLabel(ps, base.Child("name"), v.Name, "volume name")
		if first, dup := names[v.Name]; dup {
			ps.errorf(base.Child("name"), "Duplicate volume name", "%q is already the name of volume %d; volume names must be unique.", v.Name, first)
		} else {
			names[v.Name] = i
		}
		if !path.IsAbs(v.MountPath) {
			ps.errorf(base.Child("mount_path"), "Invalid mount path", "%q is not an absolute path.", v.MountPath)
		} else if v.MountPath == "/" {
			ps.errorf(base.Child("mount_path"), "Invalid mount path", "\"/\" would hide the image's root file system; mount the volume at a directory such as /data.")
		} else if cleaned := path.Clean(v.MountPath); cleaned != v.MountPath {
			ps.errorf(base.Child("mount_path"), "Invalid mount path", "%q is not in clean form; write %q.", v.MountPath, cleaned)
		} else if first, dup := mounts[v.MountPath]; dup {
			ps.errorf(base.Child("mount_path"), "Duplicate mount path", "%q is already mounted by volume %d; mount paths must be unique.", v.MountPath, first)
		} else {
			mounts[v.MountPath] = i
		}
		if v.SubPath != "" && (path.IsAbs(v.SubPath) || slices.Contains(strings.Split(v.SubPath, "/"), "..")) {
			ps.errorf(base.Child("sub_path"), "Invalid sub path", "%q must be a relative path without \"..\".", v.SubPath)
		}
		sources := 0
		if v.Persistent != nil {
			sources++
			if v.Persistent.ClaimName == "" {
				ps.errorf(base.Child("persistent", "claim_name"), "Missing claim name", "persistent needs claim_name, the PersistentVolumeClaim (or Docker volume) to mount.")
			} else {
				checkDNSSubdomain(ps, base.Child("persistent", "claim_name"), v.Persistent.ClaimName, "claim name")
			}
		}
		if v.Ephemeral != nil {
			sources++
			checkQuantity(ps, base.Child("ephemeral", "size_limit"), v.Ephemeral.SizeLimit)
			checkOneOf(ps, base.Child("ephemeral", "medium"), v.Ephemeral.Medium, StorageMedia)
		}
		if v.HostPath != nil {
			sources++
			checkHostPath(ps, base.Child("host_path"), v.HostPath)
		}
		sources += checkKeysVolume(ps, base, v)
		if sources != 1 {
			ps.errorf(base, "Invalid volume source", "volume %q has %d sources; give exactly one of persistent, ephemeral, host_path, secret or config_map.", v.Name, sources)
		}
	}
}

func checkHostPath(ps *Problems, base Path, h *HostPathSource) {
	checkOneOf(ps, base.Child("type"), h.Type, HostPathTypes)
	if h.Path == "" {
		ps.errorf(base.Child("path"), "Missing host path", "host_path needs path, an absolute path on the host.")
	} else if !path.IsAbs(h.Path) || path.Clean(h.Path) != h.Path {
		ps.errorf(base.Child("path"), "Invalid host path", "%q must be an absolute path in clean form.", h.Path)
	}
}

func checkAllowed(ps *Problems, p Path, hostPath string, allowlist []string) {
	if len(allowlist) == 0 {
		return
	}
	for _, prefix := range allowlist {
		prefix = path.Clean(prefix)
		if hostPath == prefix || strings.HasPrefix(hostPath, strings.TrimSuffix(prefix, "/")+"/") {
			return
		}
	}
	ps.errorf(p, "Host path not allowed", "%q is outside the provider's host_path_allowlist (%s).", hostPath, strings.Join(allowlist, ", "))
}

func checkWeight(ps *Problems, p Path, required bool, weight *int32) {
	switch {
	case required && weight != nil:
		ps.errorf(p, "Weight on a required term", "weight applies to preferred terms only; remove it or set required = false.")
	case !required && weight != nil && (*weight < 1 || *weight > 100):
		ps.errorf(p, "Invalid weight", "%d is outside 1..100.", *weight)
	}
}

func checkScheduling(ps *Problems, s *Scheduling) {
	if s == nil {
		return
	}
	base := Path{"scheduling"}
	checkLabels(ps, base.Child("node_selector"), s.NodeSelector)
	if s.PriorityClassName != "" {
		checkDNSSubdomain(ps, base.Child("priority_class_name"), s.PriorityClassName, "priority class name")
	}
	for i, na := range s.NodeAffinity {
		p := base.Child("node_affinity").Child(i)
		checkWeight(ps, p.Child("weight"), na.Required, na.Weight)
		if len(na.MatchExpressions) == 0 {
			ps.errorf(p, "Empty node affinity", "give at least one match_expression.")
		}
		for j, me := range na.MatchExpressions {
			checkMatchExpression(ps, p.Child("match_expression").Child(j), me)
		}
	}
	for _, block := range []struct {
		kind  string
		terms []PodAffinity
	}{{"pod_affinity", s.PodAffinity}, {"pod_anti_affinity", s.PodAntiAffinity}} {
		for i, pa := range block.terms {
			p := base.Child(block.kind).Child(i)
			if len(pa.Labels) == 0 {
				ps.errorf(p.Child("labels"), "Empty label selector", "labels must select the pods to be near or away from.")
			}
			checkLabels(ps, p.Child("labels"), pa.Labels)
			checkQualifiedName(ps, p.Child("topology_key"), pa.TopologyKey, "topology key")
			checkWeight(ps, p.Child("weight"), pa.Required, pa.Weight)
			for _, ns := range pa.Namespaces {
				checkDNSLabel(ps, p.Child("namespaces"), ns, "namespace")
			}
		}
	}
	for i, t := range s.Tolerations {
		checkToleration(ps, base.Child("toleration").Child(i), t)
	}
	for i, ts := range s.TopologySpread {
		p := base.Child("topology_spread").Child(i)
		if ts.MaxSkew < 1 {
			ps.errorf(p.Child("max_skew"), "Invalid max skew", "%d must be at least 1.", ts.MaxSkew)
		}
		checkQualifiedName(ps, p.Child("topology_key"), ts.TopologyKey, "topology key")
		checkOneOf(ps, p.Child("when_unsatisfiable"), ts.WhenUnsatisfiable, WhenUnsatisfiable)
		checkLabels(ps, p.Child("labels"), ts.Labels)
	}
}

func checkMatchExpression(ps *Problems, p Path, me MatchExpression) {
	checkQualifiedName(ps, p.Child("key"), me.Key, "label key")
	if !slices.Contains(Operators, me.Operator) {
		ps.errorf(p.Child("operator"), "Invalid operator", "%q is not one of %s.", me.Operator, quoteList(Operators))
		return
	}
	switch me.Operator {
	case "In", "NotIn":
		if len(me.Values) == 0 {
			ps.errorf(p.Child("values"), "Missing values", "operator %s needs at least one value.", me.Operator)
		}
	case "Exists", "DoesNotExist":
		if len(me.Values) > 0 {
			ps.errorf(p.Child("values"), "Unexpected values", "operator %s takes no values.", me.Operator)
		}
	case "Gt", "Lt":
		if len(me.Values) != 1 {
			ps.errorf(p.Child("values"), "Invalid values", "operator %s takes exactly one integer value.", me.Operator)
		} else if _, err := strconv.ParseInt(me.Values[0], 10, 64); err != nil {
			ps.errorf(p.Child("values"), "Invalid values", "operator %s needs an integer; %q is not one.", me.Operator, me.Values[0])
		}
	}
	for _, v := range me.Values {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			ps.errorf(p.Child("values"), "Invalid label value", "%q: %s.", v, strings.Join(errs, "; "))
		}
	}
}

func checkToleration(ps *Problems, p Path, t Toleration) {
	checkOneOf(ps, p.Child("operator"), t.Operator, TolerationOperators)
	checkOneOf(ps, p.Child("effect"), t.Effect, TaintEffects)
	if t.Key != "" {
		checkQualifiedName(ps, p.Child("key"), t.Key, "taint key")
	} else if t.Operator != "Exists" {
		ps.errorf(p.Child("key"), "Missing key", "an empty key matches every taint only with operator \"Exists\".")
	}
	if t.Operator == "Exists" && t.Value != "" {
		ps.errorf(p.Child("value"), "Unexpected value", "operator \"Exists\" takes no value.")
	}
	if t.Value != "" {
		if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
			ps.errorf(p.Child("value"), "Invalid value", "%q: %s.", t.Value, strings.Join(errs, "; "))
		}
	}
	if t.TolerationSeconds != nil && t.Effect != "NoExecute" {
		ps.errorf(p.Child("toleration_seconds"), "Unexpected toleration_seconds", "toleration_seconds applies to effect \"NoExecute\" only.")
	}
}

// linuxCapabilities are the names add_capabilities accepts, without CAP_.
var linuxCapabilities = []string{
	"AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
	"DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
	"LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG",
	"SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE",
	"SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
}

func checkSecurity(ps *Problems, s *Security) {
	if s == nil {
		return
	}
	base := Path{"security"}
	// Kubernetes takes IDs in 0..2^31-1; the same bound on Docker keeps a
	// module valid on both backends.
	if s.RunAsUser != nil && (*s.RunAsUser < 0 || *s.RunAsUser > math.MaxInt32) {
		ps.errorf(base.Child("run_as_user"), "Invalid user", "%d is outside 0..%d.", *s.RunAsUser, math.MaxInt32)
	}
	if s.RunAsGroup != nil && (*s.RunAsGroup < 0 || *s.RunAsGroup > math.MaxInt32) {
		ps.errorf(base.Child("run_as_group"), "Invalid group", "%d is outside 0..%d.", *s.RunAsGroup, math.MaxInt32)
	}
	if s.RunAsNonRoot && s.RunAsUser != nil && *s.RunAsUser == 0 {
		ps.errorf(base.Child("run_as_user"), "Root with run_as_non_root", "run_as_user = 0 is root, which run_as_non_root = true forbids.")
	}
	for _, c := range s.AddCapabilities {
		if !slices.Contains(linuxCapabilities, c) {
			ps.errorf(base.Child("add_capabilities"), "Unknown capability", "%q is not a Linux capability name; write it without CAP_, e.g. \"NET_BIND_SERVICE\".", c)
		}
	}
}

// CheckWaitFor checks wait_for against the spec: "ready" needs a probe to
// wait for.
func CheckWaitFor(w WaitFor, s *Spec) Problems {
	var ps Problems
	if w == WaitReady && s.Readiness == nil {
		ps.errorf(Path{"wait_for"}, "Nothing to be ready", "wait_for = %q waits for the readiness probe; add a readiness block, or wait for %q.", WaitReady, WaitRunning)
	}
	return ps
}

// CheckGraceWithinDelete warns when the grace period does not fit in the
// delete timeout: Docker would cut the stop short (to half the time left),
// and a Kubernetes delete would time out while the pod still terminates.
func CheckGraceWithinDelete(grace string, deleteTimeout time.Duration) Problems {
	var ps Problems
	if seconds, err := Seconds(grace); err == nil && time.Duration(seconds)*time.Second*2 > deleteTimeout {
		ps.Warnf(Path{"termination_grace_period"}, "Grace period longer than the delete allows",
			"%s is more than half of timeouts.delete (%s): on Docker the stop gets at most half of the time left, "+
				"and on Kubernetes the delete may time out while the pod still terminates; raise timeouts.delete to at least twice the grace period.",
			grace, deleteTimeout)
	}
	return ps
}

// checkDuration parses a duration of whole seconds within [least, most].
func checkDuration(ps *Problems, p Path, value string, least, most time.Duration) {
	if value == "" {
		return
	}
	d, err := time.ParseDuration(value)
	switch {
	case err != nil:
		ps.errorf(p, "Invalid duration", "%q is not a duration such as \"30s\" or \"2m\": %s.", value, err)
	case d%time.Second != 0:
		ps.errorf(p, "Invalid duration", "%q is not a whole number of seconds; Kubernetes counts this in seconds.", value)
	case d < least || d > most:
		ps.errorf(p, "Duration out of range", "%q is outside %s..%s.", value, least, most)
	}
}

func checkPort(ps *Problems, p Path, port int64) {
	if port < 1 || port > 65535 {
		ps.errorf(p, "Invalid port", "%d is outside 1..65535.", port)
	}
}

func checkLifecycle(ps *Problems, s *Spec) {
	checkDuration(ps, Path{"termination_grace_period"}, s.TerminationGracePeriod, 0, MaxTerminationGracePeriod)
	r := s.Readiness
	if r == nil {
		return
	}
	base := Path{"readiness"}
	kinds := 0
	if r.Exec != nil {
		kinds++
		if len(r.Exec.Command) == 0 || r.Exec.Command[0] == "" {
			ps.errorf(base.Child("exec", "command"), "Missing command", "exec needs a command, e.g. [\"test\", \"-f\", \"/tmp/ready\"].")
		}
	}
	if h := r.HTTPGet; h != nil {
		kinds++
		checkPort(ps, base.Child("http_get", "port"), h.Port)
		if !strings.HasPrefix(h.Path, "/") {
			ps.errorf(base.Child("http_get", "path"), "Invalid path", "%q must start with \"/\".", h.Path)
		}
		checkOneOf(ps, base.Child("http_get", "scheme"), h.Scheme, HTTPSchemes)
	}
	if t := r.TCPSocket; t != nil {
		kinds++
		checkPort(ps, base.Child("tcp_socket", "port"), t.Port)
	}
	if kinds != 1 {
		ps.errorf(base, "Invalid readiness probe", "readiness has %d probes; give exactly one of exec, http_get or tcp_socket.", kinds)
	}
	checkDuration(ps, base.Child("period"), r.Period, time.Second, time.Hour)
	checkDuration(ps, base.Child("initial_delay"), r.InitialDelay, 0, time.Hour)
	if r.FailureThreshold < 1 || r.FailureThreshold > math.MaxInt32 {
		ps.errorf(base.Child("failure_threshold"), "Invalid failure threshold", "%d must be at least 1.", r.FailureThreshold)
	}
}
