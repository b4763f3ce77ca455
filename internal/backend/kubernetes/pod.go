package kubernetes

import (
	"fmt"
	"maps"
	"sort"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// buildPod is the pod that makes spec real. It is a pure function of spec and
// opts so that what is sent to the API can be tested without one.
func buildPod(spec *worker.Spec, opts Options) (*corev1.Pod, error) {
	opts = opts.withDefaults()
	resources, err := containerResources(spec, opts.Catalog)
	if err != nil {
		return nil, err
	}
	volumes, mounts, err := podVolumes(spec.Volumes)
	if err != nil {
		return nil, err
	}
	if spec.ShmSize != "" {
		shm, shmMount, err := shmVolume(spec.ShmSize)
		if err != nil {
			return nil, err
		}
		volumes, mounts = append(volumes, shm), append(mounts, shmMount)
	}
	canonical, err := worker.EncodeCanonical(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the spec of worker %s: %w", spec.Name, err)
	}
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, spec.OwnershipLabels())
	annotations := maps.Clone(spec.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[worker.AnnotationSpec] = canonical

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:        spec.Name,
			Namespace:   namespaceOf(spec),
			Labels:      labels,
			Annotations: annotations,
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:            worker.ContainerName,
				Image:           spec.Image,
				Command:         spec.Command,
				Args:            spec.Args,
				Env:             append(envVars(spec.Env), referenceEnv(spec)...),
				EnvFrom:         envFromSources(spec),
				WorkingDir:      spec.WorkingDir,
				Resources:       resources,
				VolumeMounts:    mounts,
				SecurityContext: containerSecurity(spec.Security),
				ImagePullPolicy: corev1.PullPolicy(spec.ImagePullPolicy),
			}},
			Volumes:         volumes,
			RestartPolicy:   corev1.RestartPolicy(spec.RestartPolicy),
			SecurityContext: podSecurity(spec.Security),
		},
	}
	if err := applyLifecycle(&pod.Spec, spec); err != nil {
		return nil, err
	}
	pod.Spec.ImagePullSecrets = pullSecrets(spec.ImagePullSecrets)
	pod.Spec.ServiceAccountName = spec.ServiceAccountName
	// Unlike a plain pod's, a worker's token is mounted only when asked.
	pod.Spec.AutomountServiceAccountToken = ptr(spec.AutomountServiceAccountToken)
	if runtimeClass := spec.RuntimeClass(opts.Catalog); runtimeClass != "" {
		pod.Spec.RuntimeClassName = ptr(runtimeClass)
	}
	if pod.Spec.RestartPolicy == "" {
		pod.Spec.RestartPolicy = corev1.RestartPolicy(worker.DefaultRestart)
	}
	if err := schedulePod(&pod.Spec, spec, opts); err != nil {
		return nil, err
	}
	if spec.GPU.DRA() {
		claimPod(pod, spec.Name)
	}
	return pod, nil
}

// namespaceOf is the worker's namespace; the provider fills in its default,
// so an empty one only arises from callers that skip it.
func namespaceOf(spec *worker.Spec) string {
	if spec.Namespace == "" {
		return worker.DefaultNamespace
	}
	return spec.Namespace
}

func pullSecrets(names []string) []corev1.LocalObjectReference {
	var out []corev1.LocalObjectReference
	for _, name := range names {
		out = append(out, corev1.LocalObjectReference{Name: name})
	}
	return out
}

