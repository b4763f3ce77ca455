package main

// The real-node step (issue 27): REAL_N workers that the devcluster's real
// nodes run — a real kubelet, containerd and runc each, whose pods run
// processes — applied, planned and destroyed as the simulated Kubernetes
// workers are, against client-go creating the same pods, waiting until
// they run and are ready, and deleting them until they are gone.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

const (
	realBackend = "kubernetes-real"
	// realNodeLabel marks the devcluster's real nodes; a NoSchedule taint
	// of the same key and value keeps every pod that does not tolerate it
	// off them.
	realNodeLabel = "devcluster.hodei.io/real"
	// realImage is preloaded into each real node's containerd: a static
	// busybox; its tag is not latest, so it is not pulled (IfNotPresent).
	realImage = "devcluster.local/busybox:1.36"
	// defaultRealN is the real-node step's count unless -real-n says
	// otherwise (the smaller of it and N).
	defaultRealN = 20
	// realNodeWait bounds each baseline create and delete: a pod that a
	// real kubelet cannot start is reported instead of waited for.
	realNodeWait = 2 * time.Minute
)

// realNodeScheduling is the workers' scheduling block: the real nodes'
// label, and their taint tolerated.
var realNodeScheduling = fmt.Sprintf(`  scheduling {
    node_selector = { %[1]q = "true" }
    toleration {
      key      = %[1]q
      operator = "Equal"
      value    = "true"
      effect   = "NoSchedule"
    }
  }
`, realNodeLabel)

// optionsFor is o as backend runs it: the real-node step has its own count
// and none of the simulated run's scale steps (the SCALE×N refresh, the
// reference apply).
func optionsFor(o options, backend string) options {
	if backend == realBackend {
		o.n, o.scale, o.reference = o.realN, 1, 0
	}
	return o
}

// realKubeBaseline is kubeBaseline for the real nodes' pods. It keeps the
// first pod as the API server stored it, to check after the provider's
// apply that the provider made the same pod.
type realKubeBaseline struct {
	*kubeBaseline
	first  string
	stored *corev1.Pod
}

func newRealKubeBaseline(o options) (*realKubeBaseline, error) {
	b, err := newKubeBaseline(o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes, err := b.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: realNodeLabel + "=true"})
	if err != nil {
		return nil, err
	}
	var ready []string
	for _, node := range nodes.Items {
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue && !node.Spec.Unschedulable {
				ready = append(ready, node.Name)
			}
		}
	}
	if len(ready) == 0 {
		return nil, fmt.Errorf("the cluster of %s has no Ready, schedulable node labelled %s=true (the devcluster's real nodes, issue 27); %d labelled",
			o.kubeconfig, realNodeLabel, len(nodes.Items))
	}
	logf("%s: real nodes %s", realBackend, strings.Join(ready, ", "))
	return &realKubeBaseline{kubeBaseline: b}, nil
}

// realPod is what internal/backend/kubernetes/pod.go builds for the
// real-node step's worker: the simulated step's pod, with the real nodes'
// image, the scheduling block's node selector and toleration, and the
// service account token not mounted (the provider mounts it only when
// asked; a real kubelet would request and mount it).
func (b *kubeBaseline) realPod(name string) *corev1.Pod {
	pod := b.pod(name)
	pod.Annotations["hodei.io/spec"] = realCanonicalSpec(name)
	pod.Spec.Containers[0].Image = realImage
	pod.Spec.NodeSelector = map[string]string{realNodeLabel: "true"}
	pod.Spec.Tolerations = []corev1.Toleration{{
		Key:      realNodeLabel,
		Operator: corev1.TolerationOpEqual,
		Value:    "true",
		Effect:   corev1.TaintEffectNoSchedule,
	}}
	pod.Spec.AutomountServiceAccountToken = ptr(false)
	return pod
}

// Create creates the pod and watches it until it runs and is ready. What a
// real kubelet reports that waiting would not cure (a container waiting for
// another reason than its creation, exited or restarted, the pod failed)
// ends the wait at once; each error says what the pod and its events show.
func (b *realKubeBaseline) Create(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, realNodeWait)
	defer cancel()
	var trouble string
	stored, err := b.create(ctx, b.realPod(name), func(p *corev1.Pod) bool {
		if trouble = podTrouble(p); trouble != "" {
			return true
		}
		return runningAndReady(p)
	})
	if name == b.first && stored != nil {
		b.stored = stored // read after every create has returned
	}
	if err == nil && trouble != "" {
		err = errors.New(trouble)
	}
	if err != nil {
		return b.explain(name, err)
	}
	return nil
}

