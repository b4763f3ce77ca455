package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/stretchr/testify/assert"
)

// After an in-place update the computed facts are what the engine reports,
// read after the update, never the plan's copy of the prior state; uid,
// which an in-place update keeps, is planned as it was.
func TestAccWorkerDocker_inPlaceUpdateReadsTheContainer(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("inplace")
	config := func(cpuLimit, waitFor string) string {
		return simpleWorker(name, fmt.Sprintf(`wait_for = %q
  resources { cpu_limit = %q }`, waitFor, cpuLimit))
	}
	var firstID string
	matchesContainer := func(s *terraform.State) error {
		attrs := s.RootModule().Resources["hodei_worker.test"].Primary.Attributes
		info := inspect(t, cli, name)
		started, err := time.Parse(time.RFC3339Nano, info.State.StartedAt)
		if err != nil {
			return err
		}
		want := map[string]string{
			"uid":        info.ID,
			"started_at": started.UTC().Format(time.RFC3339),
			"ip":         info.NetworkSettings.Networks["bridge"].IPAddress,
			"status":     "Running",
		}
		for attr, value := range want {
			if attrs[attr] != value {
				return fmt.Errorf("state has %s = %q, the container %q", attr, attrs[attr], value)
			}
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{
			{
				Config: config("0.5", "running"),
				Check: func(s *terraform.State) error {
					firstID = inspect(t, cli, name).ID
					return matchesContainer(s)
				},
			},
			{
				// In place on Docker: the facts are read after `docker update`.
				Config: config("1", "running"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectUnknownValue("hodei_worker.test", tfjsonpath.New("status")),
					plancheck.ExpectUnknownValue("hodei_worker.test", tfjsonpath.New("started_at")),
					plancheck.ExpectKnownValue("hodei_worker.test", tfjsonpath.New("uid"), knownString(&firstID)),
				}},
				Check: resource.ComposeTestCheckFunc(matchesContainer, func(*terraform.State) error {
					info := inspect(t, cli, name)
					assert.Equal(t, firstID, info.ID, "in place")
					assert.Equal(t, int64(1_000_000_000), info.HostConfig.NanoCPUs)
					return nil
				}),
			},
			{
				// A state-only change reads the container too.
				Config: config("1", "none"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionUpdate),
				}},
				Check: matchesContainer,
			},
		},
	})
}

// knownString checks a planned string against a value that an earlier step
// records: the plan checks are made before any step runs.
func knownString(want *string) knownvalue.Check { return stringAt{want} }

type stringAt struct{ want *string }

func (c stringAt) CheckValue(v any) error {
	if s, ok := v.(string); !ok || s != *c.want {
		return fmt.Errorf("planned %v, want %q", v, *c.want)
	}
	return nil
}

func (c stringAt) String() string { return *c.want }
