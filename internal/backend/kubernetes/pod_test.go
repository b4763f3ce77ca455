package kubernetes

import (
	"testing"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func baseSpec() *worker.Spec {
	return &worker.Spec{
		Name:          "trainer-0",
		Backend:       worker.BackendKubernetes,
		Namespace:     "ml",
		Image:         "registry.example/trainer:1.4",
		Command:       []string{"python", "train.py"},
		Args:          []string{"--epochs", "10"},
		Env:           map[string]string{"B": "2", "A": "1", "C": "3"},
		WorkingDir:    "/work",
		Labels:        map[string]string{"team": "ml"},
		Annotations:   map[string]string{"owner": "ml-platform"},
		RestartPolicy: "OnFailure",
	}
}

func mustBuild(t *testing.T, spec *worker.Spec, opts Options) *corev1.Pod {
	t.Helper()
	pod, err := buildPod(spec, opts)
	require.NoError(t, err)
	return pod
}

func qty(s string) resource.Quantity { return resource.MustParse(s) }

// quantities shows a resource list as text, since equal quantities may
// differ in their cached form.
func quantities(list corev1.ResourceList) map[string]string {
	if list == nil {
		return nil
	}
	out := make(map[string]string, len(list))
	for name, q := range list {
		out[string(name)] = q.String()
	}
	return out
}

func TestBuildPodContainerAndMetadata(t *testing.T) {
	spec := baseSpec()
	spec.Resources = &worker.Resources{CPU: "2", Memory: "4Gi", CPULimit: "4", MemoryLimit: "8Gi"}
	pod := mustBuild(t, spec, Options{})

	assert.Equal(t, "trainer-0", pod.Name)
	assert.Equal(t, "ml", pod.Namespace)
	assert.Equal(t, map[string]string{
		"team":                         "ml",
		"app.kubernetes.io/managed-by": "hodei",
		"hodei.io/worker":              "trainer-0",
	}, pod.Labels)
	assert.Equal(t, "ml-platform", pod.Annotations["owner"])
	decoded, err := worker.DecodeCanonical(pod.Annotations[worker.AnnotationSpec])
	require.NoError(t, err)
	// The annotation holds env's keys only; observe reads the values from
	// the container.
	assert.Equal(t, map[string]string{"A": "", "B": "", "C": ""}, decoded.Env)
	obs, err := observe(pod)
	require.NoError(t, err)
	assert.Equal(t, *spec, obs.Spec)

	require.Len(t, pod.Spec.Containers, 1)
	c := pod.Spec.Containers[0]
	assert.Equal(t, "worker", c.Name)
	assert.Equal(t, spec.Image, c.Image)
	assert.Equal(t, []string{"python", "train.py"}, c.Command)
	assert.Equal(t, []string{"--epochs", "10"}, c.Args)
	assert.Equal(t, []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "C", Value: "3"}}, c.Env)
	assert.Equal(t, "/work", c.WorkingDir)
	assert.Equal(t, map[string]string{"cpu": "2", "memory": "4Gi"}, quantities(c.Resources.Requests))
	assert.Equal(t, map[string]string{"cpu": "4", "memory": "8Gi"}, quantities(c.Resources.Limits))
	assert.Equal(t, corev1.RestartPolicyOnFailure, pod.Spec.RestartPolicy)
	assert.Nil(t, pod.Spec.NodeSelector)
	assert.Nil(t, pod.Spec.Affinity)
	assert.Nil(t, pod.Spec.Tolerations)
	assert.Equal(t, ptr(false), pod.Spec.AutomountServiceAccountToken, "a worker gets no API token unless it asks")
	assert.Empty(t, pod.Spec.ServiceAccountName, "the namespace's default account")
	assert.Nil(t, pod.Spec.RuntimeClassName)
}

func TestBuildPodDoesNotAliasSpecMaps(t *testing.T) {
	spec := baseSpec()
	mustBuild(t, spec, Options{})
	assert.Equal(t, map[string]string{"team": "ml"}, spec.Labels)
	assert.Equal(t, map[string]string{"owner": "ml-platform"}, spec.Annotations)
}

