package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupHierarchy is one mounted cgroup hierarchy: a v1 controller's (cpu,
// memory, ...) or the v2 unified one.
type cgroupHierarchy struct {
	mountPoint string
	v2         bool
	cpuset     bool
}

// cgroupHierarchies lists the host's mounted cgroup hierarchies.
func cgroupHierarchies() ([]cgroupHierarchy, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var hierarchies []cgroupHierarchy
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		separator := -1
		for i, field := range fields {
			if field == "-" {
				separator = i
				break
			}
		}
		if separator < 0 || separator+1 >= len(fields) {
			continue
		}
		fstype := fields[separator+1]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		options := ""
		if separator+3 < len(fields) {
			options = fields[separator+3]
		}
		hierarchies = append(hierarchies, cgroupHierarchy{
			mountPoint: unescapeMountPath(fields[4]),
			v2:         fstype == "cgroup2",
			cpuset:     fstype == "cgroup" && containsOption(options, "cpuset"),
		})
	}
	if len(hierarchies) == 0 {
		return nil, errors.New("no cgroup hierarchy is mounted")
	}
	return hierarchies, nil
}

func containsOption(options, option string) bool {
	for _, o := range strings.Split(options, ",") {
		if o == option {
			return true
		}
	}
	return false
}

// makeCgroups creates, in every hierarchy, the devcluster's root, the
// node's cgroup (the kubelet's cgroupRoot, which must exist) and one each
// for its containerd and kubelet.
func (r *RealNodes) makeCgroups(node *realNode) error {
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	for _, h := range hierarchies {
		parent := h.mountPoint
		for _, dir := range []string{r.cgroupRoot, r.cgroupRoot + "/" + node.spec.Name} {
			path := filepath.Join(h.mountPoint, dir)
			if err := makeCgroup(h, parent, path); err != nil {
				return err
			}
			parent = path
		}
		for _, leaf := range []string{"containerd", "kubelet"} {
			if err := makeCgroup(h, parent, filepath.Join(parent, leaf)); err != nil {
				return err
			}
		}
	}
	return nil
}

// makeCgroup creates path under parent. A v1 cpuset cgroup starts with no
// CPUs and no memory nodes, which no process may join: it gets its
// parent's. In v2 the parent hands its controllers down.
func makeCgroup(h cgroupHierarchy, parent, path string) error {
	if h.v2 {
		controllers, err := os.ReadFile(filepath.Join(parent, "cgroup.controllers"))
		if err == nil {
			var enable []string
			for _, c := range strings.Fields(string(controllers)) {
				enable = append(enable, "+"+c)
			}
			_ = os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte(strings.Join(enable, " ")), 0o644)
		}
	}
	if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("creating cgroup %s: %w", path, err)
	}
	if h.cpuset {
		for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
			current, _ := os.ReadFile(filepath.Join(path, file))
			if strings.TrimSpace(string(current)) != "" {
				continue
			}
			value, err := os.ReadFile(filepath.Join(parent, file))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(path, file), value, 0o644); err != nil {
				return fmt.Errorf("%s of cgroup %s: %w", file, path, err)
			}
		}
	}
	return nil
}

// joinCgroup moves pid into the node's cgroup named leaf in every hierarchy.
func (r *RealNodes) joinCgroup(node *realNode, leaf string, pid int) error {
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	for _, h := range hierarchies {
		procs := filepath.Join(h.mountPoint, r.cgroupRoot, node.spec.Name, leaf, "cgroup.procs")
		if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("moving %s into %s: %w", leaf, procs, err)
		}
	}
	return nil
}

// nodeCgroups lists the node's cgroup directories in every hierarchy, the
// deepest first.
func (r *RealNodes) nodeCgroups(node *realNode) []string {
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return nil
	}
	var dirs []string
	for _, h := range hierarchies {
		root := filepath.Join(h.mountPoint, r.cgroupRoot, node.spec.Name)
		_ = filepath.WalkDir(root, func(path string, entry fs.DirEntry, err error) error {
			if err == nil && entry.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
	return dirs
}

// killCgroupProcesses kills, by pid, every process still in the node's
// cgroups (shims and containers the kubelet did not stop), until none is left.
func (r *RealNodes) killCgroupProcesses(node *realNode) error {
	deadline := time.Now().Add(processStopTimeout)
	for {
		pids := map[int]bool{}
		for _, dir := range r.nodeCgroups(node) {
			data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			if err != nil {
				continue
			}
			for _, field := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(field); err == nil {
					pids[pid] = true
				}
			}
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("real node %s: %d processes left in its cgroups", node.spec.Name, len(pids))
		}
		for pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// removeCgroups removes the node's cgroups, the deepest first.
func (r *RealNodes) removeCgroups(node *realNode) error {
	var errs []error
	for _, dir := range r.nodeCgroups(node) {
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

// removeCgroupRoot removes the devcluster's own cgroup in every hierarchy.
func (r *RealNodes) removeCgroupRoot() error {
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	var errs []error
	for _, h := range hierarchies {
		dir := filepath.Join(h.mountPoint, r.cgroupRoot)
		if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}
