package main

import (
	"context"
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// podWorkers is how many pods are synced at once; status writes are the
// bottleneck, and the apiserver shares two cores with everything else.
const podWorkers = 8

// StartPods plays the kubelet for pods bound to the simulated nodes until
// ctx ends. It returns once the pod informer has synced.
func (s *NodeSimulator) StartPods(ctx context.Context) error {
	factory := informers.NewSharedInformerFactoryWithOptions(s.client, 0,
		informers.WithTweakListOptions(func(options *metav1.ListOptions) {
			// Only bound pods concern a kubelet.
			options.FieldSelector = fields.OneTermNotEqualSelector("spec.nodeName", "").String()
		}))
	podInformer := factory.Core().V1().Pods()
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "simulated-kubelet"})

	enqueue := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok && s.nodes[pod.Spec.NodeName] != nil {
			queue.Add(cache.MetaObjectToName(pod).String())
		}
	}
	_, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, newObj any) { enqueue(newObj) },
		DeleteFunc: func(obj any) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				if node := s.nodes[pod.Spec.NodeName]; node != nil {
					node.pods.release(pod.UID)
				}
			}
		},
	})
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), podInformer.Informer().HasSynced) {
		return fmt.Errorf("pod informer did not sync: %w", ctx.Err())
	}

	s.pods = podInformer.Lister()
	kubelet := &simulatedKubelet{sim: s, pods: s.pods, queue: queue}
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	for range podWorkers {
		go wait.UntilWithContext(ctx, kubelet.work, time.Second)
	}
	return nil
}

// simulatedKubelet moves bound pods through their lives.
type simulatedKubelet struct {
	sim   *NodeSimulator
	pods  corelisters.PodLister
	queue workqueue.TypedRateLimitingInterface[string]
}

func (k *simulatedKubelet) work(ctx context.Context) {
	for {
		key, shutdown := k.queue.Get()
		if shutdown {
			return
		}
		after, err := k.sync(ctx, key)
		switch {
		case err != nil:
			if !apierrors.IsConflict(err) && ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "devcluster: pod %s: %v\n", key, err)
			}
			k.queue.AddRateLimited(key)
		case after > 0:
			k.queue.Forget(key)
			k.queue.AddAfter(key, after)
		default:
			k.queue.Forget(key)
		}
		k.queue.Done(key)
	}
}

// sync brings one pod a step further and says when it should be looked at
// again without any change from outside (0: not before it changes).
func (k *simulatedKubelet) sync(ctx context.Context, key string) (time.Duration, error) {
	name, err := cache.ParseObjectName(key)
	if err != nil {
		return 0, err
	}
	pod, err := k.pods.Pods(name.Namespace).Get(name.Name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	node := k.sim.nodes[pod.Spec.NodeName]
	if node == nil {
		return 0, nil
	}
	if pod.DeletionTimestamp != nil {
		return 0, k.stop(ctx, node, pod)
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0, nil
	}

	status, events, after, err := nextPodStatus(node, pod, time.Now())
	if err != nil {
		return 0, err
	}
	if equality.Semantic.DeepEqual(status, &pod.Status) {
		// A failing probe changes nothing but reports each failure.
		for _, event := range events {
			node.recordContainerEvent(pod, event)
		}
		return after, nil
	}
	updated := pod.DeepCopy()
	updated.Status = *status
	if _, err := k.sim.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return 0, err
	}
	for _, event := range events {
		node.recordContainerEvent(pod, event)
	}
	return after, nil
}

