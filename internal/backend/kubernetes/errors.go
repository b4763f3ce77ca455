package kubernetes

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// apiError says what was attempted and why it failed: the API's own message
// when the server answered, else the address that gave no answer. The cause
// stays wrapped for errors.Is and apierrors.Is*.
func (d *Driver) apiError(action string, err error) error {
	var status apierrors.APIStatus
	switch {
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: %w (the API server at %s refused the credentials: kubernetes.token, token_file, "+
			"client_certificate and client_key, exec, or the kubeconfig's user)", action, err, d.host)
	case errors.As(err, &status):
		return fmt.Errorf("%s: %w", action, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: no answer in time from the kubernetes API server at %s: %w", action, d.host, err)
	}
	return fmt.Errorf("kubernetes API server at %s is unreachable: %s: %w%s", d.host, action, err, certificateHint(err))
}

// certificateHint names the settings behind a server certificate the
// client refused.
func certificateHint(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &unknownCA):
		return " (the server's certificate is not signed by the CA of kubernetes.cluster_ca_certificate, " +
			"KUBE_CLUSTER_CA_CERT_DATA or the kubeconfig's certificate-authority-data)"
	case errors.As(err, &hostname):
		return " (the server's certificate is not for that name; kubernetes.tls_server_name, or KUBE_TLS_SERVER_NAME, " +
			"names the one to check it against)"
	}
	return ""
}

// fatalWaitingReasons are the kubelet's reasons for a container that will
// not start without a change to the spec or the image, so waiting on is
// pointless.
var fatalWaitingReasons = map[string]bool{
	"ErrImagePull":               true,
	"ImagePullBackOff":           true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"CreateContainerConfigError": true,
	"CrashLoopBackOff":           true,
}

// podFailure is why pod can never become what a create waits for, or nil.
func podFailure(pod *corev1.Pod) error {
	name := pod.Namespace + "/" + pod.Name
	status := workerStatus(pod)
	switch pod.Status.Phase {
	case corev1.PodFailed:
		return fmt.Errorf("pod %s failed%s%s", name, podReason(pod), lastExit(status))
	case corev1.PodSucceeded:
		return fmt.Errorf("pod %s exited before it was running (phase Succeeded)%s", name, lastExit(status))
	}
	if status == nil || status.State.Waiting == nil || !fatalWaitingReasons[status.State.Waiting.Reason] {
		return nil
	}
	waiting := status.State.Waiting
	msg := fmt.Sprintf("container %s of pod %s cannot run: %s", status.Name, name, waiting.Reason)
	if waiting.Message != "" {
		msg += ": " + waiting.Message
	}
	return errors.New(msg + lastExit(status))
}

func podReason(pod *corev1.Pod) string {
	switch {
	case pod.Status.Reason != "" && pod.Status.Message != "":
		return fmt.Sprintf(": %s: %s", pod.Status.Reason, pod.Status.Message)
	case pod.Status.Reason != "":
		return ": " + pod.Status.Reason
	case pod.Status.Message != "":
		return ": " + pod.Status.Message
	}
	return ""
}

// lastExit describes how the container last ended, if it ever ran.
func lastExit(status *corev1.ContainerStatus) string {
	if status == nil {
		return ""
	}
	terminated := status.State.Terminated
	if terminated == nil {
		terminated = status.LastTerminationState.Terminated
	}
	if terminated == nil {
		return ""
	}
	msg := fmt.Sprintf("; container %s exited with code %d", status.Name, terminated.ExitCode)
	if terminated.Reason != "" {
		msg += " (" + terminated.Reason + ")"
	}
	if terminated.Message != "" {
		msg += ": " + strings.TrimSpace(terminated.Message)
	}
	return msg
}

