package provider

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAccEngineIsolation_machineEngineUndisturbed: the private daemon that
// make test and make demo start (scripts/docker-up.sh, stopped by
// scripts/docker-down.sh; demo.sh uses the same two, and running make demo
// itself here would stop the devcluster the suite runs against) leaves a
// Docker engine of the machine, on docker0, alone. Its containers get
// addresses outside docker0's subnet; after docker-down.sh the machine
// engine's container still runs with the same address on the same network,
// a new one there still gets an address, and the private daemon's bridge is
// gone.
func TestAccEngineIsolation_machineEngineUndisturbed(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("engine isolation test: set TF_ACC=1 (make test does)")
	}
	if err := exec.Command("ip", "link", "show", "docker0").Run(); err == nil {
		t.Skip("docker0 exists: this machine's own Docker engine runs, and the test starts no second engine on its bridge")
	}
	t.Parallel()
	ctx := context.Background()

	// The machine engine: Docker's defaults for the bridge (docker0, which it
	// makes), its own data and exec roots. Without iptables rules, so that
	// the test leaves none behind; the addresses are what is checked. It
	// makes docker0 and leaves it when it stops; this cleanup, which runs
	// after the engine's, removes it unless another daemon has taken it since
	// (an interface on it).
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "-br", "link", "show", "master", "docker0").Output(); err == nil && len(strings.TrimSpace(string(out))) == 0 {
			_ = exec.Command("ip", "link", "del", "docker0").Run()
		}
	})
	machine := startDockerd(t, false)
	mcli := machine.Client()
	defer mcli.Close()
	bridge, err := mcli.NetworkInspect(ctx, "bridge", network.InspectOptions{})
	require.NoError(t, err)
	require.Equal(t, "docker0", bridge.Options["com.docker.network.bridge.name"])
	require.NotEmpty(t, bridge.IPAM.Config)
	_, machineSubnet, err := net.ParseCIDR(bridge.IPAM.Config[0].Subnet)
	require.NoError(t, err)
	docker0Before := linkAddr(t, "docker0")
	first := runSleeper(t, mcli, "machine-one")
	firstIP := containerIP(t, mcli, first)
	require.True(t, machineSubnet.Contains(net.ParseIP(firstIP)), "%s in %s", firstIP, machineSubnet)

	// The project's daemon, as make test and make demo start it.
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "hodei-iso") //nolint:usetesting // t.TempDir paths are too long for the socket
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	script := func(name string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(root, "scripts", name))
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "DOCKER_DIR="+dir)
		return cmd
	}
	t.Cleanup(func() { _ = script("docker-down.sh").Run() })
	out, err := script("docker-up.sh").Output()
	require.NoError(t, err, "docker-up.sh: %s", out)
	projectHost := strings.TrimSpace(string(out))
	raw, err := os.ReadFile(filepath.Join(dir, "bridge"))
	require.NoError(t, err, "docker-up.sh names its bridge")
	projectBridge := strings.TrimSpace(string(raw))
	assert.NotEqual(t, "docker0", projectBridge)
	assert.LessOrEqual(t, len(projectBridge), 15, "Linux interface names have at most 15 characters")
	pcli, err := client.NewClientWithOpts(client.WithHost(projectHost), client.WithAPIVersionNegotiation())
	require.NoError(t, err)
	defer pcli.Close()
	projectOne := runSleeper(t, pcli, "project-one")
	projectIP := containerIP(t, pcli, projectOne)
	assert.False(t, machineSubnet.Contains(net.ParseIP(projectIP)),
		"the project's container %s is outside docker0's %s", projectIP, machineSubnet)
	// Removed first, as make demo-down destroys its workers first: dockerd
	// would wait 15 s for a running container on its way down.
	require.NoError(t, pcli.ContainerRemove(ctx, projectOne, container.RemoveOptions{Force: true}))

	out, err = script("docker-down.sh").CombinedOutput()
	require.NoError(t, err, "docker-down.sh: %s", out)
	assert.Error(t, exec.Command("ip", "link", "show", projectBridge).Run(), "docker-down.sh removed bridge %s", projectBridge)
	links, err := exec.Command("ip", "-br", "link").CombinedOutput()
	require.NoError(t, err, "%s", links)
	assert.NotContains(t, string(links), projectBridge)

	// The machine engine is as it was.
	info, err := mcli.ContainerInspect(ctx, first)
	require.NoError(t, err)
	assert.True(t, info.State.Running, "the machine engine's container still runs")
	require.Contains(t, info.NetworkSettings.Networks, "bridge")
	assert.Equal(t, firstIP, info.NetworkSettings.Networks["bridge"].IPAddress, "and kept its address")
	assert.Equal(t, bridge.ID, info.NetworkSettings.Networks["bridge"].NetworkID, "on the same network")
	assert.Equal(t, docker0Before, linkAddr(t, "docker0"), "docker0 kept its address")
	secondIP := containerIP(t, mcli, runSleeper(t, mcli, "machine-two"))
	assert.True(t, machineSubnet.Contains(net.ParseIP(secondIP)), "a new container there gets an address: %q in %s", secondIP, machineSubnet)
	assert.NotEqual(t, firstIP, secondIP)
}

// runSleeper runs a test-image container that sleeps, removed at the end.
func runSleeper(t *testing.T, cli *client.Client, name string) string {
	t.Helper()
	ctx := context.Background()
	made, err := cli.ContainerCreate(ctx, &container.Config{Image: testImage, Cmd: []string{"sleep", "600"}},
		&container.HostConfig{}, nil, nil, name)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cli.ContainerRemove(context.Background(), made.ID, container.RemoveOptions{Force: true})
	})
	require.NoError(t, cli.ContainerStart(ctx, made.ID, container.StartOptions{}))
	return made.ID
}

// containerIP is the container's address on the default bridge network.
func containerIP(t *testing.T, cli *client.Client, id string) string {
	t.Helper()
	info, err := cli.ContainerInspect(context.Background(), id)
	require.NoError(t, err)
	settings := info.NetworkSettings.Networks["bridge"]
	require.NotNil(t, settings, "container %s is on the bridge network", id)
	require.NotEmpty(t, settings.IPAddress, "container %s has an address", id)
	return settings.IPAddress
}

// linkAddr is the IPv4 address of an interface, as `ip -br -4 addr` shows it.
func linkAddr(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("ip", "-br", "-4", "addr", "show", "dev", name).CombinedOutput()
	require.NoError(t, err, "%s", out)
	fields := strings.Fields(string(out))
	require.GreaterOrEqual(t, len(fields), 3, "%s has an address: %s", name, out)
	return fields[2]
}