func envVars(env map[string]string) []corev1.EnvVar {
	if len(env) == 0 {
		return nil
	}
	out := make([]corev1.EnvVar, 0, len(env))
	for name, value := range env {
		out = append(out, corev1.EnvVar{Name: name, Value: value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func containerResources(spec *worker.Spec, catalog *worker.Catalog) (corev1.ResourceRequirements, error) {
	var out corev1.ResourceRequirements
	set := func(list *corev1.ResourceList, name corev1.ResourceName, attribute, value string) error {
		if value == "" {
			return nil
		}
		q, err := worker.ParseQuantity(value)
		if err != nil {
			return fmt.Errorf("resources.%s %q: %w", attribute, value, err)
		}
		if *list == nil {
			*list = corev1.ResourceList{}
		}
		(*list)[name] = q
		return nil
	}
	if r := spec.Resources; r != nil {
		for _, e := range []struct {
			list      *corev1.ResourceList
			name      corev1.ResourceName
			attribute string
			value     string
		}{
			{&out.Requests, corev1.ResourceCPU, "cpu", r.CPU},
			{&out.Requests, corev1.ResourceMemory, "memory", r.Memory},
			{&out.Limits, corev1.ResourceCPU, "cpu_limit", r.CPULimit},
			{&out.Limits, corev1.ResourceMemory, "memory_limit", r.MemoryLimit},
			{&out.Requests, corev1.ResourceEphemeralStorage, "ephemeral_storage", r.EphemeralStorage},
			{&out.Limits, corev1.ResourceEphemeralStorage, "ephemeral_storage_limit", r.EphemeralStorageLimit},
		} {
			if err := set(e.list, e.name, e.attribute, e.value); err != nil {
				return out, err
			}
		}
	}
	if spec.GPU != nil {
		gpuType, err := spec.GPU.CatalogType(catalog)
		if err != nil {
			return out, err
		}
		if spec.GPU.DRA() {
			// The claim holds the devices (see claimPod).
			return out, nil
		}
		// Extended resources cannot be overcommitted: Kubernetes requires
		// the request to equal the limit.
		count := *resource.NewQuantity(spec.GPU.Count, resource.DecimalSI)
		name := corev1.ResourceName(gpuType.ResourceName())
		if spec.GPU.MIGProfile != "" {
			// The device plugin's mixed strategy: one resource per profile.
			name = corev1.ResourceName(worker.MIGResourceName(spec.GPU.MIGProfile))
		}
		if out.Requests == nil {
			out.Requests = corev1.ResourceList{}
		}
		if out.Limits == nil {
			out.Limits = corev1.ResourceList{}
		}
		out.Requests[name] = count
		out.Limits[name] = count.DeepCopy()
	}
	return out, nil
}

func podVolumes(specVolumes []worker.Volume) ([]corev1.Volume, []corev1.VolumeMount, error) {
	if len(specVolumes) == 0 {
		return nil, nil, nil
	}
	volumes := make([]corev1.Volume, 0, len(specVolumes))
	mounts := make([]corev1.VolumeMount, 0, len(specVolumes))
	for i, v := range specVolumes {
		volume := corev1.Volume{Name: v.Name}
		switch {
		case v.Persistent != nil:
			volume.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{
				ClaimName: v.Persistent.ClaimName,
				ReadOnly:  v.ReadOnly,
			}
		case v.Ephemeral != nil:
			emptyDir := &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(v.Ephemeral.Medium)}
			if v.Ephemeral.SizeLimit != "" {
				q, err := worker.ParseQuantity(v.Ephemeral.SizeLimit)
				if err != nil {
					return nil, nil, fmt.Errorf("volume[%d].ephemeral.size_limit %q: %w", i, v.Ephemeral.SizeLimit, err)
				}
				emptyDir.SizeLimit = &q
			}
			volume.EmptyDir = emptyDir
		case v.HostPath != nil:
			hostPath := &corev1.HostPathVolumeSource{Path: v.HostPath.Path}
			if v.HostPath.Type != "" {
				t := corev1.HostPathType(v.HostPath.Type)
				hostPath.Type = &t
			}
			volume.HostPath = hostPath
		case v.Secret != nil || v.ConfigMap != nil:
			if err := keysVolume(&volume, v); err != nil {
				return nil, nil, fmt.Errorf("volume[%d]: %w", i, err)
			}
		default:
			return nil, nil, fmt.Errorf("volume[%d] %q has no source: set one of persistent, ephemeral or host_path", i, v.Name)
		}
		volumes = append(volumes, volume)
		mounts = append(mounts, corev1.VolumeMount{
			Name:      v.Name,
			MountPath: v.MountPath,
			ReadOnly:  v.ReadOnly,
			SubPath:   v.SubPath,
		})
	}
	return volumes, mounts, nil
}

// shmVolume is the memory-backed emptyDir that sizes /dev/shm: the
// container runtime's own /dev/shm is 64 MiB and cannot be resized.
func shmVolume(size string) (corev1.Volume, corev1.VolumeMount, error) {
	q, err := worker.ParseQuantity(size)
	if err != nil {
		return corev1.Volume{}, corev1.VolumeMount{}, fmt.Errorf("shm_size %q: %w", size, err)
	}
	volume := corev1.Volume{Name: worker.ShmVolumeName, VolumeSource: corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &q},
	}}
	return volume, corev1.VolumeMount{Name: worker.ShmVolumeName, MountPath: worker.ShmMountPath}, nil
}

// podSecurity and containerSecurity satisfy the baseline Pod Security
// Standard always, and restricted when the worker runs as non-root.
func podSecurity(s *worker.Security) *corev1.PodSecurityContext {
	out := &corev1.PodSecurityContext{
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if s == nil {
		return out
	}
	out.RunAsUser = s.RunAsUser
	out.RunAsGroup = s.RunAsGroup
	if s.RunAsNonRoot {
		out.RunAsNonRoot = ptr(true)
	}
	return out
}

func containerSecurity(s *worker.Security) *corev1.SecurityContext {
	out := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
	if s == nil {
		return out
	}
	for _, c := range s.AddCapabilities {
		out.Capabilities.Add = append(out.Capabilities.Add, corev1.Capability(c))
	}
	if s.ReadOnlyRootFilesystem {
		out.ReadOnlyRootFilesystem = ptr(true)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// applyLifecycle sets the grace period and the readiness probe.
func applyLifecycle(pod *corev1.PodSpec, spec *worker.Spec) error {
	if spec.TerminationGracePeriod != "" {
		grace, err := worker.Seconds(spec.TerminationGracePeriod)
		if err != nil {
			return fmt.Errorf("termination_grace_period: %w", err)
		}
		pod.TerminationGracePeriodSeconds = &grace
	}
	r := spec.Readiness
	if r == nil {
		return nil
	}
	period, delay, err := r.Timing()
	if err != nil {
		return err
	}
	probe := &corev1.Probe{
		PeriodSeconds:       int32(period),
		FailureThreshold:    int32(r.FailureThreshold),
		InitialDelaySeconds: int32(delay),
	}
	switch {
	case r.Exec != nil:
		probe.Exec = &corev1.ExecAction{Command: r.Exec.Command}
	case r.HTTPGet != nil:
		probe.HTTPGet = &corev1.HTTPGetAction{
			Path:   r.HTTPGet.Path,
			Port:   intstr.FromInt32(int32(r.HTTPGet.Port)),
			Scheme: corev1.URIScheme(r.HTTPGet.Scheme),
		}
	case r.TCPSocket != nil:
		probe.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(r.TCPSocket.Port))}
	}
	pod.Containers[0].ReadinessProbe = probe
	return nil
}