func TestBuildPodDefaults(t *testing.T) {
	spec := &worker.Spec{Name: "w", Backend: worker.BackendKubernetes, Image: "busybox"}
	pod := mustBuild(t, spec, Options{})
	assert.Equal(t, "default", pod.Namespace)
	assert.Equal(t, corev1.RestartPolicyAlways, pod.Spec.RestartPolicy)
	c := pod.Spec.Containers[0]
	assert.Nil(t, c.Env)
	assert.Nil(t, c.Resources.Requests)
	assert.Nil(t, c.Resources.Limits)
	assert.Nil(t, c.VolumeMounts)
	assert.Nil(t, pod.Spec.Volumes)
}

func TestBuildPodGPUPerVendor(t *testing.T) {
	for _, tc := range []struct {
		gpuType, resource, nodeLabel string
	}{
		{"a100", "nvidia.com/gpu", "nvidia-tesla-a100"},
		{"T4", "nvidia.com/gpu", "nvidia-tesla-t4"},
		{"mi200", "amd.com/gpu", "amd-instinct-mi200"},
		{"intel-xe", "gpu.intel.com/i915", "intel-xe"},
	} {
		t.Run(tc.gpuType, func(t *testing.T) {
			spec := baseSpec()
			spec.Resources = &worker.Resources{CPU: "1"}
			spec.GPU = &worker.GPU{Count: 2, Type: tc.gpuType}
			pod := mustBuild(t, spec, Options{})
			c := pod.Spec.Containers[0]
			assert.Equal(t, map[string]string{"cpu": "1", tc.resource: "2"}, quantities(c.Resources.Requests))
			assert.Equal(t, map[string]string{tc.resource: "2"}, quantities(c.Resources.Limits))
			assert.Equal(t, map[string]string{"accelerator": tc.nodeLabel}, pod.Spec.NodeSelector)
			assert.Equal(t, []corev1.Toleration{{Key: tc.resource, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, pod.Spec.Tolerations)
		})
	}
}

func TestBuildPodGPUCustomLabelKeyAndCatalog(t *testing.T) {
	catalog, err := worker.NewCatalog(worker.GPUType{Name: "H200", Vendor: worker.VendorNVIDIA, NodeLabel: "nvidia-h200"})
	require.NoError(t, err)
	spec := baseSpec()
	spec.GPU = &worker.GPU{Count: 1, Type: "h200"}
	spec.Scheduling = &worker.Scheduling{NodeSelector: map[string]string{"zone": "a"}}
	pod := mustBuild(t, spec, Options{GPUNodeLabelKey: "gpu.example/model", Catalog: catalog})
	assert.Equal(t, map[string]string{"gpu.example/model": "nvidia-h200", "zone": "a"}, pod.Spec.NodeSelector)
	assert.Equal(t, map[string]string{"nvidia.com/gpu": "1"}, quantities(pod.Spec.Containers[0].Resources.Limits))
}

func TestBuildPodGPUErrors(t *testing.T) {
	spec := baseSpec()
	spec.GPU = &worker.GPU{Count: 1, Type: "a1000"}
	_, err := buildPod(spec, Options{})
	require.ErrorContains(t, err, `did you mean "a100"`)

	spec.GPU.Type = "a100"
	spec.Scheduling = &worker.Scheduling{NodeSelector: map[string]string{"accelerator": "nvidia-tesla-t4"}}
	_, err = buildPod(spec, Options{})
	require.ErrorContains(t, err, `accelerator="nvidia-tesla-a100"`)

	problems := Check(spec, Options{})
	require.Len(t, problems, 1)
	assert.False(t, problems[0].Warning, "a contradiction is an error")
	assert.Equal(t, "scheduling.node_selector", problems[0].Path.String())

	spec.Scheduling.NodeSelector["accelerator"] = "nvidia-tesla-a100"
	assert.Empty(t, Check(spec, Options{}))
}

func TestBuildPodVolumes(t *testing.T) {
	spec := baseSpec()
	spec.Volumes = []worker.Volume{
		{Name: "datasets", MountPath: "/data", ReadOnly: true, SubPath: "v3", Persistent: &worker.PersistentSource{ClaimName: "datasets"}},
		{Name: "scratch", MountPath: "/scratch", Ephemeral: &worker.EphemeralSource{SizeLimit: "10Gi", Medium: "Memory"}},
		{Name: "tmp", MountPath: "/tmp", Ephemeral: &worker.EphemeralSource{}},
		{Name: "models", MountPath: "/models", ReadOnly: true, HostPath: &worker.HostPathSource{Path: "/mnt/models", Type: "Directory"}},
		{Name: "sock", MountPath: "/run/x.sock", HostPath: &worker.HostPathSource{Path: "/run/x.sock"}},
	}
	pod := mustBuild(t, spec, Options{})
	sizeLimit := qty("10Gi")
	directory := corev1.HostPathDirectory
	assert.Equal(t, []corev1.Volume{
		{Name: "datasets", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "datasets", ReadOnly: true}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &sizeLimit}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "models", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/mnt/models", Type: &directory}}},
		{Name: "sock", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/run/x.sock"}}},
	}, pod.Spec.Volumes)
	assert.Equal(t, []corev1.VolumeMount{
		{Name: "datasets", MountPath: "/data", ReadOnly: true, SubPath: "v3"},
		{Name: "scratch", MountPath: "/scratch"},
		{Name: "tmp", MountPath: "/tmp"},
		{Name: "models", MountPath: "/models", ReadOnly: true},
		{Name: "sock", MountPath: "/run/x.sock"},
	}, pod.Spec.Containers[0].VolumeMounts)
}

func TestBuildPodNodeAffinity(t *testing.T) {
	spec := baseSpec()
	spec.Scheduling = &worker.Scheduling{NodeAffinity: []worker.NodeAffinity{
		{Required: true, MatchExpressions: []worker.MatchExpression{
			{Key: "zone", Operator: "NotIn", Values: []string{"zone-c"}},
			{Key: "ssd", Operator: "Exists"},
		}},
		{Required: true, MatchExpressions: []worker.MatchExpression{{Key: "cores", Operator: "Gt", Values: []string{"32"}}}},
		{MatchExpressions: []worker.MatchExpression{{Key: "spot", Operator: "DoesNotExist"}}},
		{Weight: ptr(int32(50)), MatchExpressions: []worker.MatchExpression{{Key: "mem", Operator: "Lt", Values: []string{"64"}}}},
		{Weight: ptr(int32(10)), MatchExpressions: []worker.MatchExpression{{Key: "type", Operator: "In", Values: []string{"a", "b"}}}},
	}}
	pod := mustBuild(t, spec, Options{})
	na := pod.Spec.Affinity.NodeAffinity
	assert.Equal(t, &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
		{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "zone", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"zone-c"}},
			{Key: "ssd", Operator: corev1.NodeSelectorOpExists},
		}},
		{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "cores", Operator: corev1.NodeSelectorOpGt, Values: []string{"32"}}}},
	}}, na.RequiredDuringSchedulingIgnoredDuringExecution)
	assert.Equal(t, []corev1.PreferredSchedulingTerm{
		{Weight: 1, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "spot", Operator: corev1.NodeSelectorOpDoesNotExist}}}},
		{Weight: 50, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "mem", Operator: corev1.NodeSelectorOpLt, Values: []string{"64"}}}}},
		{Weight: 10, Preference: corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "type", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}}}},
	}, na.PreferredDuringSchedulingIgnoredDuringExecution)
	assert.Nil(t, pod.Spec.Affinity.PodAffinity)
	assert.Nil(t, pod.Spec.Affinity.PodAntiAffinity)
}

