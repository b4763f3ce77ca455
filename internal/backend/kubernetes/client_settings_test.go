package kubernetes

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestRestConfigInClusterOnlyWhenAsked(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "443")
	called := false
	inClusterConfig = func() (*rest.Config, error) { called = true; return rest.InClusterConfig() }
	t.Cleanup(func() { inClusterConfig = rest.InClusterConfig })

	_, err := restConfig(Config{})
	require.ErrorIs(t, err, errNoConfig, "in a pod, without in_cluster, nothing is guessed")
	assert.False(t, called, "in_cluster = false never looks at the pod's service account")

	if _, err := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token"); err == nil {
		t.Skip("this test runs in a pod, where in_cluster = true succeeds")
	}
	_, err = restConfig(Config{InCluster: true})
	require.True(t, called)
	// Here the service account token is not mounted: rest.InClusterConfig's own reason.
	require.ErrorContains(t, err, "kubernetes.in_cluster: open /var/run/secrets/kubernetes.io/serviceaccount/token")
}

func TestRestConfigInClusterOutsideAPod(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	t.Setenv("KUBECONFIG", writeKubeconfig(t, t.TempDir()))
	_, err := restConfig(Config{InCluster: true})
	require.EqualError(t, err, "kubernetes.in_cluster: "+rest.ErrNotInCluster.Error(), "KUBECONFIG is not a fallback of in_cluster")
}

func TestRestConfigWrongContextIsNamed(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	path := writeKubeconfig(t, t.TempDir())
	_, err := restConfig(Config{ConfigPaths: []string{path}, ConfigContext: "staging"})
	require.EqualError(t, err, `kubernetes.config_context: context "staging" is not in the kubeconfig `+path+` (its contexts: dev, prod)`)
}

func TestRestConfigExecReplacesKubeconfigUser(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	path := writeKubeconfig(t, t.TempDir())
	cfg, err := restConfig(Config{ConfigPaths: []string{path}, ConfigContext: "prod", Exec: &ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1beta1", Command: "aws",
		Args: []string{"eks", "get-token", "--cluster-name", "prod"},
		Env:  map[string]string{"AWS_PROFILE": "prod", "AWS_REGION": "eu-west-1"},
	}})
	require.NoError(t, err)
	assert.Equal(t, "https://prod.example:6443", cfg.Host, "the cluster still comes from the kubeconfig")
	assert.Empty(t, cfg.BearerToken, "the kubeconfig user's token would win over the plugin")
	require.NotNil(t, cfg.ExecProvider)
	assert.Equal(t, "aws", cfg.ExecProvider.Command)
	assert.Equal(t, []string{"eks", "get-token", "--cluster-name", "prod"}, cfg.ExecProvider.Args)
	assert.Equal(t, []clientcmdapi.ExecEnvVar{{Name: "AWS_PROFILE", Value: "prod"}, {Name: "AWS_REGION", Value: "eu-west-1"}}, cfg.ExecProvider.Env)
	assert.Equal(t, clientcmdapi.NeverExecInteractiveMode, cfg.ExecProvider.InteractiveMode)

	cfg, err = restConfig(Config{Host: "https://10.0.0.1:6443", TLSServerName: "api.internal", ProxyURL: "socks5://127.0.0.1:1080"})
	require.NoError(t, err)
	assert.Equal(t, "api.internal", cfg.ServerName)
	require.NotNil(t, cfg.Proxy)
}