// Delete is kubeBaseline's, bounded: a pod a real kubelet does not finish
// is reported, and removed from the API without its grace so that nothing
// is left behind.
func (b *realKubeBaseline) Delete(ctx context.Context, name string) error {
	wait, cancel := context.WithTimeout(ctx, realNodeWait)
	defer cancel()
	err := b.kubeBaseline.Delete(wait, name)
	if err == nil {
		return nil
	}
	err = b.explain(name, err)
	force, cancelForce := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelForce()
	if ferr := b.client.CoreV1().Pods(b.namespace).Delete(force, name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}); ferr != nil && !apierrors.IsNotFound(ferr) {
		err = errors.Join(err, fmt.Errorf("its removal without grace: %w", ferr))
	}
	return err
}

// podTrouble is what in p's status waiting cannot cure, or "".
func podTrouble(p *corev1.Pod) string {
	if p == nil {
		return "the pod was deleted while waiting for it to run"
	}
	if p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
		return fmt.Sprintf("the pod is %s: %s %s", p.Status.Phase, p.Status.Reason, p.Status.Message)
	}
	for _, s := range p.Status.ContainerStatuses {
		switch {
		case s.RestartCount > 0:
			return fmt.Sprintf("container %s restarted %d times", s.Name, s.RestartCount)
		case s.State.Terminated != nil:
			t := s.State.Terminated
			return fmt.Sprintf("container %s exited %d: %s %s", s.Name, t.ExitCode, t.Reason, t.Message)
		case s.State.Waiting != nil && s.State.Waiting.Reason != "ContainerCreating" && s.State.Waiting.Reason != "PodInitializing":
			return fmt.Sprintf("container %s waiting: %s: %s", s.Name, s.State.Waiting.Reason, s.State.Waiting.Message)
		}
	}
	return ""
}

// explain adds to err what the pod shows (phase, node, scheduling, the
// container's state) and its last events.
func (b *realKubeBaseline) explain(name string, err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pods := b.client.CoreV1().Pods(b.namespace)
	pod, getErr := pods.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(getErr) {
		return fmt.Errorf("%w (the pod is gone)", err)
	}
	if getErr != nil {
		return fmt.Errorf("%w (reading the pod: %v)", err, getErr)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "phase %q, node %q", pod.Status.Phase, pod.Spec.NodeName)
	for _, c := range pod.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			fmt.Fprintf(&sb, "; %s=%s %s %s", c.Type, c.Status, c.Reason, c.Message)
		}
	}
	for _, s := range pod.Status.ContainerStatuses {
		state, _ := json.Marshal(s.State)
		fmt.Fprintf(&sb, "; container %s ready=%t restarts=%d state %s", s.Name, s.Ready, s.RestartCount, state)
	}
	events, evErr := b.client.CoreV1().Events(b.namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.name": name, "involvedObject.uid": string(pod.UID)}.AsSelector().String(),
	})
	if evErr == nil {
		items := events.Items
		slices.SortFunc(items, func(a, c corev1.Event) int { return a.LastTimestamp.Compare(c.LastTimestamp.Time) })
		for _, e := range items[max(0, len(items)-5):] {
			fmt.Fprintf(&sb, "; event %s %s (%s): %s", e.Type, e.Reason, e.Source.Component, e.Message)
		}
	}
	return fmt.Errorf("%w (%s)", err, sb.String())
}

