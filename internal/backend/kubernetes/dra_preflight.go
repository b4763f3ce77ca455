package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const checkDevices = "match against the cluster's ResourceSlices"

// checkDevices warns when no pool (node) publishes count devices that the
// claim's selectors match. The match mirrors draSelectors and the vendor's
// DeviceClass (NVIDIA's tell GPUs and MIG devices apart by their type
// attribute); the allocator itself may still find devices taken.
func (d *Driver) checkDevices(ctx context.Context, spec *worker.Spec, report *worker.PreflightReport) {
	t, ok := d.opts.Catalog.Lookup(spec.GPU.Type)
	if !ok {
		return
	}
	slices, err := d.slices.get(ctx, "resource slices", func(ctx context.Context) ([]resourcev1.ResourceSlice, error) {
		list, err := d.client.ResourceV1().ResourceSlices().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return nil, err
		}
		return list.Items, nil
	})
	if err != nil {
		report.Skipped = append(report.Skipped, worker.SkippedCheck{Check: checkDevices, Reason: err.Error(), Quiet: apierrors.IsForbidden(err)})
		return
	}
	var minMemory *int64
	if spec.GPU.MinMemory != "" {
		q, err := worker.ParseQuantity(spec.GPU.MinMemory)
		if err != nil {
			return
		}
		minMemory = ptr(q.Value())
	}
	perPool := map[string]int64{}
	var most int64
	for _, slice := range slices {
		if slice.Spec.Driver != t.DRADriver() {
			continue
		}
		for _, dev := range slice.Spec.Devices {
			if deviceMatches(dev, spec.GPU, t, minMemory) {
				perPool[slice.Spec.Pool.Name]++
				most = max(most, perPool[slice.Spec.Pool.Name])
			}
		}
	}
	warn := func(path worker.Path, summary, format string, args ...any) {
		report.Problems.Warnf(path, summary, format+". The scheduler would leave the pod Pending until the create times out.", args...)
	}
	switch {
	case most == 0:
		warn(worker.Path{"gpu"}, "No device matches", "no device that the cluster's DRA drivers publish matches gpu (%s); the cluster offers: %s",
			strings.Join(draSelectors(spec.GPU, t), " && "), deviceOffer(slices))
	case most < spec.GPU.Count:
		warn(worker.Path{"gpu", "count"}, "More devices than any node offers", "gpu.count %d exceeds the %d matching devices of the best node; the cluster offers: %s",
			spec.GPU.Count, most, deviceOffer(slices))
	}
}

// deviceAttribute is a device's string attribute, written with or without
// its driver's domain.
func deviceAttribute(dev resourcev1.Device, domain, name string) (string, bool) {
	for _, key := range []string{name, domain + "/" + name} {
		if a, ok := dev.Attributes[resourcev1.QualifiedName(key)]; ok && a.StringValue != nil {
			return *a.StringValue, true
		}
	}
	return "", false
}

func deviceMatches(dev resourcev1.Device, g *worker.GPU, t worker.GPUType, minMemory *int64) bool {
	domain := t.DRADriver()
	if t.Vendor == worker.VendorNVIDIA {
		want := "gpu"
		if g.MIGProfile != "" {
			want = "mig"
		}
		if kind, _ := deviceAttribute(dev, domain, "type"); kind != want {
			return false
		}
	}
	products := g.Product
	if len(products) == 0 {
		products = t.Products
	}
	if len(products) > 0 {
		name, _ := deviceAttribute(dev, domain, "productName")
		found := false
		for _, p := range products {
			found = found || p == name
		}
		if !found {
			return false
		}
	}
	if g.MIGProfile != "" {
		if profile, _ := deviceAttribute(dev, domain, "profile"); profile != g.MIGProfile {
			return false
		}
	}
	if minMemory != nil {
		capacity, ok := dev.Capacity["memory"]
		if !ok {
			capacity, ok = dev.Capacity[resourcev1.QualifiedName(domain+"/memory")]
		}
		if !ok || capacity.Value.Value() < *minMemory {
			return false
		}
	}
	return true
}

// deviceOffer says what each driver publishes: GPUs by product name, MIG
// devices by profile, e.g. "gpu.nvidia.com: NVIDIA A100-SXM4-80GB ×4, 1g.10gb ×7".
func deviceOffer(slices []resourcev1.ResourceSlice) string {
	counts := map[string]map[string]int{}
	for _, slice := range slices {
		driver := slice.Spec.Driver
		for _, dev := range slice.Spec.Devices {
			what, ok := deviceAttribute(dev, driver, "profile")
			if !ok {
				what, ok = deviceAttribute(dev, driver, "productName")
			}
			if !ok {
				what = dev.Name
			}
			if counts[driver] == nil {
				counts[driver] = map[string]int{}
			}
			counts[driver][what]++
		}
	}
	if len(counts) == 0 {
		return "no ResourceSlices (no DRA driver publishes devices)"
	}
	var out []string
	for driver, byWhat := range counts {
		var items []string
		for what, n := range byWhat {
			items = append(items, fmt.Sprintf("%s ×%d", what, n))
		}
		sort.Strings(items)
		out = append(out, driver+": "+strings.Join(items, ", "))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
