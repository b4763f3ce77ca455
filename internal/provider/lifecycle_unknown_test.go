package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// The grace period, wait_for and every attribute of the readiness block
// come from another resource: validate and plan skip what is unknown, and
// apply uses the values once known.
func TestAccWorkerDocker_lifecycleFromUnknownValues(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("uvready")
	config := fmt.Sprintf(`
resource "terraform_data" "in" {
  input = {
    grace     = "4s"
    wait_for  = "ready"
    test      = "test"
    file      = "/tmp/ready"
    period    = "1s"
    threshold = 2
    delay     = "0s"
  }
}
locals { in = terraform_data.in.output }

resource "hodei_worker" "test" {
  name    = %q
  image   = %q
  command = ["sh", "-c", "touch /tmp/ready; exec sleep 3600"]

  termination_grace_period = local.in.grace
  wait_for                 = local.in.wait_for
  readiness {
    exec { command = [local.in.test, "-f", local.in.file] }
    period            = local.in.period
    failure_threshold = local.in.threshold
    initial_delay     = local.in.delay
  }
}
`, name, testImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue("hodei_worker.test", tfjsonpath.New("termination_grace_period")),
				plancheck.ExpectUnknownValue("hodei_worker.test", tfjsonpath.New("readiness").AtMapKey("period")),
			}},
			Check: func(*terraform.State) error {
				info := inspect(t, cli, name)
				require.NotNil(t, info.Config.StopTimeout)
				assert.Equal(t, 4, *info.Config.StopTimeout)
				require.NotNil(t, info.Config.Healthcheck)
				assert.Equal(t, []string{"CMD", "test", "-f", "/tmp/ready"}, info.Config.Healthcheck.Test)
				assert.Equal(t, time.Second, info.Config.Healthcheck.Interval)
				require.NotNil(t, info.State.Health)
				assert.Equal(t, container.Healthy, info.State.Health.Status)
				return nil
			},
		}},
	})
}

// A readiness block made by a dynamic block over a list known only after
// apply, with an unknown port.
func TestAccWorkerKubernetes_readinessFromUnknownDynamicBlock(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	name := randomName("uvready")
	config := kubeProvider(kubeconfig) + fmt.Sprintf(`
resource "terraform_data" "probes" {
  input = [{ port = 8080 }]
}

resource "hodei_worker" "test" {
  name      = %q
  backend   = "kubernetes"
  namespace = %q
  image     = %q
  command   = ["sleep", "3600"]
  wait_for  = "ready"

  dynamic "readiness" {
    for_each = terraform_data.probes.output
    content {
      tcp_socket { port = readiness.value.port }
    }
  }
}
`, name, ns, k8sImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				pod := getPod(t, cli, ns, name)
				probe := pod.Spec.Containers[0].ReadinessProbe
				require.NotNil(t, probe)
				require.NotNil(t, probe.TCPSocket)
				assert.Equal(t, int32(8080), probe.TCPSocket.Port.IntVal)
				assert.Equal(t, int32(10), probe.PeriodSeconds, "the default period")
				assert.True(t, conditionIsTrue(pod, corev1.PodReady))
				return nil
			},
		}},
	})
}
