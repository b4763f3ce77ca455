package main

import (
	"context"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

func TestDRASlicesPublishTheTopologysGPUs(t *testing.T) {
	client := adminClient(t)
	ctx := testContext(t)
	list, err := client.ResourceV1().ResourceSlices().List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector(resourcev1.ResourceSliceSelectorDriver, nvidiaDriver).String(),
	})
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string]resourcev1.ResourceSlice{}
	for _, slice := range list.Items {
		byNode[ptr.Deref(slice.Spec.NodeName, "")] = slice
	}
	want := map[string]struct {
		devices     []string
		deviceType  string
		productName string
		memory      string
	}{
		"gpu-dra-a100-80gb-0": {[]string{"gpu-0", "gpu-1", "gpu-2", "gpu-3"}, "gpu", "NVIDIA A100-SXM4-80GB", "80Gi"},
		"gpu-dra-a100-40gb-0": {[]string{"gpu-0", "gpu-1", "gpu-2", "gpu-3"}, "gpu", "NVIDIA A100-SXM4-40GB", "40Gi"},
		"gpu-dra-h100-mig-0": {[]string{
			"gpu-0-mig-1g10gb-19-0", "gpu-0-mig-1g10gb-19-1", "gpu-0-mig-1g10gb-19-2", "gpu-0-mig-1g10gb-19-3",
			"gpu-0-mig-1g10gb-19-4", "gpu-0-mig-1g10gb-19-5", "gpu-0-mig-1g10gb-19-6",
		}, "mig", "NVIDIA H100 80GB HBM3", "9984Mi"},
	}
	if len(list.Items) != len(want) {
		t.Errorf("%d slices of %s, want %d (one per DRA node)", len(list.Items), nvidiaDriver, len(want))
	}
	uuids := map[string]bool{}
	for node, expected := range want {
		slice, ok := byNode[node]
		if !ok {
			t.Errorf("no slice for node %s", node)
			continue
		}
		if slice.Spec.Pool.Name != node || slice.Spec.Pool.ResourceSliceCount != 1 {
			t.Errorf("%s: pool %+v, want one slice in pool %s", node, slice.Spec.Pool, node)
		}
		var names []string
		for _, device := range slice.Spec.Devices {
			names = append(names, device.Name)
			attributes := device.Attributes
			if got := ptr.Deref(attributes["type"].StringValue, ""); got != expected.deviceType {
				t.Errorf("%s/%s: type %q, want %q", node, device.Name, got, expected.deviceType)
			}
			if got := ptr.Deref(attributes["productName"].StringValue, ""); got != expected.productName {
				t.Errorf("%s/%s: productName %q, want %q", node, device.Name, got, expected.productName)
			}
			if memory := device.Capacity["memory"].Value; memory.Cmp(resource.MustParse(expected.memory)) != 0 {
				t.Errorf("%s/%s: memory %s, want %s", node, device.Name, memory.String(), expected.memory)
			}
			uuid := ptr.Deref(attributes["uuid"].StringValue, "")
			prefix := map[string]string{"gpu": "GPU-", "mig": "MIG-"}[expected.deviceType]
			if !strings.HasPrefix(uuid, prefix) || uuids[uuid] {
				t.Errorf("%s/%s: uuid %q, want a unique %s<uuid>", node, device.Name, uuid, prefix)
			}
			uuids[uuid] = true
			for _, name := range []resourcev1.QualifiedName{"brand", "architecture", pciBusIDAttribute} {
				if ptr.Deref(attributes[name].StringValue, "") == "" {
					t.Errorf("%s/%s: no %s", node, device.Name, name)
				}
			}
			if attributes["cudaComputeCapability"].VersionValue == nil || attributes["driverVersion"].VersionValue == nil {
				t.Errorf("%s/%s: no cudaComputeCapability or driverVersion version", node, device.Name)
			}
			if expected.deviceType == "mig" {
				if got := ptr.Deref(attributes["profile"].StringValue, ""); got != "1g.10gb" {
					t.Errorf("%s/%s: profile %q, want 1g.10gb", node, device.Name, got)
				}
				if ptr.Deref(attributes["parentUUID"].StringValue, "") == "" {
					t.Errorf("%s/%s: no parentUUID", node, device.Name)
				}
			}
		}
		if !slices.Equal(names, expected.devices) {
			t.Errorf("%s: devices %v, want %v", node, names, expected.devices)
		}
	}

	for _, name := range []string{"gpu.nvidia.com", "mig.nvidia.com", "gpu.amd.com", "gpu.intel.com"} {
		if _, err := client.ResourceV1().DeviceClasses().Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("device class %s: %v", name, err)
		}
	}
}

