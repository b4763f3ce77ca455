package kubernetes

import (
	"context"
	"testing"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The UID that metadataPatch carries is a precondition on a real API
// server: a patch made for another pod of the same name is refused and
// changes nothing.
func TestClusterPatchPinnedToUID(t *testing.T) {
	d, client, ns := clusterDriver(t)
	spec := clusterSpec(ns, "pinned", "registry.example/trainer:1.4")
	created, err := d.Create(timeout(t, time.Minute), spec, worker.WaitNone)
	require.NoError(t, err)

	live, err := client.CoreV1().Pods(ns).Get(context.Background(), "pinned", metav1.GetOptions{})
	require.NoError(t, err)
	stale := live.DeepCopy()
	stale.UID = "00000000-0000-0000-0000-000000000000"
	next := clusterSpec(ns, "pinned", spec.Image)
	next.Labels = map[string]string{"team": "changed"}
	patch, err := metadataPatch(stale, next)
	require.NoError(t, err)
	_, err = client.CoreV1().Pods(ns).Patch(context.Background(), "pinned", types.MergePatchType, patch, metav1.PatchOptions{})
	require.Error(t, err, "a patch pinned to another UID is refused")
	t.Logf("the API server said: %v", err)
	assert.True(t, uidMismatch(err), "recognised as a UID mismatch: %v", err)
	after, err := client.CoreV1().Pods(ns).Get(context.Background(), "pinned", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ml", after.Labels["team"], "nothing changed")

	// Through the driver: the state's UID is another pod's.
	_, err = d.Update(timeout(t, 10*time.Second), next, "00000000-0000-0000-0000-000000000000")
	var replaced *worker.ReplacedError
	require.ErrorAs(t, err, &replaced)
	require.ErrorAs(t, d.Delete(timeout(t, 10*time.Second), worker.RefOf(spec), "00000000-0000-0000-0000-000000000000"), &replaced)
	after, err = client.CoreV1().Pods(ns).Get(context.Background(), "pinned", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, types.UID(created.UID), after.UID)
	assert.Nil(t, after.DeletionTimestamp)
	assert.Equal(t, "ml", after.Labels["team"])
}
