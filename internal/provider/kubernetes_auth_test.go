package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// The kubernetes block's authentication paths, each through the real
// terraform CLI and the built provider against a private devcluster whose
// bearer tokens the test controls (devcluster up --token-file).

var (
	execPluginOnce sync.Once
	execPluginPath string
	execPluginErr  error
)

// execPluginBinary builds the test credential plugin
// (internal/backend/kubernetes/testdata/execplugin) once per test binary.
func execPluginBinary(t *testing.T) string {
	t.Helper()
	execPluginOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hodei-execplugin") //nolint:usetesting // shared by the binary's tests
		if err != nil {
			execPluginErr = err
			return
		}
		execPluginPath = filepath.Join(dir, "execplugin")
		cmd := exec.Command("go", "build", "-o", execPluginPath, "./internal/backend/kubernetes/testdata/execplugin")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			execPluginErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, execPluginErr)
	return execPluginPath
}

// authWorkers are count workers named prefix-N in namespace default.
func authWorkers(prefix string, count int) string {
	return fmt.Sprintf(`
resource "hodei_worker" %[1]q {
  count   = %[2]d
  name    = "%[1]s-${count.index}"
  backend = "kubernetes"
  image   = "registry.example/worker:1"
  command = ["sleep", "3600"]
}
`, prefix, count)
}

func requirePods(t *testing.T, c *privateCluster, namespace, prefix string, count int) {
	t.Helper()
	for i := range count {
		pod, err := c.Client().CoreV1().Pods(namespace).Get(context.Background(), fmt.Sprintf("%s-%d", prefix, i), metav1.GetOptions{})
		require.NoError(t, err)
		require.Equal(t, corev1.PodRunning, pod.Status.Phase)
	}
}

func TestAccKubernetesAuthentication(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	require.NoError(t, os.WriteFile(tokens, nil, 0o600))
	c := startPrivateCluster(t, "--token-file", tokens)
	plugin := execPluginBinary(t)
	kubeconfig, err := clientcmd.LoadFromFile(c.ProviderKubeconfig)
	require.NoError(t, err)
	var server string
	var caPEM []byte
	for _, cluster := range kubeconfig.Clusters {
		server, caPEM = cluster.Server, cluster.CertificateAuthorityData
	}
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, caPEM, 0o600))
	addToken := func(token string) {
		f, err := os.OpenFile(tokens, os.O_APPEND|os.O_WRONLY, 0o600)
		require.NoError(t, err)
		_, err = fmt.Fprintf(f, "%s,%s,%s,\"system:masters\"\n", token, token, token)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}

	t.Run("exec plugin outlives its short tokens within one apply", func(t *testing.T) {
		runs := filepath.Join(t.TempDir(), "runs")
		secret := "exec-env-secret-" + randomName("s")
		logPath := filepath.Join(t.TempDir(), "trace.log")
		w := newWorkspace(t, fmt.Sprintf(`
provider "hodei" {
  kubernetes {
    host                   = %q
    cluster_ca_certificate = file(%q)
    exec {
      api_version = "client.authentication.k8s.io/v1"
      command     = %q
      args        = ["-user", "terraform"]
      env = {
        EXECPLUGIN_TOKEN_FILE = %q
        EXECPLUGIN_RUNS       = %q
        EXECPLUGIN_LIFETIME   = "100ms"
        UNUSED_SECRET         = %q
      }
    }
  }
}
`, server, caFile, plugin, tokens, runs, secret)+authWorkers("auth-exec", 10), "TF_LOG=trace", "TF_LOG_PATH="+logPath)
		out, err := w.apply(3*time.Minute, "-parallelism=1")
		require.NoError(t, err, "apply:\n%s", out)
		requirePods(t, c, "default", "auth-exec", 10)

		// One line per plugin run: its time and the provider process that ran it.
		data, err := os.ReadFile(runs)
		require.NoError(t, err)
		perProcess := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			perProcess[strings.Fields(line)[1]]++
		}
		most := 0
		for _, n := range perProcess {
			most = max(most, n)
		}
		t.Logf("plugin runs per provider process: %v", perProcess)
		assert.GreaterOrEqual(t, most, 2, "one provider process ran the plugin again when its token expired: %v", perProcess)

		log, err := os.ReadFile(logPath)
		require.NoError(t, err)
		assert.NotContains(t, string(log), secret, "exec.env is sensitive: not in the trace log")
		assert.NotContains(t, out, secret)
	})

	t.Run("token_file rotated between two applies", func(t *testing.T) {
		tokenFile := filepath.Join(t.TempDir(), "token")
		require.NoError(t, os.WriteFile(tokenFile, []byte("rotated-first\n"), 0o600))
		addToken("rotated-first")
		provider := fmt.Sprintf(`
provider "hodei" {
  kubernetes {
    host                   = %q
    cluster_ca_certificate = file(%q)
    token_file             = %q
  }
}
`, server, caFile, tokenFile)
		w := newWorkspace(t, provider+authWorkers("auth-file", 1))
		w.mustApply(2 * time.Minute)
		requirePods(t, c, "default", "auth-file", 1)

		// The kubelet rotates a projected token: a new one in the file, the
		// old one refused from now on.
		require.NoError(t, os.WriteFile(tokens, nil, 0o600))
		addToken("rotated-second")
		require.NoError(t, os.WriteFile(tokenFile, []byte("rotated-second\n"), 0o600))
		w.setConfig(provider + authWorkers("auth-file", 2))
		w.mustApply(2 * time.Minute)
		requirePods(t, c, "default", "auth-file", 2)
	})

	t.Run("environment variables alone", func(t *testing.T) {
		addToken("from-environment")
		w := newWorkspace(t, `provider "hodei" {}`+authWorkers("auth-env", 1),
			"KUBE_HOST="+server, "KUBE_TOKEN=from-environment", "KUBE_CLUSTER_CA_CERT_DATA="+string(caPEM))
		w.mustApply(2 * time.Minute)
		requirePods(t, c, "default", "auth-env", 1)

		ns, err := c.Client().CoreV1().Namespaces().Create(context.Background(),
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "auth-env-ns"}}, metav1.CreateOptions{})
		require.NoError(t, err)
		waitForServiceAccount(t, c.Client(), ns.Name)
		w = newWorkspace(t, `provider "hodei" {}`+authWorkers("auth-path", 1),
			"KUBE_CONFIG_PATH="+c.ProviderKubeconfig, "KUBE_NAMESPACE="+ns.Name)
		w.mustApply(2 * time.Minute)
		requirePods(t, c, ns.Name, "auth-path", 1)
	})

	t.Run("a wrong context or CA names the setting", func(t *testing.T) {
		w := newWorkspace(t, fmt.Sprintf(`
provider "hodei" {
  kubernetes {
    config_path    = %q
    config_context = "staging"
  }
}
`, c.ProviderKubeconfig)+authWorkers("auth-context", 1))
		out, err := w.apply(2 * time.Minute)
		require.Error(t, err)
		assert.Contains(t, strings.Join(strings.Fields(out), " "), `kubernetes.config_context: context "staging" is not in the kubeconfig`)

		addToken("wrong-ca")
		w = newWorkspace(t, fmt.Sprintf(`
provider "hodei" {
  kubernetes {
    host                   = %q
    token                  = "wrong-ca"
    cluster_ca_certificate = file(%q)
  }
}
`, server, filepath.Join(repoRoot(t), "internal", "backend", "kubernetes", "testdata", "other-ca.pem"))+authWorkers("auth-ca", 1))
		out, err = w.apply(2 * time.Minute)
		require.Error(t, err)
		assert.Contains(t, strings.Join(strings.Fields(out), " "), "not signed by the CA of kubernetes.cluster_ca_certificate")
		assert.Equal(t, 0, countPods(t, c.Client(), "default", "auth-ca-0"))
	})
}

