package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Every test shares one devcluster process, started by the first test that
// needs it and stopped by TestMain; the benchmark starts its own.
var (
	binaryPath string
	shared     struct {
		once    sync.Once
		process *devclusterProcess
		err     error
	}
)

func TestMain(m *testing.M) {
	code, err := runTests(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func runTests(m *testing.M) (int, error) {
	workDir, err := os.MkdirTemp("", "devcluster-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(workDir)
	// The tests drive the built command, exactly as the make targets do.
	binaryPath = os.Getenv("DEVCLUSTER_BIN")
	if binaryPath == "" {
		binaryPath = filepath.Join(workDir, "devcluster")
		ldflags, err := versionLDFlags()
		if err != nil {
			return 0, err
		}
		build := exec.Command("go", "build", "-ldflags", ldflags, "-o", binaryPath, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return 0, fmt.Errorf("building devcluster: %w", err)
		}
	}
	// The real nodes must leave the machine as they found it: compared
	// once the test binary's clusters have all stopped. Run it where no
	// other devcluster with real nodes runs (make test does): one that
	// runs already has made the changes this looks for.
	before, err := takeHostSnapshot()
	if err != nil {
		return 0, err
	}
	code := m.Run()
	if shared.process != nil {
		if err := shared.process.stop(); err != nil {
			return 1, err
		}
	}
	after, err := takeHostSnapshot()
	if err != nil {
		return 1, err
	}
	if diffs := before.differences(after); len(diffs) > 0 {
		return 1, fmt.Errorf("the devclusters of the tests left the machine changed:\n  %s", strings.Join(diffs, "\n  "))
	}
	fmt.Fprintln(os.Stderr, "host check: links, mounts, cgroups, sysctls, iptables rules, fixed paths and node processes as before the tests")
	return code, nil
}

// versionLDFlags are devcluster.mk's: the binary reports the version of
// k8s.io/kubernetes it is built from.
func versionLDFlags() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("the test binary has no build information")
	}
	for _, dep := range info.Deps {
		if dep.Path == "k8s.io/kubernetes" {
			parts := strings.SplitN(strings.TrimPrefix(dep.Version, "v"), ".", 3)
			if len(parts) < 2 {
				return "", fmt.Errorf("k8s.io/kubernetes version %q", dep.Version)
			}
			const pkg = "k8s.io/component-base/version."
			return fmt.Sprintf("-X %sgitVersion=%s -X %sgitMajor=%s -X %sgitMinor=%s", pkg, dep.Version, pkg, parts[0], pkg, parts[1]), nil
		}
	}
	return "", errors.New("k8s.io/kubernetes is not among the test binary's dependencies")
}

// devclusterProcess is a running "devcluster up".
type devclusterProcess struct {
	cmd                  *exec.Cmd
	dir                  string
	kubeconfig           string
	restrictedKubeconfig string
	readyAfter           time.Duration
	exited               chan error
}

// startDevcluster runs the built command with the default topology and
// waits for its "ready" line.
func startDevcluster() (*devclusterProcess, error) {
	dir, err := os.MkdirTemp("", "devcluster-run-")
	if err != nil {
		return nil, err
	}
	p := &devclusterProcess{
		dir:                  dir,
		kubeconfig:           filepath.Join(dir, "kubeconfig"),
		restrictedKubeconfig: filepath.Join(dir, "restricted.kubeconfig"),
		exited:               make(chan error, 1),
	}
	logFile, err := os.Create(filepath.Join(dir, "devcluster.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p.cmd = exec.Command(binaryPath, "up", "--nodes", "nodes.yaml", "--kubeconfig", p.kubeconfig,
		"--restricted-kubeconfig", p.restrictedKubeconfig)
	p.cmd.Stderr = logFile
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	started := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if scanner.Text() == "ready" {
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.exited <- p.cmd.Wait()
	}()
	select {
	case <-ready:
		p.readyAfter = time.Since(started)
		return p, nil
	case err := <-p.exited:
		return nil, fmt.Errorf("devcluster exited before ready (%w):\n%s", err, p.logTail())
	case <-time.After(readyTimeout):
		_ = p.cmd.Process.Kill()
		return nil, fmt.Errorf("devcluster not ready after %s:\n%s", readyTimeout, p.logTail())
	}
}

// stop sends SIGTERM, expects a clean exit and removes the run's files.
func (p *devclusterProcess) stop() error {
	defer os.RemoveAll(p.dir)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-p.exited:
		if err != nil {
			return fmt.Errorf("devcluster exit: %w\n%s", err, p.logTail())
		}
		return p.checkDataDirRemoved()
	case <-time.After(stopTimeout + 10*time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("devcluster did not stop after SIGTERM:\n%s", p.logTail())
	}
}

// checkDataDirRemoved checks that the temporary data directory named in the
// log is gone after the exit.
func (p *devclusterProcess) checkDataDirRemoved() error {
	data, err := os.ReadFile(filepath.Join(p.dir, "devcluster.log"))
	if err != nil {
		return err
	}
	_, rest, found := strings.Cut(string(data), "data directory ")
	dataDir, _, _ := strings.Cut(rest, " ")
	if !found || dataDir == "" {
		return fmt.Errorf("no data directory in the log:\n%s", p.logTail())
	}
	switch _, err := os.Stat(dataDir); {
	case err == nil:
		return fmt.Errorf("data directory %s left behind after exit", dataDir)
	case !os.IsNotExist(err):
		return fmt.Errorf("checking the data directory: %w", err)
	}
	return nil
}

// peakRSSBytes reads the process's resident high-water mark (VmHWM).
func (p *devclusterProcess) peakRSSBytes() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if value, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
			return kib * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", p.cmd.Process.Pid)
}

func (p *devclusterProcess) logTail() string {
	data, _ := os.ReadFile(filepath.Join(p.dir, "devcluster.log"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// sharedCluster returns the test binary's devcluster, starting it once.
func sharedCluster(t *testing.T) *devclusterProcess {
	t.Helper()
	shared.once.Do(func() { shared.process, shared.err = startDevcluster() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.process
}

// clientFor returns a clientset built from a kubeconfig file and the
// kubeconfig's default namespace.
func clientFor(t *testing.T, kubeconfig string) (kubernetes.Interface, string) {
	t.Helper()
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig}, &clientcmd.ConfigOverrides{})
	config, err := loader.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	namespace, _, err := loader.Namespace()
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return client, namespace
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
