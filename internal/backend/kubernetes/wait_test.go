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
	"k8s.io/apimachinery/pkg/api/resource"
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

// withWaiting is pod's version whose worker container waits for reason.
func withWaiting(pod *corev1.Pod, reason, message string) *corev1.Pod {
	pod.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: message}
	return pod
}

// What a real kubelet goes through before a container runs (sandbox and
// volumes, then a Secret that another resource makes a moment later) is
// waited out.
func TestWaitForWaitsOutWhatTheKubeletRetries(t *testing.T) {
	s := &scriptedWatches{scripts: [][]watch.Event{{
		{Type: watch.Modified, Object: withWaiting(podVersion("11", corev1.PodPending, false), "ContainerCreating", "")},
		{Type: watch.Modified, Object: withWaiting(podVersion("12", corev1.PodPending, false), "CreateContainerConfigError", `secret "db" not found`)},
		{Type: watch.Modified, Object: podVersion("13", corev1.PodRunning, true)},
	}}}
	pod, err := fakeDriver(t, s).waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.NoError(t, err)
	assert.Equal(t, "13", pod.ResourceVersion)
}

// A container that exits during the create fails it at once, with its exit
// code; one seen running again after a restart fails it too, even when
// ready.
func TestWaitForFailsAtTheFirstExit(t *testing.T) {
	oom := podVersion("12", corev1.PodRunning, false)
	oom.Spec.Containers = []corev1.Container{{Name: worker.ContainerName, Resources: corev1.ResourceRequirements{
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("8Mi")},
	}}}
	oom.Status.ContainerStatuses[0].State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}
	s := &scriptedWatches{scripts: [][]watch.Event{{
		{Type: watch.Modified, Object: withWaiting(podVersion("11", corev1.PodPending, false), "ContainerCreating", "")},
		{Type: watch.Modified, Object: oom},
	}}}
	_, err := fakeDriver(t, s).waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.ErrorContains(t, err, "exited with code 137 (OOMKilled: the process used more than the container's memory limit of 8Mi")

	restarted := podVersion("12", corev1.PodRunning, true)
	restarted.Status.ContainerStatuses[0].RestartCount = 1
	restarted.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}
	restarted.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	for _, waitFor := range []worker.WaitFor{worker.WaitRunning, worker.WaitReady} {
		s = &scriptedWatches{scripts: [][]watch.Event{{{Type: watch.Modified, Object: restarted}}}}
		_, err = fakeDriver(t, s).waitFor(testContext(t), podVersion("10", corev1.PodPending, false), waitFor)
		require.EqualError(t, err, "container worker of pod ml/w exited and was restarted (1 restart); container worker exited with code 3 (Error)", waitFor)
	}
}

// A create that fails in the kubelet (run_as_non_root on a root image)
// removes the pod it made, and the Secret of secret_env_wo with it.
func TestCreateRemovesWhatAKubeletFailureLeft(t *testing.T) {
	spec := baseSpec()
	spec.SecretEnvWO = map[string]string{"TOKEN": "t"}
	spec.Security = &worker.Security{RunAsNonRoot: true}
	refused := `container has runAsNonRoot and image will run as root (pod: "trainer-0_ml(uid-1)", container: worker)`
	status := withWaiting(podVersion("11", corev1.PodPending, false), "CreateContainerConfigError", refused)
	status.Name = spec.Name
	client := fake.NewClientset()
	// The API server gives a created pod its UID; the fake does not.
	client.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if create, ok := action.(k8stesting.CreateAction); ok {
			if pod, ok := create.GetObject().(*corev1.Pod); ok {
				pod.UID = "uid-1"
			}
		}
		return false, nil, nil
	})
	s := &scriptedWatches{scripts: [][]watch.Event{
		{{Type: watch.Modified, Object: status}},
		{{Type: watch.Deleted, Object: status}},
	}}
	client.PrependWatchReactor("pods", s.react)
	d := NewDriver(client, "https://fake:6443", Options{})
	started := time.Now()
	_, err := d.Create(testContext(t), spec, worker.WaitRunning)
	require.EqualError(t, err, "container worker of pod ml/trainer-0 cannot run: CreateContainerConfigError: "+refused)
	assert.Less(t, time.Since(started), 5*time.Second, "it fails at the kubelet's answer")

	pods, err := client.CoreV1().Pods("ml").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, pods.Items, "the failed pod is removed")
	secrets, err := client.CoreV1().Secrets("ml").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, secrets.Items, "the Secret of secret_env_wo is removed with it")
}

// A container that the kubelet reported waiting and then running is
// watched through confirmWindow: the exit that its next relist reports
// fails the create, with the exit code.
func TestWaitForConfirmsAContainerTheKubeletJustStarted(t *testing.T) {
	creating := withWaiting(podVersion("11", corev1.PodPending, false), "ContainerCreating", "")
	running := podVersion("12", corev1.PodRunning, true)
	exited := podVersion("13", corev1.PodRunning, false)
	exited.Status.ContainerStatuses[0].State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}
	s := &scriptedWatches{scripts: [][]watch.Event{
		{{Type: watch.Modified, Object: creating}, {Type: watch.Modified, Object: running}},
		{{Type: watch.Modified, Object: exited}},
	}}
	_, err := fakeDriver(t, s).waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.EqualError(t, err, "container worker of pod ml/w exited with code 3 (Error)")
	assert.Equal(t, []string{"10", "12"}, s.versions, "the window's watch starts from the running pod")

	// One that stays running is accepted once the window has passed.
	s = &scriptedWatches{scripts: [][]watch.Event{{{Type: watch.Modified, Object: creating}, {Type: watch.Modified, Object: running}}}}
	started := time.Now()
	pod, err := fakeDriver(t, s).waitFor(testContext(t), podVersion("10", corev1.PodPending, false), worker.WaitRunning)
	require.NoError(t, err)
	assert.Equal(t, "12", pod.ResourceVersion)
	assert.GreaterOrEqual(t, time.Since(started), confirmWindow)

	// Neither a container first reported running, nor wait_for = "ready"
	// (whose probe ran against the live process), waits for the window.
	ready := podVersion("12", corev1.PodRunning, true)
	ready.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	for _, tc := range []struct {
		waitFor worker.WaitFor
		events  []watch.Event
	}{
		{worker.WaitRunning, []watch.Event{{Type: watch.Modified, Object: running}}},
		{worker.WaitReady, []watch.Event{{Type: watch.Modified, Object: creating}, {Type: watch.Modified, Object: ready}}},
	} {
		s = &scriptedWatches{scripts: [][]watch.Event{tc.events}}
		started = time.Now()
		_, err = fakeDriver(t, s).waitFor(testContext(t), podVersion("10", corev1.PodPending, false), tc.waitFor)
		require.NoError(t, err, tc.waitFor)
		assert.Less(t, time.Since(started), confirmWindow/2, tc.waitFor)
	}
}
