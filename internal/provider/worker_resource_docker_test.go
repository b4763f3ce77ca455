package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomName(prefix string) string {
	return prefix + "-" + acctest.RandStringFromCharSet(6, acctest.CharSetAlpha)
}

func inspect(t *testing.T, cli *client.Client, name string) container.InspectResponse {
	t.Helper()
	info, err := cli.ContainerInspect(context.Background(), name)
	require.NoError(t, err)
	return info
}

// assertNoContainer checks that no container of that name exists.
func assertNoContainer(cli *client.Client, name string) error {
	_, err := cli.ContainerInspect(context.Background(), name)
	if err == nil {
		return fmt.Errorf("container %q still exists", name)
	}
	if !cerrdefs.IsNotFound(err) {
		return err
	}
	return nil
}

func TestAccWorkerDocker_fullLifecycle(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("full")
	bindDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bindDir, "model.bin"), []byte("weights"), 0o644))
	var anonymousVolumes []string
	var containerID string

	config := func(cpu, memory, cpuLimit, memoryLimit, scratch string) string {
		return fmt.Sprintf(`
resource "hodei_worker" "test" {
  name    = %[1]q
  image   = %[2]q
  command = ["sh", "-c"]
  args    = ["echo started; sleep 3600"]
  env     = { EPOCHS = "10", MODE = "train" }
  labels  = { team = "ml", tier = "batch" }
  working_dir = "/tmp"

  resources {
    cpu          = %[3]q
    memory       = %[4]q
    cpu_limit    = %[5]q
    memory_limit = %[6]q
  }
  volume {
    name       = "scratch"
    mount_path = "/scratch"
    ephemeral {
      size_limit = %[7]q
      medium     = "Memory"
    }
  }
  volume {
    name       = "cache"
    mount_path = "/cache"
    ephemeral {}
  }
  volume {
    name       = "datasets"
    mount_path = "/data"
    persistent { claim_name = %[8]q }
  }
  volume {
    name       = "models"
    mount_path = "/models"
    read_only  = true
    host_path { path = %[9]q }
  }
}
`, name, testImage, cpu, memory, cpuLimit, memoryLimit, scratch, name+"-datasets", bindDir)
	}

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			if err := assertNoContainer(cli, name); err != nil {
				return err
			}
			for _, v := range anonymousVolumes {
				if _, err := cli.VolumeInspect(context.Background(), v); !cerrdefs.IsNotFound(err) {
					return fmt.Errorf("anonymous volume %s outlived its container (inspect said: %w)", v, err)
				}
			}
			// The named volume is persistent: it stays, as a claim would.
			return cli.VolumeRemove(context.Background(), name+"-datasets", true)
		},
		Steps: []resource.TestStep{
			{
				Config: config("0.5", "256Mi", "1", "1Gi", "64Mi"),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("hodei_worker.test", "id", "docker/"+name),
					resource.TestCheckResourceAttr("hodei_worker.test", "backend", "docker"),
					resource.TestCheckResourceAttr("hodei_worker.test", "status", "Running"),
					resource.TestCheckResourceAttrSet("hodei_worker.test", "ip"),
					func(*terraform.State) error {
						info := inspect(t, cli, name)
						containerID = info.ID
						assert.True(t, info.State.Running)
						assert.Equal(t, []string{"sh", "-c"}, []string(info.Config.Entrypoint))
						assert.Equal(t, []string{"echo started; sleep 3600"}, []string(info.Config.Cmd))
						assert.Subset(t, info.Config.Env, []string{"EPOCHS=10", "MODE=train"})
						assert.Equal(t, "/tmp", info.Config.WorkingDir)
						assert.Equal(t, "ml", info.Config.Labels["team"])
						assert.Equal(t, "batch", info.Config.Labels["tier"])
						assert.Equal(t, "hodei", info.Config.Labels["app.kubernetes.io/managed-by"])
						assert.Equal(t, name, info.Config.Labels["hodei.io/worker"])
						assert.Contains(t, info.Config.Labels["hodei.io/spec"], `"name":"`+name+`"`)
						assert.Equal(t, int64(512), info.HostConfig.CPUShares)
						assert.Equal(t, int64(1_000_000_000), info.HostConfig.NanoCPUs)
						assert.Equal(t, int64(256<<20), info.HostConfig.MemoryReservation)
						assert.Equal(t, int64(1<<30), info.HostConfig.Memory)
						assert.Equal(t, []string{"ALL"}, []string(info.HostConfig.CapDrop))
						assert.Contains(t, info.HostConfig.SecurityOpt, "no-new-privileges:true")
						mounts := map[string]mount.Mount{}
						for _, m := range info.HostConfig.Mounts {
							mounts[m.Target] = m
						}
						assert.Equal(t, mount.TypeTmpfs, mounts["/scratch"].Type)
						require.NotNil(t, mounts["/scratch"].TmpfsOptions)
						assert.Equal(t, int64(64<<20), mounts["/scratch"].TmpfsOptions.SizeBytes)
						assert.Equal(t, mount.TypeVolume, mounts["/data"].Type)
						assert.Equal(t, name+"-datasets", mounts["/data"].Source)
						assert.Equal(t, mount.TypeBind, mounts["/models"].Type)
						assert.True(t, mounts["/models"].ReadOnly)
						for _, m := range info.Mounts {
							if m.Destination == "/cache" {
								anonymousVolumes = append(anonymousVolumes, m.Name)
							}
						}
						assert.Len(t, anonymousVolumes, 1, "the disk ephemeral volume is an anonymous volume")
						return nil
					},
				),
			},
			{
				// The same values spelled otherwise are no change.
				Config:           config("500m", "0.25Gi", "1000m", "1024Mi", "65536Ki"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				// A CPU limit change updates the same container.
				Config: config("500m", "0.25Gi", "1500m", "1024Mi", "65536Ki"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					info := inspect(t, cli, name)
					assert.Equal(t, containerID, info.ID, "an in-place update keeps the container")
					assert.Equal(t, int64(1_500_000_000), info.HostConfig.NanoCPUs)
					return nil
				},
			},
			{
				ResourceName:            "hodei_worker.test",
				ImportState:             true,
				ImportStateId:           "docker/" + name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}

func simpleWorker(name, extra string) string {
	return fmt.Sprintf(`
resource "hodei_worker" "test" {
  name    = %q
  image   = %q
  command = ["sleep", "3600"]
  %s
}
`, name, testImage, extra)
}

func TestAccWorkerDocker_drift(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("drift")
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{
			{
				Config: simpleWorker(name, ""),
				Check: func(*terraform.State) error {
					firstID = inspect(t, cli, name).ID
					return nil
				},
			},
			{
				// Removed out of band: the plan creates it again.
				PreConfig: func() {
					require.NoError(t, cli.ContainerRemove(context.Background(), name, container.RemoveOptions{Force: true}))
				},
				Config: simpleWorker(name, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionCreate),
				}},
				Check: func(*terraform.State) error {
					info := inspect(t, cli, name)
					assert.NotEqual(t, firstID, info.ID)
					assert.True(t, info.State.Running)
					return nil
				},
			},
			{
				// Stopped out of band: the plan replaces it.
				PreConfig: func() {
					timeout := 0
					require.NoError(t, cli.ContainerStop(context.Background(), name, container.StopOptions{Timeout: &timeout}))
				},
				Config: simpleWorker(name, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.TestCheckResourceAttr("hodei_worker.test", "status", "Running"),
			},
			{
				// With recreate_on_exit = false an exited worker stays as it is.
				PreConfig: func() {
					timeout := 0
					require.NoError(t, cli.ContainerStop(context.Background(), name, container.StopOptions{Timeout: &timeout}))
				},
				Config:             simpleWorker(name, "recreate_on_exit = false"),
				ExpectNonEmptyPlan: false,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionUpdate),
				}},
				Check: resource.TestCheckResourceAttr("hodei_worker.test", "status", "Failed"),
			},
		},
	})
}

