package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestLoadTopologyRejectsInvalidFiles(t *testing.T) {
	tests := map[string]struct {
		yaml string
		want string
	}{
		"no nodes":         {"nodes: []", "at least one node"},
		"unnamed node":     {"nodes: [{capacity: {cpu: 1, memory: 1Gi, pods: 10}}]", "nodes[0].name: required"},
		"duplicate":        {"nodes: [{name: a, capacity: {cpu: 1, memory: 1Gi, pods: 10}}, {name: a, capacity: {cpu: 1, memory: 1Gi, pods: 10}}]", "declared twice"},
		"missing capacity": {"nodes: [{name: a, capacity: {cpu: 1, memory: 1Gi}}]", "capacity.pods: required"},
		"bad effect":       {"nodes: [{name: a, taints: [{key: k, effect: Never}], capacity: {cpu: 1, memory: 1Gi, pods: 10}}]", "taints[0].effect"},
		"unknown field":    {"nodes: [{name: a, capacity: {cpu: 1, memory: 1Gi, pods: 10}, zone: x}]", "unknown field"},
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nodes.yaml")
			if err := os.WriteFile(path, []byte(test.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTopology(path)
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("got %v, want an error containing %q", err, test.want)
			}
		})
	}
}

func TestDefaultTopologyMatchesTheGPUCatalog(t *testing.T) {
	topology, err := LoadTopology("nodes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{ accelerator, resource, taint string }{
		"gpu-a100-0":  {"nvidia-tesla-a100", "nvidia.com/gpu", "nvidia.com/gpu"},
		"gpu-t4-0":    {"nvidia-tesla-t4", "nvidia.com/gpu", "nvidia.com/gpu"},
		"gpu-mi200-0": {"amd-instinct-mi200", "amd.com/gpu", "amd.com/gpu"},
		"gpu-xe-0":    {"intel-xe", "gpu.intel.com/i915", "gpu.intel.com/i915"},
	}
	zones := map[string]bool{}
	for _, node := range topology.Nodes {
		zones[node.Labels["topology.kubernetes.io/zone"]] = true
		if pods := node.Capacity.Pods(); pods.Value() < 110 {
			t.Errorf("%s: %d pods, want at least 110", node.Name, pods.Value())
		}
		expected, isGPU := want[node.Name]
		if !isGPU {
			continue
		}
		delete(want, node.Name)
		if node.Labels["accelerator"] != expected.accelerator {
			t.Errorf("%s: accelerator %q, want %q", node.Name, node.Labels["accelerator"], expected.accelerator)
		}
		if _, ok := node.Capacity[corev1.ResourceName(expected.resource)]; !ok {
			t.Errorf("%s: no %s capacity", node.Name, expected.resource)
		}
		if expected.taint != "" && (len(node.Taints) != 1 || node.Taints[0].Key != expected.taint) {
			t.Errorf("%s: taints %v, want %s:NoSchedule", node.Name, node.Taints, expected.taint)
		}
	}
	if len(want) != 0 {
		t.Errorf("GPU nodes missing: %v", want)
	}
	if !zones["zone-a"] || !zones["zone-b"] || len(zones) != 2 {
		t.Errorf("zones %v, want zone-a and zone-b", zones)
	}
}
