package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// faultNodes is the private devclusters' topology: two plain nodes.
const faultNodes = `nodes:
  - name: node-a
    labels:
      topology.kubernetes.io/zone: zone-a
    capacity: {cpu: "16", memory: 64Gi, pods: "110"}
  - name: node-b
    labels:
      topology.kubernetes.io/zone: zone-b
    capacity: {cpu: "16", memory: 64Gi, pods: "110"}
`

func faultK8sWorker(name, namespace, extra string) string {
	return fmt.Sprintf(`
resource "hodei_worker" %[1]q {
  name      = %[1]q
  backend   = "kubernetes"
  namespace = %[2]q
  image     = %[3]q
  command   = ["sleep", "3600"]
  %[4]s
}
`, name, namespace, k8sImage, extra)
}

// waitUntil polls cond every 100 ms for at most limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// podsOf polls without failing the test: the server may be down.
func podCount(cli kubernetes.Interface, namespace, name string) (int, error) {
	pods, err := cli.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{
		LabelSelector: labelManagedBy + "=hodei," + labelWorker + "=" + name,
	})
	if err != nil {
		return 0, err
	}
	return len(pods.Items), nil
}

type applyResult struct {
	out     string
	err     error
	elapsed time.Duration
}

func applyInBackground(w *tfWorkspace, limit time.Duration, extra ...string) <-chan applyResult {
	done := make(chan applyResult, 1)
	go func() {
		started := time.Now()
		out, err := w.apply(limit, extra...)
		done <- applyResult{out: out, err: err, elapsed: time.Since(started)}
	}()
	return done
}

// Fault 1: kube-apiserver (the whole private devcluster: etcd, API server,
// scheduler, controllers, simulated kubelet) is stopped while a create is
// waiting for its pod, and started again on the same data. The worker's
// pod selects a node label that no node has, so the wait is certainly in
// progress when the server stops; after the restart the test puts the
// label on a node, so that the pod can run.
func TestAccFaults_apiServerRestartDuringCreateWait(t *testing.T) {
	t.Parallel()
	c := startPrivateCluster(t)
	cli := c.Client()
	const name = "fault-api"
	w := newWorkspace(t, kubeProvider(c.ProviderKubeconfig)+faultK8sWorker(name, "default", `
  scheduling {
    node_selector = { "hodei.io/fault-open" = "yes" }
  }
  timeouts { create = "3m" }`))
	w.destroyOnCleanup()

	result := applyInBackground(w, 4*time.Minute)
	waitUntil(t, 60*time.Second, "the worker's pod appears", func() bool {
		n, err := podCount(cli, "default", name)
		return err == nil && n == 1
	})
	before := getPod(t, cli, "default", name)
	time.Sleep(time.Second) // the provider is now watching the pending pod
	stopped := time.Now()
	c.Stop()
	t.Logf("API server stopped %.1fs after the pod appeared", time.Since(stopped).Seconds())
	time.Sleep(5 * time.Second) // down for a while, as in a control-plane upgrade
	c.Start()
	t.Logf("API server back after %.1fs", time.Since(stopped).Seconds())
	_, err := cli.CoreV1().Nodes().Patch(context.Background(), "node-a", types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"hodei.io/fault-open":"yes"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	var first applyResult
	select {
	case first = <-result:
	case <-time.After(4 * time.Minute):
		t.Fatal("the apply did not end")
	}
	// The wait retries while the server is out of reach (wait.go), so an
	// outage well inside the create timeout is survived: the apply completes.
	require.NoError(t, first.err, "the create wait outlives the restart:\n%s", tail(first.out, 20))
	t.Logf("first apply completed after %.1fs despite the outage", first.elapsed.Seconds())
	n, err := podCount(cli, "default", name)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "never two pods of one worker")
	assert.Equal(t, before.UID, getPod(t, cli, "default", name).UID, "the pod made before the outage is the one that runs")

	w.mustApply(2 * time.Minute)
	n, err = podCount(cli, "default", name)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the next apply converges to exactly one pod")
	changes, out := w.planChanges()
	assert.False(t, changes, "plan after the converging apply is empty:\n%s", out)
}

