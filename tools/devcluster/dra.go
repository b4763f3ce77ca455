package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/blang/semver/v4"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// The simulated driver publishes what NVIDIA's DRA driver for GPUs
// (NVIDIA/k8s-dra-driver-gpu, cmd/gpu-kubelet-plugin) publishes for
// full GPUs and static MIG devices: the same driver name, device names,
// attribute and capacity names, and the DeviceClasses of its Helm chart.
const (
	nvidiaDriver = "gpu.nvidia.com"
	// The "type" attribute of full GPUs and of MIG devices.
	gpuDeviceType = "gpu"
	migDeviceType = "mig"
	// What NVML reports on every simulated node.
	nvidiaBrand             = "Nvidia"
	nvidiaDriverVersion     = "580.95.5"
	nvidiaCUDADriverVersion = "13.0.0"
	// Standard attributes (k8s.io/dynamic-resource-allocation/deviceattribute),
	// which the driver publishes for every device with the GPU's PCI address.
	pciBusIDAttribute = "resource.kubernetes.io/pciBusID"
	pcieRootAttribute = "resource.kubernetes.io/pcieRoot"
)

// deviceClasses are NVIDIA's two (from its chart) and one for each other
// vendor's DRA driver, which publishes nothing here: a claim for them stays
// unallocated, as on a cluster without those GPUs.
func deviceClasses() []*resourcev1.DeviceClass {
	class := func(name, expression string) *resourcev1.DeviceClass {
		return &resourcev1.DeviceClass{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: resourcev1.DeviceClassSpec{
				Selectors: []resourcev1.DeviceSelector{{CEL: &resourcev1.CELDeviceSelector{Expression: expression}}},
			},
		}
	}
	typed := func(deviceType string) string {
		return fmt.Sprintf("device.driver == '%s' && device.attributes['%s'].type == '%s'", nvidiaDriver, nvidiaDriver, deviceType)
	}
	// NVIDIA's chart also names nvidia.com/gpu as the gpu class's
	// extendedResourceName; here it does not, so that device-plugin pods
	// asking nvidia.com/gpu never land on the DRA nodes.
	return []*resourcev1.DeviceClass{
		class("gpu.nvidia.com", typed(gpuDeviceType)),
		class("mig.nvidia.com", typed(migDeviceType)),
		class("gpu.amd.com", "device.driver == 'gpu.amd.com'"),
		class("gpu.intel.com", "device.driver == 'gpu.intel.com'"),
	}
}

// PublishDRA creates or updates the DeviceClasses and one ResourceSlice per
// node with DRA devices, as each node's kubelet plugin would, and removes
// slices of the driver that no declared node has any more.
func PublishDRA(ctx context.Context, client kubernetes.Interface, topology *Topology) error {
	for _, class := range deviceClasses() {
		if err := applyDeviceClass(ctx, client, class); err != nil {
			return fmt.Errorf("device class %s: %w", class.Name, err)
		}
	}
	desired := map[string]bool{}
	for _, node := range topology.Nodes {
		if node.DRA == nil {
			continue
		}
		owner, err := client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		slice := resourceSlice(node, owner)
		desired[slice.Name] = true
		if err := applyResourceSlice(ctx, client, slice); err != nil {
			return fmt.Errorf("resource slice of node %s: %w", node.Name, err)
		}
	}
	slices, err := client.ResourceV1().ResourceSlices().List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector(resourcev1.ResourceSliceSelectorDriver, nvidiaDriver).String(),
	})
	if err != nil {
		return err
	}
	for _, slice := range slices.Items {
		if desired[slice.Name] {
			continue
		}
		if err := client.ResourceV1().ResourceSlices().Delete(ctx, slice.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing resource slice %s, of no declared DRA node: %w", slice.Name, err)
		}
	}
	return nil
}

func applyDeviceClass(ctx context.Context, client kubernetes.Interface, class *resourcev1.DeviceClass) error {
	classes := client.ResourceV1().DeviceClasses()
	_, err := classes.Create(ctx, class, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	current, err := classes.Get(ctx, class.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	current.Spec = class.Spec
	_, err = classes.Update(ctx, current, metav1.UpdateOptions{})
	return err
}

// applyResourceSlice writes the slice, a new pool generation when its
// devices changed since a previous run on the same data directory.
func applyResourceSlice(ctx context.Context, client kubernetes.Interface, slice *resourcev1.ResourceSlice) error {
	slices := client.ResourceV1().ResourceSlices()
	_, err := slices.Create(ctx, slice, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	current, err := slices.Get(ctx, slice.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	slice.Spec.Pool.Generation = current.Spec.Pool.Generation + 1
	current.OwnerReferences = slice.OwnerReferences
	current.Spec = slice.Spec
	_, err = slices.Update(ctx, current, metav1.UpdateOptions{})
	return err
}

// resourceSlice is the node's one slice: its own pool named after the
// node, as the kubelet plugin helper names it, and owned by the Node so
// that it goes with it.
func resourceSlice(node NodeSpec, owner *corev1.Node) *resourcev1.ResourceSlice {
	return &resourcev1.ResourceSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name:            node.Name + "-" + nvidiaDriver,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: owner.Name, UID: owner.UID, Controller: ptr.To(true)}},
		},
		Spec: resourcev1.ResourceSliceSpec{
			Driver:   nvidiaDriver,
			Pool:     resourcev1.ResourcePool{Name: node.Name, Generation: 1, ResourceSliceCount: 1},
			NodeName: ptr.To(node.Name),
			Devices:  nvidiaDevices(node.Name, node.DRA),
		},
	}
}

