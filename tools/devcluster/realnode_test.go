package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"
)

// realNodePod is a pod of the test image that only real nodes take.
func realNodePod(name string, command ...string) *corev1.Pod {
	pod := simplePod(name, "devcluster.local/busybox:1.36")
	pod.Spec.Containers[0].Command = command
	pod.Spec.NodeSelector = map[string]string{"devcluster.hodei.io/real": "true"}
	pod.Spec.Tolerations = []corev1.Toleration{{Key: "devcluster.hodei.io/real", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	return pod
}

// TestRealNodesRegisterAsKubeletsDo: each real node is Ready with the
// labels a kubelet sets and the topology's, the declared taint only (the
// not-ready one lifted), and reports the kubelet and runtime it runs.
func TestRealNodesRegisterAsKubeletsDo(t *testing.T) {
	client := adminClient(t)
	topology, err := LoadTopology("nodes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	real := topology.realNodes()
	if len(real) != 2 {
		t.Fatalf("the default topology declares %d real nodes, want real-0 and real-1", len(real))
	}
	for _, spec := range real {
		node, err := client.CoreV1().Nodes().Get(testContext(t), spec.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			corev1.LabelHostname: spec.Name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64",
			corev1.LabelTopologyZone: spec.Labels[corev1.LabelTopologyZone], "devcluster.hodei.io/real": "true",
		}
		for key, value := range want {
			if node.Labels[key] != value {
				t.Errorf("node %s: label %s=%q, want %q", spec.Name, key, node.Labels[key], value)
			}
		}
		if !nodeIsReady(node) || !sameTaints(node.Spec.Taints, spec.Taints) || node.Spec.Unschedulable {
			t.Errorf("node %s: ready %v, taints %v, unschedulable %v", spec.Name, nodeIsReady(node), node.Spec.Taints, node.Spec.Unschedulable)
		}
		info := node.Status.NodeInfo
		if info.KubeletVersion != kubeletVersion || !strings.HasPrefix(info.ContainerRuntimeVersion, "containerd://1.") {
			t.Errorf("node %s: kubelet %s, runtime %s", spec.Name, info.KubeletVersion, info.ContainerRuntimeVersion)
		}
	}
}

// TestRealNodeRunsAProcess: a pod bound to a real node runs its command; its
// output comes through kube-apiserver's pods/log, and an exec through
// pods/exec runs inside the same container.
func TestRealNodeRunsAProcess(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	pod := realNodePod("hello", "sh", "-c", "echo hello from $(hostname) as $(id -u); exec sleep 3600")
	pod.Labels = map[string]string{"app.kubernetes.io/managed-by": "hodei"}
	createPod(t, client, namespace, pod)
	pod = waitForPod(t, client, namespace, "hello", "running", isRunningAndReady)
	if !strings.HasPrefix(pod.Spec.NodeName, "real-") || pod.Status.PodIP == "" || pod.Status.PodIP == pod.Status.HostIP {
		t.Errorf("pod on %s with IP %s, host IP %s: want a real node and a pod IP of its own", pod.Spec.NodeName, pod.Status.PodIP, pod.Status.HostIP)
	}
	var logs []byte
	waitFor(t, "the process's output", func(ctx context.Context) (bool, error) {
		var err error
		logs, err = client.CoreV1().Pods(namespace).GetLogs("hello", &corev1.PodLogOptions{}).DoRaw(ctx)
		return err == nil && len(logs) > 0, nil
	})
	if got := strings.TrimSpace(string(logs)); got != "hello from hello as 0" {
		t.Errorf("logs: %q, want the line the process printed", got)
	}
	// The demo's table shows that line for a worker on a real node.
	out, err := exec.Command(binaryPath, "workers", "--kubeconfig", sharedCluster(t).kubeconfig).CombinedOutput()
	if err != nil || !regexp.MustCompile(`(?m)^hello +`+namespace+` +`+pod.Spec.NodeName+` +zone-[ab] +- +- +- +Running +hello from hello as 0$`).Match(out) {
		t.Errorf("devcluster workers: %v\n%s", err, out)
	}

	kubeconfig, err := clientcmd.BuildConfigFromFlags("", sharedCluster(t).kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	request := client.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name("hello").SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: "worker", Command: []string{"cat", "/proc/1/cmdline"}, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	executor, err := remotecommand.NewWebSocketExecutor(kubeconfig, "GET", request.URL().String())
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := executor.StreamWithContext(testContext(t), remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatalf("exec: %v (stderr %q)", err, stderr.String())
	}
	if got := strings.ReplaceAll(stdout.String(), "\x00", " "); got != "sleep 3600 " {
		t.Errorf("exec saw PID 1 as %q, want the pod's own process", got)
	}
}

// TestRealNodesTakeOnlyPodsThatTolerateThem: a pod that selects the real
// nodes without tolerating their taint, as the bench's pods do not, is
// never placed there: the scheduler names the taint.
func TestRealNodesTakeOnlyPodsThatTolerateThem(t *testing.T) {
	client := adminClient(t)
	namespace := testNamespace(t, client, nil)
	pod := realNodePod("intolerant", "sleep", "3600")
	pod.Spec.Tolerations = nil
	createPod(t, client, namespace, pod)
	pod = waitForPod(t, client, namespace, "intolerant", "unschedulable", func(p *corev1.Pod) bool {
		for _, condition := range p.Status.Conditions {
			if condition.Type == corev1.PodScheduled && condition.Reason == corev1.PodReasonUnschedulable {
				return true
			}
		}
		return false
	})
	if pod.Spec.NodeName != "" {
		t.Fatalf("bound to %s", pod.Spec.NodeName)
	}
	for _, condition := range pod.Status.Conditions {
		if condition.Type == corev1.PodScheduled && !strings.Contains(condition.Message, "untolerated taint") {
			t.Errorf("scheduler: %q, want the real nodes' untolerated taint", condition.Message)
		}
	}
}
