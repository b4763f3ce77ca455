package worker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"k8s.io/apimachinery/pkg/util/validation"
)

// GPU vendors and the extended resource each exposes on Kubernetes.
const (
	VendorNVIDIA = "nvidia"
	VendorAMD    = "amd"
	VendorIntel  = "intel"
)

// Vendors lists the valid vendor names.
var Vendors = []string{VendorNVIDIA, VendorAMD, VendorIntel}

var vendorResource = map[string]string{
	VendorNVIDIA: "nvidia.com/gpu",
	VendorAMD:    "amd.com/gpu",
	VendorIntel:  "gpu.intel.com/i915",
}

// MaxGPUCount bounds gpu.count.
const MaxGPUCount = 16

// GPUType is one catalog entry.
type GPUType struct {
	Name      string
	Vendor    string
	NodeLabel string
	// RuntimeClass is the runtime class (Docker: runtime) that workers of
	// this type get unless they name their own. Built-in types have none:
	// clusters with the vendor's device plugin need none.
	RuntimeClass string
	// Products are the product names that the vendor's DRA driver
	// publishes for this type (NVIDIA's productName attribute, as
	// nvidia-smi prints it): in DRA mode the type alone selects them. A
	// type without any selects on its vendor's DeviceClass only.
	Products []string
}

// ResourceName is the Kubernetes extended resource of the type's vendor.
func (t GPUType) ResourceName() string { return vendorResource[t.Vendor] }

var builtinGPUTypes = []GPUType{
	{Name: "v100", Vendor: VendorNVIDIA, NodeLabel: "nvidia-tesla-v100", Products: []string{
		"Tesla V100-SXM2-16GB", "Tesla V100-SXM2-32GB", "Tesla V100-PCIE-16GB", "Tesla V100-PCIE-32GB", "Tesla V100S-PCIE-32GB"}},
	{Name: "t4", Vendor: VendorNVIDIA, NodeLabel: "nvidia-tesla-t4", Products: []string{"Tesla T4"}},
	{Name: "a100", Vendor: VendorNVIDIA, NodeLabel: "nvidia-tesla-a100", Products: []string{
		"NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-80GB", "NVIDIA A100-PCIE-40GB", "NVIDIA A100 80GB PCIe"}},
	{Name: "h100", Vendor: VendorNVIDIA, NodeLabel: "nvidia-h100", Products: []string{
		"NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA H100 NVL"}},
	{Name: "mi100", Vendor: VendorAMD, NodeLabel: "amd-instinct-mi100"},
	{Name: "mi200", Vendor: VendorAMD, NodeLabel: "amd-instinct-mi200"},
	{Name: "intel-xe", Vendor: VendorIntel, NodeLabel: "intel-xe"},
}

// Catalog maps GPU type names, compared without case, to their entries.
type Catalog struct {
	types map[string]GPUType
}

// NewCatalog is the built-in catalog with extra entries added or overriding
// built-in ones of the same name.
func NewCatalog(extra ...GPUType) (*Catalog, error) {
	c := &Catalog{types: make(map[string]GPUType, len(builtinGPUTypes)+len(extra))}
	for _, t := range builtinGPUTypes {
		c.types[t.Name] = t
	}
	for _, t := range extra {
		t.Name = strings.ToLower(t.Name)
		if _, ok := vendorResource[t.Vendor]; !ok {
			return nil, fmt.Errorf("gpu_type %q: vendor %q is not one of %s", t.Name, t.Vendor, strings.Join(Vendors, ", "))
		}
		if err := CheckRuntimeClass(t.RuntimeClass); err != nil {
			return nil, fmt.Errorf("gpu_type %q: runtime_class %w", t.Name, err)
		}
		c.types[t.Name] = t
	}
	return c, nil
}

// CheckRuntimeClass accepts an empty name (none) or a DNS-1123 subdomain,
// which RuntimeClass names are.
func CheckRuntimeClass(name string) error {
	if name == "" {
		return nil
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("%q is not a DNS-1123 subdomain: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// DefaultCatalog is the built-in catalog.
func DefaultCatalog() *Catalog {
	c, _ := NewCatalog()
	return c
}

// Lookup finds a type by name in any case. A nil catalog, one not known
// yet, has no entries.
func (c *Catalog) Lookup(name string) (GPUType, bool) {
	if c == nil {
		return GPUType{}, false
	}
	t, ok := c.types[strings.ToLower(name)]
	return t, ok
}

// Types lists the entries sorted by name.
func (c *Catalog) Types() []GPUType {
	out := make([]GPUType, 0, len(c.types))
	for _, t := range c.types {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names lists the type names sorted.
func (c *Catalog) Names() []string {
	types := c.Types()
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = t.Name
	}
	return out
}

// Nearest is the known name closest to name by edit distance.
func (c *Catalog) Nearest(name string) string {
	name = strings.ToLower(name)
	best, bestDist := "", -1
	for _, known := range c.Names() {
		d := levenshtein.Distance(name, known, nil)
		if bestDist < 0 || d < bestDist {
			best, bestDist = known, d
		}
	}
	return best
}

// CatalogType is the catalog's entry for the GPU's type; an error naming
// gpu.type, with the known types and a suggestion, when there is none.
func (g *GPU) CatalogType(c *Catalog) (GPUType, error) {
	t, ok := c.Lookup(g.Type)
	if !ok {
		return t, fmt.Errorf("gpu.type: %s", c.UnknownTypeError(g.Type))
	}
	return t, nil
}

// UnknownTypeError describes an unknown GPU type, with the known ones and a
// suggestion.
func (c *Catalog) UnknownTypeError(name string) string {
	return fmt.Sprintf("GPU type %q is not in the catalog; did you mean %q? Known types: %s (add others with a gpu_type block in the provider)",
		name, c.Nearest(name), strings.Join(c.Names(), ", "))
}
