package kubernetes

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// scriptedWatches serves each watch request with the next prepared list of
// events and then closes it, recording the resource version asked for. It
// stands in for what a real server does only now and then: a watch that ends
// early, or one whose version has expired.
type scriptedWatches struct {
	mu       sync.Mutex
	scripts  [][]watch.Event
	versions []string
}

func (s *scriptedWatches) react(action k8stesting.Action) (bool, watch.Interface, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions = append(s.versions, watchVersion(action))
	w := watch.NewFakeWithOptions(watch.FakeOptions{ChannelSize: 10})
	if len(s.scripts) > 0 {
		for _, e := range s.scripts[0] {
			w.Action(e.Type, e.Object)
		}
		s.scripts = s.scripts[1:]
		w.Stop()
	}
	return true, w, nil
}

func fakeDriver(t *testing.T, s *scriptedWatches, objects ...runtime.Object) *Driver {
	t.Helper()
	client := fake.NewClientset(objects...)
	client.PrependWatchReactor("pods", s.react)
	return NewDriver(client, "https://fake:6443", Options{})
}

func podVersion(version string, phase corev1.PodPhase, ready bool) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ml", Name: "w", UID: "uid-1", ResourceVersion: version},
		Status: corev1.PodStatus{
			Phase:             phase,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "worker", Ready: ready}},
		},
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWaitForResumesAClosedWatchFromTheLastVersion(t *testing.T) {
	s := &scriptedWatches{scripts: [][]watch.Event{
		{{Type: watch.Modified, Object: podVersion("11", corev1.PodPending, false)}},
		{{Type: watch.Bookmark, Object: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "15"}}}},
		{{Type: watch.Modified, Object: podVersion("16", corev1.PodRunning, true)}},
	}}
	d := fakeDriver(t, s)
	pod, err := d.waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.NoError(t, err)
	assert.Equal(t, "16", pod.ResourceVersion)
	assert.Equal(t, []string{"10", "11", "15"}, s.versions)
}

func TestWaitForResynchronisesAnExpiredWatch(t *testing.T) {
	expired := &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusGone, Reason: metav1.StatusReasonExpired, Message: "too old resource version: 10 (20)"}
	s := &scriptedWatches{scripts: [][]watch.Event{
		{{Type: watch.Error, Object: expired}},
		{{Type: watch.Modified, Object: podVersion("22", corev1.PodRunning, true)}},
	}}
	live := podVersion("21", corev1.PodPending, false)
	d := fakeDriver(t, s, live)
	pod, err := d.waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.NoError(t, err)
	assert.Equal(t, "22", pod.ResourceVersion)
	require.Len(t, s.versions, 2)
	assert.Equal(t, "10", s.versions[0])
	assert.NotEqual(t, "10", s.versions[1], "the second watch starts from the version the GET returned")
}

func TestWaitForFailsFastAndOnDeletion(t *testing.T) {
	crashing := podVersion("11", corev1.PodRunning, false)
	crashing.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}
	d := fakeDriver(t, &scriptedWatches{scripts: [][]watch.Event{{{Type: watch.Modified, Object: crashing}}}})
	_, err := d.waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.ErrorContains(t, err, "CrashLoopBackOff")

	d = fakeDriver(t, &scriptedWatches{scripts: [][]watch.Event{{{Type: watch.Deleted, Object: podVersion("11", corev1.PodPending, false)}}}})
	_, err = d.waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.ErrorContains(t, err, "was deleted by someone else")
}

func TestWaitGoneAcceptsAPodOfAnotherUID(t *testing.T) {
	successor := podVersion("12", corev1.PodPending, false)
	successor.UID = "uid-2"
	d := fakeDriver(t, &scriptedWatches{scripts: [][]watch.Event{
		{{Type: watch.Modified, Object: podVersion("11", corev1.PodRunning, false)}},
		{{Type: watch.Added, Object: successor}},
	}})
	require.NoError(t, d.waitGone(testContext(t), podVersion("10", corev1.PodRunning, true)))
}

func TestWatchErrorsKeepTheirOwnWords(t *testing.T) {
	pulling := podVersion("11", corev1.PodPending, false)
	pulling.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "not found"}
	d := fakeDriver(t, &scriptedWatches{scripts: [][]watch.Event{{{Type: watch.Modified, Object: pulling}}}})
	_, err := d.waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.EqualError(t, err, "container worker of pod ml/w cannot run: ErrImagePull: not found")

	internal := &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError, Message: "etcd is sad"}
	d = fakeDriver(t, &scriptedWatches{scripts: [][]watch.Event{{{Type: watch.Error, Object: internal}}}})
	_, err = d.waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.EqualError(t, err, "watching pod ml/w: etcd is sad")
}

func TestWaitForOutlivesAnAPIServerOutage(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	client := fake.NewClientset()
	attempts := 0
	client.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) {
		attempts++
		if attempts <= 3 {
			return true, nil, refused
		}
		w := watch.NewFakeWithOptions(watch.FakeOptions{ChannelSize: 1})
		w.Modify(podVersion("11", corev1.PodRunning, true))
		return true, w, nil
	})
	d := NewDriver(client, "https://fake:6443", Options{})
	pod, err := d.waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.NoError(t, err)
	assert.Equal(t, "11", pod.ResourceVersion)
	assert.Equal(t, 4, attempts, "three refused watches, then one that answers")

	// An outage that outlasts the wait ends it at its deadline, naming the
	// server that could not be reached.
	client = fake.NewClientset()
	client.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) { return true, nil, refused })
	d = NewDriver(client, "https://fake:6443", Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	started := time.Now()
	_, err = d.waitFor(ctx, podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, "kubernetes API server at https://fake:6443 is unreachable")
	assert.Less(t, time.Since(started), 2*time.Second)
}

// watchVersion is the resourceVersion a watch started from.
func watchVersion(action k8stesting.Action) string {
	if w, ok := action.(k8stesting.WatchActionImpl); ok {
		return w.WatchRestrictions.ResourceVersion
	}
	return ""
}

// An empty wait_for means the default, running, as on Docker: the watch runs
// until the worker container is ready. none returns the created pod as is.
func TestWaitForReadsEmptyAsRunning(t *testing.T) {
	for _, tc := range []struct {
		waitFor worker.WaitFor
		version string
	}{
		{"", "12"},
		{worker.WaitRunning, "12"},
		{worker.WaitScheduled, "11"},
		{worker.WaitNone, "10"},
	} {
		name := string(tc.waitFor)
		if name == "" {
			name = "unset"
		}
		t.Run(name, func(t *testing.T) {
			scheduled := podVersion("11", corev1.PodPending, false)
			scheduled.Spec.NodeName = "node-1"
			running := podVersion("12", corev1.PodRunning, true)
			running.Spec.NodeName = "node-1"
			s := &scriptedWatches{scripts: [][]watch.Event{{
				{Type: watch.Modified, Object: scheduled},
				{Type: watch.Modified, Object: running},
			}}}
			pod, err := fakeDriver(t, s).waitFor(testContext(t), podVersion("10", corev1.PodPending, false), tc.waitFor)
			require.NoError(t, err)
			assert.Equal(t, tc.version, pod.ResourceVersion)
		})
	}
}