// TestAccKubernetesSettingsFailAtValidate: the rules between the kubernetes
// block's settings are reported by `terraform validate`, with no cluster.
func TestAccKubernetesSettingsFailAtValidate(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	cases := []struct {
		name, block, expect string
	}{
		{"in_cluster with host", `in_cluster = true
    host = "https://10.0.0.1:6443"`, "kubernetes.host cannot be set with in_cluster = true"},
		{"in_cluster with config_path", `in_cluster = true
    config_path = "~/.kube/config"`, "kubernetes.config_path cannot be set with in_cluster = true"},
		{"exec without command", `exec {
      api_version = "client.authentication.k8s.io/v1"
    }`, `Attribute "kubernetes.exec.command" must be specified when "kubernetes.exec" is specified`},
		{"exec with an unknown api_version", `exec {
      api_version = "client.authentication.k8s.io/v1alpha1"
      command     = "aws"
    }`, "kubernetes.exec.api_version value must be one of"},
		{"proxy_url not a URL", `proxy_url = "proxy.example:3128"`, "kubernetes.proxy_url must be an http, https or socks5 URL"},
		{"token with exec", `token = "t"
    exec {
      api_version = "client.authentication.k8s.io/v1"
      command     = "aws"
    }`, `Attribute "kubernetes.exec" cannot be specified when "kubernetes.token" is specified`},
		{"config_path with config_paths", `config_path = "a"
    config_paths = ["b"]`, `cannot be specified when "kubernetes.config_path" is specified`},
		{"client_certificate without client_key", `client_certificate = "pem"`, `"kubernetes.client_key" must be specified when "kubernetes.client_certificate"`},
	}
	env := cliEnv(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			main := requiredProvider + fmt.Sprintf("provider \"hodei\" {\n  kubernetes {\n    %s\n  }\n}\n", c.block) + authWorkers("validate", 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600))
			out, err := runTerraformCLI(dir, env, "validate", "-no-color")
			require.Error(t, err, "validate must fail:\n%s", out)
			assert.Contains(t, strings.Join(strings.Fields(out), " "), c.expect)
		})
	}
}
