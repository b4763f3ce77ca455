package provider

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Environment that make test sets when the devcluster control plane runs.
const (
	envTestKubeconfig           = "HODEI_TEST_KUBECONFIG"
	envTestRestrictedKubeconfig = "HODEI_TEST_RESTRICTED_KUBECONFIG"
	restrictedNamespace         = "hodei-limited"
)

// kubeTestClient talks to the devcluster as its admin, to assert on what the
// API server, the scheduler and the node simulator really did.
//
// Which kind of node a Kubernetes test needs: the TestAccRealNode_* tests
// need a real node (a real kubelet and containerd; requireRealNodes), since
// what they check happens in the kubelet or the process. Every other test
// runs its workers on the simulated nodes, since what it checks is the API
// server's, admission's or the scheduler's work; GPU, DRA and placement
// tests need the simulated GPU nodes.
func kubeTestClient(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	path := os.Getenv(envTestKubeconfig)
	if path == "" {
		t.Skipf("needs the devcluster: %s names its kubeconfig (make test starts it)", envTestKubeconfig)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	require.NoError(t, err)
	cli, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return cli, path
}

func kubeProvider(kubeconfig string) string {
	return fmt.Sprintf(`
provider "hodei" {
  kubernetes { config_path = %q }
}
`, kubeconfig)
}

// testNamespace makes a namespace for one test, waits for its default
// service account (pods need it), and deletes it afterwards.
func testNamespace(t *testing.T, cli kubernetes.Interface, labels map[string]string) string {
	t.Helper()
	ctx := context.Background()
	name := randomName("acc")
	_, err := cli.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	waitForServiceAccount(t, cli, name)
	return name
}

// waitForServiceAccount waits for the namespace's default service account,
// which the controller-manager makes and pods need.
func waitForServiceAccount(t *testing.T, cli kubernetes.Interface, namespace string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cli.CoreV1().ServiceAccounts(namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	require.NoError(t, err, "the default service account of %s did not appear", namespace)
}

func getPod(t *testing.T, cli kubernetes.Interface, namespace, name string) *corev1.Pod {
	t.Helper()
	pod, err := cli.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return pod
}

func assertNoPod(cli kubernetes.Interface, namespace, name string) error {
	_, err := cli.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err == nil {
		return fmt.Errorf("pod %s/%s still exists", namespace, name)
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

func nodeZone(t *testing.T, cli kubernetes.Interface, node string) string {
	t.Helper()
	n, err := cli.CoreV1().Nodes().Get(context.Background(), node, metav1.GetOptions{})
	require.NoError(t, err)
	return n.Labels["topology.kubernetes.io/zone"]
}
