package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	utilsysctl "k8s.io/component-helpers/node/util/sysctl"
)

const (
	// realNodeSubnets is where the real nodes' bridges take their /24s:
	// 10.251.0.0/16, apart from the Docker daemons' 10.200-10.249 and the
	// fault tests' 10.250.
	realNodeSubnets = "10.251.0.0/16"
	// cniPluginDir is where Debian's containernetworking-plugins installs
	// the bridge, host-local and loopback plugins.
	cniPluginDir = "/usr/lib/cni"
	// processStopTimeout bounds a kubelet's or containerd's graceful stop.
	processStopTimeout = 5 * time.Second
	// realNodeLabel marks the real nodes in the default topology (and
	// taints them, as key=true:NoSchedule): what selects them.
	realNodeLabel = "devcluster.hodei.io/real"
	// podDrainTimeout bounds how long the kubelets get to stop their pods
	// before devcluster stops them itself.
	podDrainTimeout = 10 * time.Second
)

// hostSysctls are the kernel settings a kubelet sets at start (the list it
// applies itself) and those the CNI bridge plugin turns on for a gateway;
// devcluster puts each back once the last real node has stopped.
var hostSysctls = []string{
	utilsysctl.VMOvercommitMemory, utilsysctl.VMPanicOnOOM, utilsysctl.KernelPanic,
	utilsysctl.KernelPanicOnOops, utilsysctl.RootMaxKeys, utilsysctl.RootMaxBytes,
	"net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding",
}

// hostFixedPaths are the host paths a kubelet or containerd writes whatever
// their configuration says: the device plugins' socket directory, the
// legacy container log links, and the shim sockets. devcluster removes those
// that did not exist before it started.
var hostFixedPaths = []string{"/var/lib/kubelet", "/var/log/containers", "/run/containerd"}

// RealNodes runs the topology's real nodes: for each, a containerd of its
// own, a kubelet (this binary, re-executed as "devcluster kubelet") and a
// CNI bridge on a private /24, in a cgroup subtree of their own.
type RealNodes struct {
	client     kubernetes.Interface
	nodes      []*realNode
	cgroupRoot string // e.g. /devcluster-1a2b3c4d, in every cgroup hierarchy
	sysctls    map[string]string
	madePaths  []string
	logf       func(string, ...any)
}

type realNode struct {
	spec       NodeSpec
	dir        string
	bridge     string
	subnet     netip.Prefix
	ip         netip.Addr // the bridge's address: the node's InternalIP
	containerd *nodeProcess
	kubelet    *nodeProcess
}

// nodeProcess is a real node's containerd or kubelet.
type nodeProcess struct {
	cmd *exec.Cmd
	run *runningComponent // done once Wait has returned
}

// RealNodeOptions is what starting the real nodes needs from the cluster.
type RealNodeOptions struct {
	Client  kubernetes.Interface
	PKI     *PKI
	Server  string
	CAPEM   []byte
	DataDir string
	Images  []string // image archives imported into each node's containerd
	// SandboxImage is the pause image, one of Images: containerd runs it
	// as every pod's sandbox, never pulling it.
	SandboxImage string
	HostsDir     func(dir string) error
	Logf         func(string, ...any)
}

// StartRealNodes starts a containerd and a kubelet for every real node of
// topology. It returns a RealNodes to Stop even when it fails part way, so
// that what it made is removed.
func StartRealNodes(ctx context.Context, topology *Topology, opts RealNodeOptions) (*RealNodes, error) {
	sum := sha256.Sum256([]byte(opts.DataDir))
	id := hex.EncodeToString(sum[:4])
	r := &RealNodes{client: opts.Client, cgroupRoot: "/devcluster-" + id, logf: opts.Logf}
	specs := topology.realNodes()
	if len(specs) == 0 {
		return r, nil
	}
	if err := realNodePrerequisites(); err != nil {
		return r, err
	}
	r.sysctls = readSysctls(hostSysctls)
	for _, path := range hostFixedPaths {
		if !exists(path) {
			r.madePaths = append(r.madePaths, path)
		}
	}
	subnets, err := freeSubnets(len(specs))
	if err != nil {
		return r, err
	}
	for i, spec := range specs {
		node := &realNode{
			spec:   spec,
			dir:    filepath.Join(opts.DataDir, "n", spec.Name),
			bridge: fmt.Sprintf("hdc%s%d", id, i),
			subnet: subnets[i],
			ip:     subnets[i].Addr().Next(),
		}
		r.nodes = append(r.nodes, node)
		if err := r.start(ctx, node, opts); err != nil {
			return r, fmt.Errorf("real node %s: %w", spec.Name, err)
		}
		opts.Logf("real node %s: kubelet and containerd started (node IP %s, bridge %s, logs in %s)", spec.Name, node.ip, node.bridge, node.dir)
	}
	return r, nil
}

