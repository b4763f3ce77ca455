package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// probedWorker is a worker that creates its ready file and is probed by
// exec with a 1 s period and a failure threshold of 2.
type probedWorker struct {
	name, backend, namespace, image, grace string
	probe                                  string // the exec command, in HCL
	probeExtra                             string // more of the readiness block
	extra                                  string // more of the resource
}

func (w probedWorker) config() string {
	ns := ""
	if w.namespace != "" {
		ns = fmt.Sprintf("namespace = %q", w.namespace)
	}
	return fmt.Sprintf(`
resource "hodei_worker" "test" {
  name    = %q
  backend = %q
  %s
  image   = %q
  command = ["sh", "-c", "touch /tmp/ready; exec sleep 3600"]

  termination_grace_period = %q
  wait_for                 = "ready"
  readiness {
    exec { command = %s }
    period            = "1s"
    failure_threshold = 2
    %s
  }
  %s
}
`, w.name, w.backend, ns, w.image, w.grace, w.probe, w.probeExtra, w.extra)
}

// Docker: the grace period is the container's StopTimeout, the probe its
// HEALTHCHECK, and wait_for = "ready" returns with the container healthy.
func TestAccWorkerDocker_gracePeriodAndHealthcheck(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("ready")
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{
			{
				Config: probedWorker{name: name, backend: "docker", image: testImage, grace: "3s", probe: `["test", "-f", "/tmp/ready"]`}.config(),
				Check: func(*terraform.State) error {
					info := inspect(t, cli, name)
					firstID = info.ID
					require.NotNil(t, info.Config.StopTimeout)
					assert.Equal(t, 3, *info.Config.StopTimeout, "docker stop by hand uses the grace period too")
					assert.Equal(t, &container.HealthConfig{
						Test: []string{"CMD", "test", "-f", "/tmp/ready"}, Interval: time.Second, Retries: 2,
					}, info.Config.Healthcheck)
					require.NotNil(t, info.State.Health)
					assert.Equal(t, container.Healthy, info.State.Health.Status, "create returned once the health check passed")
					return nil
				},
			},
			{
				// A respelled duration is no change.
				Config:           probedWorker{name: name, backend: "docker", image: testImage, grace: "3s", probe: `["test", "-f", "/tmp/ready"]`, probeExtra: `initial_delay = "0m"`}.config(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:            "hodei_worker.test",
				ImportState:             true,
				ImportStateId:           "docker/" + name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "wait_for"},
			},
			{
				// The stop timeout is fixed in the container's Config: a new
				// grace period replaces it.
				Config: probedWorker{name: name, backend: "docker", image: testImage, grace: "2s", probe: `["test", "-f", "/tmp/ready"]`}.config(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					info := inspect(t, cli, name)
					assert.NotEqual(t, firstID, info.ID)
					assert.Equal(t, 2, *info.Config.StopTimeout)
					return nil
				},
			},
		},
	})
}

// Docker: a probe that fails makes the container unhealthy; the create
// fails with the probe's output and removes the container.
func TestAccWorkerDocker_unhealthyFailsAndRemovesTheContainer(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("unhealthy")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{{
			Config:      probedWorker{name: name, backend: "docker", image: testImage, grace: "1s", probe: `["sh", "-c", "echo not serving yet; exit 1"]`}.config(),
			ExpectError: regexp.MustCompile(`(?s)readiness probe failed 2 times in a row.*last probe exited 1: not serving yet`),
		}},
	})
	assert.Equal(t, 0, countContainers(t, cli, name), "the unhealthy container is removed")
}

