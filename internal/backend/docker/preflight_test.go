package docker

import (
	"testing"

	"github.com/docker/docker/api/types/system"
	"github.com/stretchr/testify/assert"
)

func TestNvidiaCapableByRuntimeOrCDIDevice(t *testing.T) {
	plain := system.Info{Runtimes: map[string]system.RuntimeWithStatus{"runc": {}}}
	assert.False(t, nvidiaCapable(plain))
	assert.Equal(t, "Runtimes: runc; CDISpecDirs: none; CDI devices: 0", describeGPUSupport(plain))

	withRuntime := system.Info{Runtimes: map[string]system.RuntimeWithStatus{"runc": {}, "nvidia": {}}}
	assert.True(t, nvidiaCapable(withRuntime))

	withCDI := system.Info{
		CDISpecDirs:       []string{"/etc/cdi", "/var/run/cdi"},
		DiscoveredDevices: []system.DeviceInfo{{Source: "cdi", ID: "nvidia.com/gpu=0"}},
	}
	assert.True(t, nvidiaCapable(withCDI))
	assert.Equal(t, "Runtimes: none; CDISpecDirs: /etc/cdi, /var/run/cdi; CDI devices: 1 (nvidia.com/gpu=0)", describeGPUSupport(withCDI))
}