func TestBuildPodPodAffinity(t *testing.T) {
	spec := baseSpec()
	spec.Scheduling = &worker.Scheduling{
		PodAffinity: []worker.PodAffinity{
			{Labels: map[string]string{"app": "cache"}, TopologyKey: "topology.kubernetes.io/zone", Weight: ptr(int32(100)), Namespaces: []string{"ml"}},
			{Labels: map[string]string{"app": "db"}, Required: true},
		},
		PodAntiAffinity: []worker.PodAffinity{
			{Labels: map[string]string{"app": "trainer"}, Required: true, TopologyKey: "kubernetes.io/hostname"},
			{Labels: map[string]string{"app": "noisy"}},
		},
	}
	pod := mustBuild(t, spec, Options{})
	selector := func(k, v string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
	}
	assert.Equal(t, &corev1.PodAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: selector("app", "db"), TopologyKey: "kubernetes.io/hostname"},
		},
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
			{Weight: 100, PodAffinityTerm: corev1.PodAffinityTerm{LabelSelector: selector("app", "cache"), TopologyKey: "topology.kubernetes.io/zone", Namespaces: []string{"ml"}}},
		},
	}, pod.Spec.Affinity.PodAffinity)
	assert.Equal(t, &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{
			{LabelSelector: selector("app", "trainer"), TopologyKey: "kubernetes.io/hostname"},
		},
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{
			{Weight: 1, PodAffinityTerm: corev1.PodAffinityTerm{LabelSelector: selector("app", "noisy"), TopologyKey: "kubernetes.io/hostname"}},
		},
	}, pod.Spec.Affinity.PodAntiAffinity)
	assert.Nil(t, pod.Spec.Affinity.NodeAffinity)
}

