package provider

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// timeoutSlack is how far past its value a timeout may end the call.
const timeoutSlack = 2 * time.Second

// Fault 6: every timeout is honoured within 2 s of its value, measured from
// the framework's own log lines around the provider's Create and Delete
// (TF_LOG=TRACE): a create timeout of 5 s on a pod that no node can take,
// and a delete timeout of 5 s on a pod whose deletion hangs on a finalizer.
// On Docker, a delete timeout of 4 s on a container whose process ignores
// SIGTERM (sleep as PID 1): the stop gets half the time left, then the
// daemon kills it, so the delete ends inside the timeout. (The update
// timeout bounds one label patch or one container update, which cannot be
// made to hang here; Docker's create has no wait that can be held open.)
func TestAccFaults_timeoutsHonoured(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	const limit = 5 * time.Second

	t.Run("create", func(t *testing.T) {
		logPath := filepath.Join(t.TempDir(), "tf.log")
		w := newWorkspace(t, kubeProvider(kubeconfig)+faultK8sWorker("stuck", ns, `
  scheduling {
    node_selector = { "hodei.io/no-such-node" = "anywhere" }
  }
  timeouts { create = "5s" }`), "TF_LOG=TRACE", "TF_LOG_PATH="+logPath)
		out, err := w.apply(time.Minute)
		require.Error(t, err)
		assert.Contains(t, out, "was not scheduled within the create timeout")
		took := providerCallDuration(t, logPath, "Create")
		t.Logf("create timeout 5s: the provider's Create returned after %s", took)
		assert.GreaterOrEqual(t, took, limit)
		assert.LessOrEqual(t, took, limit+timeoutSlack)
		assert.Equal(t, 0, countPods(t, cli, ns, "stuck"), "the failed create left no pod")
	})

	t.Run("delete", func(t *testing.T) {
		logPath := filepath.Join(t.TempDir(), "tf.log")
		w := newWorkspace(t, kubeProvider(kubeconfig)+faultK8sWorker("held", ns, `
  timeouts { delete = "5s" }`), "TF_LOG=TRACE", "TF_LOG_PATH="+logPath)
		w.mustApply(time.Minute)
		release := func() {
			_, _ = cli.CoreV1().Pods(ns).Patch(context.Background(), "held", types.MergePatchType,
				[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
		_, err := cli.CoreV1().Pods(ns).Patch(context.Background(), "held", types.MergePatchType,
			[]byte(`{"metadata":{"finalizers":["hodei.io/fault-test-hold"]}}`), metav1.PatchOptions{})
		require.NoError(t, err)
		t.Cleanup(func() {
			release()
			w.run(time.Minute, "destroy", "-auto-approve", "-input=false") //nolint:errcheck // best effort
		})
		out, err := w.run(time.Minute, "destroy", "-auto-approve", "-input=false")
		require.Error(t, err, "a deletion held by a finalizer fails at the delete timeout")
		assert.Contains(t, out, "still terminating when the timeout expired")
		took := providerCallDuration(t, logPath, "Delete")
		t.Logf("delete timeout 5s: the provider's Delete returned after %s", took)
		assert.GreaterOrEqual(t, took, limit)
		assert.LessOrEqual(t, took, limit+timeoutSlack)
		release()
		w.mustApply(time.Minute) // the released pod is gone; the worker comes back
	})

	t.Run("docker delete", func(t *testing.T) {
		dockerTestClient(t)
		logPath := filepath.Join(t.TempDir(), "tf.log")
		name := randomName("tmo")
		w := newWorkspace(t, simpleWorker(name, `timeouts { delete = "4s" }`), "TF_LOG=TRACE", "TF_LOG_PATH="+logPath)
		w.destroyOnCleanup()
		w.mustApply(time.Minute)
		_, err := w.run(time.Minute, "destroy", "-auto-approve", "-input=false")
		require.NoError(t, err)
		took := providerCallDuration(t, logPath, "Delete")
		t.Logf("docker delete timeout 4s, process ignoring SIGTERM: the provider's Delete returned after %s", took)
		assert.LessOrEqual(t, took, 4*time.Second+timeoutSlack)
	})
}