func TestAccWorkerDocker_exitFailsFastAndCleansUp(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("exit")
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { started = time.Now() },
				Config: fmt.Sprintf(`
resource "hodei_worker" "test" {
  name    = %q
  image   = %q
  command = ["sh", "-c", "echo loading model; echo model file missing >&2; exit 3"]
}
`, name, testImage),
				ExpectError: regexp.MustCompile(`(?s)exited\s+with\s+code\s+3.*model\s+file\s+missing`),
			},
			{
				PreConfig: func() {
					assert.Less(t, time.Since(started), 10*time.Second, "a failing command must fail the apply within 10 s")
					assert.NoError(t, assertNoContainer(cli, name))
				},
				Config:   `# nothing`,
				PlanOnly: true,
			},
		},
	})
}

// The startup window is short and follows the daemon's pace (issue 16): ten
// workers whose command exits at once, applied at parallelism 10 beside ten
// that run, must each fail and leave no container, while the ten that run
// are created.
func TestAccWorkerDocker_parallelExitsAllFail(t *testing.T) {
	cli := dockerTestClient(t)
	prefix := randomName("burst")
	const n = 10
	config := fmt.Sprintf(`
resource "hodei_worker" "exits" {
  count   = %[1]d
  name    = "%[2]s-exit-${count.index}"
  image   = %[3]q
  command = ["sh", "-c", "echo config missing >&2; exit 3"]
}

resource "hodei_worker" "runs" {
  count   = %[1]d
  name    = "%[2]s-run-${count.index}"
  image   = %[3]q
  command = ["sleep", "3600"]
}
`, n, prefix, testImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      config,
				ExpectError: regexp.MustCompile(`(?s)exited\s+with\s+code\s+3.*config\s+missing`),
			},
			{
				PreConfig: func() {
					for i := range n {
						assert.NoError(t, assertNoContainer(cli, fmt.Sprintf("%s-exit-%d", prefix, i)), "an exit the window missed")
						assert.True(t, inspect(t, cli, fmt.Sprintf("%s-run-%d", prefix, i)).State.Running)
					}
				},
				// A missed exit would have left its container, and its worker
				// in the state.
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

func TestAccWorkerDocker_nvidiaGPURefusedWithoutOrphan(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("gpu")
	const gpu = `gpu {
    type  = "A100"
    count = 2
  }`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				// The plan reads docker info and refuses at once.
				Config:   simpleWorker(name, gpu),
				PlanOnly: true,
				ExpectError: words(`The Docker daemon has no NVIDIA GPU support`, `gpu.type:`,
					`needs the NVIDIA container runtime or NVIDIA CDI devices`, `docker info reports Runtimes: io.containerd.runc.v2`, `CDISpecDirs: none; CDI devices: 0`),
			},
			{
				PreConfig: func() { assert.NoError(t, assertNoContainer(cli, name)) },
				// Without the preflight, the daemon's own words when no
				// NVIDIA runtime is installed, at apply.
				Config:      `provider "hodei" { preflight = "off" }` + simpleWorker(name, gpu),
				ExpectError: regexp.MustCompile(`(?i)could\s+not\s+select\s+device\s+driver\s+"nvidia"`),
			},
			{
				PreConfig: func() { assert.NoError(t, assertNoContainer(cli, name)) },
				Config:    `# nothing`,
				PlanOnly:  true,
			},
		},
	})
}

