package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func podWith(phase corev1.PodPhase, status *corev1.ContainerStatus) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "w"}, Status: corev1.PodStatus{Phase: phase}}
	if status != nil {
		status.Name = "worker"
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{*status}
	}
	return pod
}

func waiting(reason, message string) *corev1.ContainerStatus {
	return &corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}}
}

func TestPodFailureFailsFastOnKubeletReasons(t *testing.T) {
	for _, reason := range []string{"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable",
		"SignatureValidationFailed", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"} {
		err := podFailure(podWith(corev1.PodPending, waiting(reason, "image busybox:missing not found")))
		require.Error(t, err, reason)
		assert.Equal(t, "container worker of pod ml/w cannot run: "+reason+": image busybox:missing not found", err.Error())
	}
}

func TestPodFailureCrashLoopCarriesLastExit(t *testing.T) {
	status := waiting("CrashLoopBackOff", "back-off 10s restarting failed container")
	status.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error", Message: "boom\n"}
	err := podFailure(podWith(corev1.PodRunning, status))
	require.EqualError(t, err, "container worker of pod ml/w cannot run: CrashLoopBackOff: back-off 10s restarting failed container; container worker exited with code 3 (Error): boom")
}

func TestPodFailureOnExit(t *testing.T) {
	terminated := func(code int32, reason string) *corev1.ContainerStatus {
		return &corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}
	}
	failed := podWith(corev1.PodFailed, terminated(1, "Error"))
	require.EqualError(t, podFailure(failed), "pod ml/w failed; container worker exited with code 1 (Error)")

	evicted := podWith(corev1.PodFailed, nil)
	evicted.Status.Reason, evicted.Status.Message = "Evicted", "The node was low on resource: memory."
	require.EqualError(t, podFailure(evicted), "pod ml/w failed: Evicted: The node was low on resource: memory.")

	require.EqualError(t, podFailure(podWith(corev1.PodSucceeded, terminated(0, "Completed"))),
		"pod ml/w exited before it was running (phase Succeeded); container worker exited with code 0 (Completed)")
}

func TestPodFailureNotYet(t *testing.T) {
	assert.NoError(t, podFailure(podWith(corev1.PodPending, nil)))
	assert.NoError(t, podFailure(podWith(corev1.PodPending, waiting("ContainerCreating", ""))))
	assert.NoError(t, podFailure(podWith(corev1.PodRunning, &corev1.ContainerStatus{Ready: true})))
}

func TestReached(t *testing.T) {
	pending := podWith(corev1.PodPending, nil)
	assert.False(t, reached(pending, worker.WaitScheduled))
	pending.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
	assert.True(t, reached(pending, worker.WaitScheduled))
	assert.False(t, reached(pending, worker.WaitRunning))

	notReady := podWith(corev1.PodRunning, &corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	assert.False(t, reached(notReady, worker.WaitRunning))
	assert.True(t, reached(podWith(corev1.PodRunning, &corev1.ContainerStatus{Ready: true}), worker.WaitRunning))
	assert.False(t, reached(podWith(corev1.PodRunning, &corev1.ContainerStatus{Ready: true, RestartCount: 1}), worker.WaitRunning),
		"a container restarted during the create has exited once")
}

func TestAPIErrorKeepsTheAPIMessage(t *testing.T) {
	d := NewDriver(nil, "https://10.0.0.1:6443", Options{})
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "w",
		errors.New(`violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false`))
	err := d.apiError("creating pod ml/w", forbidden)
	assert.Equal(t, `creating pod ml/w: pods "w" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false`, err.Error())
	assert.True(t, apierrors.IsForbidden(err))
}

