package kubernetes

import (
	"context"
	"testing"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func draSpec(g worker.GPU) *worker.Spec {
	spec := baseSpec()
	g.Allocation = worker.AllocationDRA
	spec.GPU = &g
	return spec
}

// Each attribute becomes one CEL selector; the type alone selects its
// product names.
func TestDRASelectorsPerAttribute(t *testing.T) {
	a100, _ := worker.DefaultCatalog().Lookup("a100")
	h100, _ := worker.DefaultCatalog().Lookup("h100")
	mi200, _ := worker.DefaultCatalog().Lookup("mi200")
	for _, c := range []struct {
		name string
		gpu  worker.GPU
		typ  worker.GPUType
		want []string
	}{
		{"type alone", worker.GPU{Type: "a100"}, a100, []string{
			`device.attributes["gpu.nvidia.com"].productName in ["NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-80GB", "NVIDIA A100-PCIE-40GB", "NVIDIA A100 80GB PCIe"]`}},
		{"product replaces the type's names", worker.GPU{Type: "a100", Product: []string{"NVIDIA A100-SXM4-80GB"}}, a100, []string{
			`device.attributes["gpu.nvidia.com"].productName in ["NVIDIA A100-SXM4-80GB"]`}},
		{"min_memory", worker.GPU{Type: "a100", MinMemory: "60Gi"}, a100, []string{
			`device.attributes["gpu.nvidia.com"].productName in ["NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-80GB", "NVIDIA A100-PCIE-40GB", "NVIDIA A100 80GB PCIe"]`,
			`device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("60Gi")) >= 0`}},
		{"mig_profile", worker.GPU{Type: "h100", MIGProfile: "1g.10gb"}, h100, []string{
			`device.attributes["gpu.nvidia.com"].productName in ["NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H100 NVL"]`,
			`device.attributes["gpu.nvidia.com"].profile == "1g.10gb"`}},
		{"a type without product names", worker.GPU{Type: "mi200", MinMemory: "64Gi"}, mi200, []string{
			`device.capacity["gpu.amd.com"].memory.compareTo(quantity("64Gi")) >= 0`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, draSelectors(&c.gpu, c.typ))
		})
	}
}

func TestBuildClaimTemplateShape(t *testing.T) {
	spec := draSpec(worker.GPU{Count: 2, Type: "a100", MinMemory: "60Gi"})
	template, err := buildClaimTemplate(spec, Options{})
	require.NoError(t, err)
	assert.Equal(t, "trainer-0", template.Name)
	assert.Equal(t, "ml", template.Namespace)
	assert.True(t, worker.IsOwned(template.Labels, "trainer-0"))
	assert.Equal(t, "ml", template.Labels["team"])
	requests := template.Spec.Spec.Devices.Requests
	require.Len(t, requests, 1)
	assert.Equal(t, "gpu", requests[0].Name)
	exactly := requests[0].Exactly
	require.NotNil(t, exactly)
	assert.Equal(t, "gpu.nvidia.com", exactly.DeviceClassName)
	assert.Equal(t, resourcev1.DeviceAllocationModeExactCount, exactly.AllocationMode)
	assert.Equal(t, int64(2), exactly.Count)
	assert.Len(t, exactly.Selectors, 2)

	mig, err := buildClaimTemplate(draSpec(worker.GPU{Count: 1, Type: "h100", MIGProfile: "1g.10gb"}), Options{})
	require.NoError(t, err)
	assert.Equal(t, "mig.nvidia.com", mig.Spec.Spec.Devices.Requests[0].Exactly.DeviceClassName)

	plugin := baseSpec()
	plugin.GPU = &worker.GPU{Count: 1, Type: "a100"}
	none, err := buildClaimTemplate(plugin, Options{})
	require.NoError(t, err)
	assert.Nil(t, none, "a device-plugin worker has no template")
}

