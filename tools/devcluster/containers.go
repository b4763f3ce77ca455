package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// containerBehaviour is what the simulated runtime does with a container,
// chosen by its image tag.
type containerBehaviour int

const (
	behaviourRun      containerBehaviour = iota // any other tag: runs and is ready
	behaviourMissing                            // ":missing": the pull fails
	behaviourCrash                              // ":crash": exits 1 on every start
	behaviourExit0                              // ":exit0": exits 0 once
	behaviourExit1                              // ":exit1": exits 1 once
	behaviourNotReady                           // ":notready": runs; its readiness probe always fails
)

// Kubelet back-offs are compressed so that tests see each state within seconds.
const (
	imagePullBackOffDelay = 2 * time.Second
	crashBackOffBase      = time.Second
	crashBackOffMax       = 30 * time.Second
)

func behaviourOf(image string) containerBehaviour {
	switch imageTag(image) {
	case "missing":
		return behaviourMissing
	case "crash":
		return behaviourCrash
	case "exit0":
		return behaviourExit0
	case "exit1":
		return behaviourExit1
	case "notready":
		return behaviourNotReady
	default:
		return behaviourRun
	}
}

// terminal reports whether the container runs to completion and then the
// pod ends, whatever its restartPolicy.
func (b containerBehaviour) terminal() bool {
	return b == behaviourExit0 || b == behaviourExit1
}

// crashBackOff is the wait before restart number restartCount+1.
func crashBackOff(restartCount int32) time.Duration {
	delay := crashBackOffBase
	for i := int32(0); i < restartCount && delay < crashBackOffMax; i++ {
		delay *= 2
	}
	return min(delay, crashBackOffMax)
}

// imageTag returns the tag of an image reference, "" if it has none.
func imageTag(image string) string {
	if at := strings.Index(image, "@"); at >= 0 {
		image = image[:at]
	}
	colon := strings.LastIndex(image, ":")
	if colon < 0 || strings.Contains(image[colon:], "/") {
		return ""
	}
	return image[colon+1:]
}

// imageID is the digest reference a containerd kubelet reports for image.
func imageID(image string) string {
	repository := image
	if at := strings.Index(repository, "@"); at >= 0 {
		repository = repository[:at]
	}
	if tag := imageTag(repository); tag != "" {
		repository = strings.TrimSuffix(repository, ":"+tag)
	}
	first, _, hasSlash := strings.Cut(repository, "/")
	switch {
	case !hasSlash:
		repository = "docker.io/library/" + repository
	case !strings.ContainsAny(first, ".:") && first != "localhost":
		repository = "docker.io/" + repository
	}
	sum := sha256.Sum256([]byte(image))
	return repository + "@sha256:" + hex.EncodeToString(sum[:])
}

// containerID names one run of a container, as containerd would.
func containerID(pod *corev1.Pod, container string, restartCount int32) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", pod.UID, container, restartCount))
	return "containerd://" + hex.EncodeToString(sum[:])
}

// containerEvent is an event about one container of a pod.
type containerEvent struct {
	container string
	eventType string
	reason    string
	message   string
}

// containerStep is a container's next status, the events that the change
// produces, and when the container changes again on its own (0: never).
type containerStep struct {
	status corev1.ContainerStatus
	events []containerEvent
	after  time.Duration
}

