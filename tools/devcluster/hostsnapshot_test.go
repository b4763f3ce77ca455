package main

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// hostSnapshot is what a devcluster with real nodes could leave changed on
// the machine: network links, mounts, cgroups, the kernel settings a
// kubelet and the CNI bridge plugin change, iptables rules, the fixed paths
// kubelets and containerd write, and processes of the node binaries.
type hostSnapshot struct {
	links      []string
	mounts     []string
	cgroups    []string
	sysctls    map[string]string
	iptables   string
	paths      []string
	processes  []string
	iptablesOK bool
}

// snapshotPaths are checked for existence; /var/run/netns for its entries.
var snapshotPaths = append([]string{"/var/lib/cni", "/var/log/pods", "/usr/libexec/kubernetes", "/opt/containerd", "/etc/cni", "/opt/cni", "/var/run/netns"}, hostFixedPaths...)

// snapshotSysctlDirs are read whole, besides hostSysctls.
var snapshotSysctlDirs = []string{"/proc/sys/vm", "/proc/sys/net/ipv4/conf/all", "/proc/sys/net/ipv4/conf/default", "/proc/sys/net/bridge"}

// nodeBinaries are the programs a real node runs; none may outlive it.
var nodeBinaries = []string{"containerd", "containerd-shim-runc-v2", "runc", "docker-registry"}

func takeHostSnapshot() (*hostSnapshot, error) {
	s := &hostSnapshot{sysctls: readSysctls(hostSysctls)}
	interfaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for _, link := range interfaces {
		s.links = append(s.links, link.Name)
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(mountinfo), "\n") {
		if fields := strings.Fields(line); len(fields) > 4 {
			s.mounts = append(s.mounts, unescapeMountPath(fields[4]))
		}
	}
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	for _, h := range hierarchies {
		_ = filepath.WalkDir(h.mountPoint, func(path string, entry fs.DirEntry, err error) error {
			if err == nil && entry.IsDir() {
				s.cgroups = append(s.cgroups, path)
			}
			return nil
		})
	}
	for _, dir := range snapshotSysctlDirs {
		_ = filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
			if err != nil || entry.IsDir() {
				return nil
			}
			if data, err := os.ReadFile(path); err == nil {
				s.sysctls[strings.TrimPrefix(path, "/proc/sys/")] = strings.TrimSpace(string(data))
			}
			return nil
		})
	}
	for _, path := range snapshotPaths {
		if exists(path) {
			s.paths = append(s.paths, path)
		}
	}
	if entries, err := os.ReadDir("/var/run/netns"); err == nil {
		for _, entry := range entries {
			s.paths = append(s.paths, filepath.Join("/var/run/netns", entry.Name()))
		}
	}
	if out, err := exec.Command("iptables-save").Output(); err == nil {
		s.iptables, s.iptablesOK = withoutCounters(string(out)), true
	}
	s.processes = nodeProcesses()
	for _, list := range [][]string{s.links, s.mounts, s.cgroups, s.paths, s.processes} {
		sort.Strings(list)
	}
	return s, nil
}

// withoutCounters drops iptables-save's comments and packet counters,
// which change with traffic.
func withoutCounters(rules string) string {
	var kept []string
	for _, line := range strings.Split(rules, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, ":") {
			if i := strings.Index(line, " ["); i >= 0 {
				line = line[:i]
			}
		}
		kept = append(kept, line)
	}
	return strings.Join(kept, "\n")
}

// nodeProcesses lists the processes of the node binaries and the kubelets
// (this binary re-executed), as "pid name".
func nodeProcesses() []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, entry := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", entry.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		name := filepath.Base(args[0])
		if slices.Contains(nodeBinaries, name) || (len(args) > 1 && args[1] == "kubelet") {
			found = append(found, entry.Name()+" "+name)
		}
	}
	return found
}

// differences describes what after has that s had not, and the reverse.
func (s *hostSnapshot) differences(after *hostSnapshot) []string {
	var diffs []string
	compare := func(kind string, before, after []string) {
		for _, item := range after {
			if !slices.Contains(before, item) {
				diffs = append(diffs, fmt.Sprintf("%s left: %s", kind, item))
			}
		}
		for _, item := range before {
			if !slices.Contains(after, item) {
				diffs = append(diffs, fmt.Sprintf("%s removed: %s", kind, item))
			}
		}
	}
	compare("link", s.links, after.links)
	compare("mount", s.mounts, after.mounts)
	compare("cgroup", s.cgroups, after.cgroups)
	compare("path", s.paths, after.paths)
	compare("process", s.processes, after.processes)
	for key, value := range s.sysctls {
		if after.sysctls[key] != value {
			diffs = append(diffs, fmt.Sprintf("sysctl %s: %s before, %s after", key, value, after.sysctls[key]))
		}
	}
	if s.iptablesOK && after.iptablesOK && s.iptables != after.iptables {
		diffs = append(diffs, "iptables rules changed:\n"+after.iptables)
	}
	return diffs
}

// TestHostSnapshot_seesLeftovers: the check of TestMain can fail. A bridge,
// a cgroup, a mount and a changed kernel setting made after a snapshot are
// each reported.
func TestHostSnapshot_seesLeftovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, as real nodes do")
	}
	before, err := takeHostSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	const link = "hdcsnaptest"
	if out, err := exec.Command("ip", "link", "add", link, "type", "bridge").CombinedOutput(); err != nil {
		t.Fatalf("ip link add: %v: %s", err, out)
	}
	defer exec.Command("ip", "link", "del", link).Run()
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		t.Fatal(err)
	}
	cgroup := filepath.Join(hierarchies[0].mountPoint, "devcluster-snapshot-test")
	if err := os.Mkdir(cgroup, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(cgroup)
	mountPoint := t.TempDir()
	if err := unix.Mount("tmpfs", mountPoint, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(mountPoint, unix.MNT_DETACH)
	const sysctl = "vm/dirty_expire_centisecs"
	original := readSysctls([]string{sysctl})
	changed := map[string]string{sysctl: "2999"}
	if original[sysctl] == "2999" {
		changed[sysctl] = "3001"
	}
	if err := writeSysctls(changed); err != nil {
		t.Fatal(err)
	}
	defer writeSysctls(original)

	after, err := takeHostSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	report := strings.Join(before.differences(after), "\n")
	for _, want := range []string{"link left: " + link, "cgroup left: " + cgroup, "mount left: " + mountPoint, "sysctl " + sysctl} {
		if !strings.Contains(report, want) {
			t.Errorf("the snapshot missed %q; it reported:\n%s", want, report)
		}
	}
}
