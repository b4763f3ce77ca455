package provider

// Helpers of the fault tests (faults_*_test.go). Those tests run the real
// terraform CLI against the provider built from this module, through a
// dev_overrides CLI configuration, so that they can interrupt it and run
// it again like a user would; and they inject faults only into engines of
// their own (a private devcluster, a private dockerd) or into objects of
// their own namespace on the shared devcluster, stopping what they started
// by pid.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// ownership labels every object of the provider carries.
const (
	labelManagedBy = "app.kubernetes.io/managed-by"
	labelWorker    = "hodei.io/worker"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return root
}

// faultPrereqs skips unless acceptance tests are on and a terraform CLI is named.
func faultPrereqs(t *testing.T) string {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("fault test: set TF_ACC=1 (make test does)")
	}
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		t.Skip("fault test: TF_ACC_TERRAFORM_PATH must name a terraform CLI (make test sets it)")
	}
	return tf
}

var (
	providerBuildOnce sync.Once
	providerBuildDir  string
	providerBuildErr  error
)

// providerBin builds the provider once per test binary into a directory a
// dev_overrides block can point at.
func providerBin(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	providerBuildOnce.Do(func() {
		// No hook runs when the test binary ends, so each build sweeps up
		// those that earlier runs left, once they are two hours old.
		if stale, _ := filepath.Glob(filepath.Join(os.TempDir(), "hodei-fault-provider*")); len(stale) > 0 {
			for _, dir := range stale {
				if info, err := os.Stat(dir); err == nil && time.Since(info.ModTime()) > 2*time.Hour {
					_ = os.RemoveAll(dir)
				}
			}
		}
		// Shared by every test of the binary, so not any one test's TempDir.
		providerBuildDir, providerBuildErr = os.MkdirTemp("", "hodei-fault-provider") //nolint:usetesting // see above
		if providerBuildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(providerBuildDir, "terraform-provider-hodei"), ".")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			providerBuildErr = fmt.Errorf("go build: %w: %s", err, out)
		}
	})
	require.NoError(t, providerBuildErr)
	return providerBuildDir
}

// tfWorkspace is one terraform root module with its own state, run by the
// real CLI with the provider built from this module.
type tfWorkspace struct {
	t   *testing.T
	tf  string
	dir string
	env []string
}

func newWorkspace(t *testing.T, config string, extraEnv ...string) *tfWorkspace {
	t.Helper()
	tf := faultPrereqs(t)
	bin := providerBin(t)
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	require.NoError(t, os.WriteFile(rc, fmt.Appendf(nil,
		"provider_installation {\n  dev_overrides {\n    \"hodei-jobs/hodei\" = %q\n  }\n  direct {}\n}\n", bin), 0o600))
	w := &tfWorkspace{t: t, tf: tf, dir: dir}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_CLI_CONFIG_FILE=") || strings.HasPrefix(kv, "TF_LOG") ||
			strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "HODEI_DEFAULT_BACKEND=") {
			continue
		}
		w.env = append(w.env, kv)
	}
	w.env = append(w.env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	w.env = append(w.env, extraEnv...)
	w.setConfig(config)
	return w
}

func (w *tfWorkspace) setConfig(config string) {
	w.t.Helper()
	require.NoError(w.t, os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(requiredProvider+config), 0o600))
}

const requiredProvider = `
terraform {
  required_providers {
    hodei = { source = "hodei-jobs/hodei" }
  }
}
`

func (w *tfWorkspace) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, w.tf, args...)
	cmd.Dir = w.dir
	cmd.Env = w.env
	// Its own process group, so that a SIGINT meant for terraform reaches
	// terraform alone, and terraform passes it on to the provider.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs one terraform command, bounded by limit, and returns its
// combined output and error.
func (w *tfWorkspace) run(limit time.Duration, args ...string) (string, error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := w.command(ctx, append(args, "-no-color")...).CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("terraform %s did not finish within %s: %w", args[0], limit, err)
	}
	w.t.Logf("terraform %s (%v):\n%s", strings.Join(args, " "), err, tail(string(out), 40))
	return string(out), err
}

