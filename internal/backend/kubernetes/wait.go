package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// cleanupTimeout bounds the removal of a failed pod and the reading of its
// events, which run after the caller's deadline may have passed.
const cleanupTimeout = 30 * time.Second

// confirmWindow is how long a container that the kubelet reported waiting
// (ContainerCreating) and then running must go on running before
// wait_for = "running" accepts it. A kubelet reports a container running
// once its runtime has started it, and an exit only when it next lists the
// runtime's containers (its relist, every second): on the devcluster's real
// nodes (kubelet 1.37, containerd 1.6) `exit 3` was reported running, then
// exited 0.1-1.2 s later, and 0.4-1.6 s later in bursts of 10 creates.
// Without the window such a create succeeds, and only the next refresh
// finds the worker exited. A create that never saw the container waiting
// (its first reported state is running or exited, as the devcluster's
// simulated nodes report it, with an exit reported at once) has no such
// report to wait out and does not pay the window. wait_for = "ready" needs
// none: the probe that passed ran against the live process.
const confirmWindow = 2 * time.Second

// waitFor watches pod until it reaches what waitFor asks, fails for a reason
// that waiting cannot cure, or ctx ends.
func (d *Driver) waitFor(ctx context.Context, pod *corev1.Pod, waitFor worker.WaitFor) (*corev1.Pod, error) {
	waitFor = waitFor.OrDefault()
	if waitFor == worker.WaitNone {
		return pod, nil
	}
	last := pod
	// started: the kubelet reported the container waiting, so it started
	// it during this wait, and may not have seen it since.
	started := false
	err := d.watchPod(ctx, pod, func(current *corev1.Pod) (bool, error) {
		if current == nil {
			return false, deletedWhileWaiting(pod, waitFor)
		}
		last = current
		if status := workerStatus(current); status != nil && status.State.Waiting != nil {
			started = true
		}
		if reached(current, waitFor) {
			return true, nil
		}
		return false, podFailure(current)
	})
	if err == nil && started && waitFor == worker.WaitRunning {
		last, err = d.confirmRunning(ctx, last)
	}
	if err == nil {
		return last, nil
	}
	if ctx.Err() != nil {
		timeout := d.timeoutError(ctx, last, waitFor)
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			// The API server was out of reach when the time ran out.
			return nil, errors.Join(timeout, err)
		}
		return nil, timeout
	}
	return nil, err
}

// confirmRunning watches a pod whose container the kubelet has just
// reported running through confirmWindow: an exit or a restart reported
// meanwhile fails the create as podFailure says. It returns the last state
// seen, also with an error.
func (d *Driver) confirmRunning(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	windowCtx, cancel := context.WithTimeout(ctx, confirmWindow)
	defer cancel()
	last := pod
	var failure error
	err := d.watchPod(windowCtx, pod, func(current *corev1.Pod) (bool, error) {
		if current == nil {
			failure = deletedWhileWaiting(pod, worker.WaitRunning)
			return false, failure
		}
		last = current
		failure = podFailure(current)
		return false, failure
	})
	switch {
	case failure != nil:
		return last, failure
	case windowCtx.Err() != nil && ctx.Err() == nil:
		// The window passed with the container running.
		return last, nil
	}
	return last, err
}

func deletedWhileWaiting(pod *corev1.Pod, waitFor worker.WaitFor) error {
	return fmt.Errorf("pod %s/%s was deleted by someone else while waiting for it to be %s", pod.Namespace, pod.Name, waitFor)
}

// reached tells whether pod is as far as waitFor asks.
func reached(pod *corev1.Pod, waitFor worker.WaitFor) bool {
	if waitFor == worker.WaitScheduled {
		return pod.Spec.NodeName != "" || conditionTrue(pod, corev1.PodScheduled)
	}
	status := workerStatus(pod)
	// A container that was restarted during the create has exited once:
	// podFailure says so, even if it runs again.
	if pod.Status.Phase != corev1.PodRunning || status == nil || status.RestartCount > 0 {
		return false
	}
	if waitFor == worker.WaitReady {
		return conditionTrue(pod, corev1.PodReady)
	}
	// With a readiness probe, being ready is wait_for = "ready"'s business:
	// "running" asks for the running container only.
	if c := workerContainer(pod); c != nil && c.ReadinessProbe != nil {
		return status.State.Running != nil
	}
	return status.Ready
}

// waitGone watches until the pod with pod's UID no longer exists.
func (d *Driver) waitGone(ctx context.Context, pod *corev1.Pod) error {
	err := d.watchPod(ctx, pod, func(current *corev1.Pod) (bool, error) { return current == nil, nil })
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("pod %s/%s was still terminating when the timeout expired: %w", pod.Namespace, pod.Name, err)
	}
	return err
}