// In DRA mode the pod claims the template, requests no extended resource
// and selects no node, but keeps the vendor's toleration.
func TestBuildPodDRA(t *testing.T) {
	pod := mustBuild(t, draSpec(worker.GPU{Count: 1, Type: "a100"}), Options{})
	require.Len(t, pod.Spec.ResourceClaims, 1)
	assert.Equal(t, "gpu", pod.Spec.ResourceClaims[0].Name)
	assert.Equal(t, "trainer-0", *pod.Spec.ResourceClaims[0].ResourceClaimTemplateName)
	assert.Equal(t, []corev1.ResourceClaim{{Name: "gpu"}}, pod.Spec.Containers[0].Resources.Claims)
	assert.Empty(t, pod.Spec.Containers[0].Resources.Limits)
	assert.Empty(t, pod.Spec.NodeSelector)
	assert.Nil(t, pod.Spec.Affinity)
	assert.Contains(t, pod.Spec.Tolerations, corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	assert.True(t, claimsDevices(pod))
}

// With the device plugin, mig_profile is the mixed strategy's resource, and
// min_memory and product are required affinity on GFD's labels, joined to
// every required term of the worker's own.
func TestBuildPodDevicePluginSelection(t *testing.T) {
	spec := baseSpec()
	spec.GPU = &worker.GPU{Count: 1, Type: "h100", MIGProfile: "1g.10gb"}
	pod := mustBuild(t, spec, Options{})
	assert.Equal(t, map[string]string{"nvidia.com/mig-1g.10gb": "1"}, quantities(pod.Spec.Containers[0].Resources.Limits))
	assert.Equal(t, map[string]string{"accelerator": "nvidia-h100"}, pod.Spec.NodeSelector)
	assert.Empty(t, pod.Spec.ResourceClaims)

	spec = baseSpec()
	spec.GPU = &worker.GPU{Count: 1, Type: "a100", MinMemory: "60Gi", Product: []string{"NVIDIA A100-SXM4-80GB"}}
	spec.Scheduling = &worker.Scheduling{NodeAffinity: []worker.NodeAffinity{
		{Required: true, MatchExpressions: []worker.MatchExpression{{Key: "zone", Operator: "In", Values: []string{"a"}}}},
		{Required: true, MatchExpressions: []worker.MatchExpression{{Key: "zone", Operator: "In", Values: []string{"b"}}}},
	}}
	pod = mustBuild(t, spec, Options{})
	terms := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	require.Len(t, terms, 2)
	for _, term := range terms {
		assert.Contains(t, term.MatchExpressions, corev1.NodeSelectorRequirement{Key: "nvidia.com/gpu.memory", Operator: corev1.NodeSelectorOpGt, Values: []string{"61439"}})
		assert.Contains(t, term.MatchExpressions, corev1.NodeSelectorRequirement{Key: "nvidia.com/gpu.product", Operator: corev1.NodeSelectorOpIn, Values: []string{"NVIDIA-A100-SXM4-80GB"}})
	}
}

func TestClaimDevices(t *testing.T) {
	claim := &resourcev1.ResourceClaim{}
	assert.Nil(t, claimDevices(claim))
	claim.Status.Allocation = &resourcev1.AllocationResult{Devices: resourcev1.DeviceAllocationResult{Results: []resourcev1.DeviceRequestAllocationResult{
		{Request: "gpu", Driver: "gpu.nvidia.com", Pool: "node-a", Device: "gpu-1"},
		{Request: "gpu", Driver: "gpu.nvidia.com", Pool: "node-a", Device: "gpu-3"},
	}}}
	assert.Equal(t, []worker.Device{{Driver: "gpu.nvidia.com", Pool: "node-a", Device: "gpu-1"}, {Driver: "gpu.nvidia.com", Pool: "node-a", Device: "gpu-3"}}, claimDevices(claim))
}

func nvidiaSlice(pool string, devices ...resourcev1.Device) *resourcev1.ResourceSlice {
	return &resourcev1.ResourceSlice{
		ObjectMeta: metav1.ObjectMeta{Name: pool + "-gpu.nvidia.com"},
		Spec:       resourcev1.ResourceSliceSpec{Driver: "gpu.nvidia.com", Pool: resourcev1.ResourcePool{Name: pool}, NodeName: ptr(pool), Devices: devices},
	}
}

func gpuDevice(name, kind, product, profile, memory string) resourcev1.Device {
	attrs := map[resourcev1.QualifiedName]resourcev1.DeviceAttribute{
		"type": {StringValue: ptr(kind)}, "productName": {StringValue: ptr(product)},
	}
	if profile != "" {
		attrs["profile"] = resourcev1.DeviceAttribute{StringValue: ptr(profile)}
	}
	return resourcev1.Device{Name: name, Attributes: attrs, Capacity: map[resourcev1.QualifiedName]resourcev1.DeviceCapacity{"memory": {Value: qty(memory)}}}
}

// The plan's device check lists the slices once per driver and says what
// the cluster offers when nothing matches.
func TestCheckDevicesAgainstResourceSlices(t *testing.T) {
	client := fake.NewClientset(
		nvidiaSlice("a100-80", gpuDevice("gpu-0", "gpu", "NVIDIA A100-SXM4-80GB", "", "80Gi"), gpuDevice("gpu-1", "gpu", "NVIDIA A100-SXM4-80GB", "", "80Gi")),
		nvidiaSlice("a100-40", gpuDevice("gpu-0", "gpu", "NVIDIA A100-SXM4-40GB", "", "40Gi")),
		nvidiaSlice("h100", gpuDevice("gpu-0-mig-1g10gb-0", "mig", "NVIDIA H100 80GB HBM3", "1g.10gb", "10Gi")),
	)
	lists := 0
	client.PrependReactor("list", "resourceslices", func(k8stesting.Action) (bool, runtime.Object, error) {
		lists++
		return false, nil, nil
	})
	d := NewDriver(client, "https://cluster.example", Options{})
	check := func(g worker.GPU) worker.PreflightReport {
		var report worker.PreflightReport
		d.checkDevices(context.Background(), draSpec(g), &report)
		return report
	}
	assert.Empty(t, check(worker.GPU{Count: 2, Type: "a100", MinMemory: "60Gi"}).Problems)
	assert.Empty(t, check(worker.GPU{Count: 1, Type: "h100", MIGProfile: "1g.10gb"}).Problems)
	tooMany := check(worker.GPU{Count: 3, Type: "a100", MinMemory: "60Gi"}).Problems
	require.Len(t, tooMany, 1)
	assert.Contains(t, tooMany[0].Detail, "exceeds the 2 matching devices")
	none := check(worker.GPU{Count: 1, Type: "a100", MinMemory: "100Gi"}).Problems
	require.Len(t, none, 1)
	assert.True(t, none[0].Warning)
	assert.Equal(t, worker.Path{"gpu"}, none[0].Path)
	assert.Contains(t, none[0].Detail, "gpu.nvidia.com: 1g.10gb ×1, NVIDIA A100-SXM4-40GB ×1, NVIDIA A100-SXM4-80GB ×2")
	assert.Equal(t, 1, lists, "one LIST for every check of the provider process")
}

// Refresh of a DRA worker costs two requests, the pod and its claim; a
// claim that the pod names but that is gone is reported lost.
func TestReadDRAWorkerInTwoRequests(t *testing.T) {
	spec := draSpec(worker.GPU{Count: 1, Type: "a100"})
	pod := mustBuild(t, spec, Options{})
	pod.Spec.NodeName = "node-a"
	pod.Status.ResourceClaimStatuses = []corev1.PodResourceClaimStatus{{Name: "gpu", ResourceClaimName: ptr("trainer-0-gpu-x7k2p")}}
	claim := &resourcev1.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Name: "trainer-0-gpu-x7k2p", Namespace: "ml"}}
	claim.Status.Allocation = &resourcev1.AllocationResult{Devices: resourcev1.DeviceAllocationResult{Results: []resourcev1.DeviceRequestAllocationResult{
		{Request: "gpu", Driver: "gpu.nvidia.com", Pool: "node-a", Device: "gpu-2"},
	}}}
	client := fake.NewClientset(pod, claim)
	d := NewDriver(client, "https://cluster.example", Options{})
	observed, err := d.Read(context.Background(), worker.RefOf(spec))
	require.NoError(t, err)
	assert.Equal(t, []worker.Device{{Driver: "gpu.nvidia.com", Pool: "node-a", Device: "gpu-2"}}, observed.Devices)
	assert.False(t, observed.DevicesLost)
	assert.Len(t, client.Actions(), 2, "a GET of the pod and one of its claim")

	require.NoError(t, client.ResourceV1().ResourceClaims("ml").Delete(context.Background(), claim.Name, metav1.DeleteOptions{}))
	observed, err = d.Read(context.Background(), worker.RefOf(spec))
	require.NoError(t, err)
	assert.True(t, observed.DevicesLost)
}

// A claim deleted while the pod runs stays, with a deletion timestamp, as
// long as the pod uses it: its devices are lost all the same.
func TestReadDRAWorkerWithClaimBeingDeleted(t *testing.T) {
	spec := draSpec(worker.GPU{Count: 1, Type: "a100"})
	pod := mustBuild(t, spec, Options{})
	pod.Spec.NodeName = "node-a"
	pod.Status.ResourceClaimStatuses = []corev1.PodResourceClaimStatus{{Name: "gpu", ResourceClaimName: ptr("trainer-0-gpu-x7k2p")}}
	now := metav1.Now()
	claim := &resourcev1.ResourceClaim{ObjectMeta: metav1.ObjectMeta{Name: "trainer-0-gpu-x7k2p", Namespace: "ml", DeletionTimestamp: &now,
		Finalizers: []string{"resource.kubernetes.io/delete-protection"}}}
	claim.Status.Allocation = &resourcev1.AllocationResult{}
	d := NewDriver(fake.NewClientset(pod, claim), "https://cluster.example", Options{})
	observed, err := d.Read(context.Background(), worker.RefOf(spec))
	require.NoError(t, err)
	assert.True(t, observed.DevicesLost)
}