func (w *tfWorkspace) apply(limit time.Duration, extra ...string) (string, error) {
	return w.run(limit, append([]string{"apply", "-auto-approve", "-input=false"}, extra...)...)
}

func (w *tfWorkspace) mustApply(limit time.Duration) string {
	w.t.Helper()
	out, err := w.apply(limit)
	require.NoError(w.t, err, "apply failed:\n%s", out)
	return out
}

// planChanges runs plan -detailed-exitcode (bounded to a minute): false
// when empty, true when it has changes; the output either way.
func (w *tfWorkspace) planChanges() (bool, string) {
	w.t.Helper()
	out, err := w.run(time.Minute, "plan", "-input=false", "-detailed-exitcode")
	if err == nil {
		return false, out
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 2 {
		return true, out
	}
	require.NoError(w.t, err, "plan failed:\n%s", out)
	return false, out
}

// destroyOnCleanup destroys what the workspace made when the test ends,
// whatever happened; the engines may be gone by then, so errors are logged.
func (w *tfWorkspace) destroyOnCleanup() {
	w.t.Cleanup(func() {
		if _, err := w.run(3*time.Minute, "destroy", "-auto-approve", "-input=false"); err != nil {
			w.t.Logf("destroy at cleanup: %v", err)
		}
	})
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = append([]string{fmt.Sprintf("[... %d lines]", len(all)-lines)}, all[len(all)-lines:]...)
	}
	return strings.Join(all, "\n")
}

// ---- a private devcluster behind a fixed address ----

// devclusterBinary is bin/devcluster (or DEVCLUSTER_BIN); the test skips
// when it has not been built.
func devclusterBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("DEVCLUSTER_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(t), "bin", "devcluster")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("fault test needs a built devcluster at %s (make devcluster-build): %v", bin, err)
	}
	return bin
}

// privateCluster is a devcluster of this test alone, with its data kept in
// a directory of its own so that a restart keeps the cluster. devcluster
// picks a free port at each start; the provider reaches it through a TCP
// proxy on a fixed local port, which forwards to wherever the current
// kube-apiserver listens (certificates are kept in the data directory, and
// the serving certificate is for 127.0.0.1 whatever the port).
type privateCluster struct {
	t          *testing.T
	bin        string
	dir        string
	nodesFile  string
	kubeconfig string // devcluster's own, rewritten at each start
	// ProviderKubeconfig points at the proxy: the address the provider keeps.
	ProviderKubeconfig string
	proxy              *tcpProxy
	extraArgs          []string // more flags of devcluster up
	cmd                *exec.Cmd
	done               chan struct{}
}

// startPrivateCluster starts a devcluster with the fault tests' nodes
// (faultNodes) and extraArgs for devcluster up, and stops it, by pid, when
// the test ends.
func startPrivateCluster(t *testing.T, extraArgs ...string) *privateCluster {
	t.Helper()
	faultPrereqs(t)
	c := &privateCluster{t: t, bin: devclusterBinary(t), dir: t.TempDir(), extraArgs: extraArgs}
	c.nodesFile = filepath.Join(c.dir, "nodes.yaml")
	c.kubeconfig = filepath.Join(c.dir, "admin.kubeconfig")
	c.ProviderKubeconfig = filepath.Join(c.dir, "provider.kubeconfig")
	require.NoError(t, os.WriteFile(c.nodesFile, []byte(faultNodes), 0o600))
	proxy, err := newTCPProxy()
	require.NoError(t, err)
	c.proxy = proxy
	t.Cleanup(func() {
		c.Stop()
		proxy.Close()
	})
	c.Start()
	return c
}

