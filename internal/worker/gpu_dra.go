package worker

import (
	"fmt"
	"regexp"
	"slices"
)

// GPU allocation modes: gpu.allocation and the provider's gpu_allocation.
const (
	// AllocationDevicePlugin requests the vendor's extended resource
	// (nvidia.com/gpu) and selects nodes by label: what a cluster with the
	// vendor's device plugin offers.
	AllocationDevicePlugin = "device_plugin"
	// AllocationDRA claims devices through Dynamic Resource Allocation
	// (resource.k8s.io/v1): the scheduler picks devices by attribute.
	AllocationDRA = "dra"
)

// Allocations lists the allocation modes.
var Allocations = []string{AllocationDevicePlugin, AllocationDRA}

// MaxProductLength is the longest product name: a DRA string attribute and a
// Kubernetes label value both stop at 63 or 64 characters.
const MaxProductLength = 63

// productPattern keeps a product name valid both in a CEL string and, with
// its spaces as dashes (as GPU Feature Discovery writes it), in a label value.
var productPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9 ._-]*[A-Za-z0-9])?$`)

// migProfilePattern is a MIG profile as NVIDIA names it: compute slices
// and memory, e.g. "1g.10gb", "3g.40gb".
var migProfilePattern = regexp.MustCompile(`^[1-9][0-9]?g\.[1-9][0-9]{0,3}gb$`)

// Vendor facts for Dynamic Resource Allocation: the driver that publishes
// the vendor's devices (also the domain of their attributes) and the
// DeviceClasses its chart installs.
var vendorDRA = map[string]struct{ Driver, DeviceClass, MIGDeviceClass string }{
	VendorNVIDIA: {Driver: "gpu.nvidia.com", DeviceClass: "gpu.nvidia.com", MIGDeviceClass: "mig.nvidia.com"},
	VendorAMD:    {Driver: "gpu.amd.com", DeviceClass: "gpu.amd.com"},
	VendorIntel:  {Driver: "gpu.intel.com", DeviceClass: "gpu.intel.com"},
}

// DRADriver is the DRA driver of the type's vendor, the domain of its
// device attributes.
func (t GPUType) DRADriver() string { return vendorDRA[t.Vendor].Driver }

// DeviceClass is the DeviceClass a claim for this type requests: the
// vendor's MIG class when a MIG profile is asked for.
func (t GPUType) DeviceClass(mig bool) string {
	if mig {
		return vendorDRA[t.Vendor].MIGDeviceClass
	}
	return vendorDRA[t.Vendor].DeviceClass
}

// MIGResourceName is the extended resource of a MIG profile in the NVIDIA
// device plugin's mixed strategy.
func MIGResourceName(profile string) string { return "nvidia.com/mig-" + profile }

// AllocationMode is the GPU's allocation mode; empty (not resolved yet) is the
// device plugin's, the only mode before allocation existed.
func (g *GPU) AllocationMode() string {
	if g.Allocation == "" {
		return AllocationDevicePlugin
	}
	return g.Allocation
}

// DRA tells whether the GPU is claimed through Dynamic Resource Allocation.
func (g *GPU) DRA() bool { return g != nil && g.Allocation == AllocationDRA }

// Selects tells whether the GPU selects devices by attribute.
func (g *GPU) Selects() bool {
	return g.MinMemory != "" || len(g.Product) > 0 || g.MIGProfile != ""
}

// Device is one device allocated to a worker, as the ResourceClaim names it.
type Device struct {
	Driver string
	Pool   string
	Device string
}

func checkGPUSelection(ps *Problems, g *GPU) {
	base := Path{"gpu"}
	if g.Allocation != "" {
		checkOneOf(ps, base.Child("allocation"), g.Allocation, Allocations)
	}
	checkQuantity(ps, base.Child("min_memory"), g.MinMemory)
	for i, p := range g.Product {
		switch {
		case len(p) > MaxProductLength:
			ps.errorf(base.Child("product", i), "Invalid product name", "%q is longer than %d characters.", p, MaxProductLength)
		case !productPattern.MatchString(p):
			ps.errorf(base.Child("product", i), "Invalid product name", "%q is not a product name as the driver publishes it (letters, digits, spaces, '.', '_' and '-', "+
				"starting and ending with a letter or digit), e.g. \"NVIDIA A100-SXM4-80GB\".", p)
		case slices.Index(g.Product, p) < i:
			ps.errorf(base.Child("product", i), "Duplicate product name", "%q is listed twice; list each product once.", p)
		}
	}
	if g.MIGProfile != "" && !migProfilePattern.MatchString(g.MIGProfile) {
		ps.errorf(base.Child("mig_profile"), "Invalid MIG profile", "%q is not a MIG profile such as \"1g.10gb\" or \"3g.40gb\".", g.MIGProfile)
	}
}

// checkGPUVendor checks what the GPU's vendor decides: MIG is NVIDIA's, and
// the device plugin's node labels for memory and product are those of
// NVIDIA's GPU Feature Discovery.
func checkGPUVendor(ps *Problems, g *GPU, t GPUType) {
	if t.Vendor == VendorNVIDIA {
		return
	}
	if g.MIGProfile != "" {
		ps.errorf(Path{"gpu", "mig_profile"}, "MIG needs an NVIDIA GPU", "gpu type %q is %s's; MIG partitions exist on NVIDIA GPUs only: remove mig_profile.", g.Type, t.Vendor)
	}
	if g.AllocationMode() != AllocationDevicePlugin {
		return
	}
	for _, attr := range []struct {
		name string
		set  bool
	}{{"min_memory", g.MinMemory != ""}, {"product", len(g.Product) > 0}} {
		if attr.set {
			ps.errorf(Path{"gpu", attr.name}, "Needs allocation = \"dra\"", "with the device plugin, %s selects nodes by NVIDIA GPU Feature Discovery labels, which %s nodes lack; "+
				"set allocation = %q to select %s devices by attribute, or remove %s.", attr.name, t.Vendor, AllocationDRA, t.Vendor, attr.name)
		}
	}
}

// CheckDockerGPU refuses the GPU settings that a Docker engine cannot
// honour: it has no allocator to pick devices by attribute (the provider
// has no NVML on the engine's host), so a worker would silently get other
// GPUs than it asked for.
func CheckDockerGPU(s *Spec) Problems {
	var ps Problems
	g := s.GPU
	if g == nil {
		return nil
	}
	const summary = "Kubernetes only"
	if g.Allocation == AllocationDRA {
		ps.errorf(Path{"gpu", "allocation"}, summary, "allocation = %q claims devices through Kubernetes Dynamic Resource Allocation, which a Docker engine does not have; "+
			"remove it or run the worker with backend = \"kubernetes\".", AllocationDRA)
	}
	for _, attr := range []struct {
		name string
		set  bool
	}{{"min_memory", g.MinMemory != ""}, {"product", len(g.Product) > 0}, {"mig_profile", g.MIGProfile != ""}} {
		if attr.set {
			ps.errorf(Path{"gpu", attr.name}, summary, "%s selects GPUs by attribute, which only the Kubernetes scheduler does; Docker would hand the container "+
				"whatever GPUs the host has: remove %s or run the worker with backend = \"kubernetes\".", attr.name, attr.name)
		}
	}
	return ps
}

// DeviceList describes devices for a message: "driver/pool/device, ...".
func DeviceList(devices []Device) []string {
	out := make([]string, len(devices))
	for i, d := range devices {
		out[i] = fmt.Sprintf("%s/%s/%s", d.Driver, d.Pool, d.Device)
	}
	return out
}
