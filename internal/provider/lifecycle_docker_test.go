package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
)

// TestAccLifecycleDocker_cpuValuesPlanEmpty: CPU requests and limits that
// are not multiples of 125m (which CPU shares cannot hold exactly) keep what
// the user wrote, so that the plan after the apply is empty.
func TestAccLifecycleDocker_cpuValuesPlanEmpty(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("lc-cpu")
	config := func(resources string) string {
		return simpleWorker(name, "resources {\n    "+resources+"\n  }")
	}
	step := func(resources string, nanoCPUs, shares int64) resource.TestStep {
		return resource.TestStep{
			Config: config(resources),
			Check: func(*terraform.State) error {
				info := inspect(t, cli, name)
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
			// Made with a request of 0.3 (dropping the limit replaces).
			step(`cpu = "0.3"`, 0, 307),
			{Config: config(`cpu = "0.3"`), PlanOnly: true},
		},
	})
}
