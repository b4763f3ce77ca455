package docker

import (
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

func baseSpec() *worker.Spec {
	return &worker.Spec{Name: "w", Backend: worker.BackendDocker, Image: "busybox", RestartPolicy: "Always"}
}

func TestBuildContainerGPU(t *testing.T) {
	catalog := worker.DefaultCatalog()
	for _, tc := range []struct {
		gpuType  string
		requests []container.DeviceRequest
		devices  []string
		groups   []string
	}{
		{gpuType: "A100", requests: []container.DeviceRequest{{Driver: "nvidia", Count: 2, Capabilities: [][]string{{"gpu"}}}}},
		{gpuType: "mi200", devices: []string{"/dev/kfd", "/dev/dri"}, groups: []string{"video"}},
		{gpuType: "intel-xe", devices: []string{"/dev/dri"}},
	} {
		t.Run(tc.gpuType, func(t *testing.T) {
			s := baseSpec()
			s.GPU = &worker.GPU{Type: tc.gpuType, Count: 2}
			built, err := buildContainer(s, catalog)
			require.NoError(t, err)
			assert.Equal(t, tc.requests, built.HostConfig.DeviceRequests)
			var paths []string
			for _, d := range built.HostConfig.Devices {
				assert.Equal(t, d.PathOnHost, d.PathInContainer)
				assert.Equal(t, "rwm", d.CgroupPermissions)
				paths = append(paths, d.PathOnHost)
			}
			assert.Equal(t, tc.devices, paths)
			assert.Equal(t, tc.groups, built.HostConfig.GroupAdd)
		})
	}
}

func TestBuildContainerMapping(t *testing.T) {
	uid, gid := int64(1000), int64(2000)
	s := baseSpec()
	s.Command, s.Args = []string{"python"}, []string{"train.py"}
	s.Env = map[string]string{"B": "2", "A": "1"}
	s.Labels = map[string]string{"team": "ml"}
	s.RestartPolicy = "OnFailure"
	s.Resources = &worker.Resources{CPU: "250m", Memory: "1Gi", CPULimit: "1.5", MemoryLimit: "2Gi"}
	s.Security = &worker.Security{RunAsUser: &uid, RunAsGroup: &gid, ReadOnlyRootFilesystem: true, AddCapabilities: []string{"NET_BIND_SERVICE"}}
	s.Volumes = []worker.Volume{
		{Name: "data", MountPath: "/data", ReadOnly: true, Persistent: &worker.PersistentSource{ClaimName: "datasets"}},
		{Name: "tmp", MountPath: "/tmp", Ephemeral: &worker.EphemeralSource{Medium: "Memory", SizeLimit: "10Mi"}},
		{Name: "cache", MountPath: "/cache", Ephemeral: &worker.EphemeralSource{}},
		{Name: "models", MountPath: "/models", SubPath: "v3", HostPath: &worker.HostPathSource{Path: "/srv/models"}},
	}
	built, err := buildContainer(s, worker.DefaultCatalog())
	require.NoError(t, err)
	cfg, host := built.Config, built.HostConfig
	assert.Equal(t, []string{"python"}, []string(cfg.Entrypoint))
	assert.Equal(t, []string{"train.py"}, []string(cfg.Cmd))
	assert.Equal(t, []string{"A=1", "B=2"}, cfg.Env)
	assert.Equal(t, "1000:2000", cfg.User)
	assert.Equal(t, "ml", cfg.Labels["team"])
	assert.Equal(t, "hodei", cfg.Labels[worker.LabelManagedBy])
	assert.Equal(t, "w", cfg.Labels[worker.LabelWorker])
	decoded, err := worker.DecodeCanonical(cfg.Labels[worker.AnnotationSpec])
	require.NoError(t, err)
	// The label holds env's keys only; observe reads the values from Env.
	assert.Equal(t, map[string]string{"A": "", "B": ""}, decoded.Env)
	decoded.Env = worker.LiveEnv(decoded.Env, envMap(cfg.Env))
	assert.Equal(t, s, decoded)
	assert.Equal(t, container.RestartPolicyOnFailure, host.RestartPolicy.Name)
	assert.Equal(t, int64(256), host.CPUShares)
	assert.Equal(t, int64(1_500_000_000), host.NanoCPUs)
	assert.Equal(t, int64(1<<30), host.MemoryReservation)
	assert.Equal(t, int64(2<<30), host.Memory)
	assert.Equal(t, host.Memory, host.MemorySwap, "no swap beyond the limit")
	assert.Equal(t, []string{"ALL"}, []string(host.CapDrop))
	assert.Equal(t, []string{"NET_BIND_SERVICE"}, []string(host.CapAdd))
	assert.Equal(t, []string{"no-new-privileges:true"}, host.SecurityOpt)
	assert.True(t, host.ReadonlyRootfs)
	require.Len(t, host.Mounts, 4)
	assert.Equal(t, mount.Mount{Type: mount.TypeVolume, Source: "datasets", Target: "/data", ReadOnly: true}, host.Mounts[0])
	assert.Equal(t, mount.Mount{Type: mount.TypeTmpfs, Target: "/tmp", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 10 << 20}}, host.Mounts[1])
	assert.Equal(t, mount.Mount{Type: mount.TypeVolume, Target: "/cache"}, host.Mounts[2])
	assert.Equal(t, mount.Mount{Type: mount.TypeBind, Source: "/srv/models/v3", Target: "/models"}, host.Mounts[3])
}