// nvidiaDevices are the devices of one node: every GPU, or every MIG device
// of every GPU when MIG mode is on (the driver does not offer a GPU whose
// MIG mode is on as a whole).
func nvidiaDevices(nodeName string, spec *DRASpec) []resourcev1.Device {
	var devices []resourcev1.Device
	for minor := range spec.GPUs {
		gpu := simulatedGPU{node: nodeName, minor: minor, spec: spec}
		if spec.MIG == nil {
			devices = append(devices, gpu.device())
			continue
		}
		for i := range spec.MIG.Count {
			devices = append(devices, gpu.migDevice(i*spec.MIG.placementSize()))
		}
	}
	return devices
}

// simulatedGPU is one physical GPU of a node.
type simulatedGPU struct {
	node  string
	minor int
	spec  *DRASpec
}

// uuid is stable for the node and minor, formatted as NVML's "GPU-<uuid>".
func (g simulatedGPU) uuid() string {
	return "GPU-" + uuidOf(stableID("gpu", fmt.Sprintf("%s/%d", g.node, g.minor)))
}

// device is the full GPU: named gpu-<minor> by the driver.
func (g simulatedGPU) device() resourcev1.Device {
	attributes := g.commonAttributes(gpuDeviceType)
	attributes["uuid"] = stringAttribute(g.uuid())
	return resourcev1.Device{
		Name:       fmt.Sprintf("gpu-%d", g.minor),
		Attributes: attributes,
		// The driver's memory capacity is NVML's total memory in bytes.
		Capacity: map[resourcev1.QualifiedName]resourcev1.DeviceCapacity{"memory": binaryCapacity(g.spec.Memory)},
	}
}

// migDevice is the MIG device at placement start: named
// gpu-<parent minor>-mig-<profile without dots>-<profile ID>-<placement start>.
func (g simulatedGPU) migDevice(start int) resourcev1.Device {
	mig := g.spec.MIG
	attributes := g.commonAttributes(migDeviceType)
	attributes["parentUUID"] = stringAttribute(g.uuid())
	attributes["profile"] = stringAttribute(mig.Profile)
	attributes["uuid"] = stringAttribute("MIG-" + uuidOf(stableID("mig", fmt.Sprintf("%s/%d/%s/%d", g.node, g.minor, mig.Profile, start))))
	capacity := map[resourcev1.QualifiedName]resourcev1.DeviceCapacity{}
	for name, value := range mig.Capacity {
		capacity[resourcev1.QualifiedName(name)] = binaryCapacity(value)
	}
	// One capacity per memory slice the device occupies, as the driver announces them.
	for slice := start; slice < start+mig.placementSize(); slice++ {
		capacity[resourcev1.QualifiedName(fmt.Sprintf("memorySlice%d", slice))] = resourcev1.DeviceCapacity{Value: *resource.NewQuantity(1, resource.BinarySI)}
	}
	return resourcev1.Device{
		Name:       fmt.Sprintf("gpu-%d-mig-%s-%d-%d", g.minor, strings.ReplaceAll(mig.Profile, ".", ""), mig.ProfileID, start),
		Attributes: attributes,
		Capacity:   capacity,
	}
}

// commonAttributes are those of a GPU and of each of its MIG devices.
func (g simulatedGPU) commonAttributes(deviceType string) map[resourcev1.QualifiedName]resourcev1.DeviceAttribute {
	// Validated when the topology was loaded.
	computeCapability, _ := semver.ParseTolerant(g.spec.CUDAComputeCapability)
	return map[resourcev1.QualifiedName]resourcev1.DeviceAttribute{
		"type":                  stringAttribute(deviceType),
		"productName":           stringAttribute(g.spec.ProductName),
		"brand":                 stringAttribute(nvidiaBrand),
		"architecture":          stringAttribute(g.spec.Architecture),
		"cudaComputeCapability": {VersionValue: ptr.To(computeCapability.String())},
		"driverVersion":         {VersionValue: ptr.To(nvidiaDriverVersion)},
		"cudaDriverVersion":     {VersionValue: ptr.To(nvidiaCUDADriverVersion)},
		// The GPUs of a node sit on buses 0x07, 0x08, ... behind one root complex each.
		pciBusIDAttribute: stringAttribute(fmt.Sprintf("0000:%02x:00.0", 7+g.minor)),
		pcieRootAttribute: stringAttribute(fmt.Sprintf("pci0000:%02x", g.minor)),
	}
}

func stringAttribute(value string) resourcev1.DeviceAttribute {
	return resourcev1.DeviceAttribute{StringValue: ptr.To(value)}
}

// binaryCapacity is value as the driver writes it: bytes, binary units.
func binaryCapacity(value resource.Quantity) resourcev1.DeviceCapacity {
	return resourcev1.DeviceCapacity{Value: *resource.NewQuantity(value.Value(), resource.BinarySI)}
}

// uuidOf formats 32 hex digits as a UUID.
func uuidOf(hex string) string {
	return hex[0:8] + "-" + hex[8:12] + "-" + hex[12:16] + "-" + hex[16:20] + "-" + hex[20:32]
}
