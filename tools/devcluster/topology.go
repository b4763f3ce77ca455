package main

import (
	"fmt"
	"net/netip"
	"os"
	"regexp"

	"github.com/blang/semver/v4"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

const (
	// maxNodes is how many nodes the simulator can address: one /23 of
	// 10.244.0.0/16 each (nodePodCIDR).
	maxNodes = 128
	// maxGPUsPerNode is the most GPUs one server holds (NVIDIA HGX: 8; 16 leaves room).
	maxGPUsPerNode = 16
	// maxMIGSlices is how many memory slices a GPU has for MIG devices.
	maxMIGSlices = 8
)

// migProfilePattern is a MIG profile name as nvidia-smi prints it.
var migProfilePattern = regexp.MustCompile(`^[1-9]g\.[1-9][0-9]*gb$`)

// Topology is the set of simulated nodes read from a nodes file.
type Topology struct {
	Nodes []NodeSpec `json:"nodes"`
}

// NodeSpec describes one simulated node. Allocatable defaults to Capacity.
type NodeSpec struct {
	Name        string              `json:"name"`
	Labels      map[string]string   `json:"labels,omitempty"`
	Taints      []corev1.Taint      `json:"taints,omitempty"`
	Capacity    corev1.ResourceList `json:"capacity"`
	Allocatable corev1.ResourceList `json:"allocatable,omitempty"`
	// DRA makes the simulated NVIDIA DRA driver publish the node's GPUs in
	// a ResourceSlice instead of (or besides) an extended resource.
	DRA *DRASpec `json:"dra,omitempty"`
	// Real runs the node with a real kubelet and containerd instead of the
	// simulator: its pods run processes. Its CPU and memory are the host's,
	// as its kubelet reports them; capacity.pods is its kubelet's maxPods.
	Real bool `json:"real,omitempty"`
}

// DRASpec is the node's GPUs as NVIDIA's DRA kubelet plugin discovers them
// through NVML: the node's GPUs are identical, as in a cloud instance type.
type DRASpec struct {
	GPUs                  int    `json:"gpus"`
	ProductName           string `json:"productName"`
	Architecture          string `json:"architecture"`
	CUDAComputeCapability string `json:"cudaComputeCapability"`
	// Memory is the GPU's total memory (nvidia-smi's MiB).
	Memory resource.Quantity `json:"memory"`
	// MIG turns MIG mode on: each GPU is then published only as its MIG
	// devices, created beforehand (the driver's static MIG).
	MIG *MIGSpec `json:"mig,omitempty"`
}

// MIGSpec is the MIG devices each GPU of a node is partitioned into.
type MIGSpec struct {
	// Profile is the GPU instance profile as nvidia-smi names it, "1g.10gb".
	Profile string `json:"profile"`
	// ProfileID is that profile's ID (nvidia-smi mig -lgip), part of the device names.
	ProfileID int `json:"profileID"`
	// Count devices per GPU, at placements 0, size, 2*size, ...
	Count int `json:"count"`
	// PlacementSize is how many memory slices one device takes (default 1).
	PlacementSize int `json:"placementSize,omitempty"`
	// Capacity is the profile's properties, by the driver's capacity names
	// (memory, multiprocessors, copyEngines, decoders, encoders, jpegEngines, ofaEngines).
	Capacity map[string]resource.Quantity `json:"capacity"`
}

// LoadTopology reads and validates a nodes file.
func LoadTopology(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var topology Topology
	if err := yaml.UnmarshalStrict(data, &topology); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := topology.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &topology, nil
}

func (t *Topology) validate() error {
	if len(t.Nodes) == 0 {
		return fmt.Errorf("nodes: at least one node is required")
	}
	if len(t.Nodes) > maxNodes {
		return fmt.Errorf("nodes: %d declared, at most %d are supported", len(t.Nodes), maxNodes)
	}
	if real := len(t.realNodes()); real > maxRealNodes {
		return fmt.Errorf("nodes: %d real nodes declared, at most %d are supported", real, maxRealNodes)
	}
	seen := map[string]bool{}
	for i, node := range t.Nodes {
		if node.Name == "" {
			return fmt.Errorf("nodes[%d].name: required", i)
		}
		if seen[node.Name] {
			return fmt.Errorf("nodes[%d].name: %q is declared twice", i, node.Name)
		}
		seen[node.Name] = true
		if node.Real {
			if err := node.validateReal(); err != nil {
				return fmt.Errorf("nodes[%d].%w", i, err)
			}
			continue
		}
		for _, resource := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods} {
			if _, ok := node.Capacity[resource]; !ok {
				return fmt.Errorf("nodes[%d].capacity.%s: required", i, resource)
			}
		}
		if pods, limit := node.Capacity[corev1.ResourcePods], podAddresses(nodePodCIDR(i)); pods.Value() > int64(limit) {
			return fmt.Errorf("nodes[%d].capacity.pods: %s is more than the %d addresses of the node's pod CIDR", i, pods.String(), limit)
		}
		for j, taint := range node.Taints {
			switch taint.Effect {
			case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
			default:
				return fmt.Errorf("nodes[%d].taints[%d].effect: %q is not NoSchedule, PreferNoSchedule or NoExecute", i, j, taint.Effect)
			}
		}
		if node.DRA != nil {
			if err := node.DRA.validate(); err != nil {
				return fmt.Errorf("nodes[%d].dra.%w", i, err)
			}
		}
	}
	return nil
}

