package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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

// Workers whose pods differ only in their name share one dry-run, also when
// they plan at once, and each reports the refusal; an answer that did not
// come from the API server is not kept, and another pod sends its own.
func TestPreflightSharesTheDryRunOfPodsThatDifferOnlyInName(t *testing.T) {
	client := fake.NewClientset()
	var creates atomic.Int32
	client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if creates.Add(1) == 1 {
			return true, nil, &net.OpError{Op: "dial", Err: errors.New("connection refused")}
		}
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "w",
			errors.New(`violates PodSecurity "restricted:latest": runAsNonRoot != true`))
	})
	d := NewDriver(client, "https://fake:6443", Options{})
	spec := func(name, image string) *worker.Spec {
		return &worker.Spec{Name: name, Namespace: "ml", Image: image, Labels: map[string]string{"team": "ml"}}
	}
	ctx := context.Background()

	unreachable := d.Preflight(ctx, spec("w-0", "busybox"))
	require.Len(t, unreachable.Skipped, 1)
	assert.Empty(t, unreachable.Problems)

	reports := make([]worker.PreflightReport, 8)
	var wg sync.WaitGroup
	for i := range reports {
		wg.Go(func() { reports[i] = d.Preflight(ctx, spec(fmt.Sprintf("w-%d", i+1), "busybox")) })
	}
	wg.Wait()
	assert.EqualValues(t, 2, creates.Load(), "one dry-run after the one that failed on the way")
	shared := 0
	for i, r := range reports {
		require.Len(t, r.Problems, 1, "worker w-%d", i+1)
		assert.Equal(t, "Refused by Pod Security Admission", r.Problems[0].Summary)
		if strings.Contains(r.Problems[0].Detail, "checked once for the pods of this plan") {
			assert.Contains(t, r.Problems[0].Detail, fmt.Sprintf("such as w-%d", i+1))
			shared++
		}
	}
	assert.Equal(t, len(reports)-1, shared, "all but the worker whose pod was sent")

	d.Preflight(ctx, spec("other", "alpine"))
	assert.EqualValues(t, 3, creates.Load(), "a pod with another image sends its own")
}
