package kubernetes

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// These tests authenticate against a devcluster of their own, started with
// --token-file so that they can issue, rotate and expire bearer tokens. They
// need TF_ACC (make test sets it) and a devcluster binary (DEVCLUSTER_BIN,
// else bin/devcluster).

// tokenCluster is a private devcluster whose token file the test writes.
type tokenCluster struct {
	server    string
	caPEM     []byte
	admin     string // admin kubeconfig (client certificate)
	tokenFile string
}

func startTokenCluster(t *testing.T) *tokenCluster {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("private devcluster test: set TF_ACC=1 (make test does)")
	}
	bin := os.Getenv("DEVCLUSTER_BIN")
	if bin == "" {
		root, err := filepath.Abs(filepath.Join("..", "..", ".."))
		require.NoError(t, err)
		bin = filepath.Join(root, "bin", "devcluster")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("needs a devcluster binary at %s (make devcluster-build): %v", bin, err)
	}
	dir := t.TempDir()
	c := &tokenCluster{admin: filepath.Join(dir, "admin.kubeconfig"), tokenFile: filepath.Join(dir, "tokens.csv")}
	require.NoError(t, os.WriteFile(c.tokenFile, nil, 0o600))
	nodes := filepath.Join(dir, "nodes.yaml")
	require.NoError(t, os.WriteFile(nodes, []byte(`nodes:
- name: cpu-0
  labels: {topology.kubernetes.io/zone: zone-a}
  capacity: {cpu: "16", memory: 64Gi, pods: "110"}
`), 0o600))
	cmd := exec.Command(bin, "up", "--nodes", nodes, "--kubeconfig", c.admin, "--token-file", c.tokenFile)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	logFile, err := os.Create(filepath.Join(dir, "devcluster.log"))
	require.NoError(t, err)
	cmd.Stderr = logFile
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	ready := make(chan struct{})
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if scanner.Text() == "ready" {
				close(ready)
			}
		}
		_ = cmd.Wait()
		_ = logFile.Close()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	select {
	case <-ready:
	case <-done:
		log, _ := os.ReadFile(filepath.Join(dir, "devcluster.log"))
		t.Fatalf("devcluster exited before ready:\n%s", log)
	case <-time.After(120 * time.Second):
		t.Fatal("devcluster not ready within 120 s")
	}
	cfg, err := clientcmd.LoadFromFile(c.admin)
	require.NoError(t, err)
	for _, cluster := range cfg.Clusters {
		c.server, c.caPEM = cluster.Server, cluster.CertificateAuthorityData
	}
	return c
}