// Start runs devcluster on the data directory and waits for "ready".
func (c *privateCluster) Start() {
	c.t.Helper()
	started := time.Now()
	cmd := exec.Command(c.bin, append([]string{"up", "--nodes", c.nodesFile, "--kubeconfig", c.kubeconfig, "--data-dir", filepath.Join(c.dir, "data")}, c.extraArgs...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(c.t, err)
	logFile, err := os.OpenFile(filepath.Join(c.dir, "devcluster.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(c.t, err)
	cmd.Stderr = logFile
	require.NoError(c.t, cmd.Start())
	c.cmd, c.done = cmd, make(chan struct{})
	ready := make(chan struct{})
	go func() {
		scanner := bufio.NewScanner(stdout)
		signalled := false
		for scanner.Scan() {
			if scanner.Text() == "ready" && !signalled {
				close(ready)
				signalled = true
			}
		}
		_ = cmd.Wait()
		_ = logFile.Close()
		close(c.done)
	}()
	select {
	case <-ready:
	case <-c.done:
		log, _ := os.ReadFile(filepath.Join(c.dir, "devcluster.log"))
		c.t.Fatalf("private devcluster exited before ready:\n%s", tail(string(log), 30))
	case <-time.After(120 * time.Second):
		c.Stop()
		c.t.Fatal("private devcluster not ready within 120 s")
	}
	cfg, err := clientcmd.LoadFromFile(c.kubeconfig)
	require.NoError(c.t, err)
	for _, cluster := range cfg.Clusters {
		require.NoError(c.t, c.proxy.SetTarget(strings.TrimPrefix(cluster.Server, "https://")))
		cluster.Server = "https://" + c.proxy.Addr()
	}
	require.NoError(c.t, clientcmd.WriteToFile(*cfg, c.ProviderKubeconfig))
	c.t.Logf("private devcluster (pid %d) ready in %.1fs, behind %s", cmd.Process.Pid, time.Since(started).Seconds(), c.proxy.Addr())
}

// Stop sends SIGTERM to the devcluster this test started and waits for its
// exit (SIGKILL after 30 s). A stopped cluster's proxy refuses connections.
func (c *privateCluster) Stop() {
	if c.cmd == nil {
		return
	}
	_ = c.proxy.SetTarget("")
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cmd = nil
}

// Client is an admin client through the proxy.
func (c *privateCluster) Client() kubernetes.Interface {
	c.t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", c.ProviderKubeconfig)
	require.NoError(c.t, err)
	cfg.Timeout = 20 * time.Second
	cli, err := kubernetes.NewForConfig(cfg)
	require.NoError(c.t, err)
	return cli
}

// tcpProxy forwards each connection to the current target. With no target
// it does not listen at all, so that connections are refused as on the
// port of a stopped server; changing the target closes the connections in
// flight, as a stopping server does.
type tcpProxy struct {
	addr     string
	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
}

func newTCPProxy() (*tcpProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	return &tcpProxy{addr: addr, conns: map[net.Conn]struct{}{}}, nil
}

func (p *tcpProxy) Addr() string { return p.addr }

// SetTarget closes what is open and, unless target is empty, listens again
// on the same address, forwarding to target.
func (p *tcpProxy) SetTarget(target string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener != nil {
		_ = p.listener.Close()
		p.listener = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
	if target == "" {
		return nil
	}
	var err error
	for range 50 { // the port may linger a moment
		if p.listener, err = net.Listen("tcp", p.addr); err == nil {
			go p.serve(p.listener, target)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("listening again on %s: %w", p.addr, err)
}

func (p *tcpProxy) Close() { _ = p.SetTarget("") }

func (p *tcpProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = struct{}{}
}

func (p *tcpProxy) serve(l net.Listener, target string) {
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		out, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			_ = in.Close()
			continue
		}
		p.track(in)
		p.track(out)
		go func() {
			_, _ = io.Copy(out, in)
			_ = out.Close()
		}()
		go func() {
			_, _ = io.Copy(in, out)
			_ = in.Close()
		}()
	}
}

// ---- a private Docker daemon ----

// privateDocker is a dockerd of this test alone, on a bridge of its own and
// touching no iptables, so it never fights the shared daemon over docker0.
// (Not --bridge=none: a dockerd without a bridge deletes the host's docker0
// when it starts, cutting the shared daemon's containers off.)
type privateDocker struct {
	t      *testing.T
	dir    string
	bridge string
	Host   string
	args   []string
	cmd    *exec.Cmd
	done   chan struct{}
}

// makeOwnBridge makes a bridge interface for the private daemon on a free
// 10.250.N.0/24 and removes it when the test ends.
func makeOwnBridge(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("fault test needs the ip command (iproute2) to give the private dockerd a bridge")
	}
	addrs, err := exec.Command("ip", "-o", "-4", "addr").CombinedOutput()
	require.NoError(t, err, "%s", addrs)
	name := fmt.Sprintf("hodeift%d", os.Getpid()%100000)
	for n := 1 + os.Getpid()%200; n < 255; n++ {
		subnet := fmt.Sprintf("10.250.%d.", n)
		if strings.Contains(string(addrs), subnet) {
			continue
		}
		for _, args := range [][]string{
			{"link", "add", name, "type", "bridge"},
			{"addr", "add", subnet + "1/24", "dev", name},
			{"link", "set", name, "up"},
		} {
			out, err := exec.Command("ip", args...).CombinedOutput()
			require.NoError(t, err, "ip %s: %s", strings.Join(args, " "), out)
			if args[0] == "link" && args[1] == "add" {
				t.Cleanup(func() { _ = exec.Command("ip", "link", "del", name).Run() })
			}
		}
		return name
	}
	t.Fatal("no free 10.250.N.0/24 for the private dockerd's bridge")
	return ""
}

// startPrivateDocker starts the daemon; args are added to its command line
// (another listener, TLS).
func startPrivateDocker(t *testing.T, args ...string) *privateDocker {
	t.Helper()
	faultPrereqs(t)
	return startDockerd(t, true, args...)
}

// startDockerd starts a dockerd with the test image, on a bridge of its own
// or, with ownBridge false, on Docker's default docker0.
func startDockerd(t *testing.T, ownBridge bool, args ...string) *privateDocker {
	t.Helper()
	for _, tool := range []string{"dockerd", "docker"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("fault test needs %s on PATH (scripts/docker-up.sh installs it)", tool)
		}
	}
	if os.Getenv("DOCKER_HOST") == "" {
		t.Skip("fault test needs DOCKER_HOST, the shared test daemon, to copy the test image from")
	}
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "hodei-dk") //nolint:usetesting // t.TempDir paths are too long for the socket
	require.NoError(t, err)
	d := &privateDocker{t: t, dir: dir, Host: "unix://" + filepath.Join(dir, "docker.sock"), args: args}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if ownBridge {
		d.bridge = makeOwnBridge(t)
	}
	t.Cleanup(d.Stop) // before the bridge goes
	d.Start()
	// The test image, copied from the shared daemon (no registry is reached).
	load := exec.Command("bash", "-c", `set -o pipefail; docker save "$1" | docker -H "$2" load -q`, "bash", testImage, d.Host)
	out, err := load.CombinedOutput()
	require.NoError(t, err, "copying %s into the private daemon: %s", testImage, out)
	return d
}

// Start runs dockerd and waits until it answers (60 s at most).
func (d *privateDocker) Start() {
	d.t.Helper()
	started := time.Now()
	logFile, err := os.OpenFile(filepath.Join(d.dir, "dockerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(d.t, err)
	args := []string{"--host=" + d.Host, "--data-root=" + filepath.Join(d.dir, "data"),
		"--exec-root=" + filepath.Join(d.dir, "exec"), "--pidfile=" + filepath.Join(d.dir, "docker.pid"),
		"--iptables=false", "--ip6tables=false", "--shutdown-timeout=1"}
	if d.bridge != "" {
		args = append(args, "--bridge="+d.bridge)
	}
	cmd := exec.Command("dockerd", append(args, d.args...)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(d.t, cmd.Start())
	d.cmd, d.done = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(d.done)
	}()
	cli := d.Client()
	defer cli.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := cli.Ping(ctx)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-d.done:
			log, _ := os.ReadFile(filepath.Join(d.dir, "dockerd.log"))
			d.t.Fatalf("private dockerd exited:\n%s", tail(string(log), 30))
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("private dockerd did not answer within 60 s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.t.Logf("private dockerd (pid %d) up in %.1fs at %s", cmd.Process.Pid, time.Since(started).Seconds(), d.Host)
}

// Stop sends SIGTERM to the dockerd this test started and waits (SIGKILL
// after 30 s).
func (d *privateDocker) Stop() {
	if d.cmd == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd = nil
	d.stopLeftoverShims()
}

// stopLeftoverShims kills, by pid, the containerd shims of this daemon that
// outlived it, and their processes: a daemon stopped while it starts a
// container leaves that container's shim running (the Docker restart test
// does), a process of the test's that nothing else would stop.
func (d *privateDocker) stopLeftoverShims() {
	address := filepath.Join(d.dir, "exec", "containerd", "containerd.sock")
	deadline := time.Now().Add(10 * time.Second)
	for {
		shims := map[int]bool{}
		var pids []int
		entries, _ := os.ReadDir("/proc")
		for _, entry := range entries {
			pid, err := strconv.Atoi(entry.Name())
			if err != nil {
				continue
			}
			if cmdline, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline")); err == nil &&
				strings.Contains(string(cmdline), "\x00-address\x00"+address+"\x00") {
				shims[pid] = true
				pids = append(pids, pid)
			}
		}
		if len(pids) == 0 {
			return
		}
		for _, entry := range entries {
			pid, err := strconv.Atoi(entry.Name())
			if err != nil {
				continue
			}
			if stat, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "stat")); err == nil {
				fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
				if len(fields) > 1 {
					if ppid, err := strconv.Atoi(fields[1]); err == nil && shims[ppid] {
						pids = append(pids, pid)
					}
				}
			}
		}
		if time.Now().After(deadline) {
			d.t.Errorf("processes of the stopped dockerd at %s still run: %v", d.dir, pids)
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *privateDocker) Client() *client.Client {
	d.t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(d.Host), client.WithAPIVersionNegotiation())
	require.NoError(d.t, err)
	return cli
}

// ---- counting by the ownership labels ----

// countPods counts the pods of the worker name in namespace by the
// ownership labels; an empty name counts every worker's pod.
func countPods(t *testing.T, cli kubernetes.Interface, namespace, name string) int {
	t.Helper()
	selector := labelManagedBy + "=hodei"
	if name != "" {
		selector += "," + labelWorker + "=" + name
	}
	pods, err := cli.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	require.NoError(t, err)
	return len(pods.Items)
}

// countContainers counts containers, running or not, by the ownership labels.
func countContainers(t *testing.T, cli *client.Client, name string) int {
	t.Helper()
	args := filters.NewArgs(filters.Arg("label", labelManagedBy+"=hodei"))
	if name != "" {
		args.Add("label", labelWorker+"="+name)
	}
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: args})
	require.NoError(t, err)
	return len(list)
}

// providerCallDuration reads a TF_LOG_PROVIDER=debug log and returns how
// long the provider's Create (or Delete) of one resource took, from the
// framework's "Calling provider defined Resource <op>" to "Called ...".
func providerCallDuration(t *testing.T, logPath, op string) time.Duration {
	t.Helper()
	raw, err := os.ReadFile(logPath)
	require.NoError(t, err)
	stamp := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[Z+-][0-9:]*) `)
	var start, end time.Time
	for _, line := range strings.Split(string(raw), "\n") {
		m := stamp.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, err := time.Parse("2006-01-02T15:04:05.000Z0700", m[1])
		if err != nil {
			continue
		}
		switch {
		case strings.Contains(line, "Calling provider defined Resource "+op):
			start = at
		case strings.Contains(line, "Called provider defined Resource "+op):
			end = at
		}
	}
	require.False(t, start.IsZero() || end.IsZero(), "no provider %s call found in %s", op, logPath)
	return end.Sub(start)
}