// maxRealNodes bounds the real nodes: each runs a kubelet and a containerd
// on the developer's machine.
const maxRealNodes = 8

// validateReal checks what a real node may declare: the kubelet reports its
// resources, and it has no simulated devices.
func (n NodeSpec) validateReal() error {
	for resource := range n.Capacity {
		if resource != corev1.ResourcePods {
			return fmt.Errorf("capacity.%s: a real node reports its own; declare only pods", resource)
		}
	}
	switch {
	case len(n.Allocatable) > 0:
		return fmt.Errorf("allocatable: a real node's kubelet reports it")
	case n.DRA != nil:
		return fmt.Errorf("dra: a real node has no simulated devices")
	}
	if pods, ok := n.Capacity[corev1.ResourcePods]; !ok || pods.Value() < 1 {
		return fmt.Errorf("capacity.pods: required, the kubelet's maxPods")
	}
	return nil
}

// realNodes are the nodes run by a real kubelet.
func (t *Topology) realNodes() []NodeSpec {
	var real []NodeSpec
	for _, node := range t.Nodes {
		if node.Real {
			real = append(real, node)
		}
	}
	return real
}

func (d *DRASpec) validate() error {
	switch {
	case d.GPUs < 1 || d.GPUs > maxGPUsPerNode:
		return fmt.Errorf("gpus: %d, want 1 to %d", d.GPUs, maxGPUsPerNode)
	case d.ProductName == "":
		return fmt.Errorf("productName: required")
	case d.Architecture == "":
		return fmt.Errorf("architecture: required")
	case d.Memory.Sign() <= 0:
		return fmt.Errorf("memory: required")
	}
	if _, err := semver.ParseTolerant(d.CUDAComputeCapability); err != nil {
		return fmt.Errorf("cudaComputeCapability: %q is not a version: %w", d.CUDAComputeCapability, err)
	}
	if d.MIG == nil {
		return nil
	}
	switch {
	case !migProfilePattern.MatchString(d.MIG.Profile):
		return fmt.Errorf("mig.profile: %q is not like 1g.10gb", d.MIG.Profile)
	case d.MIG.Count < 1 || d.MIG.Count*d.MIG.placementSize() > maxMIGSlices:
		return fmt.Errorf("mig.count: %d devices of %d slices do not fit in %d memory slices", d.MIG.Count, d.MIG.placementSize(), maxMIGSlices)
	case d.MIG.PlacementSize < 0:
		return fmt.Errorf("mig.placementSize: %d is negative", d.MIG.PlacementSize)
	}
	if memory, ok := d.MIG.Capacity["memory"]; !ok || memory.Sign() <= 0 {
		return fmt.Errorf("mig.capacity.memory: required")
	}
	return nil
}

func (m *MIGSpec) placementSize() int {
	if m.PlacementSize == 0 {
		return 1
	}
	return m.PlacementSize
}

// allocatable is what the scheduler may place on the node.
func (n NodeSpec) allocatable() corev1.ResourceList {
	if len(n.Allocatable) > 0 {
		return n.Allocatable
	}
	return n.Capacity
}

// labels adds the labels every kubelet sets on its node to the declared ones.
func (n NodeSpec) labels() map[string]string {
	labels := map[string]string{
		corev1.LabelHostname:   n.Name,
		corev1.LabelOSStable:   "linux",
		corev1.LabelArchStable: "amd64",
	}
	for key, value := range n.Labels {
		labels[key] = value
	}
	return labels
}

// nodePodCIDR is node i's pod CIDR, the i-th /23 of 10.244.0.0/16: room for
// the 500 pods of a CPU node, which a /24 (253 pods) is not.
func nodePodCIDR(i int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(2 * i), 0}), 23)
}