// claimTemplate asks count devices of class matching expression.
func claimTemplate(name, class, expression string, count int64) *resourcev1.ResourceClaimTemplate {
	return &resourcev1.ResourceClaimTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: resourcev1.ResourceClaimTemplateSpec{Spec: resourcev1.ResourceClaimSpec{
			Devices: resourcev1.DeviceClaim{Requests: []resourcev1.DeviceRequest{{
				Name: "gpu",
				Exactly: &resourcev1.ExactDeviceRequest{
					DeviceClassName: class,
					AllocationMode:  resourcev1.DeviceAllocationModeExactCount,
					Count:           count,
					Selectors:       []resourcev1.DeviceSelector{{CEL: &resourcev1.CELDeviceSelector{Expression: expression}}},
				},
			}}},
		}},
	}
}

// draPod is a GPU pod whose container uses the claim made from template.
func draPod(name, template string) *corev1.Pod {
	pod := simplePod(name, "registry.example/trainer:1.0")
	pod.Labels = map[string]string{"app.kubernetes.io/managed-by": "hodei"}
	pod.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	pod.Spec.ResourceClaims = []corev1.PodResourceClaim{{Name: "gpu", ResourceClaimTemplateName: ptr.To(template)}}
	pod.Spec.Containers[0].Resources.Claims = []corev1.ResourceClaim{{Name: "gpu"}}
	return pod
}