// timeoutError explains a create whose wait ended with ctx: the scheduler's
// message when the pod is unschedulable, else the state it is stuck in, and
// the pod's last warning events either way.
func (d *Driver) timeoutError(ctx context.Context, pod *corev1.Pod, waitFor worker.WaitFor) error {
	when := "within the create timeout"
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		when = "before the create was cancelled"
	}
	msg := stuckMessage(pod, waitFor, when, ctx.Err())
	if events := d.warningEvents(ctx, pod); len(events) > 0 {
		msg += "\nlast warning events of the pod:\n  " + strings.Join(events, "\n  ")
	}
	return &waitError{message: msg, cause: ctx.Err()}
}

// stuckMessage says where a pod stopped short of waitFor: the scheduler's
// message when it is unschedulable, else its phase and container state.
func stuckMessage(pod *corev1.Pod, waitFor worker.WaitFor, when string, cause error) string {
	name := pod.Namespace + "/" + pod.Name
	if scheduled := condition(pod, corev1.PodScheduled); pod.Spec.NodeName == "" && scheduled != nil && scheduled.Status == corev1.ConditionFalse {
		return fmt.Sprintf("pod %s was not scheduled %s (%v): %s: %s", name, when, cause, scheduled.Reason, scheduled.Message)
	}
	return fmt.Sprintf("pod %s was not %s %s (%v); it is %s", name, waitFor, when, cause, describe(pod))
}

// waitError keeps the context's error reachable for errors.Is while its
// message leads with what happened.
type waitError struct {
	message string
	cause   error
}

func (e *waitError) Error() string { return e.message }
func (e *waitError) Unwrap() error { return e.cause }

// describe is the pod's phase and, when known, its container's state.
func describe(pod *corev1.Pod) string {
	msg := "in phase " + string(pod.Status.Phase)
	if pod.Spec.NodeName != "" {
		msg += " on node " + pod.Spec.NodeName
	}
	status := workerStatus(pod)
	switch {
	case status == nil:
	case status.State.Waiting != nil:
		msg += fmt.Sprintf(", container %s waiting: %s", status.Name, status.State.Waiting.Reason)
		if status.State.Waiting.Message != "" {
			msg += ": " + status.State.Waiting.Message
		}
	case status.State.Running != nil && !status.Ready:
		msg += fmt.Sprintf(", container %s running but not ready", status.Name)
		if ready := condition(pod, corev1.PodReady); ready != nil && ready.Message != "" {
			msg += fmt.Sprintf(" (%s: %s)", ready.Reason, ready.Message)
		}
	}
	return msg
}

// maxWarningEvents is how many of a pod's warning events an error quotes.
const maxWarningEvents = 5

// warningEvents are the pod's last warning events, oldest first, as
// "Reason: message". Reading them is best effort: the caller's deadline has
// usually passed, and a least-privilege identity may not list events.
func (d *Driver) warningEvents(ctx context.Context, pod *corev1.Pod) []string {
	listCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	list, err := d.client.CoreV1().Events(pod.Namespace).List(listCtx, metav1.ListOptions{
		FieldSelector: fields.Set{
			"involvedObject.name":      pod.Name,
			"involvedObject.namespace": pod.Namespace,
			"involvedObject.uid":       string(pod.UID),
			"type":                     corev1.EventTypeWarning,
		}.String(),
	})
	if err != nil {
		return []string{fmt.Sprintf("(the pod's events could not be read: %v)", err)}
	}
	return formatWarningEvents(list.Items)
}

// formatWarningEvents is the last few events, oldest first, one line each.
func formatWarningEvents(events []corev1.Event) []string {
	events = slices.Clone(events)
	sort.SliceStable(events, func(i, j int) bool { return eventTime(&events[i]).Before(eventTime(&events[j])) })
	if len(events) > maxWarningEvents {
		events = events[len(events)-maxWarningEvents:]
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		line := e.Reason + ": " + strings.TrimSpace(e.Message)
		count := e.Count
		if e.Series != nil && e.Series.Count > count {
			count = e.Series.Count
		}
		if count > 1 {
			line += fmt.Sprintf(" (%d times)", count)
		}
		out = append(out, line)
	}
	return out
}

// eventTime is when an event last happened, whichever API wrote it.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
