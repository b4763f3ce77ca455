package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

func adminClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	client, _ := clientFor(t, sharedCluster(t).kubeconfig)
	return client
}

// testNamespace creates a namespace for one test, with the given labels, and
// waits for its default service account, without which pods are refused.
func testNamespace(t *testing.T, client kubernetes.Interface, labels map[string]string) string {
	t.Helper()
	ctx := testContext(t)
	name := fmt.Sprintf("%s-%s", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), rand.String(5))
	name = name[max(0, len(name)-63):]
	name = strings.TrimLeft(name, "-")
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, namespace, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	waitFor(t, "default service account in "+name, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	return name
}

// simplePod is a pod with one container "worker" running image.
func simplePod(name, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "worker", Image: image}},
		},
	}
}

func gpuPod(name string, gpus int64) *corev1.Pod {
	pod := simplePod(name, "registry.example/trainer:1.0")
	pod.Spec.NodeSelector = map[string]string{"accelerator": "nvidia-tesla-a100"}
	pod.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	quantity := *resource.NewQuantity(gpus, resource.DecimalSI)
	pod.Spec.Containers[0].Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{"nvidia.com/gpu": quantity},
		Limits:   corev1.ResourceList{"nvidia.com/gpu": quantity},
	}
	return pod
}

func waitFor(t *testing.T, what string, condition func(context.Context) (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(testContext(t), 100*time.Millisecond, time.Minute, true, condition)
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// waitForPod polls the pod until condition holds and returns it.
func waitForPod(t *testing.T, client kubernetes.Interface, namespace, name, what string, condition func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	waitFor(t, fmt.Sprintf("pod %s/%s %s", namespace, name, what), func(ctx context.Context) (bool, error) {
		var err error
		pod, err = client.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return condition(pod), nil
	})
	return pod
}

func createPod(t *testing.T, client kubernetes.Interface, namespace string, pod *corev1.Pod) {
	t.Helper()
	if _, err := client.CoreV1().Pods(namespace).Create(testContext(t), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s: %v", pod.Name, err)
	}
}

func isRunningAndReady(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, condition := range pod.Status.Conditions {
		if condition.Type == corev1.PodReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}

func TestNodesReadyWithDeclaredTaintsOnly(t *testing.T) {
	client := adminClient(t)
	topology, err := LoadTopology("nodes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := nodesReady(testContext(t), client, topology); err != nil {
		t.Fatal(err)
	}
	for _, spec := range topology.Nodes {
		node, err := client.CoreV1().Nodes().Get(testContext(t), spec.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{corev1.LabelHostname, corev1.LabelTopologyZone} {
			if node.Labels[key] == "" {
				t.Errorf("node %s: no label %s", spec.Name, key)
			}
		}
		for resourceName, declared := range spec.Capacity {
			if actual := node.Status.Allocatable[resourceName]; actual.Cmp(declared) != 0 {
				t.Errorf("node %s: allocatable %s is %s, declared %s", spec.Name, resourceName, actual.String(), declared.String())
			}
		}
	}
	// Leases are what the node lifecycle controller of a real cluster watches.
	waitFor(t, "node leases", func(ctx context.Context) (bool, error) {
		leases, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{})
		return err == nil && len(leases.Items) >= len(topology.Nodes), err
	})
}

func TestGPUPodLandsOnA100Node(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	createPod(t, client, namespace, gpuPod("trainer", 2))

	pod := waitForPod(t, client, namespace, "trainer", "running and ready", isRunningAndReady)
	if pod.Spec.NodeName != "gpu-a100-0" {
		t.Errorf("scheduled on %q, want gpu-a100-0", pod.Spec.NodeName)
	}
	if pod.Status.PodIP == "" || pod.Status.HostIP == "" || pod.Status.StartTime == nil {
		t.Errorf("podIP %q, hostIP %q, startTime %v: want all set", pod.Status.PodIP, pod.Status.HostIP, pod.Status.StartTime)
	}
	if len(pod.Status.ContainerStatuses) != 1 {
		t.Fatalf("container statuses: %+v", pod.Status.ContainerStatuses)
	}
	status := pod.Status.ContainerStatuses[0]
	if status.Name != "worker" || !status.Ready || status.Started == nil || !*status.Started || status.State.Running == nil || status.ImageID == "" || status.ContainerID == "" {
		t.Errorf("container status: %+v", status)
	}
	waitForEvent(t, client, namespace, "trainer", "Started", "gpu-a100-0")
}

func TestTooManyGPUsStaysPendingWithSchedulerMessage(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	createPod(t, client, namespace, gpuPod("greedy", 5))

	pod := waitForPod(t, client, namespace, "greedy", "unschedulable", func(pod *corev1.Pod) bool {
		for _, condition := range pod.Status.Conditions {
			if condition.Type == corev1.PodScheduled && condition.Status == corev1.ConditionFalse {
				return strings.Contains(condition.Message, "Insufficient nvidia.com/gpu")
			}
		}
		return false
	})
	if pod.Status.Phase != corev1.PodPending || pod.Spec.NodeName != "" {
		t.Errorf("phase %s on node %q, want Pending on no node", pod.Status.Phase, pod.Spec.NodeName)
	}
}

func TestImageTagConventions(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	tests := []struct {
		image string
		what  string
		want  func(*corev1.Pod) bool
		event string
	}{
		{"busybox:missing", "in ImagePullBackOff after ErrImagePull", func(pod *corev1.Pod) bool {
			return pod.Status.Phase == corev1.PodPending && waitingReason(pod) == "ImagePullBackOff" &&
				strings.Contains(pod.Status.ContainerStatuses[0].State.Waiting.Message, `Back-off pulling image "busybox:missing"`)
		}, "Failed"},
		{"busybox:crash", "in CrashLoopBackOff with rising restarts", func(pod *corev1.Pod) bool {
			if pod.Status.Phase != corev1.PodRunning || waitingReason(pod) != "CrashLoopBackOff" {
				return false
			}
			status := pod.Status.ContainerStatuses[0]
			last := status.LastTerminationState.Terminated
			return status.RestartCount >= 2 && last != nil && last.ExitCode == 1 && !status.Ready
		}, "BackOff"},
		{"busybox:exit0", "Succeeded", func(pod *corev1.Pod) bool {
			terminated := terminatedState(pod)
			return pod.Status.Phase == corev1.PodSucceeded && terminated != nil && terminated.ExitCode == 0 && terminated.Reason == "Completed"
		}, "Started"},
		{"busybox:exit1", "Failed", func(pod *corev1.Pod) bool {
			terminated := terminatedState(pod)
			return pod.Status.Phase == corev1.PodFailed && terminated != nil && terminated.ExitCode == 1 && terminated.Reason == "Error"
		}, "Started"},
	}
	for _, test := range tests {
		t.Run(imageTag(test.image), func(t *testing.T) {
			t.Parallel()
			name := "tag-" + imageTag(test.image)
			createPod(t, client, namespace, simplePod(name, test.image))
			if test.image == "busybox:missing" {
				waitForPod(t, client, namespace, name, "in ErrImagePull", func(pod *corev1.Pod) bool {
					return waitingReason(pod) == "ErrImagePull" || waitingReason(pod) == "ImagePullBackOff"
				})
			}
			pod := waitForPod(t, client, namespace, name, test.what, test.want)
			waitForEvent(t, client, namespace, name, test.event, pod.Spec.NodeName)
		})
	}
}

func TestPersistentVolumeClaimBindsAndPodRuns(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	ctx := testContext(t)
	pvName := namespace + "-pv"
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: pvName},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:              "manual",
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data/" + pvName}},
		},
	}
	if _, err := client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.CoreV1().PersistentVolumes().Delete(context.Background(), pvName, metav1.DeleteOptions{})
	})
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To("manual"),
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := client.CoreV1().PersistentVolumeClaims(namespace).Create(ctx, claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the claim to bind", func(ctx context.Context) (bool, error) {
		claim, err := client.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, "data", metav1.GetOptions{})
		return err == nil && claim.Status.Phase == corev1.ClaimBound && claim.Spec.VolumeName == pvName, err
	})

	pod := simplePod("with-volume", "busybox:1.36")
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"},
	}}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	createPod(t, client, namespace, pod)
	waitForPod(t, client, namespace, "with-volume", "running and ready", isRunningAndReady)
}

