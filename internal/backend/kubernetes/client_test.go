package kubernetes

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const twoClusterKubeconfig = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://dev.example:6443
    certificate-authority-data: Zm9v
- name: prod
  cluster:
    server: https://prod.example:6443
    insecure-skip-tls-verify: true
users:
- name: dev
  user:
    token: dev-token
- name: prod
  user:
    token: prod-token
contexts:
- name: dev
  context: {cluster: dev, user: dev}
- name: prod
  context: {cluster: prod, user: prod, namespace: ml}
`

func writeKubeconfig(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "config")
	require.NoError(t, os.WriteFile(path, []byte(twoClusterKubeconfig), 0o600))
	return path
}

func TestRestConfigRefusesToGuess(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	_, err := restConfig(Config{})
	require.EqualError(t, err, "no Kubernetes configuration: set kubernetes.config_path, KUBECONFIG, or kubernetes.host (or KUBE_CONFIG_PATH, KUBE_HOST, or kubernetes.in_cluster = true)")

	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "missing"))
	_, err = restConfig(Config{})
	require.ErrorContains(t, err, "no Kubernetes configuration")
}

func TestRestConfigExplicitCredentials(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	cfg, err := restConfig(Config{Host: "https://10.0.0.1:6443", Token: "secret", Insecure: true})
	require.NoError(t, err)
	assert.Equal(t, "https://10.0.0.1:6443", cfg.Host)
	assert.Equal(t, "secret", cfg.BearerToken)
	assert.True(t, cfg.Insecure)

	cfg, err = restConfig(Config{Host: "https://10.0.0.1:6443", ClusterCACertificate: "ca-pem", ClientCertificate: "cert-pem", ClientKey: "key-pem"})
	require.NoError(t, err)
	assert.Equal(t, []byte("ca-pem"), cfg.CAData)
	assert.Equal(t, []byte("cert-pem"), cfg.CertData)
	assert.Equal(t, []byte("key-pem"), cfg.KeyData)
}

func TestRestConfigKubeconfigContextAndOverrides(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	path := writeKubeconfig(t, t.TempDir())

	cfg, err := restConfig(Config{ConfigPaths: []string{path}})
	require.NoError(t, err)
	assert.Equal(t, "https://dev.example:6443", cfg.Host)
	assert.Equal(t, "dev-token", cfg.BearerToken)

	cfg, err = restConfig(Config{ConfigPaths: []string{path}, ConfigContext: "prod"})
	require.NoError(t, err)
	assert.Equal(t, "https://prod.example:6443", cfg.Host)
	assert.Equal(t, "prod-token", cfg.BearerToken)

	cfg, err = restConfig(Config{ConfigPaths: []string{path}, Host: "https://other:6443", Token: "mine", Insecure: true})
	require.NoError(t, err)
	assert.Equal(t, "https://other:6443", cfg.Host)
	assert.Equal(t, "mine", cfg.BearerToken)
	assert.True(t, cfg.Insecure)
	assert.Empty(t, cfg.CAData, "insecure clears the kubeconfig's CA, as kubectl does")

	_, err = restConfig(Config{ConfigPaths: []string{path}, ConfigContext: "staging"})
	require.ErrorContains(t, err, "staging")
}

func TestRestConfigHonoursKUBECONFIGList(t *testing.T) {
	dir := t.TempDir()
	path := writeKubeconfig(t, dir)
	t.Setenv("KUBECONFIG", strings.Join([]string{filepath.Join(dir, "missing"), path}, string(filepath.ListSeparator)))
	cfg, err := restConfig(Config{ConfigContext: "prod"})
	require.NoError(t, err)
	assert.Equal(t, "https://prod.example:6443", cfg.Host)
}

func TestRestConfigConfigPath(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", "")
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".kube"), 0o700))
	writeKubeconfig(t, filepath.Join(home, ".kube"))

	cfg, err := restConfig(Config{ConfigPaths: []string{"~/.kube/config"}})
	require.NoError(t, err)
	assert.Equal(t, "https://dev.example:6443", cfg.Host)

	_, err = restConfig(Config{ConfigPaths: []string{"~/.kube/missing"}})
	require.ErrorContains(t, err, "kubernetes.config_path")
	require.ErrorContains(t, err, filepath.Join(home, ".kube", "missing"))
}

func TestNewClientTuning(t *testing.T) {
	_, cfg, err := NewClient(Config{Host: "https://127.0.0.1:1", Insecure: true})
	require.NoError(t, err)
	assert.Less(t, cfg.QPS, float32(0), "no client-side rate limit")
	assert.Equal(t, "terraform-provider-hodei", cfg.UserAgent)
}

func TestUnreachableServerIsNamed(t *testing.T) {
	client, cfg, err := NewClient(Config{Host: "https://127.0.0.1:1", Insecure: true})
	require.NoError(t, err)
	d := NewDriver(client, cfg.Host, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ref := worker.Ref{Backend: worker.BackendKubernetes, Namespace: "ml", Name: "w"}

	_, err = d.Read(ctx, ref)
	require.ErrorContains(t, err, "kubernetes API server at https://127.0.0.1:1 is unreachable: reading pod ml/w")

	_, err = d.Create(ctx, baseSpec(), worker.WaitRunning)
	require.ErrorContains(t, err, "kubernetes API server at https://127.0.0.1:1 is unreachable")
}