func TestAccWorkerDocker_foreignContainerUntouched(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("foreign")
	ctx := context.Background()
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: testImage, Cmd: []string{"sleep", "3600"}}, nil, nil, nil, name)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true}) })
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      simpleWorker(name, ""),
				ExpectError: regexp.MustCompile(`already\s+exists\s+and\s+was\s+not\s+created\s+by\s+the\s+hodei\s+provider`),
			},
			{
				PreConfig: func() {
					info := inspect(t, cli, name)
					assert.Equal(t, created.ID, info.ID, "the foreign container is the same one")
					assert.Equal(t, "created", info.State.Status, "and was not started, stopped or changed")
				},
				Config:   `# nothing`,
				PlanOnly: true,
			},
		},
	})
}

// TestAccWorkerDocker_updateLeavesForeignContainerAlone: a user swaps the
// worker's container for one of their own under the same name, and an
// apply with -refresh=false sends the in-place CPU update straight to it.
// The update is refused and the foreign container keeps its CPU limit.
func TestAccWorkerDocker_updateLeavesForeignContainerAlone(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("swap")
	ctx := context.Background()
	dir, env := t.TempDir(), cliEnv(t)
	withCPULimit := func(limit string) {
		main := "terraform {\n  required_providers {\n    hodei = { source = \"hodei-jobs/hodei\" }\n  }\n}\n" +
			simpleWorker(name, fmt.Sprintf("resources {\n    cpu_limit = %q\n  }", limit))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600))
	}
	withCPULimit("0.5")
	terraformCLI(t, dir, env, "apply", "-auto-approve", "-input=false", "-no-color")
	t.Cleanup(func() { terraformCLI(t, dir, env, "destroy", "-auto-approve", "-input=false", "-no-color") })

	require.NoError(t, cli.ContainerRemove(ctx, name, container.RemoveOptions{Force: true}))
	foreign, err := cli.ContainerCreate(ctx, &container.Config{Image: testImage, Cmd: []string{"sleep", "3600"}},
		&container.HostConfig{Resources: container.Resources{NanoCPUs: 250_000_000}}, nil, nil, name)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.ContainerRemove(ctx, foreign.ID, container.RemoveOptions{Force: true}) })

	withCPULimit("1")
	out, err := runTerraformCLI(dir, env, "apply", "-refresh=false", "-auto-approve", "-input=false", "-no-color")
	require.Error(t, err, "the apply must fail:\n%s", out)
	assert.Regexp(t, `already\s+exists\s+and\s+was\s+not\s+created\s+by\s+the\s+hodei\s+provider`, out)
	info := inspect(t, cli, name)
	assert.Equal(t, foreign.ID, info.ID, "the foreign container is the same one")
	assert.Equal(t, int64(250_000_000), info.HostConfig.NanoCPUs, "and keeps its CPU limit")
}

