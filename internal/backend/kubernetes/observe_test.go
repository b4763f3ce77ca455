package kubernetes

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// admitted is pod as the API returns it: with the defaults and injections
// that must never show as drift.
func admitted(t *testing.T, spec *worker.Spec) *corev1.Pod {
	t.Helper()
	pod := mustBuild(t, spec, Options{})
	pod.UID = "uid-1"
	pod.ResourceVersion = "100"
	pod.Spec.Tolerations = append(pod.Spec.Tolerations,
		corev1.Toleration{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
		corev1.Toleration{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))})
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}})
	pod.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
	pod.Spec.ServiceAccountName = "default"
	pod.Spec.NodeName = "gpu-a100-0"
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.7", StartTime: &metav1.Time{Time: time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)}}
	return pod
}

func TestObserveRoundTrip(t *testing.T) {
	spec := baseSpec()
	spec.GPU = &worker.GPU{Count: 2, Type: "A100"}
	spec.Resources = &worker.Resources{Memory: "1024Mi"}
	observed, err := observe(admitted(t, spec))
	require.NoError(t, err)
	assert.Equal(t, *spec, observed.Spec)
	assert.Equal(t, worker.StatusRunning, observed.Status)
	assert.Equal(t, "gpu-a100-0", observed.NodeName)
	assert.Equal(t, "10.0.0.7", observed.IP)
	assert.Equal(t, "uid-1", observed.UID)
	assert.Equal(t, time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC), observed.StartedAt)
}

func TestObserveKeepsNilAndEmptyMaps(t *testing.T) {
	spec := baseSpec()
	spec.Labels = nil
	spec.Annotations = map[string]string{}
	observed, err := observe(admitted(t, spec))
	require.NoError(t, err)
	assert.Nil(t, observed.Spec.Labels)
	assert.NotNil(t, observed.Spec.Annotations)
	assert.Empty(t, observed.Spec.Annotations)
}

// Declared keys edited or removed out of band show; keys that others add
// do not (see metadata_test.go).
func TestObserveShowsOutOfBandEdits(t *testing.T) {
	pod := admitted(t, baseSpec())
	pod.Labels["team"] = "infra"
	pod.Labels["extra"] = "yes"
	delete(pod.Annotations, "owner")
	observed, err := observe(pod)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"team": "infra"}, observed.Spec.Labels)
	assert.Equal(t, map[string]string{}, observed.Spec.Annotations)
}

func TestObserveIgnoresSystemKeysUnlessDeclared(t *testing.T) {
	spec := baseSpec()
	spec.Labels["app.kubernetes.io/name"] = "trainer"
	spec.Annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] = "true"
	pod := admitted(t, spec)
	pod.Annotations["kubectl.kubernetes.io/restartedAt"] = "now"
	pod.Annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] = "false"
	pod.Labels["controller-revision-hash.k8s.io"] = "x" // no prefix: a user key
	observed, err := observe(pod)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"owner": "ml-platform", "cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}, observed.Spec.Annotations)
	assert.Equal(t, map[string]string{"team": "ml", "app.kubernetes.io/name": "trainer"}, observed.Spec.Labels)
}

func TestObserveTakesNamespaceFromPod(t *testing.T) {
	spec := baseSpec()
	spec.Namespace = ""
	observed, err := observe(admitted(t, spec))
	require.NoError(t, err)
	assert.Equal(t, "default", observed.Spec.Namespace)
}

func TestObserveBadAnnotation(t *testing.T) {
	pod := admitted(t, baseSpec())
	pod.Annotations[worker.AnnotationSpec] = `{"v":1,"spec":`
	_, err := observe(pod)
	require.ErrorContains(t, err, "pod ml/trainer-0: annotation hodei.io/spec")

	delete(pod.Annotations, worker.AnnotationSpec)
	_, err = observe(pod)
	require.ErrorContains(t, err, "pod ml/trainer-0 lacks the annotation hodei.io/spec")
}

func TestStatusOf(t *testing.T) {
	for phase, want := range map[corev1.PodPhase]worker.Status{
		corev1.PodPending:   worker.StatusPending,
		corev1.PodRunning:   worker.StatusRunning,
		corev1.PodSucceeded: worker.StatusSucceeded,
		corev1.PodFailed:    worker.StatusFailed,
		corev1.PodUnknown:   worker.StatusUnknown,
		"":                  worker.StatusUnknown,
	} {
		assert.Equal(t, want, statusOf(phase), phase)
	}
}

func TestMetadataPatch(t *testing.T) {
	old := baseSpec()
	old.Annotations["kubernetes.io/description"] = "declared once"
	live := admitted(t, old)
	live.Labels["edited"] = "out-of-band"
	live.Annotations["kubectl.kubernetes.io/restartedAt"] = "now"

	desired := baseSpec()
	desired.Labels = map[string]string{"team": "infra", "tier": "gpu"}
	desired.Annotations = nil
	patch, err := metadataPatch(live, desired)
	require.NoError(t, err)

	var got struct {
		Metadata struct {
			UID         string             `json:"uid"`
			Labels      map[string]*string `json:"labels"`
			Annotations map[string]*string `json:"annotations"`
		} `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(patch, &got))
	assert.Equal(t, "uid-1", got.Metadata.UID)
	assert.Equal(t, map[string]*string{
		"team":                         ptr("infra"),
		"tier":                         ptr("gpu"),
		"app.kubernetes.io/managed-by": ptr("hodei"),
		"hodei.io/worker":              ptr("trainer-0"),
	}, got.Metadata.Labels)
	canonical, err := worker.EncodeCanonical(desired)
	require.NoError(t, err)
	assert.Equal(t, map[string]*string{
		"owner":                     nil,
		"kubernetes.io/description": nil,
		worker.AnnotationSpec:       &canonical,
	}, got.Metadata.Annotations, "kubectl's annotation, never declared, stays")
	assert.NotContains(t, got.Metadata.Labels, "edited", "a label someone else added, never declared, stays")
}

func TestObserveReportsTheTokenAsThePodMountsIt(t *testing.T) {
	for _, tc := range []struct {
		automount *bool
		want      bool
	}{{nil, true}, {ptr(true), true}, {ptr(false), false}} {
		spec := baseSpec()
		pod := mustBuild(t, spec, Options{})
		pod.Spec.AutomountServiceAccountToken = tc.automount
		obs, err := observe(pod)
		require.NoError(t, err)
		assert.Equal(t, tc.want, obs.Spec.AutomountServiceAccountToken, "pod field %v", tc.automount)
	}
}
