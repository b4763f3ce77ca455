package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAccLifecycleDocker_cpuValuesPlanEmpty: CPU requests and limits that
// are not multiples of 125m (which CPU shares cannot hold exactly) keep what
// the user wrote, so that the plan after the apply is empty, also after
// in-place updates (same container ID), when the canonical label still holds
// the values the container was made with.
func TestAccLifecycleDocker_cpuValuesPlanEmpty(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("lc-cpu")
	config := func(resources string) string {
		return simpleWorker(name, "resources {\n    "+resources+"\n  }")
	}
	var id string // the container made by the first step, updated in place
	step := func(resources string, nanoCPUs, shares int64) resource.TestStep {
		return resource.TestStep{
			Config: config(resources),
			Check: func(*terraform.State) error {
				info := inspect(t, cli, name)
				if id == "" {
					id = info.ID
				}
				assert.Equal(t, id, info.ID, "%s: changed in place", resources)
				if nanoCPUs > 0 {
					assert.Equal(t, nanoCPUs, info.HostConfig.NanoCPUs, "%s", resources)
				}
				if shares > 0 {
					assert.Equal(t, shares, info.HostConfig.CPUShares, "%s", resources)
				}
				return nil
			},
			// The plan after the apply (which the framework checks too) and a
			// refresh-only plan are empty.
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		}
	}
	replaced := func(s resource.TestStep) resource.TestStep {
		s.PreConfig = func() { id = "" }
		return s
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{
			// Made with these values.
			step(`cpu_limit = "0.3"`, 300_000_000, 0),
			{Config: config(`cpu_limit = "0.3"`), PlanOnly: true},
			// Changed in place to these (the container's canonical label
			// still holds the values it was made with).
			step(`cpu_limit = "1.7"`, 1_700_000_000, 0),
			{Config: config(`cpu_limit = "1.7"`), PlanOnly: true},
			step("cpu = \"0.5\"\n    cpu_limit = \"1.7\"", 1_700_000_000, 512),
			step("cpu = \"0.3\"\n    cpu_limit = \"1.7\"", 1_700_000_000, 307),
			{Config: config("cpu = \"0.3\"\n    cpu_limit = \"1.7\""), PlanOnly: true},
			step("cpu = \"0.3\"\n    cpu_limit = \"0.3\"", 300_000_000, 307),
			{Config: config("cpu = \"0.3\"\n    cpu_limit = \"0.3\""), PlanOnly: true},
			// Both changed at once.
			step("cpu = \"0.7\"\n    cpu_limit = \"1.3\"", 1_300_000_000, 716),
			{Config: config("cpu = \"0.7\"\n    cpu_limit = \"1.3\""), PlanOnly: true},
			// Made with a request of 0.3 (dropping the limit replaces).
			replaced(step(`cpu = "0.3"`, 0, 307)),
			{Config: config(`cpu = "0.3"`), PlanOnly: true},
		},
	})
}

// dockerWorkerAt is a Docker worker at resource address hodei_worker.<addr>.
func dockerWorkerAt(addr, name, env, extra string) string {
	return fmt.Sprintf(`
resource "hodei_worker" %q {
  name    = %q
  image   = %q
  command = ["sleep", "3600"]
  env     = { MODE = %q }
  %s
}
`, addr, name, testImage, env, extra)
}

// stateUID is the uid attribute of a resource in the state.
func stateUID(s *terraform.State, addr string) (string, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return "", fmt.Errorf("%s is not in the state", addr)
	}
	return rs.Primary.Attributes["uid"], nil
}

// existsError is the create error when an owned object holds the name.
var existsError = regexp.MustCompile(`(?s)made\s+by\s+the\s+hodei\s+provider\s+already\s+exists\s+and\s+did\s+not\s+go\s+away.*terraform\s+import\s+hodei_worker\.<address>`)

// TestAccLifecycleDocker_createBeforeDestroyFixedName: a replacement under
// create_before_destroy with a fixed name cannot make its container while
// the old one holds the name. The create waits (bounded by its 5 s
// timeout), fails with the import hint, and deletes nothing: the original
// container, same ID, still runs and is still in the state.
func TestAccLifecycleDocker_createBeforeDestroyFixedName(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("lc-cbd")
	lifecycle := `lifecycle { create_before_destroy = true }
  timeouts { create = "5s" }`
	var originalID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{
			{
				Config: dockerWorkerAt("w", name, "one", lifecycle),
				Check: func(*terraform.State) error {
					originalID = inspect(t, cli, name).ID
					return nil
				},
			},
			{
				Config: dockerWorkerAt("w", name, "two", lifecycle),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.w", plancheck.ResourceActionCreateBeforeDestroy),
				}},
				ExpectError: existsError,
			},
			{
				PreConfig: func() {
					info := inspect(t, cli, name)
					assert.Equal(t, originalID, info.ID, "the original container is the same one")
					assert.True(t, info.State.Running, "and still runs")
					assert.Contains(t, info.Config.Env, "MODE=one")
					assert.Equal(t, 1, countContainers(t, cli, name))
				},
				// The state still names the original: nothing to change.
				Config:   dockerWorkerAt("w", name, "one", lifecycle),
				PlanOnly: true,
				Check: func(s *terraform.State) error {
					uid, err := stateUID(s, "hodei_worker.w")
					assert.Equal(t, originalID, uid)
					return err
				},
			},
		},
	})
}