// Kubernetes (shared devcluster): the pod carries the grace period and
// the readiness probe, and wait_for = "ready" returns with the pod Ready.
func TestAccWorkerKubernetes_gracePeriodAndReadinessProbe(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	name := randomName("ready")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{
			{
				Config: kubeProvider(kubeconfig) + probedWorker{name: name, backend: "kubernetes", namespace: ns, image: k8sImage, grace: "45s", probe: `["test", "-f", "/tmp/ready"]`, probeExtra: `initial_delay = "1s"`}.config(),
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, name)
					require.NotNil(t, pod.Spec.TerminationGracePeriodSeconds)
					assert.Equal(t, int64(45), *pod.Spec.TerminationGracePeriodSeconds)
					probe := pod.Spec.Containers[0].ReadinessProbe
					require.NotNil(t, probe)
					assert.Equal(t, []string{"test", "-f", "/tmp/ready"}, probe.Exec.Command)
					assert.Equal(t, int32(1), probe.PeriodSeconds)
					assert.Equal(t, int32(2), probe.FailureThreshold)
					assert.Equal(t, int32(1), probe.InitialDelaySeconds)
					assert.True(t, conditionIsTrue(pod, corev1.PodReady), "create returned with the pod Ready")
					return nil
				},
			},
			{
				ResourceName:            "hodei_worker.test",
				ImportState:             true,
				ImportStateId:           "kubernetes/" + ns + "/" + name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts", "wait_for"},
			},
			{
				// The pod spec is immutable: a new probe replaces the pod.
				Config: kubeProvider(kubeconfig) + probedWorker{name: name, backend: "kubernetes", namespace: ns, image: k8sImage, grace: "45s", probe: `["true"]`, probeExtra: `initial_delay = "1s"`}.config(),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionDestroyBeforeCreate),
				}},
			},
		},
	})
}

// Kubernetes (a private devcluster built from this tree, whose simulated
// kubelet honours the probe's initial delay and the :notready tag): create
// waits out the initial delay; a pod that never gets ready fails at the
// create timeout with the pod's and the probe's messages, and no pod stays.
func TestAccWorkerKubernetes_readinessWaitAndNeverReady(t *testing.T) {
	c := startPrivateCluster(t)
	cli := c.Client()
	waitForServiceAccount(t, cli, "default")
	name := randomName("ready")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, "default", name) },
		Steps: []resource.TestStep{{
			Config: kubeProvider(c.ProviderKubeconfig) + probedWorker{name: name, backend: "kubernetes", namespace: "default", image: k8sImage, grace: "5s", probe: `["true"]`, probeExtra: `initial_delay = "3s"`}.config(),
			Check: func(*terraform.State) error {
				pod := getPod(t, cli, "default", name)
				ready := podCondition(pod, corev1.PodReady)
				require.NotNil(t, ready)
				assert.Equal(t, corev1.ConditionTrue, ready.Status)
				assert.GreaterOrEqual(t, ready.LastTransitionTime.Sub(pod.Status.StartTime.Time), 2*time.Second,
					"ready only after the initial delay (times have second resolution)")
				return nil
			},
		}},
	})

	never := randomName("notready")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: kubeProvider(c.ProviderKubeconfig) + probedWorker{
				name: never, backend: "kubernetes", namespace: "default", image: "registry.example/hodei/worker:notready", grace: "5s",
				probe: `["true"]`, extra: `timeouts { create = "10s" }`,
			}.config(),
			ExpectError: regexp.MustCompile(`(?s)was not ready within the create timeout.*running\s+but\s+not\s+ready\s+\(ContainersNotReady:.*Unhealthy: Readiness probe failed`),
		}},
	})
	assert.Equal(t, 0, countPods(t, cli, "default", never), "the never-ready pod is removed")
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

func conditionIsTrue(pod *corev1.Pod, t corev1.PodConditionType) bool {
	c := podCondition(pod, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// terraform validate warns when the grace period does not fit in half of
// timeouts.delete, naming the attribute.
func TestAccWorker_gracePeriodBeyondDeleteTimeoutWarnsAtValidate(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	dir := t.TempDir()
	module := requiredProvider + fmt.Sprintf(`
resource "hodei_worker" "test" {
  name                     = "grace-warning"
  image                    = %q
  termination_grace_period = "45s"
  timeouts { delete = "1m" }
}
`, testImage)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(module), 0o600))
	out, err := runTerraformCLI(dir, cliEnv(t, "DOCKER_HOST=unix:///nonexistent/docker.sock"), "validate", "-no-color")
	require.NoError(t, err, out)
	assert.Regexp(t, `(?s)Warning: Grace period longer than the delete allows.*termination_grace_period: 45s is more\s+than\s+half\s+of\s+timeouts.delete\s+\(1m0s\)`, out)
}
