package docker

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Devices that AMD (ROCm) and Intel GPUs need inside a container.
var (
	amdDevices   = []string{"/dev/kfd", "/dev/dri"}
	intelDevices = []string{"/dev/dri"}
)

// restartPolicies maps the contract's policies to Docker's. Always becomes
// unless-stopped so that a container stopped by hand stays stopped (and is
// then planned for replacement) instead of coming back with the daemon.
var restartPolicies = map[string]container.RestartPolicyMode{
	"Always":    container.RestartPolicyUnlessStopped,
	"OnFailure": container.RestartPolicyOnFailure,
	"Never":     container.RestartPolicyDisabled,
}

// containerSpec is what ContainerCreate takes.
type containerSpec struct {
	Config     *container.Config
	HostConfig *container.HostConfig
}

// buildContainer maps a validated spec onto Docker's create request.
func buildContainer(s *worker.Spec, catalog *worker.Catalog) (*containerSpec, error) {
	canonical, err := worker.EncodeCanonical(s)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{worker.AnnotationSpec: canonical}
	for k, v := range s.Labels {
		labels[k] = v
	}
	for k, v := range s.OwnershipLabels() {
		labels[k] = v
	}
	cfg := &container.Config{
		Image:      s.Image,
		Entrypoint: s.Command,
		Cmd:        s.Args,
		Env:        envList(s.Env, s.SecretEnvWO),
		WorkingDir: s.WorkingDir,
		Labels:     labels,
	}
	if err := applyLifecycle(cfg, s); err != nil {
		return nil, err
	}
	host := &container.HostConfig{
		RestartPolicy: container.RestartPolicy{Name: restartPolicies[s.RestartPolicy]},
		SecurityOpt:   []string{"no-new-privileges:true"},
		CapDrop:       []string{"ALL"},
	}
	if s.Security != nil {
		host.CapAdd = s.Security.AddCapabilities
		host.ReadonlyRootfs = s.Security.ReadOnlyRootFilesystem
		cfg.User = userSpec(s.Security)
	}
	if err := applyResources(&host.Resources, s.Resources); err != nil {
		return nil, err
	}
	// The runtime class names a runtime of the daemon (docker run --runtime).
	host.Runtime = s.RuntimeClass(catalog)
	if s.ShmSize != "" {
		q, err := worker.ParseQuantity(s.ShmSize)
		if err != nil {
			return nil, fmt.Errorf("shm_size: %w", err)
		}
		host.ShmSize = q.Value()
	}
	if s.GPU != nil {
		gpu, err := s.GPU.CatalogType(catalog)
		if err != nil {
			return nil, err
		}
		applyGPU(host, gpu, s.GPU.Count)
	}
	for _, v := range s.Volumes {
		m, err := buildMount(v)
		if err != nil {
			return nil, err
		}
		host.Mounts = append(host.Mounts, m)
	}
	return &containerSpec{Config: cfg, HostConfig: host}, nil
}