// TestAccLifecycleDocker_renameWithoutMoved: hodei_worker.a becomes
// hodei_worker.b with the same name and no moved block. Terraform destroys
// a while it creates b; b's create waits for a's container to go instead of
// removing it (a's destroy stops it: sleep ignores SIGTERM, so that takes
// Docker's 10 s). Afterwards exactly one container of that name runs and
// b's state names it.
func TestAccLifecycleDocker_renameWithoutMoved(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("lc-mv")
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{
			{
				Config: dockerWorkerAt("a", name, "one", ""),
				Check:  func(*terraform.State) error { firstID = inspect(t, cli, name).ID; return nil },
			},
			{
				Config: dockerWorkerAt("b", name, "one", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.a", plancheck.ResourceActionDestroy),
					plancheck.ExpectResourceAction("hodei_worker.b", plancheck.ResourceActionCreate),
				}},
				Check: func(s *terraform.State) error {
					assert.Equal(t, 1, countContainers(t, cli, name), "exactly one container of the worker")
					info := inspect(t, cli, name)
					assert.True(t, info.State.Running)
					assert.NotEqual(t, firstID, info.ID, "b made its own container")
					uid, err := stateUID(s, "hodei_worker.b")
					assert.Equal(t, info.ID, uid, "the state names the live container")
					_, stillA := s.RootModule().Resources["hodei_worker.a"]
					assert.False(t, stillA)
					return err
				},
			},
		},
	})
}

// TestAccLifecycleDocker_deleteLeavesReplacedContainer: the worker's
// container is removed out of band and one that looks owned (same name,
// same labels) takes its name. A destroy deletes nothing and says so.
// Without refresh, the delete sees another ID and warns "Worker not
// deleted". With refresh, the read sees it first and the worker leaves the
// state with the warning "Worker replaced outside Terraform"; terraform
// destroy drops the warnings of its refresh (it keeps only errors), so that
// case shows the warning in a plan and then destroys nothing.
func TestAccLifecycleDocker_deleteLeavesReplacedContainer(t *testing.T) {
	cli := dockerTestClient(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		destroy []string
		warning string
	}{
		{"no-refresh", []string{"-refresh=false"}, "Worker not deleted"},
		{"refresh", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := randomName("lc-del")
			w := newWorkspace(t, dockerWorkerAt("w", name, "one", ""))
			w.mustApply(2 * time.Minute)
			original := inspect(t, cli, name)

			require.NoError(t, cli.ContainerRemove(ctx, original.ID, container.RemoveOptions{Force: true}))
			impostor, err := cli.ContainerCreate(ctx, &container.Config{
				Image: testImage, Cmd: []string{"sleep", "3600"}, Labels: original.Config.Labels,
			}, nil, nil, nil, name)
			require.NoError(t, err)
			t.Cleanup(func() { _ = cli.ContainerRemove(ctx, impostor.ID, container.RemoveOptions{Force: true}) })
			require.NoError(t, cli.ContainerStart(ctx, impostor.ID, container.StartOptions{}))

			warned := func(out, summary string) {
				assert.Contains(t, out, summary)
				assert.Regexp(t, `(?s)has\s+ID\s+`+impostor.ID+`.*the\s+state\s+holds\s+ID\s+`+original.ID, out, "the warning names both containers")
			}
			if tc.warning == "" {
				changes, out := w.planChanges()
				assert.True(t, changes)
				warned(out, "Worker replaced outside Terraform")
				assert.Contains(t, out, "hodei_worker.w will be created")
			}
			out, err := w.run(2*time.Minute, append([]string{"destroy", "-auto-approve", "-input=false"}, tc.destroy...)...)
			require.NoError(t, err, "the destroy succeeds:\n%s", out)
			if tc.warning != "" {
				warned(out, tc.warning)
			}
			info := inspect(t, cli, name)
			assert.Equal(t, impostor.ID, info.ID, "the other container is the same one")
			assert.True(t, info.State.Running, "and still runs")
			state, err := w.run(time.Minute, "state", "list")
			require.NoError(t, err)
			assert.NotContains(t, state, "hodei_worker.w")
		})
	}
}

// TestAccLifecycleDocker_updateRefusesReplacedContainer: an in-place CPU
// update sent without a refresh to a name whose container was replaced by
// an owned-looking one (another ID) fails and leaves that container as it
// was.
func TestAccLifecycleDocker_updateRefusesReplacedContainer(t *testing.T) {
	cli := dockerTestClient(t)
	ctx := context.Background()
	name := randomName("lc-upd")
	withLimit := func(limit string) string {
		return dockerWorkerAt("w", name, "one", fmt.Sprintf("resources {\n    cpu_limit = %q\n  }", limit))
	}
	w := newWorkspace(t, withLimit("0.5"))
	w.mustApply(2 * time.Minute)
	original := inspect(t, cli, name)

	require.NoError(t, cli.ContainerRemove(ctx, original.ID, container.RemoveOptions{Force: true}))
	impostor, err := cli.ContainerCreate(ctx, &container.Config{
		Image: testImage, Cmd: []string{"sleep", "3600"}, Labels: original.Config.Labels,
	}, &container.HostConfig{Resources: container.Resources{NanoCPUs: 500_000_000}}, nil, nil, name)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.ContainerRemove(ctx, impostor.ID, container.RemoveOptions{Force: true}) })

	w.setConfig(withLimit("1"))
	out, err := w.apply(2*time.Minute, "-refresh=false")
	require.Error(t, err, "the update must fail:\n%s", out)
	assert.Regexp(t, `(?s)is\s+not\s+the\s+one\s+this\s+Terraform\s+state\s+holds.*has\s+ID\s+`+impostor.ID, out)
	info := inspect(t, cli, name)
	assert.Equal(t, impostor.ID, info.ID)
	assert.Equal(t, int64(500_000_000), info.HostConfig.NanoCPUs, "the other container keeps its CPU limit")
}