func TestAPIErrorNamesTheUnreachableAddress(t *testing.T) {
	d := NewDriver(nil, "https://10.0.0.1:6443", Options{})
	refused := &url.Error{Op: "Get", URL: "https://10.0.0.1:6443/api/v1/namespaces/ml/pods/w", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	err := d.apiError("reading pod ml/w", refused)
	assert.True(t, strings.HasPrefix(err.Error(), "kubernetes API server at https://10.0.0.1:6443 is unreachable: reading pod ml/w: "), err.Error())

	late := &url.Error{Op: "Get", URL: "https://10.0.0.1:6443/api", Err: context.DeadlineExceeded}
	err = d.apiError("reading pod ml/w", late)
	assert.Contains(t, err.Error(), "no answer in time from the kubernetes API server at https://10.0.0.1:6443")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestStuckMessageQuotesTheScheduler(t *testing.T) {
	pod := podWith(corev1.PodPending, nil)
	pod.Status.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
		Message: "0/7 nodes are available: 1 Insufficient nvidia.com/gpu, 6 node(s) didn't match Pod's node affinity/selector.",
	}}
	msg := stuckMessage(pod, worker.WaitRunning, "within the create timeout", context.DeadlineExceeded)
	assert.Equal(t, "pod ml/w was not scheduled within the create timeout (context deadline exceeded): Unschedulable: "+
		"0/7 nodes are available: 1 Insufficient nvidia.com/gpu, 6 node(s) didn't match Pod's node affinity/selector.", msg)

	scheduled := podWith(corev1.PodPending, waiting("ContainerCreating", ""))
	scheduled.Spec.NodeName = "node-1"
	msg = stuckMessage(scheduled, worker.WaitRunning, "within the create timeout", context.DeadlineExceeded)
	assert.Equal(t, "pod ml/w was not running within the create timeout (context deadline exceeded); it is in phase Pending on node node-1, container worker waiting: ContainerCreating", msg)
}

func TestFormatWarningEventsKeepsTheLastFew(t *testing.T) {
	base := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	var events []corev1.Event
	for i := 7; i >= 0; i-- {
		events = append(events, corev1.Event{
			Reason:        "FailedScheduling",
			Message:       fmt.Sprintf("attempt %d", i),
			LastTimestamp: metav1.Time{Time: base.Add(time.Duration(i) * time.Second)},
			Count:         1,
		})
	}
	events[0].Count = 4
	events = append(events, corev1.Event{
		Reason: "FailedMount", Message: "volume x not found",
		EventTime: metav1.MicroTime{Time: base.Add(time.Minute)},
		Series:    &corev1.EventSeries{Count: 2, LastObservedTime: metav1.MicroTime{Time: base.Add(30 * time.Second)}},
	})
	assert.Equal(t, []string{
		"FailedScheduling: attempt 4",
		"FailedScheduling: attempt 5",
		"FailedScheduling: attempt 6",
		"FailedScheduling: attempt 7 (4 times)",
		"FailedMount: volume x not found (2 times)",
	}, formatWarningEvents(events))
}

// terminatedWith is a container that ended with code and reason.
func terminatedWith(code int32, reason string) *corev1.ContainerStatus {
	return &corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}}
}

// withMemoryLimit gives pod's worker container a memory limit.
func withMemoryLimit(pod *corev1.Pod, limit string) *corev1.Pod {
	pod.Spec.Containers = []corev1.Container{{Name: worker.ContainerName, Image: "devcluster.local/busybox:1.36", Resources: corev1.ResourceRequirements{
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit)},
	}}}
	return pod
}