// stop kills the pod's containers and removes the pod, as a kubelet
// finishes a graceful deletion.
func (k *simulatedKubelet) stop(ctx context.Context, node *simulatedNode, pod *corev1.Pod) error {
	for _, status := range pod.Status.ContainerStatuses {
		if status.State.Running != nil {
			node.recordContainerEvent(pod, containerEvent{status.Name, corev1.EventTypeNormal, "Killing", fmt.Sprintf("Stopping container %s", status.Name)})
		}
	}
	err := k.sim.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To(int64(0)),
		Preconditions:      &metav1.Preconditions{UID: &pod.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	node.pods.release(pod.UID)
	return nil
}

// nextPodStatus is the pod's status after one kubelet sync at now, the
// events that sync produces, and when the pod changes again by itself.
func nextPodStatus(node *simulatedNode, pod *corev1.Pod, now time.Time) (*corev1.PodStatus, []containerEvent, time.Duration, error) {
	status := pod.Status.DeepCopy()
	nowMeta := metav1.NewTime(now)
	if status.StartTime == nil {
		status.StartTime = &nowMeta
	}
	status.HostIP = node.internalIP
	status.HostIPs = []corev1.HostIP{{IP: node.internalIP}}
	podIP := node.internalIP
	if !pod.Spec.HostNetwork {
		var err error
		if podIP, err = node.pods.assign(pod.UID, status.PodIP); err != nil {
			return nil, nil, 0, err
		}
	}
	status.PodIP = podIP
	status.PodIPs = []corev1.PodIP{{IP: podIP}}

	if len(status.InitContainerStatuses) == 0 {
		for _, container := range pod.Spec.InitContainers {
			status.InitContainerStatuses = append(status.InitContainerStatuses, completedInitContainer(pod, &container, nowMeta))
		}
	}

	var events []containerEvent
	var after time.Duration
	statuses := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for i := range pod.Spec.Containers {
		container := &pod.Spec.Containers[i]
		step := advanceContainer(pod, container, findContainerStatus(status.ContainerStatuses, container.Name), now)
		statuses = append(statuses, step.status)
		events = append(events, step.events...)
		if step.after > 0 && (after == 0 || step.after < after) {
			after = step.after
		}
	}
	status.ContainerStatuses = statuses
	status.Phase = podPhase(pod, statuses)
	setPodConditions(status, nowMeta)
	return status, events, after, nil
}

// completedInitContainer is an init container that ran to completion, or a
// sidecar (restartPolicy Always) that keeps running.
func completedInitContainer(pod *corev1.Pod, container *corev1.Container, now metav1.Time) corev1.ContainerStatus {
	status := corev1.ContainerStatus{
		Name: container.Name, Image: container.Image, ImageID: imageID(container.Image),
		ContainerID: containerID(pod, container.Name, 0),
	}
	if container.RestartPolicy != nil && *container.RestartPolicy == corev1.ContainerRestartPolicyAlways {
		status.State.Running = &corev1.ContainerStateRunning{StartedAt: now}
		status.Ready, status.Started = true, ptr.To(true)
		return status
	}
	status.State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now, ContainerID: status.ContainerID}
	status.Started = ptr.To(false)
	return status
}

func findContainerStatus(statuses []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i]
		}
	}
	return nil
}

// podPhase follows the image tags: a container that never started keeps the
// pod Pending; a pod whose containers all run to completion ends Failed if
// one exited non-zero, else Succeeded; any other pod is Running.
func podPhase(pod *corev1.Pod, statuses []corev1.ContainerStatus) corev1.PodPhase {
	allTerminal, anyFailed := true, false
	for i, container := range pod.Spec.Containers {
		status := statuses[i]
		if status.State.Waiting != nil && status.LastTerminationState.Terminated == nil {
			return corev1.PodPending
		}
		switch {
		case !behaviourOf(container.Image).terminal():
			allTerminal = false
		case status.State.Terminated != nil && status.State.Terminated.ExitCode != 0:
			anyFailed = true
		}
	}
	switch {
	case !allTerminal:
		return corev1.PodRunning
	case anyFailed:
		return corev1.PodFailed
	default:
		return corev1.PodSucceeded
	}
}

// setPodConditions sets the conditions a kubelet owns, keeping the
// transition time of those that did not change.
func setPodConditions(status *corev1.PodStatus, now metav1.Time) {
	var unready []string
	for _, container := range status.ContainerStatuses {
		if !container.Ready {
			unready = append(unready, container.Name)
		}
	}
	readyStatus, reason, message := corev1.ConditionTrue, "", ""
	switch {
	case status.Phase == corev1.PodSucceeded || status.Phase == corev1.PodFailed:
		readyStatus, reason = corev1.ConditionFalse, "PodCompleted"
	case len(unready) > 0:
		readyStatus, reason, message = corev1.ConditionFalse, "ContainersNotReady", fmt.Sprintf("containers with unready status: %v", unready)
	}
	setPodCondition(status, corev1.PodReadyToStartContainers, corev1.ConditionTrue, "", "", now)
	setPodCondition(status, corev1.PodInitialized, corev1.ConditionTrue, "", "", now)
	setPodCondition(status, corev1.ContainersReady, readyStatus, reason, message, now)
	setPodCondition(status, corev1.PodReady, readyStatus, reason, message, now)
}

func setPodCondition(status *corev1.PodStatus, conditionType corev1.PodConditionType, value corev1.ConditionStatus, reason, message string, now metav1.Time) {
	condition := corev1.PodCondition{Type: conditionType, Status: value, Reason: reason, Message: message, LastTransitionTime: now}
	for i := range status.Conditions {
		if status.Conditions[i].Type != conditionType {
			continue
		}
		if status.Conditions[i].Status == value {
			condition.LastTransitionTime = status.Conditions[i].LastTransitionTime
		}
		status.Conditions[i] = condition
		return
	}
	status.Conditions = append(status.Conditions, condition)
}

// recordContainerEvent reports an event about one container of pod, with
// this node's kubelet as its source.
func (n *simulatedNode) recordContainerEvent(pod *corev1.Pod, event containerEvent) {
	reference := &corev1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
		ResourceVersion: pod.ResourceVersion,
		FieldPath:       fmt.Sprintf("spec.containers{%s}", event.container),
	}
	n.recorder.Event(reference, event.eventType, event.reason, event.message)
}
