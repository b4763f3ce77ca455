package docker

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// observe reads a container back into the worker's terms: the spec from the
// canonical label, with the resources the container really has.
func observe(info container.InspectResponse, nodeName string) (*worker.Observed, error) {
	spec, err := worker.DecodeCanonical(info.Config.Labels[worker.AnnotationSpec])
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", info.Name, err)
	}
	spec.Resources = observedResources(spec.Resources, info.HostConfig.Resources)
	if info.Config != nil {
		// The canonical label holds env's keys only.
		spec.Env = worker.LiveEnv(spec.Env, envMap(info.Config.Env))
	}
	obs := &worker.Observed{
		Spec:     *spec,
		Status:   status(info.State),
		NodeName: nodeName,
		UID:      info.ID,
	}
	obs.IP = containerIP(info.NetworkSettings)
	if t, err := time.Parse(time.RFC3339Nano, info.State.StartedAt); err == nil && !t.IsZero() && t.Year() > 1 {
		obs.StartedAt = t
	}
	return obs, nil
}

// containerIP is the address on the default bridge, else on the first
// network by name, so that the same container always reports the same IP.
func containerIP(settings *container.NetworkSettings) string {
	if settings == nil {
		return ""
	}
	if n := settings.Networks["bridge"]; n != nil && n.IPAddress != "" {
		return n.IPAddress
	}
	names := make([]string, 0, len(settings.Networks))
	for name := range settings.Networks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if n := settings.Networks[name]; n != nil && n.IPAddress != "" {
			return n.IPAddress
		}
	}
	return ""
}

func status(s *container.State) worker.Status {
	switch {
	case s == nil:
		return worker.StatusUnknown
	case s.Running && !s.Restarting:
		return worker.StatusRunning
	case s.Restarting || s.Status == container.StateCreated:
		return worker.StatusPending
	case s.Status == container.StateExited || s.Status == container.StateDead:
		if s.ExitCode == 0 {
			return worker.StatusSucceeded
		}
		return worker.StatusFailed
	}
	return worker.StatusUnknown
}

// observedResources keeps each declared quantity while the container still
// has it, and otherwise reports what the container has: a change made with
// `docker update` shows as drift, a respelling never does.
//
// declared comes from the canonical label, which Docker cannot change after
// the create: after an in-place update it holds the values the container
// was made with, and the live values are reported. Each is reported as the
// quantity that maps back to it (sharesToMilli, nanoQuantity), so that the
// value the user wrote compares equal to it whenever the two map to the
// same CPU shares, NanoCPUs or bytes, and an update is never planned again
// and again.
func observedResources(declared *worker.Resources, r container.Resources) *worker.Resources {
	var want container.Resources
	if declared != nil {
		if err := applyResources(&want, declared); err != nil {
			declared = nil
		}
	}
	out := &worker.Resources{}
	if declared != nil {
		*out = *declared
	}
	if want.CPUShares != r.CPUShares {
		out.CPU = ""
		if r.CPUShares > 0 {
			out.CPU = resource.NewMilliQuantity(sharesToMilli(r.CPUShares), resource.DecimalSI).String()
		}
	}
	if want.NanoCPUs != r.NanoCPUs {
		out.CPULimit = ""
		if r.NanoCPUs > 0 {
			out.CPULimit = resource.NewScaledQuantity(r.NanoCPUs, resource.Nano).String()
		}
	}
	if want.MemoryReservation != r.MemoryReservation {
		out.Memory = ""
		if r.MemoryReservation > 0 {
			out.Memory = resource.NewQuantity(r.MemoryReservation, resource.BinarySI).String()
		}
	}
	if want.Memory != r.Memory {
		out.MemoryLimit = ""
		if r.Memory > 0 {
			out.MemoryLimit = resource.NewQuantity(r.Memory, resource.BinarySI).String()
		}
	}
	if declared == nil && *out == (worker.Resources{}) {
		return nil
	}
	return out
}

// sharesToMilli inverts cpuShares: the smallest CPU request, in millicores,
// whose shares are these. cpuShares multiplies by 1.024 and rounds down, so
// every request of two millicores or more maps to shares of its own, and
// this gives that request back exactly ("0.3": 307 shares, 300m). Rounding
// down instead (307 → 299m) made every request that is not a multiple of
// 125m show a change after each in-place update.
func sharesToMilli(shares int64) int64 {
	const sharesPerCPU = 1024
	return (shares*1000 + sharesPerCPU - 1) / sharesPerCPU
}

// envMap reads Docker's NAME=value list.
func envMap(env []string) map[string]string {
	out := make(map[string]string, len(env))
	for _, e := range env {
		name, value, _ := strings.Cut(e, "=")
		out[name] = value
	}
	return out
}