// writeTokens replaces the token file: token,user,uid,groups[,expires] lines.
func (c *tokenCluster) writeTokens(t *testing.T, lines ...string) {
	t.Helper()
	require.NoError(t, os.WriteFile(c.tokenFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
}

var (
	execPluginOnce sync.Once
	execPluginPath string
	execPluginErr  error
)

// execPlugin builds testdata/execplugin once per test binary.
func execPlugin(t *testing.T) string {
	t.Helper()
	execPluginOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hodei-execplugin") //nolint:usetesting // shared by the binary's tests
		if err != nil {
			execPluginErr = err
			return
		}
		execPluginPath = filepath.Join(dir, "execplugin")
		out, err := exec.Command("go", "build", "-o", execPluginPath, "./testdata/execplugin").CombinedOutput()
		if err != nil {
			execPluginErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, execPluginErr)
	return execPluginPath
}

func listPods(client kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{Limit: 1})
	return err
}

func TestClientAuthenticationOnRealServer(t *testing.T) {
	c := startTokenCluster(t)
	plugin := execPlugin(t)
	base := Config{Host: c.server, ClusterCACertificate: string(c.caPEM)}

	t.Run("exec plugin token refreshed when it expires", func(t *testing.T) {
		runs := filepath.Join(t.TempDir(), "runs")
		cfg := base
		cfg.Exec = &ExecConfig{
			APIVersion: "client.authentication.k8s.io/v1", Command: plugin, Args: []string{"-user", "expiring"},
			Env: map[string]string{"EXECPLUGIN_TOKEN_FILE": c.tokenFile, "EXECPLUGIN_RUNS": runs, "EXECPLUGIN_LIFETIME": "1s"},
		}
		client, _, err := NewClient(cfg)
		require.NoError(t, err)
		require.NoError(t, listPods(client))
		firstToken := lastToken(t, c.tokenFile)
		// Past the server's expiry (lifetime + 1 s): the first token is refused.
		time.Sleep(2500 * time.Millisecond)
		stale, _, err := NewClient(Config{Host: c.server, ClusterCACertificate: string(c.caPEM), Token: firstToken})
		require.NoError(t, err)
		require.True(t, apierrors.IsUnauthorized(listPods(stale)), "the server refuses the expired token")
		require.NoError(t, listPods(client), "the same client, after the expiry")
		assert.Len(t, strings.Split(strings.TrimSpace(readFile(t, runs)), "\n"), 2, "client-go ran the plugin again after the expiry")
	})

	t.Run("exec plugin run again after a 401", func(t *testing.T) {
		runs := filepath.Join(t.TempDir(), "runs")
		cfg := base
		cfg.Exec = &ExecConfig{
			APIVersion: "client.authentication.k8s.io/v1beta1", Command: plugin,
			Env: map[string]string{"EXECPLUGIN_TOKEN_FILE": c.tokenFile, "EXECPLUGIN_RUNS": runs},
		}
		client, _, err := NewClient(cfg)
		require.NoError(t, err)
		require.NoError(t, listPods(client))
		c.writeTokens(t) // revoke every token
		err = listPods(client)
		require.True(t, apierrors.IsUnauthorized(err), "revoked: %v", err)
		require.NoError(t, listPods(client), "the plugin's new token")
		assert.Len(t, strings.Split(strings.TrimSpace(readFile(t, runs)), "\n"), 2)
	})

	t.Run("token_file rotated while the client lives", func(t *testing.T) {
		tokenFile := filepath.Join(t.TempDir(), "token")
		require.NoError(t, os.WriteFile(tokenFile, []byte("rotating-one"), 0o600))
		c.writeTokens(t, `rotating-one,rotator,r1,"system:masters"`)
		cfg := base
		cfg.TokenFile = tokenFile
		client, _, err := NewClient(cfg)
		require.NoError(t, err)
		require.NoError(t, listPods(client))
		// Rotated: the server takes only the new token, which the file now holds.
		require.NoError(t, os.WriteFile(tokenFile, []byte("rotating-two"), 0o600))
		c.writeTokens(t, `rotating-two,rotator,r1,"system:masters"`)
		err = listPods(client)
		require.True(t, apierrors.IsUnauthorized(err), "the cached old token: %v", err)
		require.NoError(t, listPods(client), "after the 401, client-go reads the file again")

		cfg.TokenFile = filepath.Join(t.TempDir(), "missing")
		_, _, err = NewClient(cfg)
		require.ErrorContains(t, err, "kubernetes.token_file")
	})

	t.Run("client certificate and key as PEM content", func(t *testing.T) {
		admin, err := clientcmd.LoadFromFile(c.admin)
		require.NoError(t, err)
		cfg := base
		for _, user := range admin.AuthInfos {
			cfg.ClientCertificate, cfg.ClientKey = string(user.ClientCertificateData), string(user.ClientKeyData)
		}
		client, _, err := NewClient(cfg)
		require.NoError(t, err)
		require.NoError(t, listPods(client))
	})

	c.writeTokens(t, `static-admin,static,s1,"system:masters"`)
	base.Token = "static-admin"

	t.Run("proxy_url", func(t *testing.T) {
		proxy := startConnectProxy(t)
		cfg := base
		cfg.ProxyURL = "http://" + proxy.addr
		client, _, err := NewClient(cfg)
		require.NoError(t, err)
		require.NoError(t, listPods(client))
		assert.Equal(t, []string{strings.TrimPrefix(c.server, "https://")}, proxy.targets(), "the request went through the proxy")
	})

	t.Run("tls_server_name", func(t *testing.T) {
		cfg := base
		cfg.TLSServerName = "kubernetes.default.svc"
		client, _, err := NewClient(cfg)
		require.NoError(t, err)
		require.NoError(t, listPods(client), "a name of the serving certificate")

		cfg.TLSServerName = "not-the-apiserver.example"
		err = readThroughDriver(t, cfg)
		require.ErrorContains(t, err, "kubernetes.tls_server_name")
		require.ErrorContains(t, err, "not-the-apiserver.example")
	})

	t.Run("wrong CA names the setting", func(t *testing.T) {
		other, err := os.ReadFile(filepath.Join("testdata", "other-ca.pem"))
		require.NoError(t, err)
		cfg := base
		cfg.ClusterCACertificate = string(other)
		err = readThroughDriver(t, cfg)
		require.ErrorContains(t, err, "certificate signed by unknown authority")
		require.ErrorContains(t, err, "kubernetes.cluster_ca_certificate")
	})

	t.Run("refused credentials name the settings", func(t *testing.T) {
		cfg := base
		cfg.Token = "not-a-token"
		err := readThroughDriver(t, cfg)
		require.ErrorContains(t, err, "Unauthorized")
		require.ErrorContains(t, err, "refused the credentials: kubernetes.token")
	})

	t.Run("explicit credentials replace the kubeconfig user's", func(t *testing.T) {
		// The admin kubeconfig's client certificate would be sent too.
		cfg := Config{ConfigPaths: []string{c.admin}, Token: "not-a-token"}
		err := readThroughDriver(t, cfg)
		require.ErrorContains(t, err, "Unauthorized")
	})
}

func readThroughDriver(t *testing.T, cfg Config) error {
	t.Helper()
	client, restCfg, err := NewClient(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = NewDriver(client, restCfg.Host, Options{}).Read(ctx, worker.Ref{Backend: worker.BackendKubernetes, Namespace: "default", Name: "absent"})
	require.Error(t, err)
	return err
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// lastToken is the token of the token file's last line.
func lastToken(t *testing.T, path string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(readFile(t, path)), "\n")
	return strings.SplitN(lines[len(lines)-1], ",", 2)[0]
}

// connectProxy is an HTTP proxy that tunnels CONNECT requests and records
// their targets.
type connectProxy struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func (p *connectProxy) targets() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

func startConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &connectProxy{addr: listener.Addr().String()}
	server := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		upstream, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		p.mu.Lock()
		if len(p.seen) == 0 || p.seen[len(p.seen)-1] != r.Host {
			p.seen = append(p.seen, r.Host)
		}
		p.mu.Unlock()
		conn, buffered, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() {
			_, _ = io.Copy(upstream, buffered)
			upstream.Close()
		}()
		_, _ = io.Copy(conn, upstream)
		conn.Close()
	})}
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(func() { _ = server.Close() })
	return p
}
