package docker

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/client"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

var _ worker.Preflighter = (*Driver)(nil)

// nvidiaCDIPrefix starts the CDI device names of NVIDIA GPUs
// (nvidia-ctk cdi generate).
const nvidiaCDIPrefix = "nvidia.com/gpu"

// Preflight tells, from one `docker info` per provider process, whether the
// daemon can give an NVIDIA GPU worker its devices: it needs the NVIDIA
// runtime or NVIDIA CDI devices. Nothing else on Docker needs the daemon
// at plan.
func (d *Driver) Preflight(ctx context.Context, s *worker.Spec) worker.PreflightReport {
	var report worker.PreflightReport
	if !PreflightNeeded(s, d.catalog) {
		return report
	}
	info, err := d.info.get(ctx, d.client)
	if err != nil {
		report.Skipped = append(report.Skipped, worker.SkippedCheck{Check: "docker info", Reason: err.Error()})
		return report
	}
	if nvidiaCapable(info) {
		return report
	}
	report.Problems = append(report.Problems, worker.Problem{
		Path:    worker.Path{"gpu", "type"},
		Summary: "The Docker daemon has no NVIDIA GPU support",
		Detail: fmt.Sprintf("gpu type %q needs the NVIDIA container runtime or NVIDIA CDI devices on daemon %q, and docker info reports %s. "+
			"Install the NVIDIA Container Toolkit there (nvidia-ctk runtime configure --runtime=docker, or nvidia-ctk cdi generate), or run the worker on the kubernetes backend",
			s.GPU.Type, info.Name, describeGPUSupport(info)),
	})
	return report
}

func nvidiaCapable(info system.Info) bool {
	if _, ok := info.Runtimes["nvidia"]; ok {
		return true
	}
	return slices.ContainsFunc(info.DiscoveredDevices, func(dev system.DeviceInfo) bool {
		return strings.HasPrefix(dev.ID, nvidiaCDIPrefix)
	})
}

// describeGPUSupport is what docker info says about runtimes and CDI.
func describeGPUSupport(info system.Info) string {
	var runtimes []string
	for name := range info.Runtimes {
		runtimes = append(runtimes, name)
	}
	sort.Strings(runtimes)
	if len(runtimes) == 0 {
		runtimes = []string{"none"}
	}
	cdi := "none"
	if len(info.CDISpecDirs) > 0 {
		cdi = strings.Join(info.CDISpecDirs, ", ")
	}
	devices := []string{}
	for _, dev := range info.DiscoveredDevices {
		devices = append(devices, dev.ID)
	}
	return fmt.Sprintf("Runtimes: %s; CDISpecDirs: %s; CDI devices: %d%s",
		strings.Join(runtimes, ", "), cdi, len(devices), listed(devices))
}

func listed(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return " (" + strings.Join(items, ", ") + ")"
}

// daemonInfo is the daemon's info, asked on first use and kept; a failed
// request is asked again by the next caller.
type daemonInfo struct {
	mu   sync.Mutex
	done bool
	info system.Info
}

func (c *daemonInfo) get(ctx context.Context, cli *client.Client) (system.Info, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return c.info, nil
	}
	info, err := cli.Info(ctx)
	if err != nil {
		return system.Info{}, fmt.Errorf("docker info: %w", err)
	}
	c.done, c.info = true, info
	return info, nil
}

// PreflightNeeded tells whether Preflight has anything to ask the daemon
// about s, so that a plan without NVIDIA GPUs never connects.
func PreflightNeeded(s *worker.Spec, catalog *worker.Catalog) bool {
	if s.GPU == nil {
		return false
	}
	gpu, ok := catalog.Lookup(s.GPU.Type)
	return ok && gpu.Vendor == worker.VendorNVIDIA
}
