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
	for _, reason := range []string{"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError"} {
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
