package kubernetes

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// These tests run the driver against a real cluster, such as tools/devcluster
// with its default topology, when HODEI_TEST_KUBECONFIG names an admin
// kubeconfig. Each test works in a namespace of its own.
const clusterEnv = "HODEI_TEST_KUBECONFIG"

func clusterDriver(t *testing.T) (*Driver, kubernetes.Interface, string) {
	t.Helper()
	path := os.Getenv(clusterEnv)
	if path == "" {
		t.Skipf("%s is not set", clusterEnv)
	}
	client, cfg, err := NewClient(Config{ConfigPaths: []string{path}})
	require.NoError(t, err)
	ns := fmt.Sprintf("hodei-driver-%d", time.Now().UnixNano()%1_000_000_000)
	_, err = client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	return NewDriver(client, cfg.Host, Options{}), client, ns
}

func clusterSpec(ns, name, image string) *worker.Spec {
	return &worker.Spec{
		Name: name, Backend: worker.BackendKubernetes, Namespace: ns, Image: image,
		Labels: map[string]string{"team": "ml"}, RestartPolicy: "Always",
	}
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestClusterLifecycle(t *testing.T) {
	d, client, ns := clusterDriver(t)
	spec := clusterSpec(ns, "trainer", "registry.example/trainer:1.4")
	spec.GPU = &worker.GPU{Count: 2, Type: "a100"}

	created, err := d.Create(timeout(t, time.Minute), spec, worker.WaitRunning)
	require.NoError(t, err)
	assert.Equal(t, "gpu-a100-0", created.NodeName)
	assert.Equal(t, worker.StatusRunning, created.Status)
	assert.Equal(t, *spec, created.Spec)

	ref := worker.RefOf(spec)
	read, err := d.Read(timeout(t, 10*time.Second), ref)
	require.NoError(t, err)
	assert.Equal(t, *spec, read.Spec, "what the API injects never shows")

	_, err = client.CoreV1().Pods(ns).Patch(timeout(t, 10*time.Second), "trainer", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"team":"infra","extra":"x"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	read, err = d.Read(timeout(t, 10*time.Second), ref)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"team": "infra"}, read.Spec.Labels, "a declared key edited shows, a key added by others does not")

	spec.Labels = map[string]string{"team": "ml", "tier": "gpu"}
	updated, err := d.Update(timeout(t, 10*time.Second), spec, created.UID)
	require.NoError(t, err)
	assert.Equal(t, created.UID, updated.UID)
	assert.Equal(t, *spec, updated.Spec)

	require.NoError(t, d.Delete(timeout(t, time.Minute), ref, created.UID))
	read, err = d.Read(timeout(t, 10*time.Second), ref)
	require.NoError(t, err)
	assert.Nil(t, read)
	require.NoError(t, d.Delete(timeout(t, 10*time.Second), ref, created.UID), "gone already is success")
}

func TestClusterFailuresLeaveNoPod(t *testing.T) {
	d, client, ns := clusterDriver(t)
	assertGone := func(name string) {
		_, err := client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "pod %s remains: %v", name, err)
	}

	start := time.Now()
	_, err := d.Create(timeout(t, time.Minute), clusterSpec(ns, "missing", "registry.example/trainer:missing"), worker.WaitRunning)
	require.Error(t, err)
	assert.Regexp(t, "ErrImagePull|ImagePullBackOff", err.Error())
	t.Log(err)
	assert.Less(t, time.Since(start), 15*time.Second)
	assertGone("missing")

	_, err = d.Create(timeout(t, time.Minute), clusterSpec(ns, "crash", "registry.example/trainer:crash"), worker.WaitRunning)
	// The first exit fails the create, before the kubelet's CrashLoopBackOff.
	require.ErrorContains(t, err, "exited with code 1 (Error)")
	t.Log(err)
	assertGone("crash")

	_, err = d.Create(timeout(t, time.Minute), clusterSpec(ns, "exit0", "registry.example/trainer:exit0"), worker.WaitRunning)
	require.ErrorContains(t, err, "exited")
	t.Log(err)
	assertGone("exit0")

	spec := clusterSpec(ns, "t4", "registry.example/trainer:1.4")
	spec.GPU = &worker.GPU{Count: 3, Type: "t4"}
	_, err = d.Create(timeout(t, 5*time.Second), spec, worker.WaitRunning)
	require.ErrorContains(t, err, "Insufficient nvidia.com/gpu")
	t.Log(err)
	assertGone("t4")
}

func TestClusterNeverTouchesForeignPods(t *testing.T) {
	d, client, ns := clusterDriver(t)
	foreign := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "foreign", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	_, err := client.CoreV1().Pods(ns).Create(context.Background(), foreign, metav1.CreateOptions{})
	require.NoError(t, err)

	var notOwned *worker.NotOwnedError
	_, err = d.Create(timeout(t, 10*time.Second), clusterSpec(ns, "foreign", "busybox:1"), worker.WaitNone)
	require.ErrorAs(t, err, &notOwned)
	_, err = d.Read(timeout(t, 10*time.Second), worker.RefOf(clusterSpec(ns, "foreign", "")))
	require.ErrorAs(t, err, &notOwned)
	require.ErrorAs(t, d.Delete(timeout(t, 10*time.Second), worker.RefOf(clusterSpec(ns, "foreign", "")), ""), &notOwned)
	_, err = client.CoreV1().Pods(ns).Get(context.Background(), "foreign", metav1.GetOptions{})
	require.NoError(t, err)
}

func TestClusterRestrictedPodSecurity(t *testing.T) {
	d, client, ns := clusterDriver(t)
	_, err := client.CoreV1().Namespaces().Patch(context.Background(), ns, types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	_, err = d.Create(timeout(t, 30*time.Second), clusterSpec(ns, "root", "registry.example/trainer:1.4"), worker.WaitRunning)
	require.ErrorContains(t, err, "creating pod "+ns+"/root: ")
	require.ErrorContains(t, err, `violates PodSecurity "restricted:latest"`)
	t.Log(err)

	spec := clusterSpec(ns, "nonroot", "registry.example/trainer:1.4")
	spec.Security = &worker.Security{RunAsNonRoot: true, RunAsUser: ptr(int64(1000)), AddCapabilities: []string{"NET_BIND_SERVICE"}}
	_, err = d.Create(timeout(t, 30*time.Second), spec, worker.WaitRunning)
	require.NoError(t, err)
}