// Components are the nodes' processes, watched like the control plane's:
// one that exits by itself stops the cluster.
func (r *RealNodes) Components() []*runningComponent {
	var all []*runningComponent
	for _, node := range r.nodes {
		for _, process := range []*nodeProcess{node.containerd, node.kubelet} {
			if process != nil {
				all = append(all, process.run)
			}
		}
	}
	return all
}

func realNodePrerequisites() error {
	var missing []string
	for _, tool := range []string{"containerd", "containerd-shim-runc-v2", "runc", "ctr", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "loopback"} {
		if !exists(filepath.Join(cniPluginDir, plugin)) {
			missing = append(missing, filepath.Join(cniPluginDir, plugin))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("real nodes need %s: apt-get install containerd runc containernetworking-plugins iproute2", strings.Join(missing, ", "))
	}
	return nil
}

func (r *RealNodes) start(ctx context.Context, node *realNode, opts RealNodeOptions) error {
	// A --data-dir kept from an earlier run holds the addresses its pods
	// had; they are all gone, and the subnet may be another.
	if err := os.RemoveAll(filepath.Join(node.dir, "cni-ipam")); err != nil {
		return err
	}
	for _, dir := range []string{"cni", "certs.d", "pod-logs", "volume-plugins", "kubelet"} {
		if err := os.MkdirAll(filepath.Join(node.dir, dir), 0o700); err != nil {
			return err
		}
	}
	if err := opts.HostsDir(filepath.Join(node.dir, "certs.d")); err != nil {
		return err
	}
	if err := node.makeBridge(); err != nil {
		return err
	}
	if err := node.writeCNIConfig(); err != nil {
		return err
	}
	if err := r.makeCgroups(node); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(node.dir, "containerd.toml"), []byte(node.containerdConfig(opts.SandboxImage)), 0o600); err != nil {
		return err
	}
	var err error
	// Kept even when it fails part way: Stop stops what started.
	if node.containerd, err = r.startProcess(node, "containerd", "containerd", "--config", filepath.Join(node.dir, "containerd.toml")); err != nil {
		return err
	}
	if err := node.waitForContainerd(ctx); err != nil {
		return err
	}
	for _, archive := range opts.Images {
		if out, err := exec.CommandContext(ctx, "ctr", "--address", node.containerdSocket(), "--namespace", "k8s.io",
			"images", "import", archive).CombinedOutput(); err != nil {
			return fmt.Errorf("importing %s: %w: %s", archive, err, out)
		}
	}
	kubeletArgs, err := r.writeKubeletConfig(node, opts)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	node.kubelet, err = r.startProcess(node, "kubelet", self, append([]string{"kubelet"}, kubeletArgs...)...)
	return err
}

