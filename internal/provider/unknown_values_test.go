package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A module as platform teams write them: every value of the worker comes
// from another resource, so the plan knows none of them. terraform_data's
// output is known only after apply.

// unknownInputs is a terraform_data whose output feeds every attribute, and
// a second one whose output is the list a dynamic volume block iterates.
func unknownInputs(values string) string {
	return fmt.Sprintf(`
resource "terraform_data" "in" {
  input = {
    %s
  }
}
resource "terraform_data" "volumes" {
  input = [
    { name = "scratch", path = "/scratch", size = "32Mi" },
    { name = "cache", path = "/cache", size = "16Mi" },
  ]
}
locals { in = terraform_data.in.output }
`, values)
}

// unknownWorkerBody uses an unknown value in every attribute kind: strings,
// numbers, bools, list and map elements, whole lists and maps, single
// blocks' attributes and a dynamic block over an unknown list.
const unknownWorkerBody = `
  name           = "${local.in.prefix}-unknown"
  image          = local.in.image
  command        = [local.in.shell, "-c"]
  args           = local.in.args
  env            = { URL = local.in.url, MODE = "train" }
  working_dir    = local.in.dir
  labels         = { team = local.in.team, tier = "batch" }
  annotations    = local.in.annotations
  restart_policy = local.in.restart
  wait_for       = local.in.wait_for

  image_pull_policy  = local.in.pull_policy
  image_pull_secrets = [local.in.pull_secret]

  resources {
    cpu          = local.in.cpu
    memory       = local.in.memory
    memory_limit = local.in.memory_limit

    ephemeral_storage = local.in.disk
  }
  shm_size = local.in.shm
  dynamic "volume" {
    for_each = terraform_data.volumes.output
    content {
      name       = volume.value.name
      mount_path = volume.value.path
      read_only  = local.in.read_only
      ephemeral {
        size_limit = volume.value.size
        medium     = "Memory"
      }
    }
  }
  security {
    run_as_user      = local.in.uid
    add_capabilities = [local.in.capability]
  }
`

const unknownValues = `
    prefix       = "uv"
    image        = %q
    shell        = "sh"
    args         = ["echo started; sleep 3600"]
    url          = "https://hodei.example/api"
    dir          = "/tmp"
    team         = "ml"
    annotations  = { owner = "ml-platform" }
    restart      = "Always"
    wait_for     = "running"
    cpu          = "250m"
    memory       = "32Mi"
    memory_limit = "64Mi"
    read_only    = false
    uid          = 1000
    capability   = "NET_BIND_SERVICE"
    pull_policy  = "IfNotPresent"
    pull_secret  = "regcred"
    disk         = "1Gi"
    shm          = "96Mi"
`