// advanceContainer moves a container one step through the life its image tag
// prescribes. previous is nil before the kubelet has seen the container.
func advanceContainer(pod *corev1.Pod, container *corev1.Container, previous *corev1.ContainerStatus, now time.Time) containerStep {
	behaviour := behaviourOf(container.Image)
	if previous == nil {
		return startContainer(pod, container, behaviour, now)
	}
	status := *previous.DeepCopy()
	step := containerStep{status: status}
	event := func(eventType, reason, message string) {
		step.events = append(step.events, containerEvent{container.Name, eventType, reason, message})
	}
	switch behaviour {
	case behaviourRun, behaviourNotReady:
		if status.State.Running != nil && !status.Ready {
			step.status.Ready, step.after, step.events = probeReadiness(container, behaviour, status.State.Running.StartedAt.Time, now)
		}
	case behaviourMissing:
		if status.State.Waiting == nil || status.State.Waiting.Reason != "ErrImagePull" {
			return step
		}
		due := pod.Status.StartTime.Add(imagePullBackOffDelay)
		if now.Before(due) {
			step.after = due.Sub(now)
			return step
		}
		step.status.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: fmt.Sprintf("Back-off pulling image %q", container.Image)}
		event(corev1.EventTypeNormal, "BackOff", fmt.Sprintf("Back-off pulling image %q", container.Image))
		event(corev1.EventTypeWarning, "Failed", "Error: ImagePullBackOff")
	case behaviourCrash:
		lastExit := status.State.Terminated
		if lastExit == nil {
			lastExit = status.LastTerminationState.Terminated
		}
		if lastExit == nil {
			return step
		}
		due := lastExit.FinishedAt.Add(crashBackOff(status.RestartCount))
		if now.Before(due) {
			step.after = due.Sub(now)
			return step
		}
		// The restarted container runs for an instant and exits 1 again; the
		// simulator only shows its result, as a kubelet between two polls would.
		step.status.RestartCount++
		started := metav1.NewTime(now)
		step.status.ContainerID = containerID(pod, container.Name, step.status.RestartCount)
		step.status.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 1, Reason: "Error", StartedAt: started, FinishedAt: started, ContainerID: step.status.ContainerID,
		}}
		delay := crashBackOff(step.status.RestartCount)
		step.status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason:  "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, container.Name, pod.Name, pod.Namespace, pod.UID),
		}}
		step.after = delay
		event(corev1.EventTypeNormal, "Started", fmt.Sprintf("Started container %s", container.Name))
		event(corev1.EventTypeWarning, "BackOff", fmt.Sprintf("Back-off restarting failed container %s in pod %s_%s(%s)", container.Name, pod.Name, pod.Namespace, pod.UID))
	}
	return step
}

// startContainer is the kubelet's first attempt: pull, create, start.
func startContainer(pod *corev1.Pod, container *corev1.Container, behaviour containerBehaviour, now time.Time) containerStep {
	started := metav1.NewTime(now)
	status := corev1.ContainerStatus{Name: container.Name, Image: container.Image, Started: ptr.To(false)}
	step := containerStep{}
	event := func(eventType, reason, message string) {
		step.events = append(step.events, containerEvent{container.Name, eventType, reason, message})
	}
	event(corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", container.Image))
	if behaviour == behaviourMissing {
		reference := container.Image
		message := fmt.Sprintf("Failed to pull image %q: rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found", container.Image, reference, reference, reference)
		status.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: message}
		step.status = status
		step.after = imagePullBackOffDelay
		event(corev1.EventTypeWarning, "Failed", message)
		event(corev1.EventTypeWarning, "Failed", "Error: ErrImagePull")
		return step
	}
	status.ImageID = imageID(container.Image)
	status.ContainerID = containerID(pod, container.Name, 0)
	event(corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in 0s (0s including waiting)", container.Image))
	event(corev1.EventTypeNormal, "Created", fmt.Sprintf("Created container: %s", container.Name))
	event(corev1.EventTypeNormal, "Started", fmt.Sprintf("Started container %s", container.Name))
	switch behaviour {
	case behaviourRun, behaviourNotReady:
		status.State.Running = &corev1.ContainerStateRunning{StartedAt: started}
		status.Started = ptr.To(true)
		var probeEvents []containerEvent
		status.Ready, step.after, probeEvents = probeReadiness(container, behaviour, now, now)
		step.events = append(step.events, probeEvents...)
	case behaviourCrash:
		status.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: started, FinishedAt: started, ContainerID: status.ContainerID}
		step.after = crashBackOff(0)
	case behaviourExit0:
		status.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: started, FinishedAt: started, ContainerID: status.ContainerID}
	case behaviourExit1:
		status.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: started, FinishedAt: started, ContainerID: status.ContainerID}
	}
	step.status = status
	return step
}

// probeReadiness is a running container's readiness at now, when it may
// change next, and the events of a probe that failed. A container without
// a readiness probe is ready as soon as it runs. With one, the first probe
// comes initialDelaySeconds after the start and passes, but for the tag
// :notready, whose probe fails every periodSeconds (an Unhealthy warning
// each time, as a kubelet reports it).
func probeReadiness(container *corev1.Container, behaviour containerBehaviour, startedAt, now time.Time) (bool, time.Duration, []containerEvent) {
	probe := container.ReadinessProbe
	if probe == nil {
		return true, 0, nil
	}
	firstProbe := startedAt.Add(time.Duration(probe.InitialDelaySeconds) * time.Second)
	if now.Before(firstProbe) {
		return false, firstProbe.Sub(now), nil
	}
	if behaviour != behaviourNotReady {
		return true, 0, nil
	}
	period := time.Duration(max(probe.PeriodSeconds, 1)) * time.Second
	return false, period, []containerEvent{{container.Name, corev1.EventTypeWarning, "Unhealthy",
		"Readiness probe failed: the devcluster's simulated probe of an image tagged :notready always fails"}}
}