func TestRestrictedPodSecurityRejectsViolatingPod(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	pod := simplePod("privileged", "busybox:1.36")
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}

	_, err := client.CoreV1().Pods(namespace).Create(testContext(t), pod, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted:latest"`) {
		t.Fatalf("creating a privileged pod: got %v, want the PodSecurity admission refusal", err)
	}
}

func TestRestrictedKubeconfigIsLimitedToItsNamespace(t *testing.T) {
	cluster := sharedCluster(t)
	admin := adminClient(t)
	restricted, namespace := clientFor(t, cluster.restrictedKubeconfig)
	if namespace != "hodei-limited" {
		t.Fatalf("restricted kubeconfig namespace %q, want hodei-limited", namespace)
	}
	waitFor(t, "default service account in "+namespace, func(ctx context.Context) (bool, error) {
		_, err := admin.CoreV1().ServiceAccounts(namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	ctx := testContext(t)

	if _, err := restricted.CoreV1().Pods(namespace).Create(ctx, simplePod("allowed", "busybox:1.36"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a pod in %s: %v", namespace, err)
	}
	t.Cleanup(func() {
		_ = admin.CoreV1().Pods(namespace).Delete(context.Background(), "allowed", metav1.DeleteOptions{})
	})
	waitForPod(t, restricted, namespace, "allowed", "running and ready", isRunningAndReady)
	if _, err := restricted.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("listing events in %s: %v", namespace, err)
	}
	// A DRA worker's claim template, and the claims made from it.
	template := claimTemplate("restricted-gpu", "gpu.nvidia.com", `device.attributes["gpu.nvidia.com"].type == "gpu"`, 1)
	if _, err := restricted.ResourceV1().ResourceClaimTemplates(namespace).Create(ctx, template, metav1.CreateOptions{}); err != nil {
		t.Errorf("creating a resource claim template in %s: %v", namespace, err)
	} else if err := restricted.ResourceV1().ResourceClaimTemplates(namespace).Delete(ctx, template.Name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("deleting the resource claim template: %v", err)
	}
	if _, err := restricted.ResourceV1().ResourceClaims(namespace).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("listing resource claims in %s: %v", namespace, err)
	}

	_, err := restricted.CoreV1().Pods(metav1.NamespaceDefault).Create(ctx, simplePod("refused", "busybox:1.36"), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("creating a pod in default: got %v, want Forbidden", err)
	}
	if _, err := restricted.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("listing nodes: got %v, want Forbidden", err)
	}
}

func TestDeletedPodIsRemoved(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	createPod(t, client, namespace, simplePod("short-lived", "busybox:1.36"))
	waitForPod(t, client, namespace, "short-lived", "running and ready", isRunningAndReady)

	// The default grace period is 30 s; the simulated kubelet stops the
	// containers at once and completes the deletion.
	if err := client.CoreV1().Pods(namespace).Delete(testContext(t), "short-lived", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod to be gone", func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().Pods(namespace).Get(ctx, "short-lived", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

func waitingReason(pod *corev1.Pod) string {
	if len(pod.Status.ContainerStatuses) == 0 || pod.Status.ContainerStatuses[0].State.Waiting == nil {
		return ""
	}
	return pod.Status.ContainerStatuses[0].State.Waiting.Reason
}

func terminatedState(pod *corev1.Pod) *corev1.ContainerStateTerminated {
	if len(pod.Status.ContainerStatuses) == 0 {
		return nil
	}
	return pod.Status.ContainerStatuses[0].State.Terminated
}

// waitForEvent waits for an event of reason about the pod from the kubelet of node.
func waitForEvent(t *testing.T, client kubernetes.Interface, namespace, pod, reason, node string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("event %s about pod %s from node %s", reason, pod, node), func(ctx context.Context) (bool, error) {
		events, err := client.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + pod + ",reason=" + reason,
		})
		if err != nil {
			return false, err
		}
		for _, event := range events.Items {
			if event.Source.Component == "kubelet" && event.Source.Host == node {
				return true, nil
			}
		}
		return false, nil
	})
}