func TestAccWorkerDocker_unknownValuesEverywhere(t *testing.T) {
	cli := dockerTestClient(t)
	name := "uv-unknown"
	config := unknownInputs(fmt.Sprintf(unknownValues, testImage)+`    backend = "docker"`) + `
resource "hodei_worker" "u" {
  backend = local.in.backend
` + unknownWorkerBody + `}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("hodei_worker.u", plancheck.ResourceActionCreate),
				plancheck.ExpectUnknownValue("hodei_worker.u", tfjsonpath.New("id")),
				plancheck.ExpectUnknownValue("hodei_worker.u", tfjsonpath.New("backend")),
				plancheck.ExpectUnknownValue("hodei_worker.u", tfjsonpath.New("volume")),
			}},
			// The post-apply plan of the step must be empty: the framework
			// fails the step otherwise.
			Check: func(*terraform.State) error {
				info := inspect(t, cli, name)
				assert.True(t, info.State.Running)
				assert.Equal(t, []string{"sh", "-c"}, []string(info.Config.Entrypoint))
				assert.Subset(t, info.Config.Env, []string{"URL=https://hodei.example/api", "MODE=train"})
				assert.Equal(t, "ml", info.Config.Labels["team"])
				assert.Equal(t, "1000", info.Config.User)
				assert.Equal(t, int64(64<<20), info.HostConfig.Memory)
				assert.Equal(t, int64(96<<20), info.HostConfig.ShmSize)
				targets := map[string]bool{}
				for _, m := range info.HostConfig.Mounts {
					targets[m.Target] = true
				}
				assert.True(t, targets["/scratch"] && targets["/cache"], "both dynamic volumes are mounted: %v", targets)
				return nil
			},
		}},
	})
}

// On Kubernetes the provider's own settings are unknown too: the default
// backend and the namespace come from another resource.
func TestAccWorkerKubernetes_unknownValuesAndProviderSettings(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	ensureRuntimeClass(t, cli, "nvidia")
	name := "uv-unknown"
	config := unknownInputs(fmt.Sprintf(unknownValues, k8sImage)+fmt.Sprintf(`
    namespace = %q
    backend   = "kubernetes"
    gpu       = "t4"
    gpus      = 1
    zone      = "zone-b"
    taint     = "dedicated"
    account   = "default"
    automount = true
    runtime   = "nvidia"`, ns)) + fmt.Sprintf(`
provider "hodei" {
  default_backend = local.in.backend
  kubernetes {
    config_path = %q
    namespace   = local.in.namespace
  }
}
resource "hodei_worker" "u" {
`, kubeconfig) + unknownWorkerBody + `
  service_account_name            = local.in.account
  automount_service_account_token = local.in.automount
  runtime_class_name              = local.in.runtime
  gpu {
    count = local.in.gpus
    type  = local.in.gpu
  }
  scheduling {
    node_selector = { "topology.kubernetes.io/zone" = local.in.zone }
    dynamic "toleration" {
      for_each = toset([local.in.taint])
      content {
        key      = toleration.value
        operator = "Exists"
      }
    }
  }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("hodei_worker.u", plancheck.ResourceActionCreate),
				plancheck.ExpectUnknownValue("hodei_worker.u", tfjsonpath.New("backend")),
				plancheck.ExpectUnknownValue("hodei_worker.u", tfjsonpath.New("namespace")),
				plancheck.ExpectUnknownValue("hodei_worker.u", tfjsonpath.New("gpu").AtMapKey("vendor")),
			}},
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr("hodei_worker.u", "id", "kubernetes/"+ns+"/"+name),
				resource.TestCheckResourceAttr("hodei_worker.u", "gpu.vendor", "nvidia"),
				func(*terraform.State) error {
					pod, err := cli.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
					require.NoError(t, err, "the pod is in the namespace the provider setting named")
					assert.Equal(t, "gpu-t4-0", pod.Spec.NodeName, "the scheduler placed the T4 pod in zone-b")
					c := pod.Spec.Containers[0]
					assert.Equal(t, []string{"sh", "-c"}, c.Command)
					assert.Equal(t, corev1.PullIfNotPresent, c.ImagePullPolicy)
					assert.Equal(t, []corev1.LocalObjectReference{{Name: "regcred"}}, pod.Spec.ImagePullSecrets)
					assert.Equal(t, "ml", pod.Labels["team"])
					assert.Equal(t, "ml-platform", pod.Annotations["owner"])
					volumes := map[string]bool{}
					for _, v := range pod.Spec.Volumes {
						volumes[v.Name] = v.EmptyDir != nil
					}
					assert.True(t, volumes["scratch"] && volumes["cache"], "both dynamic volumes are emptyDirs: %v", volumes)
					assert.True(t, volumes["hodei-shm"], "the shm_size volume: %v", volumes)
					assert.Equal(t, "default", pod.Spec.ServiceAccountName)
					assert.Equal(t, ptrTo(true), pod.Spec.AutomountServiceAccountToken)
					assert.Equal(t, ptrTo("nvidia"), pod.Spec.RuntimeClassName)
					assert.True(t, c.Resources.Requests[corev1.ResourceEphemeralStorage].Equal(k8sresource.MustParse("1Gi")))
					var tolerated bool
					for _, tol := range pod.Spec.Tolerations {
						tolerated = tolerated || tol.Key == "dedicated"
					}
					assert.True(t, tolerated, "the dynamic toleration is on the pod")
					return nil
				},
			),
		}},
	})
}