// watchPod calls visit with each new state of pod, or with nil once it is
// gone (deleted, or replaced by a pod of another UID), until visit is done
// or fails or ctx ends. It is a single watch from pod's resourceVersion,
// re-established from the last version seen when the server closes it, and
// resynchronised by one GET when that version has expired.
func (d *Driver) watchPod(ctx context.Context, pod *corev1.Pod, visit func(*corev1.Pod) (bool, error)) error {
	pods := d.client.CoreV1().Pods(pod.Namespace)
	version := pod.ResourceVersion
	var retry outage
	for {
		w, err := pods.Watch(ctx, metav1.ListOptions{
			FieldSelector:       fields.OneTermEqualSelector("metadata.name", pod.Name).String(),
			ResourceVersion:     version,
			AllowWatchBookmarks: true,
		})
		if err != nil && !expired(err) {
			if retry.wait(ctx, err) {
				continue
			}
			return d.apiError(fmt.Sprintf("watching pod %s/%s", pod.Namespace, pod.Name), retry.cause(err))
		}
		if err == nil {
			retry.reset()
			var done bool
			version, done, err = consumeWatch(ctx, w, pod, version, visit)
			w.Stop()
			switch {
			case done:
				return nil
			case err == nil: // closed by the server: resume
				continue
			case !expired(err):
				return err
			}
		}
		current, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			current = nil
		case err != nil:
			if retry.wait(ctx, err) {
				continue
			}
			return d.apiError(fmt.Sprintf("reading pod %s/%s", pod.Namespace, pod.Name), retry.cause(err))
		case current.UID != pod.UID:
			current = nil
		}
		if done, err := visit(current); err != nil || done {
			return err
		}
		if current == nil {
			return fmt.Errorf("pod %s/%s is gone", pod.Namespace, pod.Name)
		}
		version = current.ResourceVersion
	}
}

// outage paces the retries of a watch while the API server cannot be
// reached (stopped, restarting, or shedding load): a wait outlives a
// control-plane restart instead of failing on the first refused connection,
// and still ends when its context does.
type outage struct {
	delay time.Duration
	last  error
}

const (
	outageFirstDelay = 200 * time.Millisecond
	outageMaxDelay   = 2 * time.Second
)

// wait sleeps before the next attempt and tells whether to make it: only
// after an error that a later attempt may not meet, and while ctx lasts.
func (o *outage) wait(ctx context.Context, err error) bool {
	if !transient(err) || ctx.Err() != nil {
		return false
	}
	o.last = err
	o.delay = min(max(2*o.delay, outageFirstDelay), outageMaxDelay)
	timer := time.NewTimer(o.delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func (o *outage) reset() { o.delay, o.last = 0, nil }

// cause is the error to report: when the context ended during an outage,
// the unreachable server is the news, not the deadline.
func (o *outage) cause(err error) error {
	if o.last != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return fmt.Errorf("%w (the last attempt: %w)", err, o.last)
	}
	return err
}

// transient tells whether err is a failure to reach the API server or a
// refusal it gives while starting or overloaded, rather than an answer.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return true
	}
	return apierrors.IsServiceUnavailable(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)
}

// expired tells whether a watch's resource version is too old to resume.
func expired(err error) bool { return apierrors.IsResourceExpired(err) || apierrors.IsGone(err) }

// consumeWatch reads events until visit is done, the server closes the
// watch (not done, no error) or something fails. It returns the last
// resource version seen.
func consumeWatch(ctx context.Context, w watch.Interface, pod *corev1.Pod, version string, visit func(*corev1.Pod) (bool, error)) (string, bool, error) {
	for {
		select {
		case <-ctx.Done():
			return version, false, ctx.Err()
		case event, open := <-w.ResultChan():
			if !open {
				return version, false, nil
			}
			if event.Type == watch.Error {
				return version, false, fmt.Errorf("watching pod %s/%s: %w", pod.Namespace, pod.Name, apierrors.FromObject(event.Object))
			}
			current, ok := event.Object.(*corev1.Pod)
			if !ok {
				return version, false, fmt.Errorf("watching pod %s/%s: unexpected %T in a %s event", pod.Namespace, pod.Name, event.Object, event.Type)
			}
			version = current.ResourceVersion
			if event.Type == watch.Bookmark {
				continue
			}
			if event.Type == watch.Deleted || current.UID != pod.UID {
				current = nil
			}
			done, err := visit(current)
			switch {
			case err != nil || done:
				return version, done, err
			case current == nil:
				return version, false, fmt.Errorf("pod %s/%s is gone", pod.Namespace, pod.Name)
			}
		}
	}
}

func conditionTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	c := condition(pod, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

func condition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// workerContainer is the pod's container named worker, nil in a pod that
// has none.
func workerContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == worker.ContainerName {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// workerStatus is the status of the container named worker, nil before the
// kubelet reports it.
func workerStatus(pod *corev1.Pod) *corev1.ContainerStatus {
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Name == worker.ContainerName {
			return &pod.Status.ContainerStatuses[i]
		}
	}
	return nil
}
