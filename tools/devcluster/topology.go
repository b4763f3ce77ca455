package main

import (
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// maxNodes is how many nodes the simulator can address.
const maxNodes = 254

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
	// Each node gets a /24 of 10.244.0.0/16 for its pods.
	if len(t.Nodes) > maxNodes {
		return fmt.Errorf("nodes: %d declared, at most %d are supported", len(t.Nodes), maxNodes)
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
		for _, resource := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods} {
			if _, ok := node.Capacity[resource]; !ok {
				return fmt.Errorf("nodes[%d].capacity.%s: required", i, resource)
			}
		}
		for j, taint := range node.Taints {
			switch taint.Effect {
			case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
			default:
				return fmt.Errorf("nodes[%d].taints[%d].effect: %q is not NoSchedule, PreferNoSchedule or NoExecute", i, j, taint.Effect)
			}
		}
	}
	return nil
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