// Fault 3: the pod is deleted by someone else while its create waits. The
// worker mounts a claim that does not exist yet, so the scheduler keeps it
// Pending; the test deletes the pod, expects the apply to fail at once
// saying so, makes the claim, and expects the next apply to converge.
func TestAccFaults_podDeletedDuringCreateWait(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := kubeTestClient(t)
	bin := devclusterBinary(t)
	ns := testNamespace(t, cli, nil)
	const name = "fault-deleted"
	w := newWorkspace(t, kubeProvider(kubeconfig)+faultK8sWorker(name, ns, `
  volume {
    name       = "data"
    mount_path = "/data"
    persistent { claim_name = "late-claim" }
  }
  timeouts { create = "2m" }`))
	w.destroyOnCleanup()

	result := applyInBackground(w, 3*time.Minute)
	waitUntil(t, 60*time.Second, "the worker's pod appears", func() bool {
		n, err := podCount(cli, ns, name)
		return err == nil && n == 1
	})
	time.Sleep(500 * time.Millisecond)
	deleted := time.Now()
	require.NoError(t, cli.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{}))
	var first applyResult
	select {
	case first = <-result:
	case <-time.After(3 * time.Minute):
		t.Fatal("the apply did not end")
	}
	sinceDelete := time.Since(deleted)
	require.Error(t, first.err, "a create whose pod vanished must fail")
	assert.Contains(t, first.out, "was deleted by someone else while waiting")
	assert.Less(t, sinceDelete, 20*time.Second, "the failure comes from the watch, not the 2 m timeout")
	t.Logf("apply failed %.1fs after the pod was deleted (terraform exit included)", sinceDelete.Seconds())

	claim := exec.Command(bin, "claim", "--kubeconfig", kubeconfig, "--namespace", ns, "--name", "late-claim", "--size", "1Gi")
	out, err := claim.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() {
		_ = cli.CoreV1().PersistentVolumes().Delete(context.Background(), ns+"-late-claim", metav1.DeleteOptions{})
	})
	w.mustApply(2 * time.Minute)
	n, err := podCount(cli, ns, name)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	changes, planOut := w.planChanges()
	assert.False(t, changes, "plan after the converging apply is empty:\n%s", planOut)
}

// Fault 4: the node under a running worker is removed (devcluster restarted
// with a nodes file without it, which deletes the Node object). Nothing
// stops the pod by itself: no kubelet is left to report on it. The
// controller manager's pod garbage collector deletes pods bound to a node
// that no longer exists (after a 40 s quarantine, checked every 20 s, so
// within about a minute); once it has, the worker's refresh finds the pod
// gone and the plan creates it again — a create, not a replace, because the
// state entry leaves with the pod. (Were the pod caught while the collector
// marks it Failed, the plan would replace it by recreate_on_exit.)
func TestAccFaults_nodeRemovedUnderRunningWorker(t *testing.T) {
	t.Parallel()
	c := startPrivateCluster(t)
	cli := c.Client()
	const name = "fault-node"
	w := newWorkspace(t, kubeProvider(c.ProviderKubeconfig)+faultK8sWorker(name, "default", ""))
	w.destroyOnCleanup()
	w.mustApply(2 * time.Minute)
	pod := getPod(t, cli, "default", name)
	gone := pod.Spec.NodeName
	require.NotEmpty(t, gone)
	keep := "node-a"
	if gone == "node-a" {
		keep = "node-b"
	}

	c.Stop()
	nodes := strings.TrimSpace(faultNodesWithout(gone)) + "\n"
	require.NoError(t, os.WriteFile(c.nodesFile, []byte(nodes), 0o600))
	c.Start()
	removed := time.Now()
	_, err := cli.CoreV1().Nodes().Get(context.Background(), gone, metav1.GetOptions{})
	require.Error(t, err, "node %s is removed", gone)

	waitUntil(t, 150*time.Second, "the pod garbage collector removes the pod of the missing node", func() bool {
		return assertNoPod(cli, "default", name) == nil
	})
	t.Logf("pod on removed node %s collected %.1fs after the removal", gone, time.Since(removed).Seconds())

	changes, out := w.planChanges()
	require.True(t, changes, "the plan brings the worker back:\n%s", out)
	switch {
	case strings.Contains(out, "will be created"):
		t.Log("the plan creates the worker (its pod is gone)")
	case strings.Contains(out, "must be replaced"):
		t.Log("the plan replaces the worker (its pod was seen Failed)")
	default:
		t.Fatalf("the plan neither creates nor replaces the worker:\n%s", out)
	}
	w.mustApply(2 * time.Minute)
	assert.Equal(t, keep, getPod(t, cli, "default", name).Spec.NodeName, "the new pod runs on the remaining node")
	assert.Equal(t, 1, countPods(t, cli, "default", name))
}

// faultNodesWithout is faultNodes less one node.
func faultNodesWithout(node string) string {
	var out []string
	skip := false
	for _, line := range strings.Split(faultNodes, "\n") {
		if strings.HasPrefix(line, "  - name: ") {
			skip = line == "  - name: "+node
		}
		if !skip {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