// startProcess starts name in the node's cgroup of that name, logging to
// <node dir>/<name>.log. It dies with devcluster even when devcluster is
// killed.
func (r *RealNodes) startProcess(node *realNode, name, path string, args ...string) (*nodeProcess, error) {
	logFile, err := os.Create(filepath.Join(node.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	process := &nodeProcess{cmd: cmd, run: runComponent(node.spec.Name+" "+name, func() error {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%w (log: %s)", err, filepath.Join(node.dir, name+".log"))
		}
		return nil
	})}
	// In the node's cgroup before it starts any child: containerd's shims
	// and every container then stay inside the node's subtree.
	return process, r.joinCgroup(node, name, cmd.Process.Pid)
}

func (n *realNode) containerdSocket() string { return filepath.Join(n.dir, "containerd.sock") }

func (n *realNode) waitForContainerd(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := exec.CommandContext(ctx, "ctr", "--address", n.containerdSocket(), "version").Run()
		if err == nil {
			return nil
		}
		if n.containerd.run.stopped() || time.Now().After(deadline) {
			return fmt.Errorf("containerd did not answer on %s: see %s", n.containerdSocket(), filepath.Join(n.dir, "containerd.log"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// containerdConfig keeps every path of containerd's inside the node's
// directory. restrict_oom_score_adj: these machines lack CAP_SYS_RESOURCE,
// and a sandbox asking a lower OOM score than containerd's fails to start.
func (n *realNode) containerdConfig(sandboxImage string) string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %[3]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = %[6]q
  conf_dir = %[7]q

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  Root = %[8]q

[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = %[9]q
`, filepath.Join(n.dir, "containerd", "root"), filepath.Join(n.dir, "containerd", "state"), n.containerdSocket(),
		filepath.Join(n.dir, "containerd", "opt"), sandboxImage, cniPluginDir, filepath.Join(n.dir, "cni"),
		filepath.Join(n.dir, "runc"), filepath.Join(n.dir, "certs.d"))
}

// writeCNIConfig gives pods addresses on the node's bridge. No masquerade
// and no port mapping: the plugins then add no iptables rule.
func (n *realNode) writeCNIConfig() error {
	config := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "devcluster-" + n.spec.Name,
		"plugins": []any{map[string]any{
			"type":        "bridge",
			"bridge":      n.bridge,
			"isGateway":   true,
			"ipMasq":      false,
			"hairpinMode": true,
			"ipam": map[string]any{
				"type":    "host-local",
				"ranges":  [][]map[string]string{{{"subnet": n.subnet.String(), "gateway": n.ip.String()}}},
				"dataDir": filepath.Join(n.dir, "cni-ipam"),
			},
		}},
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(n.dir, "cni", "10-devcluster.conflist"), data, 0o600)
}

// makeBridge creates the node's bridge with its address before the kubelet
// starts, so that the kubelet can serve on the node's IP from the start.
func (n *realNode) makeBridge() error {
	prefix := netip.PrefixFrom(n.ip, n.subnet.Bits()).String()
	// Its name derives from the data directory: one left by a devcluster
	// of the same --data-dir that was killed is this cluster's own.
	if exec.Command("ip", "link", "show", n.bridge).Run() == nil {
		if out, err := exec.Command("ip", "link", "del", n.bridge).CombinedOutput(); err != nil {
			return fmt.Errorf("removing the bridge %s left by an earlier run: %w: %s", n.bridge, err, out)
		}
	}
	for _, args := range [][]string{
		{"link", "add", n.bridge, "type", "bridge"},
		{"addr", "add", prefix, "dev", n.bridge},
		{"link", "set", n.bridge, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// writeKubeletConfig writes the kubelet's credentials, kubeconfig and
// KubeletConfiguration, and returns its command line.
func (r *RealNodes) writeKubeletConfig(node *realNode, opts RealNodeOptions) ([]string, error) {
	name := node.spec.Name
	identity := clientIdentity{name: "kubelet-" + name, user: "system:node:" + name, groups: []string{"system:nodes"}}
	clientCert, clientKey, err := opts.PKI.ClientCert(identity)
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(node.dir, "kubelet.kubeconfig")
	if err := WriteKubeconfig(kubeconfig, opts.Server, opts.CAPEM, Credentials{ClientCertPEM: clientCert, ClientKeyPEM: clientKey}, ""); err != nil {
		return nil, err
	}
	// Named after the address too: a later start on the same --data-dir may
	// give the node another subnet.
	servingCert, servingKey, err := opts.PKI.ServingCertFiles("kubelet-"+name+"-"+node.ip.String(), []string{name}, []net.IP{node.ip.AsSlice()})
	if err != nil {
		return nil, err
	}
	config := map[string]any{
		"apiVersion":         "kubelet.config.k8s.io/v1beta1",
		"kind":               "KubeletConfiguration",
		"address":            node.ip.String(),
		"port":               10250,
		"readOnlyPort":       0,
		"healthzBindAddress": node.ip.String(),
		"healthzPort":        10248,
		"tlsCertFile":        servingCert,
		"tlsPrivateKeyFile":  servingKey,
		// Only clients with a certificate of the cluster CA get in; the
		// kubelet serves on a private address and is not authorizing.
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": false},
			"x509":      map[string]any{"clientCAFile": opts.PKI.CACert},
		},
		"authorization":            map[string]any{"mode": "AlwaysAllow"},
		"cgroupDriver":             "cgroupfs",
		"cgroupRoot":               r.cgroupRoot + "/" + name,
		"failCgroupV1":             false,
		"failSwapOn":               false,
		"containerRuntimeEndpoint": "unix://" + node.containerdSocket(),
		"podLogsDir":               filepath.Join(node.dir, "pod-logs"),
		"volumePluginDir":          filepath.Join(node.dir, "volume-plugins"),
		"maxPods":                  node.spec.Capacity.Pods().Value(),
		"registerWithTaints":       node.spec.Taints,
		"makeIPTablesUtilChains":   false,
		"serializeImagePulls":      false,
		"resolvConf":               "/etc/resolv.conf",
		// A developer's disk may be fuller than a node's; only a nearly
		// full one evicts.
		"evictionHard": map[string]string{
			"memory.available": "100Mi", "nodefs.available": "1%", "nodefs.inodesFree": "1%", "imagefs.available": "1%",
		},
		"shutdownGracePeriod": "0s",
	}
	data, err := json.MarshalIndent(config, "", "  ")
	if err != nil {
		return nil, err
	}
	configPath := filepath.Join(node.dir, "kubelet-config.json")
	if err := os.WriteFile(configPath, data, 0o600); err != nil {
		return nil, err
	}
	var labels []string
	for key, value := range node.spec.Labels {
		labels = append(labels, key+"="+value)
	}
	sort.Strings(labels)
	return []string{
		"--config=" + configPath,
		"--kubeconfig=" + kubeconfig,
		"--root-dir=" + filepath.Join(node.dir, "kubelet"),
		"--cert-dir=" + filepath.Join(node.dir, "kubelet", "pki"),
		"--hostname-override=" + name,
		"--node-ip=" + node.ip.String(),
		"--node-labels=" + strings.Join(labels, ","),
	}, nil
}

// Ready checks that every real node is registered and Ready, and lifts the
// not-ready taint that the admission of a new node puts on it: the node
// lifecycle controller would, and devcluster runs none.
func (r *RealNodes) Ready(ctx context.Context) error {
	for _, node := range r.nodes {
		current, err := r.client.CoreV1().Nodes().Get(ctx, node.spec.Name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("real node %s: %w (kubelet log: %s)", node.spec.Name, err, filepath.Join(node.dir, "kubelet.log"))
		}
		if !nodeIsReady(current) {
			return fmt.Errorf("real node %s: not Ready yet (kubelet log: %s)", node.spec.Name, filepath.Join(node.dir, "kubelet.log"))
		}
		if !sameTaints(current.Spec.Taints, node.spec.Taints) {
			current.Spec.Taints = node.spec.Taints
			if _, err := r.client.CoreV1().Nodes().Update(ctx, current, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stop lets the kubelets stop their pods, stops the kubelets and the
// containerds by pid, kills whatever is left in the nodes' cgroups, and
// removes the mounts, cgroups, bridges, sysctl changes and host paths the
// nodes made.
func (r *RealNodes) Stop() error {
	if len(r.nodes) == 0 {
		return nil
	}
	var errs []error
	r.drainPods()
	for _, node := range r.nodes {
		stopProcess(node.kubelet)
		stopProcess(node.containerd)
	}
	for _, node := range r.nodes {
		errs = append(errs, r.killCgroupProcesses(node))
		errs = append(errs, node.removeShimSockets())
		errs = append(errs, unmountUnder(node.dir))
		errs = append(errs, r.removeCgroups(node))
		if out, err := exec.Command("ip", "link", "del", node.bridge).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find device") {
			errs = append(errs, fmt.Errorf("removing bridge %s: %w: %s", node.bridge, err, out))
		}
	}
	errs = append(errs, r.removeCgroupRoot())
	errs = append(errs, writeSysctls(r.sysctls))
	for _, path := range r.madePaths {
		errs = append(errs, os.RemoveAll(path))
	}
	r.logf("real nodes stopped")
	return errors.Join(errs...)
}

// drainPods deletes the pods bound to real nodes with a short grace period
// and waits until their kubelets have stopped them and released them.
func (r *RealNodes) drainPods() {
	ctx, cancel := context.WithTimeout(context.Background(), podDrainTimeout)
	defer cancel()
	grace := int64(1)
	for {
		remaining := 0
		for _, node := range r.nodes {
			pods, err := r.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node.spec.Name).String()})
			if err != nil {
				return
			}
			remaining += len(pods.Items)
			for _, pod := range pods.Items {
				if pod.DeletionTimestamp == nil {
					err := r.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
					if err != nil && !apierrors.IsNotFound(err) {
						r.logf("deleting pod %s/%s: %v", pod.Namespace, pod.Name, err)
					}
				}
			}
		}
		if remaining == 0 {
			return
		}
		select {
		case <-ctx.Done():
			r.logf("%d pods still on the real nodes after %s; stopping them by their cgroups", remaining, podDrainTimeout)
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopProcess sends SIGTERM to process and SIGKILL if it has not exited
// within processStopTimeout.
func stopProcess(process *nodeProcess) {
	if process == nil {
		return
	}
	_ = process.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-process.run.done:
	case <-time.After(processStopTimeout):
		_ = process.cmd.Process.Kill()
		<-process.run.done
	}
}

// removeShimSockets removes the sockets of shims that were killed: each
// task's bundle names its shim's socket, which containerd keeps in the fixed
// /run/containerd/s.
func (n *realNode) removeShimSockets() error {
	addresses, _ := filepath.Glob(filepath.Join(n.dir, "containerd", "state", "io.containerd.runtime.v2.task", "*", "*", "address"))
	var errs []error
	for _, file := range addresses {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		socket := strings.TrimPrefix(strings.TrimSpace(string(data)), "unix://")
		if strings.HasPrefix(socket, "/run/containerd/s/") {
			if err := os.Remove(socket); err != nil && !os.IsNotExist(err) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// unmountUnder detaches every mount below dir, the deepest first: the
// containers' root file systems and network namespaces, the pods' volumes.
func unmountUnder(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 4 && strings.HasPrefix(unescapeMountPath(fields[4]), dir+"/") {
			points = append(points, unescapeMountPath(fields[4]))
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, point := range points {
		if err := unix.Unmount(point, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", point, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(path string) string {
	if !strings.Contains(path, `\`) {
		return path
	}
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		if path[i] == '\\' && i+3 < len(path) {
			if v, err := strconv.ParseUint(path[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(path[i])
	}
	return b.String()
}

// freeSubnets returns n /24s of realNodeSubnets that no interface address
// or route of the host overlaps.
func freeSubnets(n int) ([]netip.Prefix, error) {
	used, err := hostPrefixes()
	if err != nil {
		return nil, err
	}
	base := netip.MustParsePrefix(realNodeSubnets).Addr().As4()
	var free []netip.Prefix
	for third := 0; third < 256 && len(free) < n; third++ {
		candidate := netip.PrefixFrom(netip.AddrFrom4([4]byte{base[0], base[1], byte(third), 0}), 24)
		overlaps := false
		for _, prefix := range used {
			if prefix.Overlaps(candidate) {
				overlaps = true
			}
		}
		if !overlaps {
			free = append(free, candidate)
		}
	}
	if len(free) < n {
		return nil, fmt.Errorf("fewer than %d free /24s in %s for the real nodes' bridges", n, realNodeSubnets)
	}
	return free, nil
}

// hostPrefixes are the host's IPv4 interface networks and routes other than
// the default route.
func hostPrefixes() ([]netip.Prefix, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, err
	}
	var prefixes []netip.Prefix
	for _, addr := range addrs {
		if prefix, err := netip.ParsePrefix(addr.String()); err == nil && prefix.Addr().Is4() {
			prefixes = append(prefixes, prefix.Masked())
		}
	}
	routes, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(routes), "\n")[1:] {
		fields := strings.Fields(line)
		if len(fields) < 8 {
			continue
		}
		dest, err1 := strconv.ParseUint(fields[1], 16, 32)
		mask, err2 := strconv.ParseUint(fields[7], 16, 32)
		if err1 != nil || err2 != nil || mask == 0 {
			continue
		}
		// /proc/net/route prints addresses in host (little-endian) order.
		addr := netip.AddrFrom4([4]byte{byte(dest), byte(dest >> 8), byte(dest >> 16), byte(dest >> 24)})
		bits := 0
		for m := uint32(mask); m != 0; m >>= 1 {
			bits += int(m & 1)
		}
		prefixes = append(prefixes, netip.PrefixFrom(addr, bits).Masked())
	}
	return prefixes, nil
}

func readSysctls(keys []string) map[string]string {
	values := map[string]string{}
	for _, key := range keys {
		if data, err := os.ReadFile(filepath.Join("/proc/sys", key)); err == nil {
			values[key] = strings.TrimSpace(string(data))
		}
	}
	return values
}

// writeSysctls puts back the values read before, where they changed.
func writeSysctls(values map[string]string) error {
	var errs []error
	for key, value := range values {
		path := filepath.Join("/proc/sys", key)
		if data, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(data)) == value {
			continue
		}
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}