// envList is env and secret_env_wo as Docker takes them: validation keeps
// their names apart.
func envList(envs ...map[string]string) []string {
	out := []string{}
	for _, env := range envs {
		for k, v := range env {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

func userSpec(sec *worker.Security) string {
	switch {
	case sec.RunAsUser != nil && sec.RunAsGroup != nil:
		return fmt.Sprintf("%d:%d", *sec.RunAsUser, *sec.RunAsGroup)
	case sec.RunAsUser != nil:
		return strconv.FormatInt(*sec.RunAsUser, 10)
	}
	return ""
}

// cpuShares converts a CPU request the way the kubelet does, so that the
// relative weight of two workers is the same on both backends.
func cpuShares(milli int64) int64 {
	const sharesPerCPU, minShares = 1024, 2
	shares := milli * sharesPerCPU / 1000
	if shares < minShares {
		return minShares
	}
	return shares
}

func applyResources(r *container.Resources, res *worker.Resources) error {
	if res == nil {
		return nil
	}
	parse := func(attr, v string) (*resource.Quantity, error) {
		if v == "" {
			return nil, nil
		}
		q, err := worker.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("resources.%s: %w", attr, err)
		}
		return &q, nil
	}
	cpu, err := parse("cpu", res.CPU)
	if err != nil {
		return err
	}
	cpuLimit, err := parse("cpu_limit", res.CPULimit)
	if err != nil {
		return err
	}
	mem, err := parse("memory", res.Memory)
	if err != nil {
		return err
	}
	memLimit, err := parse("memory_limit", res.MemoryLimit)
	if err != nil {
		return err
	}
	if cpu != nil {
		r.CPUShares = cpuShares(cpu.MilliValue())
	}
	if cpuLimit != nil {
		r.NanoCPUs = cpuLimit.MilliValue() * 1_000_000
	}
	if mem != nil {
		r.MemoryReservation = mem.Value()
	}
	if memLimit != nil {
		// Swap equal to memory means no swap, as on Kubernetes.
		r.Memory = memLimit.Value()
		r.MemorySwap = memLimit.Value()
	}
	return nil
}

func applyGPU(host *container.HostConfig, gpu worker.GPUType, count int64) {
	var devices []string
	switch gpu.Vendor {
	case worker.VendorNVIDIA:
		host.DeviceRequests = []container.DeviceRequest{{
			Driver:       "nvidia",
			Count:        int(count),
			Capabilities: [][]string{{"gpu"}},
		}}
		return
	case worker.VendorAMD:
		devices = amdDevices
		host.GroupAdd = []string{"video"}
	case worker.VendorIntel:
		devices = intelDevices
	}
	for _, d := range devices {
		host.Devices = append(host.Devices, container.DeviceMapping{PathOnHost: d, PathInContainer: d, CgroupPermissions: "rwm"})
	}
}

func buildMount(v worker.Volume) (mount.Mount, error) {
	m := mount.Mount{Target: v.MountPath, ReadOnly: v.ReadOnly}
	switch {
	case v.Persistent != nil:
		m.Type = mount.TypeVolume
		m.Source = v.Persistent.ClaimName
		if v.SubPath != "" {
			m.VolumeOptions = &mount.VolumeOptions{Subpath: v.SubPath}
		}
	case v.Ephemeral != nil && v.Ephemeral.Medium == "Memory":
		m.Type = mount.TypeTmpfs
		if v.Ephemeral.SizeLimit != "" {
			q, err := worker.ParseQuantity(v.Ephemeral.SizeLimit)
			if err != nil {
				return m, fmt.Errorf("volume %q: ephemeral.size_limit: %w", v.Name, err)
			}
			m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: q.Value()}
		}
	case v.Ephemeral != nil:
		// No source makes an anonymous volume, which RemoveVolumes deletes
		// with the container.
		m.Type = mount.TypeVolume
	case v.HostPath != nil:
		m.Type = mount.TypeBind
		m.Source = v.HostPath.Path
		if v.SubPath != "" {
			m.Source = path.Join(v.HostPath.Path, v.SubPath)
		}
		if v.HostPath.Type == "DirectoryOrCreate" {
			m.BindOptions = &mount.BindOptions{CreateMountpoint: true}
		}
	default:
		return m, fmt.Errorf("volume %q has no source", v.Name)
	}
	return m, nil
}

// applyLifecycle sets the stop timeout and the health check: both live in
// the container's Config, fixed at create, as the pod spec fixes them.
func applyLifecycle(cfg *container.Config, s *worker.Spec) error {
	if s.TerminationGracePeriod != "" {
		grace, err := worker.Seconds(s.TerminationGracePeriod)
		if err != nil {
			return fmt.Errorf("termination_grace_period: %w", err)
		}
		seconds := int(grace)
		cfg.StopTimeout = &seconds
	}
	r := s.Readiness
	if r == nil {
		return nil
	}
	if r.Exec == nil {
		return fmt.Errorf("readiness: Docker runs only an exec probe as its health check")
	}
	period, delay, err := r.Timing()
	if err != nil {
		return err
	}
	cfg.Healthcheck = &container.HealthConfig{
		Test:        append([]string{"CMD"}, r.Exec.Command...),
		Interval:    time.Duration(period) * time.Second,
		Retries:     int(r.FailureThreshold),
		StartPeriod: time.Duration(delay) * time.Second,
	}
	return nil
}
