package kubernetes

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/distribution/reference"
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
// not start without a change to the spec, the image or the registry, so
// waiting on is pointless. The kubelet retries each of them forever; a
// create fails at the first one instead, with the kubelet's message.
//
// Every other reason is waited for, bounded by the create timeout, whose
// error quotes the reason and the pod's warning events: ContainerCreating
// (the sandbox, the volumes, a pull in progress), PodInitializing (init
// containers running) and whatever the kubelet may add.
var fatalWaitingReasons = map[string]bool{
	// Every failed pull fails the create at once, as the contract and a
	// Docker pull do: a wrong name or tag, missing or refused credentials
	// (the registry's 401; see pullHint), an image the node may not pull
	// (image_pull_policy = "Never"), a signature the node refuses, and a
	// registry that does not answer, which a user sees sooner this way
	// than at the timeout.
	"ErrImagePull":              true,
	"ImagePullBackOff":          true,
	"InvalidImageName":          true,
	"ErrImageNeverPull":         true,
	"RegistryUnavailable":       true,
	"SignatureValidationFailed": true,
	// The kubelet cannot build the container's configuration, e.g.
	// run_as_non_root on an image that runs as root; but not when the
	// configuration only lacks a Secret or ConfigMap that may still come
	// (see awaitedConfigError).
	"CreateContainerConfigError": true,
	// The runtime refused to create or to start the container (a mount it
	// cannot make, a command or working directory missing from the image):
	// another attempt of the same spec meets the same refusal.
	"CreateContainerError": true,
	"RunContainerError":    true,
	"CrashLoopBackOff":     true,
}

// missingReference matches the kubelet's CreateContainerConfigError for an
// environment variable (secret_env, config_env, env_from) whose Secret,
// ConfigMap or key does not exist, and for its own cache that has not yet
// registered the pod's references.
var missingReference = regexp.MustCompile(`^(secret|configmap) "[^"]*" not found$|^couldn't find key .+ in (Secret|ConfigMap) \S+$|^object "[^"]*"/"[^"]*" not registered$`)

// awaitedConfigError tells whether a CreateContainerConfigError is one that
// the create waits out. A missing Secret or ConfigMap needs no change to the
// worker: the kubelet starts the container as soon as it exists, and in
// Terraform it is often made by another resource of the same apply without
// a dependency on the worker, or by an operator (External Secrets, Sealed
// Secrets) moments later. The provider cannot tell those from a typo at
// plan time without reading Secrets, which a least-privilege identity may
// not, so it waits; a name that never appears ends at the create timeout,
// whose error quotes the kubelet's message. The Secret of secret_env_wo is
// made before the pod and never meets this.
func awaitedConfigError(waiting *corev1.ContainerStateWaiting) bool {
	return waiting.Reason == "CreateContainerConfigError" && missingReference.MatchString(waiting.Message)
}

// podFailure is why pod can never become what a create waits for, or nil.
// A container that exited, or was restarted, during the create fails it as
// on Docker: a worker must keep running, and the next run of the same
// command is no more likely to last (the kubelet's CrashLoopBackOff would
// follow a second exit).
func podFailure(pod *corev1.Pod) error {
	name := pod.Namespace + "/" + pod.Name
	status := workerStatus(pod)
	switch pod.Status.Phase {
	case corev1.PodFailed:
		return fmt.Errorf("pod %s failed%s%s", name, podReason(pod), lastExit(pod, status))
	case corev1.PodSucceeded:
		return fmt.Errorf("pod %s exited before it was running (phase Succeeded)%s", name, lastExit(pod, status))
	}
	if status == nil {
		return nil
	}
	if waiting := status.State.Waiting; waiting != nil && fatalWaitingReasons[waiting.Reason] && !awaitedConfigError(waiting) {
		msg := fmt.Sprintf("container %s of pod %s cannot run: %s", status.Name, name, waiting.Reason)
		if waiting.Message != "" {
			msg += ": " + waiting.Message
		}
		return errors.New(msg + pullHint(pod, waiting) + lastExit(pod, status))
	}
	if terminated := status.State.Terminated; terminated != nil {
		return fmt.Errorf("container %s of pod %s %s", status.Name, name, exitText(pod, terminated))
	}
	if status.RestartCount > 0 {
		msg := fmt.Sprintf("container %s of pod %s exited and was restarted (%s)", status.Name, name, plural(int(status.RestartCount), "restart"))
		return errors.New(msg + lastExit(pod, status))
	}
	return nil
}

// pullHint says what a registry's refusal means for a Kubernetes worker:
// the kubelet pulls with the pod's imagePullSecrets (and the node's own
// credentials), and its message gives only the registry's answer.
func pullHint(pod *corev1.Pod, waiting *corev1.ContainerStateWaiting) string {
	pull := waiting.Reason == "ErrImagePull" || waiting.Reason == "ImagePullBackOff"
	lower := strings.ToLower(waiting.Message)
	refused := strings.Contains(lower, "unauthorized") || strings.Contains(lower, "403 forbidden")
	if !pull || !refused {
		return ""
	}
	registry := "the image's registry"
	if c := workerContainer(pod); c != nil {
		if named, err := reference.ParseNormalizedNamed(c.Image); err == nil {
			registry = reference.Domain(named)
		}
	}
	if len(pod.Spec.ImagePullSecrets) == 0 {
		return fmt.Sprintf(" (the registry refused the pull, and the worker has no image_pull_secrets: add a Secret of type %s "+
			"with credentials for %s to image_pull_secrets)", corev1.SecretTypeDockerConfigJson, registry)
	}
	names := make([]string, 0, len(pod.Spec.ImagePullSecrets))
	for _, s := range pod.Spec.ImagePullSecrets {
		names = append(names, s.Name)
	}
	return fmt.Sprintf(" (the registry refused the pull with the credentials of image_pull_secrets %s: each must exist in namespace %s, "+
		"be of type %s and hold credentials for %s that may pull this image)",
		strings.Join(names, ", "), pod.Namespace, corev1.SecretTypeDockerConfigJson, registry)
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
func lastExit(pod *corev1.Pod, status *corev1.ContainerStatus) string {
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
	return fmt.Sprintf("; container %s %s", status.Name, exitText(pod, terminated))
}

// exitText is how a container ended: its exit code, the kubelet's reason
// and the runtime's message; for OOMKilled, the memory limit it met.
func exitText(pod *corev1.Pod, terminated *corev1.ContainerStateTerminated) string {
	msg := fmt.Sprintf("exited with code %d", terminated.ExitCode)
	switch terminated.Reason {
	case "":
	case "OOMKilled":
		msg += " (OOMKilled: " + memoryLimitText(pod) + ")"
	default:
		msg += " (" + terminated.Reason + ")"
	}
	if terminated.Message != "" {
		msg += ": " + strings.TrimSpace(terminated.Message)
	}
	return msg
}

// memoryLimitText says which memory limit an OOMKilled container ran into.
// Memory-medium volumes (shm_size, ephemeral with medium "Memory") count
// against it too.
func memoryLimitText(pod *corev1.Pod) string {
	if c := workerContainer(pod); c != nil {
		if limit, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
			return fmt.Sprintf("the process used more than the container's memory limit of %s; raise resources.memory_limit", limit.String())
		}
	}
	return "the kernel killed the process for lack of memory; the container has no memory limit (resources.memory_limit), so the node itself ran short"
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
