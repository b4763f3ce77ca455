package kubernetes

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
)

// observe reads a worker back from its pod. The spec comes from the
// canonical annotation, so what the API injects or defaults (tolerations,
// service-account volumes, pull policies) never shows as drift; labels and
// annotations come from the pod itself, so edits made out of band do.
func observe(pod *corev1.Pod) (*worker.Observed, error) {
	text, ok := pod.Annotations[worker.AnnotationSpec]
	if !ok {
		return nil, fmt.Errorf("pod %s/%s lacks the annotation %s that holds its worker spec; it was not made by this provider, or the annotation was removed: delete the pod or remove it from the Terraform state",
			pod.Namespace, pod.Name, worker.AnnotationSpec)
	}
	spec, err := worker.DecodeCanonical(text)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: annotation %s: %w", pod.Namespace, pod.Name, worker.AnnotationSpec, err)
	}
	spec.Namespace = pod.Namespace
	spec.Labels = overlay(spec.Labels, visible(worker.UserLabels(pod.Labels), spec.Labels))
	spec.Annotations = overlay(spec.Annotations, visible(userAnnotations(pod.Annotations), spec.Annotations))
	observed := &worker.Observed{
		Spec:     *spec,
		Status:   statusOf(pod.Status.Phase),
		NodeName: pod.Spec.NodeName,
		IP:       pod.Status.PodIP,
		UID:      string(pod.UID),
	}
	if pod.Status.StartTime != nil {
		observed.StartedAt = pod.Status.StartTime.Time
	}
	return observed, nil
}

func statusOf(phase corev1.PodPhase) worker.Status {
	switch phase {
	case corev1.PodPending:
		return worker.StatusPending
	case corev1.PodRunning:
		return worker.StatusRunning
	case corev1.PodSucceeded:
		return worker.StatusSucceeded
	case corev1.PodFailed:
		return worker.StatusFailed
	}
	return worker.StatusUnknown
}

// userAnnotations drops the annotation that the provider adds itself.
func userAnnotations(annotations map[string]string) map[string]string {
	out := maps.Clone(annotations)
	delete(out, worker.AnnotationSpec)
	return out
}

// visible drops the keys that Kubernetes components put on pods
// (*.kubernetes.io and *.k8s.io) unless the worker declares them, as the
// Terraform kubernetes provider does; app.kubernetes.io is the user's.
func visible(live, declared map[string]string) map[string]string {
	out := make(map[string]string, len(live))
	for k, v := range live {
		if _, isDeclared := declared[k]; isDeclared || !systemKey(k) {
			out[k] = v
		}
	}
	return out
}

func systemKey(key string) bool {
	prefix, _, hasPrefix := strings.Cut(key, "/")
	if !hasPrefix || prefix == "app.kubernetes.io" {
		return false
	}
	for _, domain := range []string{"kubernetes.io", "k8s.io"} {
		if prefix == domain || strings.HasSuffix(prefix, "."+domain) {
			return true
		}
	}
	return false
}

// overlay is live, or declared when the two hold the same content, which
// keeps a declared nil or empty map as it was.
func overlay(declared, live map[string]string) map[string]string {
	if maps.Equal(declared, live) {
		return declared
	}
	return live
}

// metadataPatch is a JSON merge patch that makes live's labels and
// annotations those of spec: it sets the declared ones, the ownership
// labels and the new canonical spec, and nulls the user keys no longer
// declared. Keys that Kubernetes components added stay. The UID pins the
// patch to the pod that was read.
func metadataPatch(live *corev1.Pod, spec *worker.Spec) ([]byte, error) {
	canonical, err := worker.EncodeCanonical(spec)
	if err != nil {
		return nil, fmt.Errorf("encoding the spec of worker %s: %w", spec.Name, err)
	}
	var previous *worker.Spec
	if text, ok := live.Annotations[worker.AnnotationSpec]; ok {
		previous, _ = worker.DecodeCanonical(text)
	}
	var previousLabels, previousAnnotations map[string]string
	if previous != nil {
		previousLabels, previousAnnotations = previous.Labels, previous.Annotations
	}

	labels := mergePatchMap(worker.UserLabels(live.Labels), spec.Labels, previousLabels)
	for k, v := range spec.OwnershipLabels() {
		labels[k] = ptr(v)
	}
	annotations := mergePatchMap(userAnnotations(live.Annotations), spec.Annotations, previousAnnotations)
	annotations[worker.AnnotationSpec] = &canonical

	return json.Marshal(map[string]any{
		"metadata": map[string]any{
			"uid":         live.UID,
			"labels":      labels,
			"annotations": annotations,
		},
	})
}

// mergePatchMap sets every desired key and nulls (nil) each live key that is
// no longer desired, except a system key the worker never declared.
func mergePatchMap(live, desired, previous map[string]string) map[string]*string {
	out := make(map[string]*string, len(live)+len(desired))
	for k := range live {
		if _, wasDeclared := previous[k]; wasDeclared || !systemKey(k) {
			out[k] = nil
		}
	}
	for k, v := range desired {
		out[k] = ptr(v)
	}
	return out
}