func TestBuildPodTolerationsSpreadAndPriority(t *testing.T) {
	spec := baseSpec()
	spec.GPU = &worker.GPU{Count: 1, Type: "t4"}
	spec.Scheduling = &worker.Scheduling{
		NodeSelector:      map[string]string{"topology.kubernetes.io/zone": "zone-a"},
		PriorityClassName: "batch-high",
		Tolerations: []worker.Toleration{
			{Key: "dedicated", Operator: "Equal", Value: "ml", Effect: "NoSchedule"},
			{Key: "node.kubernetes.io/unreachable", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr(int64(300))},
		},
		TopologySpread: []worker.TopologySpread{
			{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "DoNotSchedule"},
			{MaxSkew: 2, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: "ScheduleAnyway", Labels: map[string]string{"app": "trainer"}},
		},
	}
	pod := mustBuild(t, spec, Options{})
	assert.Equal(t, map[string]string{"accelerator": "nvidia-tesla-t4", "topology.kubernetes.io/zone": "zone-a"}, pod.Spec.NodeSelector)
	assert.Equal(t, "batch-high", pod.Spec.PriorityClassName)
	assert.Equal(t, []corev1.Toleration{
		{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "ml", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
	}, pod.Spec.Tolerations)
	assert.Equal(t, []corev1.TopologySpreadConstraint{
		{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "ml"}}},
		{MaxSkew: 2, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "trainer"}}},
	}, pod.Spec.TopologySpreadConstraints)
	assert.Nil(t, pod.Spec.Affinity)
}

func TestBuildPodSpreadWithoutLabelsSelectsHodeiWorkers(t *testing.T) {
	spec := baseSpec()
	spec.Labels = nil
	spec.Scheduling = &worker.Scheduling{TopologySpread: []worker.TopologySpread{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: "DoNotSchedule"}}}
	pod := mustBuild(t, spec, Options{})
	assert.Equal(t, map[string]string{"app.kubernetes.io/managed-by": "hodei"}, pod.Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels)
}

func TestBuildPodSecurityBaselineByDefault(t *testing.T) {
	pod := mustBuild(t, baseSpec(), Options{})
	assert.Equal(t, &corev1.PodSecurityContext{
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}, pod.Spec.SecurityContext)
	assert.Equal(t, &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}, pod.Spec.Containers[0].SecurityContext)
}