// The states a real kubelet (v1.37, containerd 1.6) reports on the way to a
// running container, with the messages it gives: those it will get past are
// waited for (nil), those that need another spec fail the create with the
// kubelet's words.
func TestPodFailureOnARealKubelet(t *testing.T) {
	restarted := &corev1.ContainerStatus{RestartCount: 1, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	restarted.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}
	startError := waiting("RunContainerError", `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown`)
	startError.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError"}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want string // "" when the create waits on
	}{
		{"sandbox and volumes being set up", podWith(corev1.PodPending, waiting("ContainerCreating", "")), ""},
		{"init containers running", podWith(corev1.PodPending, waiting("PodInitializing", "")), ""},
		{"a Secret not there yet", podWith(corev1.PodPending, waiting("CreateContainerConfigError", `secret "db" not found`)), ""},
		{"a ConfigMap not there yet", podWith(corev1.PodPending, waiting("CreateContainerConfigError", `configmap "settings" not found`)), ""},
		{"a Secret's key not there yet", podWith(corev1.PodPending, waiting("CreateContainerConfigError", "couldn't find key password in Secret ml/db")), ""},
		{"a ConfigMap's key not there yet", podWith(corev1.PodPending, waiting("CreateContainerConfigError", "couldn't find key level in ConfigMap ml/settings")), ""},
		{"the kubelet's cache not ready", podWith(corev1.PodPending, waiting("CreateContainerConfigError", `object "ml"/"db" not registered`)), ""},
		{
			"run_as_non_root on a root image",
			podWith(corev1.PodPending, waiting("CreateContainerConfigError", `container has runAsNonRoot and image will run as root (pod: "w_ml(uid-1)", container: worker)`)),
			`container worker of pod ml/w cannot run: CreateContainerConfigError: container has runAsNonRoot and image will run as root (pod: "w_ml(uid-1)", container: worker)`,
		},
		{
			"the runtime refuses to create the container",
			podWith(corev1.PodPending, waiting("CreateContainerError", `failed to create containerd container: mount source "/x" does not exist`)),
			`container worker of pod ml/w cannot run: CreateContainerError: failed to create containerd container: mount source "/x" does not exist`,
		},
		{
			"a command missing from the image",
			podWith(corev1.PodRunning, startError),
			`container worker of pod ml/w cannot run: RunContainerError: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: ` +
				`unable to start container process: exec: "nope": executable file not found in $PATH: unknown; container worker exited with code 128 (StartError)`,
		},
		{"exit 3", podWith(corev1.PodRunning, terminatedWith(3, "Error")), "container worker of pod ml/w exited with code 3 (Error)"},
		{"exit 0 with restart_policy Always", podWith(corev1.PodRunning, terminatedWith(0, "Completed")), "container worker of pod ml/w exited with code 0 (Completed)"},
		{
			"over its memory limit",
			withMemoryLimit(podWith(corev1.PodRunning, terminatedWith(137, "OOMKilled")), "8Mi"),
			"container worker of pod ml/w exited with code 137 (OOMKilled: the process used more than the container's memory limit of 8Mi; raise resources.memory_limit)",
		},
		{
			"out of memory without a limit",
			podWith(corev1.PodRunning, terminatedWith(137, "OOMKilled")),
			"container worker of pod ml/w exited with code 137 (OOMKilled: the kernel killed the process for lack of memory; the container has no memory limit " +
				"(resources.memory_limit), so the node itself ran short)",
		},
		{
			"over its memory limit with restart_policy Never",
			withMemoryLimit(podWith(corev1.PodFailed, terminatedWith(137, "OOMKilled")), "8Mi"),
			"pod ml/w failed; container worker exited with code 137 (OOMKilled: the process used more than the container's memory limit of 8Mi; raise resources.memory_limit)",
		},
		{"restarted, running again", podWith(corev1.PodRunning, restarted), "container worker of pod ml/w exited and was restarted (1 restart); container worker exited with code 3 (Error)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := podFailure(tc.pod)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tc.want)
		})
	}
}

// A registry's 401 fails the create at once, and the error says what the
// kubelet pulled with: no image_pull_secrets, or which ones.
func TestPodFailureExplainsARefusedPull(t *testing.T) {
	const image = "127.0.0.1:5000/hodei/busybox:1.36"
	const refused = `failed to pull and unpack image "` + image + `": failed to resolve reference "` + image + `": ` +
		`pulling from host 127.0.0.1:5000 failed with status code [manifests 1.36]: 401 Unauthorized`
	pod := podWith(corev1.PodPending, waiting("ErrImagePull", refused))
	pod.Spec.Containers = []corev1.Container{{Name: worker.ContainerName, Image: image}}
	assert.EqualError(t, podFailure(pod), "container worker of pod ml/w cannot run: ErrImagePull: "+refused+
		" (the registry refused the pull, and the worker has no image_pull_secrets: add a Secret of type kubernetes.io/dockerconfigjson "+
		"with credentials for 127.0.0.1:5000 to image_pull_secrets)")

	pod.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}, {Name: "mirror"}}
	pod.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "` + image + `": ErrImagePull: ` + refused}
	err := podFailure(pod)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ImagePullBackOff: Back-off pulling image")
	assert.Contains(t, err.Error(), " (the registry refused the pull with the credentials of image_pull_secrets regcred, mirror: each must exist in namespace ml, "+
		"be of type kubernetes.io/dockerconfigjson and hold credentials for 127.0.0.1:5000 that may pull this image)")

	pod.Spec.Containers[0].Image = "busybox:1.36"
	pod.Status.ContainerStatuses[0].State.Waiting.Message = "unauthorized: authentication required"
	assert.Contains(t, podFailure(pod).Error(), "credentials for docker.io that may pull", "an image without a registry is Docker Hub's")

	pod.Status.ContainerStatuses[0].State.Waiting.Message = `failed to resolve reference "busybox:1.36": not found`
	assert.NotContains(t, podFailure(pod).Error(), "refused", "a missing tag is no refusal")
}