// runDRAPod creates template and pod, waits until the pod runs and returns
// it with the claim generated for it.
func runDRAPod(t *testing.T, client kubernetes.Interface, namespace string, template *resourcev1.ResourceClaimTemplate, pod *corev1.Pod) (*corev1.Pod, *resourcev1.ResourceClaim) {
	t.Helper()
	if _, err := client.ResourceV1().ResourceClaimTemplates(namespace).Create(testContext(t), template, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createPod(t, client, namespace, pod)
	pod = waitForPod(t, client, namespace, pod.Name, "running and ready", isRunningAndReady)
	claimName := generatedClaimName(pod)
	if claimName == "" {
		t.Fatalf("pod %s: no generated claim in status %+v", pod.Name, pod.Status.ResourceClaimStatuses)
	}
	claim, err := client.ResourceV1().ResourceClaims(namespace).Get(testContext(t), claimName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if claim.Status.Allocation == nil {
		t.Fatalf("claim %s: not allocated", claimName)
	}
	if !slices.ContainsFunc(claim.Status.ReservedFor, func(r resourcev1.ResourceClaimConsumerReference) bool { return r.UID == pod.UID }) {
		t.Errorf("claim %s: reserved for %+v, not for the pod", claimName, claim.Status.ReservedFor)
	}
	return pod, claim
}

func generatedClaimName(pod *corev1.Pod) string {
	for _, status := range pod.Status.ResourceClaimStatuses {
		if status.Name == "gpu" {
			return ptr.Deref(status.ResourceClaimName, "")
		}
	}
	return ""
}

// allocatedDevices are the claim's devices as "pool/device".
func allocatedDevices(t *testing.T, claim *resourcev1.ResourceClaim) []string {
	t.Helper()
	var devices []string
	for _, result := range claim.Status.Allocation.Devices.Results {
		if result.Driver != nvidiaDriver {
			t.Errorf("claim %s: device %s of driver %s, want %s", claim.Name, result.Device, result.Driver, nvidiaDriver)
		}
		devices = append(devices, result.Pool+"/"+result.Device)
	}
	return devices
}

func TestDRAClaimByMemoryLandsOnThe80GBNodeAndIsFreedWithThePod(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	template := claimTemplate("large", "gpu.nvidia.com", `device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("60Gi")) >= 0`, 2)
	pod, claim := runDRAPod(t, client, namespace, template, draPod("large", "large"))

	if pod.Spec.NodeName != "gpu-dra-a100-80gb-0" {
		t.Errorf("scheduled on %q, want gpu-dra-a100-80gb-0", pod.Spec.NodeName)
	}
	devices := allocatedDevices(t, claim)
	if len(devices) != 2 || devices[0] == devices[1] {
		t.Errorf("allocated %v, want two distinct devices", devices)
	}
	for _, device := range devices {
		if !strings.HasPrefix(device, "gpu-dra-a100-80gb-0/gpu-") {
			t.Errorf("allocated %s, want a GPU of pool gpu-dra-a100-80gb-0", device)
		}
	}
	// The demo's placement table lists the allocated devices.
	slices.Sort(devices)
	out, err := exec.Command(binaryPath, "workers", "--kubeconfig", sharedCluster(t).kubeconfig).CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^large +`+namespace+` +gpu-dra-a100-80gb-0 +zone-a +- +2 +`+regexp.QuoteMeta(strings.Join(devices, ","))+` +Running +-$`).Match(out) {
		t.Errorf("devcluster workers: %v\n%s", err, out)
	}

	// The resource claim controller deletes the claim it made once its pod is gone.
	if err := client.CoreV1().Pods(namespace).Delete(testContext(t), pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the generated claim to be deleted", func(ctx context.Context) (bool, error) {
		_, err := client.ResourceV1().ResourceClaims(namespace).Get(ctx, claim.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

func TestDRAMIGClaimLandsOnTheMIGNode(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	template := claimTemplate("slice", "mig.nvidia.com", `device.attributes["gpu.nvidia.com"].profile == "1g.10gb"`, 1)
	pod, claim := runDRAPod(t, client, namespace, template, draPod("slice", "slice"))

	if pod.Spec.NodeName != "gpu-dra-h100-mig-0" {
		t.Errorf("scheduled on %q, want gpu-dra-h100-mig-0", pod.Spec.NodeName)
	}
	if devices := allocatedDevices(t, claim); len(devices) != 1 || !strings.HasPrefix(devices[0], "gpu-dra-h100-mig-0/gpu-0-mig-1g10gb-19-") {
		t.Errorf("allocated %v, want one 1g.10gb MIG device of pool gpu-dra-h100-mig-0", devices)
	}
}

func TestDRAUnsatisfiableClaimStaysPendingWithSchedulerMessage(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	template := claimTemplate("huge", "gpu.nvidia.com", `device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("100Gi")) >= 0`, 1)
	if _, err := client.ResourceV1().ResourceClaimTemplates(namespace).Create(testContext(t), template, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createPod(t, client, namespace, draPod("huge", "huge"))

	pod := waitForPod(t, client, namespace, "huge", "unschedulable", func(pod *corev1.Pod) bool {
		for _, condition := range pod.Status.Conditions {
			if condition.Type == corev1.PodScheduled && condition.Status == corev1.ConditionFalse {
				return strings.Contains(condition.Message, "cannot allocate all claims")
			}
		}
		return false
	})
	if pod.Status.Phase != corev1.PodPending || pod.Spec.NodeName != "" {
		t.Errorf("phase %s on node %q, want Pending on no node", pod.Status.Phase, pod.Spec.NodeName)
	}
	claim, err := client.ResourceV1().ResourceClaims(namespace).Get(testContext(t), generatedClaimName(pod), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("generated claim: %v", err)
	}
	if claim.Status.Allocation != nil {
		t.Errorf("claim %s: allocated %+v, want none", claim.Name, claim.Status.Allocation)
	}
}

func TestDevicePluginMIGPodLandsOnTheMixedStrategyNode(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	pod := simplePod("mig", "registry.example/inference:1.0")
	pod.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	one := resource.MustParse("1")
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{"nvidia.com/mig-1g.10gb": one},
		Limits:   corev1.ResourceList{"nvidia.com/mig-1g.10gb": one},
	}
	createPod(t, client, namespace, pod)
	pod = waitForPod(t, client, namespace, "mig", "running and ready", isRunningAndReady)
	if pod.Spec.NodeName != "gpu-h100-mig-0" {
		t.Errorf("scheduled on %q, want gpu-h100-mig-0", pod.Spec.NodeName)
	}
}