// samePod checks, right after the provider's apply, that the provider's pod
// of name is the baseline's — the same spec once the API server defaulted
// both (the node aside), the same labels (those of the node aside) and
// annotation keys — and that it runs on a real node. On a difference it writes both pods into dir.
func (b *realKubeBaseline) samePod(ctx context.Context, name, dir string) error {
	if b.stored == nil {
		return errors.New("the baseline kept no pod to compare the provider's with")
	}
	got, err := b.client.CoreV1().Pods(b.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading the provider's pod %s: %w", name, err)
	}
	node, err := b.client.CoreV1().Nodes().Get(ctx, got.Spec.NodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading the node of the provider's pod %s: %w", name, err)
	}
	if node.Labels[realNodeLabel] != "true" {
		return fmt.Errorf("the provider's pod %s runs on %s, not on a real node", name, node.Name)
	}
	want, have := b.stored.Spec.DeepCopy(), got.Spec.DeepCopy()
	want.NodeName, have.NodeName = "", ""
	var problems []string
	if !equality.Semantic.DeepEqual(want, have) {
		problems = append(problems, "spec, - the baseline's, + the provider's:\n"+jsonLinesDiff(want, have))
	}
	if want, have := ownLabels(b.stored.Labels), ownLabels(got.Labels); !maps.Equal(want, have) {
		problems = append(problems, fmt.Sprintf("labels: the baseline's %v, the provider's %v", want, have))
	}
	if keys := slices.Sorted(maps.Keys(b.stored.Annotations)); !slices.Equal(keys, slices.Sorted(maps.Keys(got.Annotations))) {
		problems = append(problems, fmt.Sprintf("annotation keys: the baseline's %v, the provider's %v", keys, slices.Sorted(maps.Keys(got.Annotations))))
	}
	if len(problems) > 0 {
		for file, pod := range map[string]*corev1.Pod{"baseline-pod.json": b.stored, "provider-pod.json": got} {
			if data, err := json.MarshalIndent(pod, "", "  "); err == nil {
				_ = os.WriteFile(filepath.Join(dir, file), data, 0o644)
			}
		}
		return fmt.Errorf("the baseline's pod is not the one the provider made (both in %s; update realPod):\n%s", dir, strings.Join(problems, "\n"))
	}
	logf("%s: the provider's pod %s is the baseline's (spec, labels, annotation keys; spec annotation %d bytes, the baseline's %d), on %s",
		realBackend, name, len(got.Annotations["hodei.io/spec"]), len(b.stored.Annotations["hodei.io/spec"]), node.Name)
	return nil
}

// ownLabels are a pod's labels but the topology.kubernetes.io/ ones that
// the API server copies from the node when it binds the pod (the
// PodTopologyLabelsAdmission plugin): they name the node, not the pod.
func ownLabels(labels map[string]string) map[string]string {
	out := maps.Clone(labels)
	maps.DeleteFunc(out, func(k, _ string) bool { return strings.HasPrefix(k, "topology.kubernetes.io/") })
	return out
}

// afterPhase runs check after each successful terraform command of phase,
// once it is timed; its error is the command's.
func afterPhase(tf func(string, ...string) (time.Duration, error), phase string, check func() error) func(string, ...string) (time.Duration, error) {
	return func(p string, args ...string) (time.Duration, error) {
		took, err := tf(p, args...)
		if err == nil && p == phase {
			err = check()
		}
		return took, err
	}
}

// sweepReal removes, without grace, any real-node step pod that a failed
// run left: the lifecycle's destroy and the baseline's deletes run first,
// so this finds something only when they failed too.
func sweepReal(o options) {
	b, err := newKubeBaseline(o)
	if err != nil {
		logf("%s: looking for pods left behind: %v", realBackend, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pods := b.client.CoreV1().Pods(o.namespace)
	list, err := pods.List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=hodei"})
	if err != nil {
		logf("%s: looking for pods left behind: %v", realBackend, err)
		return
	}
	prefix := "bench-" + shortName(realBackend) + "-"
	for _, p := range list.Items {
		if !strings.HasPrefix(p.Name, prefix) {
			continue
		}
		err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))})
		logf("%s: removing pod %s, left behind on %s (phase %s): %v", realBackend, p.Name, p.Spec.NodeName, p.Status.Phase, err)
	}
}

// jsonLinesDiff is the lines of a's indented JSON that b's lacks (-) and
// those of b's that a's lacks (+): enough to name a field that differs.
func jsonLinesDiff(a, b any) string {
	lines := func(v any) []string {
		data, _ := json.MarshalIndent(v, "", "  ")
		return strings.Split(string(data), "\n")
	}
	la, lb := lines(a), lines(b)
	var out []string
	for _, l := range la {
		if !slices.Contains(lb, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range lb {
		if !slices.Contains(la, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