func TestContainerLogsThroughAPIServer(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	createPod(t, client, namespace, simplePod("fails", "busybox:exit1"))
	createPod(t, client, namespace, simplePod("unpulled", "busybox:missing"))
	waitForPod(t, client, namespace, "fails", "Failed", func(pod *corev1.Pod) bool { return pod.Status.Phase == corev1.PodFailed })
	waitForPod(t, client, namespace, "unpulled", "in ImagePullBackOff", func(pod *corev1.Pod) bool { return waitingReason(pod) == "ImagePullBackOff" })

	logs, err := client.CoreV1().Pods(namespace).GetLogs("fails", &corev1.PodLogOptions{Container: "worker"}).DoRaw(testContext(t))
	if err != nil || !strings.Contains(string(logs), "simulated exit, code 1") {
		t.Errorf("logs of the failed pod: %q, %v", logs, err)
	}
	// Stream, as kubectl logs does, reports the kubelet's message on failure.
	stream, err := client.CoreV1().Pods(namespace).GetLogs("unpulled", &corev1.PodLogOptions{}).Stream(testContext(t))
	if err == nil {
		stream.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "is waiting to start: trying and failing to pull image") {
		t.Errorf("logs of the unpulled pod: got %v, want the kubelet's waiting-to-start error", err)
	}
}