func TestObservedResourcesKeepSpellingAndShowDrift(t *testing.T) {
	declared := &worker.Resources{CPU: "0.5", CPULimit: "1", MemoryLimit: "1024Mi"}
	var live container.Resources
	require.NoError(t, applyResources(&live, declared))
	assert.Equal(t, declared, observedResources(declared, live), "unchanged values keep their spelling")

	live.NanoCPUs = 2_500_000_000
	got := observedResources(declared, live)
	assert.Equal(t, "2500m", got.CPULimit, "a docker update shows as drift")
	assert.Equal(t, "0.5", got.CPU)
	assert.Nil(t, observedResources(nil, container.Resources{}))
}

func TestDockerCheckWarnings(t *testing.T) {
	s := baseSpec()
	s.Namespace = "ml"
	s.Scheduling = &worker.Scheduling{
		NodeSelector: map[string]string{"zone": "a"},
		Tolerations:  []worker.Toleration{{Key: "k", Operator: "Exists"}},
	}
	s.Volumes = []worker.Volume{{Name: "v", MountPath: "/v", Ephemeral: &worker.EphemeralSource{SizeLimit: "1Gi"}}}
	s.GPU = &worker.GPU{Type: "mi200", Count: 1}
	problems := Check(s, worker.DefaultCatalog())
	var paths []string
	for _, p := range problems {
		assert.True(t, p.Warning, p.String())
		paths = append(paths, p.Path.String())
	}
	assert.ElementsMatch(t, []string{
		"namespace", "scheduling.node_selector", "scheduling.toleration",
		"volume[0].ephemeral.size_limit", "gpu.count",
	}, paths)
	assert.Empty(t, Check(baseSpec(), worker.DefaultCatalog()))
}

// A spec read back from a container's label is text from outside: a
// quantity with a huge exponent, which the Kubernetes parser would take
// minutes over, is refused at once, as plan-time validation refuses it.
func TestApplyResourcesRefusesUnboundedQuantities(t *testing.T) {
	var r container.Resources
	err := applyResources(&r, &worker.Resources{CPU: "1e100000000"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "resources.cpu: the exponent 100000000 is outside")
}

func TestBuildContainerWriteOnlyEnv(t *testing.T) {
	s := &worker.Spec{Name: "w", Backend: worker.BackendDocker, Image: "busybox", RestartPolicy: "Always",
		Env: map[string]string{"MODE": "plain-value"}, SecretEnvWO: map[string]string{"TOKEN": "write-only-value"}, SecretEnvWOVersion: ptrInt64(2)}
	built, err := buildContainer(s, worker.DefaultCatalog())
	require.NoError(t, err)
	assert.Equal(t, []string{"MODE=plain-value", "TOKEN=write-only-value"}, built.Config.Env)
	for k, v := range built.Config.Labels {
		assert.NotContains(t, v, "write-only-value", k)
		assert.NotContains(t, v, "plain-value", k)
	}
	obs, err := observe(container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{Name: "/w", HostConfig: &container.HostConfig{}, State: &container.State{}},
		Config:            &container.Config{Labels: built.Config.Labels, Env: append(built.Config.Env, "PATH=/bin")},
	}, "node")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"MODE": "plain-value"}, obs.Spec.Env, "env's values from the container; the image's and the write-only ones left out")
	assert.Equal(t, ptrInt64(2), obs.Spec.SecretEnvWOVersion)
}

func ptrInt64(v int64) *int64 { return &v }

func TestBuildContainerRuntimeAndShm(t *testing.T) {
	catalog, err := worker.NewCatalog(worker.GPUType{Name: "l4", Vendor: worker.VendorNVIDIA, NodeLabel: "nvidia-l4", RuntimeClass: "nvidia"})
	require.NoError(t, err)
	s := baseSpec()
	built, err := buildContainer(s, catalog)
	require.NoError(t, err)
	assert.Empty(t, built.HostConfig.Runtime, "the daemon's default runtime")
	assert.Zero(t, built.HostConfig.ShmSize, "Docker's default size")

	s.ShmSize = "256Mi"
	s.GPU = &worker.GPU{Type: "l4", Count: 1}
	built, err = buildContainer(s, catalog)
	require.NoError(t, err)
	assert.Equal(t, int64(256<<20), built.HostConfig.ShmSize)
	assert.Equal(t, "nvidia", built.HostConfig.Runtime, "the GPU type's runtime class")
	assert.Equal(t, "nvidia", built.HostConfig.DeviceRequests[0].Driver, "the device request stays")

	s.RuntimeClassName = "runc"
	built, err = buildContainer(s, catalog)
	require.NoError(t, err)
	assert.Equal(t, "runc", built.HostConfig.Runtime, "the worker's own wins")
}

func TestDockerCheckWarnsOfKubernetesOnlyIdentityAndStorage(t *testing.T) {
	s := baseSpec()
	s.ServiceAccountName = "trainer"
	s.AutomountServiceAccountToken = true
	s.Resources = &worker.Resources{EphemeralStorage: "1Gi", EphemeralStorageLimit: "2Gi"}
	var paths []string
	for _, p := range Check(s, worker.DefaultCatalog()) {
		assert.True(t, p.Warning)
		paths = append(paths, p.Path.String())
	}
	assert.Equal(t, []string{"service_account_name", "automount_service_account_token", "resources.ephemeral_storage", "resources.ephemeral_storage_limit"}, paths)
}