// TestAccWorkerDocker_settingsDockerCannotHonourWarn applies a worker with
// scheduling and a disk size limit: it runs, and nothing is silently lost
// (the plan warns; see the unit test of docker.Check for the words).
func TestAccWorkerDocker_settingsDockerCannotHonourWarn(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("warn")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{{
			Config: simpleWorker(name, `
  scheduling {
    node_selector = { "topology.kubernetes.io/zone" = "zone-a" }
  }`),
			Check: func(*terraform.State) error {
				info := inspect(t, cli, name)
				assert.True(t, info.State.Running)
				return nil
			},
		}},
	})
}

func TestAccWorkerDocker_pullFailureShowsTheDaemonsReason(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("pull")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: fmt.Sprintf(`
resource "hodei_worker" "test" {
  name  = %q
  image = "registry.invalid/hodei/absent:1.0"
}
`, name),
				ExpectError: regexp.MustCompile(`(?s)pulling\s+image\s+"registry.invalid/hodei/absent:1.0"`),
			},
			{
				PreConfig: func() { assert.NoError(t, assertNoContainer(cli, name)) },
				Config:    `# nothing`,
				PlanOnly:  true,
			},
		},
	})
}

func TestAccWorkerDocker_unreachableDaemonNamesTheAddress(t *testing.T) {
	dockerTestClient(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: unreachableDocker + simpleWorker(randomName("nodaemon"), ""),
			ExpectError: regexp.MustCompile(
				`(?s)docker\s+backend:\s+the\s+Docker\s+daemon\s+at\s+unix:///nonexistent/hodei-test/docker.sock\s+is\s+unreachable`),
		}},
	})
}
