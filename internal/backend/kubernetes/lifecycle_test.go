package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// Labels and annotations that others put on the pod (a service mesh, a CNI
// plugin, kubectl label) are not the worker's: never reported, never
// removed. Declared keys are reported with their live values.
func TestObserveReportsOnlyDeclaredKeys(t *testing.T) {
	pod := admitted(t, baseSpec())
	pod.Labels["security.istio.io/tlsMode"] = "istio"
	pod.Labels["added-by-kubectl"] = "yes"
	pod.Annotations["cni.projectcalico.org/podIP"] = "10.0.0.7/32"
	pod.Annotations["sidecar.istio.io/status"] = "{}"
	observed, err := observe(pod)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"team": "ml"}, observed.Spec.Labels)
	assert.Equal(t, map[string]string{"owner": "ml-platform"}, observed.Spec.Annotations)

	pod.Labels["team"] = "edited"
	delete(pod.Annotations, "owner")
	observed, err = observe(pod)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"team": "edited"}, observed.Spec.Labels, "a declared key edited is drift")
	assert.Equal(t, map[string]string{}, observed.Spec.Annotations, "a declared key removed is drift")
}

// `kubectl set image` changes the worker container's image in place: it
// shows, so that the plan replaces the worker.
func TestObserveReadsImageFromLivePod(t *testing.T) {
	pod := admitted(t, baseSpec())
	pod.Spec.Containers[0].Image = "registry.example/trainer:9.9"
	observed, err := observe(pod)
	require.NoError(t, err)
	assert.Equal(t, "registry.example/trainer:9.9", observed.Spec.Image)
}

// The patch nulls only keys that the previous spec declared; keys others
// added stay, whatever their prefix.
func TestMetadataPatchTouchesOnlyManagedKeys(t *testing.T) {
	old := baseSpec()
	old.Labels = map[string]string{"team": "ml", "tier": "batch"}
	live := admitted(t, old)
	live.Labels["security.istio.io/tlsMode"] = "istio"
	live.Labels["added-by-kubectl"] = "yes"
	live.Annotations["cni.projectcalico.org/podIP"] = "10.0.0.7/32"

	desired := baseSpec()
	desired.Labels = map[string]string{"team": "infra"}
	desired.Annotations = map[string]string{"owner": "ml-platform"}
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
		"tier":                         nil,
		"app.kubernetes.io/managed-by": ptr("hodei"),
		"hodei.io/worker":              ptr("trainer-0"),
	}, got.Metadata.Labels)
	assert.Len(t, got.Metadata.Annotations, 2)
	assert.Equal(t, ptr("ml-platform"), got.Metadata.Annotations["owner"])
	assert.Contains(t, got.Metadata.Annotations, worker.AnnotationSpec)
}

func ownedPod(t *testing.T, uid string) *corev1.Pod {
	t.Helper()
	pod := admitted(t, baseSpec())
	pod.UID = types.UID(uid)
	return pod
}

// Create never deletes a pod of the worker's name: an owned one is waited
// for, then refused with an error that names it and says how to import it.
func TestCreateLeavesOwnedPodOfTheNameAlone(t *testing.T) {
	existing := ownedPod(t, "uid-other")
	client := fake.NewClientset(existing)
	d := NewDriver(client, "https://fake:6443", Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.Create(ctx, baseSpec(), worker.WaitNone)
	var exists *worker.ExistsError
	require.ErrorAs(t, err, &exists)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "it waited for the pod to go away")
	assert.Less(t, time.Since(start), 5*time.Second, "within the create deadline")
	for _, want := range []string{"ml/trainer-0", "uid-other", "terraform import hodei_worker.<address> kubernetes/ml/trainer-0"} {
		assert.Contains(t, err.Error(), want)
	}
	for _, a := range client.Actions() {
		assert.NotEqual(t, "delete", a.GetVerb(), "nothing is deleted")
	}
	// The pod is created first (issue 16); the API server refused it.
	pods, listErr := client.CoreV1().Pods("ml").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, listErr)
	require.Len(t, pods.Items, 1, "nothing is created")
	assert.Equal(t, "uid-other", string(pods.Items[0].UID))
}

// An owned pod that goes away during the wait (another instance's destroy)
// makes room: the create goes ahead.
func TestCreateWaitsForOwnedPodOnItsWayOut(t *testing.T) {
	existing := ownedPod(t, "uid-old")
	client := fake.NewClientset(existing)
	d := NewDriver(client, "https://fake:6443", Options{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = client.CoreV1().Pods("ml").Delete(context.Background(), "trainer-0", metav1.DeleteOptions{})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obs, err := d.Create(ctx, baseSpec(), worker.WaitNone)
	require.NoError(t, err)
	assert.NotEqual(t, "uid-old", obs.UID)
}

// A foreign pod fails the create at once.
func TestCreateRefusesForeignPodAtOnce(t *testing.T) {
	foreign := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "trainer-0", UID: "uid-foreign"}}
	d := NewDriver(fake.NewClientset(foreign), "https://fake:6443", Options{})
	start := time.Now()
	_, err := d.Create(context.Background(), baseSpec(), worker.WaitNone)
	var notOwned *worker.NotOwnedError
	require.ErrorAs(t, err, &notOwned)
	assert.Less(t, time.Since(start), time.Second)
}

// Update and Delete act only on the pod whose UID the state holds.
func TestUpdateAndDeleteRefuseAnotherUID(t *testing.T) {
	live := ownedPod(t, "uid-new")
	client := fake.NewClientset(live)
	d := NewDriver(client, "https://fake:6443", Options{})
	spec := baseSpec()
	spec.Labels = map[string]string{"team": "infra"}

	_, err := d.Update(context.Background(), spec, "uid-state")
	var replaced *worker.ReplacedError
	require.ErrorAs(t, err, &replaced)
	assert.Equal(t, "uid-state", replaced.StateUID)
	assert.Equal(t, "uid-new", replaced.LiveUID)

	err = d.Delete(context.Background(), worker.RefOf(spec), "uid-state")
	require.ErrorAs(t, err, &replaced)
	assert.Contains(t, err.Error(), "pod ml/trainer-0")
	assert.Contains(t, err.Error(), "left untouched")

	for _, a := range client.Actions() {
		assert.Contains(t, []string{"get", "list", "watch"}, a.GetVerb(), "no write: %v", a)
	}
}

// A pod replaced between the read and the delete fails the delete's UID
// precondition: the other pod stays, and Delete says so.
func TestDeleteRacingAReplacement(t *testing.T) {
	live := ownedPod(t, "uid-state")
	client := fake.NewClientset(live)
	client.PrependReactor("delete", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		other := ownedPod(t, "uid-other")
		require.NoError(t, client.Tracker().Update(corev1.SchemeGroupVersion.WithResource("pods"), other, "ml"))
		return true, nil, apierrors.NewConflict(corev1.Resource("pods"), "trainer-0", errors.New("Precondition failed: UID in precondition: uid-state, UID in object meta: uid-other"))
	})
	d := NewDriver(client, "https://fake:6443", Options{})
	err := d.Delete(context.Background(), worker.RefOf(baseSpec()), "uid-state")
	var replaced *worker.ReplacedError
	require.ErrorAs(t, err, &replaced)
	assert.Equal(t, "uid-other", replaced.LiveUID)
}
