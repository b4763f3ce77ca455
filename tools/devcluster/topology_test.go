package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
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
		"no DRA GPUs":      {"nodes: [{name: a, capacity: {cpu: 1, memory: 1Gi, pods: 10}, dra: {gpus: 0}}]", "nodes[0].dra.gpus: 0"},
		"DRA version":      {"nodes: [{name: a, capacity: {cpu: 1, memory: 1Gi, pods: 10}, dra: {gpus: 1, productName: p, architecture: x, memory: 1Gi, cudaComputeCapability: eight}}]", "dra.cudaComputeCapability"},
		"MIG profile":      {"nodes: [{name: a, capacity: {cpu: 1, memory: 1Gi, pods: 10}, dra: {gpus: 1, productName: p, architecture: x, memory: 1Gi, cudaComputeCapability: '8.0', mig: {profile: big, count: 1}}}]", "dra.mig.profile"},
		"pods over CIDR":   {"nodes: [{name: a, capacity: {cpu: 1, memory: 1Gi, pods: 510}}]", "nodes[0].capacity.pods: 510 is more than the 509 addresses"},
		"real node CPU":    {"nodes: [{name: a, real: true, capacity: {cpu: 1, pods: 10}}]", "nodes[0].capacity.cpu: a real node reports its own"},
		"real node DRA":    {"nodes: [{name: a, real: true, capacity: {pods: 10}, dra: {gpus: 1}}]", "nodes[0].dra: a real node has no simulated devices"},
		"real node pods":   {"nodes: [{name: a, real: true}]", "nodes[0].capacity.pods: required"},
		"MIG overflow":     {"nodes: [{name: a, capacity: {cpu: 1, memory: 1Gi, pods: 10}, dra: {gpus: 1, productName: p, architecture: x, memory: 1Gi, cudaComputeCapability: '8.0', mig: {profile: 1g.10gb, count: 9}}}]", "dra.mig.count"},
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
		// The device plugin's mixed MIG strategy.
		"gpu-h100-mig-0": {"nvidia-h100", "nvidia.com/mig-1g.10gb", "nvidia.com/gpu"},
	}
	zones := map[string]bool{}
	for _, node := range topology.Nodes {
		zones[node.Labels["topology.kubernetes.io/zone"]] = true
		if pods := node.Capacity.Pods(); !node.Real && pods.Value() < 110 {
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

func TestDRADevicesOfTheDefaultTopology(t *testing.T) {
	topology, err := LoadTopology("nodes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]string{}
	for _, node := range topology.Nodes {
		if node.DRA == nil {
			continue
		}
		devices := nvidiaDevices(node.Name, node.DRA)
		counts[node.Name] = fmt.Sprintf("%d %s", len(devices), ptr.Deref(devices[0].Attributes["type"].StringValue, ""))
		if _, ok := node.Capacity["nvidia.com/gpu"]; ok || node.Labels["accelerator"] != "" {
			t.Errorf("%s: a DRA node with a device-plugin resource or accelerator label", node.Name)
		}
		if len(node.Taints) != 1 || node.Taints[0].Key != "nvidia.com/gpu" {
			t.Errorf("%s: taints %v, want nvidia.com/gpu:NoSchedule", node.Name, node.Taints)
		}
	}
	want := map[string]string{"gpu-dra-a100-80gb-0": "4 gpu", "gpu-dra-a100-40gb-0": "4 gpu", "gpu-dra-h100-mig-0": "7 mig"}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("DRA devices %v, want %v", counts, want)
	}
}