func TestBuildPodSecurityRestricted(t *testing.T) {
	spec := baseSpec()
	spec.Security = &worker.Security{
		RunAsUser:              ptr(int64(1000)),
		RunAsGroup:             ptr(int64(2000)),
		RunAsNonRoot:           true,
		ReadOnlyRootFilesystem: true,
		AddCapabilities:        []string{"NET_BIND_SERVICE"},
	}
	pod := mustBuild(t, spec, Options{})
	assert.Equal(t, &corev1.PodSecurityContext{
		RunAsUser:      ptr(int64(1000)),
		RunAsGroup:     ptr(int64(2000)),
		RunAsNonRoot:   ptr(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}, pod.Spec.SecurityContext)
	assert.Equal(t, &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		ReadOnlyRootFilesystem:   ptr(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}},
	}, pod.Spec.Containers[0].SecurityContext)
}

func TestBuildPodBadQuantities(t *testing.T) {
	spec := baseSpec()
	spec.Resources = &worker.Resources{MemoryLimit: "8 GB"}
	_, err := buildPod(spec, Options{})
	require.ErrorContains(t, err, "resources.memory_limit")

	spec = baseSpec()
	spec.Volumes = []worker.Volume{{Name: "s", MountPath: "/s", Ephemeral: &worker.EphemeralSource{SizeLimit: "lots"}}}
	_, err = buildPod(spec, Options{})
	require.ErrorContains(t, err, "volume[0].ephemeral.size_limit")
}

func TestBuildPodIdentityRuntimeAndStorage(t *testing.T) {
	spec := baseSpec()
	spec.ServiceAccountName = "trainer"
	spec.AutomountServiceAccountToken = true
	spec.RuntimeClassName = "kata"
	spec.ShmSize = "1Gi"
	spec.Resources = &worker.Resources{EphemeralStorage: "2Gi", EphemeralStorageLimit: "4Gi"}
	spec.Volumes = []worker.Volume{{Name: "scratch", MountPath: "/scratch", Ephemeral: &worker.EphemeralSource{}}}
	pod := mustBuild(t, spec, Options{})
	assert.Equal(t, "trainer", pod.Spec.ServiceAccountName)
	assert.Equal(t, ptr(true), pod.Spec.AutomountServiceAccountToken)
	assert.Equal(t, ptr("kata"), pod.Spec.RuntimeClassName)
	c := pod.Spec.Containers[0]
	assert.Equal(t, map[string]string{"ephemeral-storage": "2Gi"}, quantities(c.Resources.Requests))
	assert.Equal(t, map[string]string{"ephemeral-storage": "4Gi"}, quantities(c.Resources.Limits))
	require.Len(t, pod.Spec.Volumes, 2)
	shm := pod.Spec.Volumes[1]
	assert.Equal(t, worker.ShmVolumeName, shm.Name)
	require.NotNil(t, shm.EmptyDir)
	assert.Equal(t, corev1.StorageMediumMemory, shm.EmptyDir.Medium)
	assert.Equal(t, "1Gi", shm.EmptyDir.SizeLimit.String())
	assert.Equal(t, corev1.VolumeMount{Name: worker.ShmVolumeName, MountPath: "/dev/shm"}, c.VolumeMounts[1])
}

func TestBuildPodRuntimeClassFromTheCatalog(t *testing.T) {
	catalog, err := worker.NewCatalog(worker.GPUType{Name: "l4", Vendor: worker.VendorNVIDIA, NodeLabel: "nvidia-l4", RuntimeClass: "nvidia"})
	require.NoError(t, err)
	spec := baseSpec()
	spec.GPU = &worker.GPU{Type: "L4", Count: 1}
	assert.Equal(t, ptr("nvidia"), mustBuild(t, spec, Options{Catalog: catalog}).Spec.RuntimeClassName)
	spec.RuntimeClassName = "nvidia-cdi"
	assert.Equal(t, ptr("nvidia-cdi"), mustBuild(t, spec, Options{Catalog: catalog}).Spec.RuntimeClassName, "the worker's own wins")
	spec = baseSpec()
	spec.GPU = &worker.GPU{Type: "a100", Count: 1}
	assert.Nil(t, mustBuild(t, spec, Options{Catalog: catalog}).Spec.RuntimeClassName, "built-in types have none")
}
