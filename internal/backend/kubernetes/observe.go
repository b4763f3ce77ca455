package kubernetes

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
)

// observe reads a worker back from its pod. The spec comes from the
// canonical annotation, so what the API injects or defaults (tolerations,
// service-account volumes, pull policies) never shows as drift. What can be
// changed in a live pod comes from the pod itself, so that such edits made
// out of band show: the worker container's image, and the live values of the
// labels and annotations that the worker declares. Keys that the worker does
// not declare belong to others (service meshes, CNI plugins, admission
// webhooks, kubectl label) and are neither shown nor touched.
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
	spec.Labels = declaredOnly(spec.Labels, pod.Labels)
	spec.Annotations = declaredOnly(spec.Annotations, pod.Annotations)
	// A pod made before automount_service_account_token existed leaves it
	// unset, which mounts the token: it shows as true, so the plan replaces
	// it with a pod that has none, as its configuration now says.
	spec.AutomountServiceAccountToken = pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken
	for _, c := range pod.Spec.Containers {
		if c.Name == worker.ContainerName {
			// `kubectl set image` changes it in place; an image change
			// replaces the worker.
			spec.Image = c.Image
			// The canonical annotation holds env's keys only.
			spec.Env = worker.LiveEnv(spec.Env, plainEnv(c.Env))
		}
	}
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

// declaredOnly is the live value of each key that declared holds; a key
// gone from live is gone here too. Keys that only live has are left out.
// When the two agree, declared is returned as it was, which keeps a nil or
// empty map as declared.
func declaredOnly(declared, live map[string]string) map[string]string {
	out := make(map[string]string, len(declared))
	for k := range declared {
		if v, ok := live[k]; ok {
			out[k] = v
		}
	}
	if maps.Equal(declared, out) {
		return declared
	}
	return out
}

// metadataPatch is a JSON merge patch that gives live's labels and
// annotations the values that spec declares. It touches only the keys the
// provider manages: it sets the declared ones, the ownership labels and the
// new canonical spec, and nulls the keys that the previous spec (live's
// canonical annotation) declared and spec no longer does. Every other key,
// put there by someone else, stays as it is. The UID pins the patch to the
// pod that was read: the API server refuses it (metadata.uid is immutable)
// when the pod of that name is another one.
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

	labels := mergePatchMap(spec.Labels, previousLabels)
	for k, v := range spec.OwnershipLabels() {
		labels[k] = ptr(v)
	}
	annotations := mergePatchMap(spec.Annotations, previousAnnotations)
	annotations[worker.AnnotationSpec] = &canonical

	return json.Marshal(map[string]any{
		"metadata": map[string]any{
			"uid":         live.UID,
			"labels":      labels,
			"annotations": annotations,
		},
	})
}

// mergePatchMap sets every desired key and nulls (nil) each previously
// declared key that is no longer desired.
func mergePatchMap(desired, previous map[string]string) map[string]*string {
	out := make(map[string]*string, len(previous)+len(desired))
	for k := range previous {
		if _, still := desired[k]; !still {
			out[k] = nil
		}
	}
	for k, v := range desired {
		out[k] = ptr(v)
	}
	return out
}

// plainEnv is the variables of a container that have a literal value.
func plainEnv(env []corev1.EnvVar) map[string]string {
	out := make(map[string]string, len(env))
	for _, e := range env {
		if e.ValueFrom == nil {
			out[e.Name] = e.Value
		}
	}
	return out
}
