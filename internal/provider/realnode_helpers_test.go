package provider

// Helpers of the tests that run workers on the devcluster's real nodes
// (realnode_*_test.go, named TestAccRealNode_*): a real kubelet with
// containerd and runc, where a worker's process really runs. Those tests
// assert on what the process saw, read from its log, never on the pod spec:
// on the simulated nodes, which every other Kubernetes test uses, nothing
// runs, so such a check could not fail there.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

const (
	// realNodeLabel marks the devcluster's real nodes; a taint of the same
	// key keeps every pod that does not tolerate it off them.
	realNodeLabel = "devcluster.hodei.io/real"
	// realNodeImage is imported into every real node's containerd: a
	// static busybox with its applet links, Cmd ["sh"], running as root.
	realNodeImage = "devcluster.local/busybox:1.36"
	// endOfOutput is the line a worker's script prints when it has printed
	// all that the test reads.
	endOfOutput = "--- end of output ---"
	// thenIdle ends a worker's script: it prints endOfOutput and idles
	// until SIGTERM, on which it exits at once. The shell stays PID 1 so
	// that its trap runs (PID 1 ignores a signal it has no handler for,
	// and the pod's deletion would wait out the grace period).
	thenIdle = "; echo '" + endOfOutput + "'; trap 'exit 0' TERM; sleep 3600 & wait"
)

// realNodeScheduling puts a worker on a real node: it selects them and
// tolerates their taint.
const realNodeScheduling = `
  scheduling {
    node_selector = { "` + realNodeLabel + `" = "true" }
    toleration {
      key      = "` + realNodeLabel + `"
      operator = "Equal"
      value    = "true"
      effect   = "NoSchedule"
    }
  }`

// requireRealNodes is kubeTestClient for a test that needs a real node: it
// skips, saying so, when the devcluster has no Ready node labelled real.
func requireRealNodes(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	cli, kubeconfig := kubeTestClient(t)
	nodes, err := cli.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{LabelSelector: realNodeLabel + "=true"})
	require.NoError(t, err)
	for _, node := range nodes.Items {
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return cli, kubeconfig
			}
		}
	}
	t.Skipf("needs a devcluster with real nodes (a Ready node labelled %s=true, issue 27); the cluster of %s has none (%d labelled, none Ready)",
		realNodeLabel, envTestKubeconfig, len(nodes.Items))
	return nil, ""
}

// realWorker is a worker on a real node whose process runs script in sh,
// then idles (thenIdle); extra is more of the resource block.
func realWorker(name, namespace, script, extra string) string {
	return realNodeResource(name, namespace, realNodeImage, fmt.Sprintf("command = [\"sh\", \"-c\", %s]\n  %s", hclString(script+thenIdle), extra))
}

// hclString quotes s for HCL. Go's quoting is HCL's for the text these
// tests write; HCL alone reads "${" and "%{" as templates, which it
// escapes by doubling the sign.
func hclString(s string) string {
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(fmt.Sprintf("%q", s))
}

// processOutput waits until the worker's process has printed endOfOutput
// and returns what it printed before, after checking that its pod runs on
// a real node.
func processOutput(t *testing.T, cli kubernetes.Interface, namespace, name string) string {
	t.Helper()
	requireOnRealNode(t, cli, namespace, name)
	var out string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		out = podLog(ctx, cli, namespace, name)
		return strings.Contains(out, endOfOutput+"\n"), nil
	})
	require.NoError(t, err, "the process of %s/%s did not print %q within a minute; its log:\n%s", namespace, name, endOfOutput, out)
	before, _, _ := strings.Cut(out, endOfOutput+"\n")
	t.Logf("the process of %s/%s printed:\n%s", namespace, name, before)
	return before
}

// waitForLog waits until the worker's log holds want and returns the log.
func waitForLog(t *testing.T, cli kubernetes.Interface, namespace, name, want string) string {
	t.Helper()
	var out string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		out = podLog(ctx, cli, namespace, name)
		return strings.Contains(out, want), nil
	})
	require.NoError(t, err, "the log of %s/%s did not show %q within a minute:\n%s", namespace, name, want, out)
	return out
}

// podLog is the worker container's log through the API server (pods/log,
// served by the node's kubelet); empty while it cannot be read yet.
func podLog(ctx context.Context, cli kubernetes.Interface, namespace, name string) string {
	raw, err := cli.CoreV1().Pods(namespace).GetLogs(name, &corev1.PodLogOptions{Container: "worker"}).DoRaw(ctx)
	if err != nil {
		return ""
	}
	return string(raw)
}

// requireOnRealNode fails unless the worker's pod is bound to a real node.
func requireOnRealNode(t *testing.T, cli kubernetes.Interface, namespace, name string) *corev1.Pod {
	t.Helper()
	pod := getPod(t, cli, namespace, name)
	require.NotEmpty(t, pod.Spec.NodeName, "pod %s/%s is not bound", namespace, name)
	node, err := cli.CoreV1().Nodes().Get(context.Background(), pod.Spec.NodeName, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "true", node.Labels[realNodeLabel], "pod %s/%s runs on %s, not a real node", namespace, name, node.Name)
	return pod
}

// outputLines are the lines of a process's output, each trimmed, with runs
// of white space (the tabs of /proc files) made one space.
func outputLines(out string) []string {
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		if fields := strings.Fields(line); len(fields) > 0 {
			lines = append(lines, strings.Join(fields, " "))
		}
	}
	return lines
}
