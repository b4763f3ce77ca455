package worker

import (
	"maps"
	"reflect"
	"slices"
)

// Change is one top-level attribute that differs between two specs, and
// whether the backend can apply it without replacing the worker.
type Change struct {
	Attribute string
	InPlace   bool
}

// Changes compares the spec in state with the planned one, by meaning:
// quantities by value, GPU types without case, maps by content. It applies
// the contract's table: labels and annotations change in place on
// Kubernetes, resources on Docker; everything else replaces.
func Changes(old, planned *Spec) []Change {
	var out []Change
	add := func(attr string, differs, inPlace bool) {
		if differs {
			out = append(out, Change{Attribute: attr, InPlace: inPlace})
		}
	}
	k8s := planned.Backend == BackendKubernetes && old.Backend == BackendKubernetes
	docker := planned.Backend == BackendDocker && old.Backend == BackendDocker
	add("backend", old.Backend != planned.Backend, false)
	add("name", old.Name != planned.Name, false)
	add("namespace", old.Namespace != planned.Namespace, false)
	add("image", old.Image != planned.Image, false)
	add("image_pull_policy", old.ImagePullPolicy != planned.ImagePullPolicy, false)
	add("image_pull_secrets", !slices.Equal(old.ImagePullSecrets, planned.ImagePullSecrets), false)
	add("command", !reflect.DeepEqual(old.Command, planned.Command), false)
	add("args", !reflect.DeepEqual(old.Args, planned.Args), false)
	add("env", !maps.Equal(old.Env, planned.Env), false)
	add("env_from", !reflect.DeepEqual(old.EnvFrom, planned.EnvFrom), false)
	add("secret_env", !reflect.DeepEqual(old.SecretEnv, planned.SecretEnv), false)
	add("config_env", !reflect.DeepEqual(old.ConfigEnv, planned.ConfigEnv), false)
	add("secret_env_wo_version", !reflect.DeepEqual(old.SecretEnvWOVersion, planned.SecretEnvWOVersion), false)
	add("working_dir", old.WorkingDir != planned.WorkingDir, false)
	// A spread constraint that counts the worker's own labels is immutable
	// in the pod, so a label change then replaces even on Kubernetes.
	add("labels", !maps.Equal(old.Labels, planned.Labels), k8s && !spreadsOnOwnLabels(planned))
	add("annotations", !maps.Equal(old.Annotations, planned.Annotations), k8s)
	add("restart_policy", old.RestartPolicy != planned.RestartPolicy, false)
	add("resources", !resourcesEqual(old.Resources, planned.Resources),
		docker && !dropsLimit(old.Resources, planned.Resources) && ephemeralStorageEqual(old.Resources, planned.Resources))
	add("gpu", !gpuEqual(old.GPU, planned.GPU), false)
	add("volume", !volumesEqual(old.Volumes, planned.Volumes), false)
	add("scheduling", !schedulingEqual(old.Scheduling, planned.Scheduling), false)
	add("security", !reflect.DeepEqual(old.Security, planned.Security), false)
	add("service_account_name", old.ServiceAccountName != planned.ServiceAccountName, false)
	add("automount_service_account_token", old.AutomountServiceAccountToken != planned.AutomountServiceAccountToken, false)
	add("runtime_class_name", old.RuntimeClassName != planned.RuntimeClassName, false)
	add("shm_size", !QuantityEqual(old.ShmSize, planned.ShmSize), false)
	// Both live in what the engine fixes at create: the pod spec, and the
	// container's Config (StopTimeout, Healthcheck).
	add("termination_grace_period", !DurationEqual(old.TerminationGracePeriod, planned.TerminationGracePeriod), false)
	add("readiness", !readinessEqual(old.Readiness, planned.Readiness), false)
	return out
}

func spreadsOnOwnLabels(s *Spec) bool {
	if s.Scheduling == nil {
		return false
	}
	for _, ts := range s.Scheduling.TopologySpread {
		if ts.Labels == nil {
			return true
		}
	}
	return false
}

func resourcesEqual(a, b *Resources) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return QuantityEqual(a.CPU, b.CPU) && QuantityEqual(a.Memory, b.Memory) &&
		QuantityEqual(a.CPULimit, b.CPULimit) && QuantityEqual(a.MemoryLimit, b.MemoryLimit) &&
		ephemeralStorageEqual(a, b)
}

// ephemeralStorageEqual compares the ephemeral storage request and limit,
// which `docker update` cannot change.
func ephemeralStorageEqual(a, b *Resources) bool {
	if a == nil {
		a = &Resources{}
	}
	if b == nil {
		b = &Resources{}
	}
	return QuantityEqual(a.EphemeralStorage, b.EphemeralStorage) && QuantityEqual(a.EphemeralStorageLimit, b.EphemeralStorageLimit)
}

// dropsLimit tells whether a request or limit goes from set to unset, which
// `docker update` cannot express (zero there means "unchanged").
func dropsLimit(old, planned *Resources) bool {
	if old == nil {
		return false
	}
	if planned == nil {
		planned = &Resources{}
	}
	return old.CPU != "" && planned.CPU == "" || old.Memory != "" && planned.Memory == "" ||
		old.CPULimit != "" && planned.CPULimit == "" || old.MemoryLimit != "" && planned.MemoryLimit == ""
}

func gpuEqual(a, b *GPU) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	// An allocation not resolved yet (the provider's default, which the
	// plan resolves and compares itself) is no change here.
	allocationEqual := a.Allocation == "" || b.Allocation == "" || a.Allocation == b.Allocation
	return a.Count == b.Count && GPUTypeEqual(a.Type, b.Type) && allocationEqual &&
		QuantityEqual(a.MinMemory, b.MinMemory) && slices.Equal(a.Product, b.Product) && a.MIGProfile == b.MIGProfile
}

func volumesEqual(a, b []Volume) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		va, vb := a[i], b[i]
		if va.Ephemeral != nil && vb.Ephemeral != nil {
			if !QuantityEqual(va.Ephemeral.SizeLimit, vb.Ephemeral.SizeLimit) || va.Ephemeral.Medium != vb.Ephemeral.Medium {
				return false
			}
			va.Ephemeral, vb.Ephemeral = nil, nil
		}
		if !reflect.DeepEqual(va, vb) {
			return false
		}
	}
	return true
}

func schedulingEqual(a, b *Scheduling) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ca, cb := *a, *b
	if !maps.Equal(ca.NodeSelector, cb.NodeSelector) {
		return false
	}
	ca.NodeSelector, cb.NodeSelector = nil, nil
	return reflect.DeepEqual(ca, cb)
}

func readinessEqual(a, b *Readiness) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if !DurationEqual(a.Period, b.Period) || !DurationEqual(a.InitialDelay, b.InitialDelay) {
		return false
	}
	ca, cb := *a, *b
	ca.Period, cb.Period, ca.InitialDelay, cb.InitialDelay = "", "", "", ""
	return reflect.DeepEqual(ca, cb)
}
