package kubernetes

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// The devcluster runs no admission webhook; its denial is the one answer
// that the acceptance tests cannot get from a real server.
func TestPreflightReportsAWebhookDenialOnTheWorker(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "w",
			errors.New(`admission webhook "policy.example.com" denied the request: images must come from registry.example`))
	})
	d := NewDriver(client, "https://fake:6443", Options{})
	report := d.Preflight(context.Background(), &worker.Spec{Name: "w", Namespace: "ml", Image: "busybox"})
	require.Len(t, report.Problems, 1)
	p := report.Problems[0]
	assert.False(t, p.Warning)
	assert.Empty(t, p.Path)
	assert.Equal(t, "Refused by an admission webhook", p.Summary)
	assert.Contains(t, p.Detail, `admission webhook "policy.example.com" denied the request: images must come from registry.example`)
}

// A node list that fails on the way is tried again; one that is forbidden
// is asked once per process.
func TestNodeCacheRetriesFailuresAndKeepsForbidden(t *testing.T) {
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}})
	lists := 0
	client.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		lists++
		if lists == 1 {
			return true, nil, &net.OpError{Op: "dial", Err: errors.New("connection refused")}
		}
		return false, nil, nil
	})
	var cache onceList[corev1.Node]
	nodes, err := listNodes(context.Background(), &cache, client)
	require.NoError(t, err)
	assert.Len(t, nodes, 1)
	_, err = listNodes(context.Background(), &cache, client)
	require.NoError(t, err)
	assert.Equal(t, 2, lists, "one failed LIST, one that answered, then the cache")

	forbidden := fake.NewClientset()
	lists = 0
	forbidden.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		lists++
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New("cannot list resource"))
	})
	cache = onceList[corev1.Node]{}
	for range 3 {
		_, err = listNodes(context.Background(), &cache, forbidden)
		assert.True(t, apierrors.IsForbidden(err))
	}
	assert.Equal(t, 1, lists)
}
