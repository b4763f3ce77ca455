package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
)

func k8sWorker(name, namespace, image, extra string) string {
	return fmt.Sprintf(`
resource "hodei_worker" %[1]q {
  name      = %[1]q
  backend   = "kubernetes"
  namespace = %[2]q
  image     = %[3]q
  command   = ["sleep", "3600"]
  %[4]s
}
`, name, namespace, image, extra)
}

const k8sImage = "registry.example/hodei/worker:1.0"

func TestAccWorkerKubernetes_gpuPlacement(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	gpuConfig := func(a100Type string) string {
		return kubeProvider(kubeconfig) +
			k8sWorker("trainer", ns, k8sImage, fmt.Sprintf(`gpu {
    type  = %q
    count = 2
  }`, a100Type)) +
			k8sWorker("rocm", ns, k8sImage, `gpu { type = "mi200" }`)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			return assertNoPod(cli, ns, "trainer")
		},
		Steps: []resource.TestStep{
			{
				Config: gpuConfig("A100"),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("hodei_worker.trainer", "id", "kubernetes/"+ns+"/trainer"),
					resource.TestCheckResourceAttr("hodei_worker.trainer", "status", "Running"),
					resource.TestCheckResourceAttr("hodei_worker.trainer", "node_name", "gpu-a100-0"),
					resource.TestCheckResourceAttr("hodei_worker.trainer", "gpu.vendor", "nvidia"),
					func(*terraform.State) error {
						pod := getPod(t, cli, ns, "trainer")
						assert.Equal(t, "gpu-a100-0", pod.Spec.NodeName, "the scheduler bound the A100 worker to the A100 node")
						c := pod.Spec.Containers[0]
						assert.Equal(t, "worker", c.Name)
						gpus := k8sresource.MustParse("2")
						assert.True(t, c.Resources.Requests["nvidia.com/gpu"].Equal(gpus))
						assert.True(t, c.Resources.Limits["nvidia.com/gpu"].Equal(gpus))
						assert.Equal(t, "nvidia-tesla-a100", pod.Spec.NodeSelector["accelerator"])
						assert.Contains(t, pod.Spec.Tolerations, corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
						assert.Equal(t, "gpu-mi200-0", getPod(t, cli, ns, "rocm").Spec.NodeName)
						return nil
					},
				),
			},
			{
				// The same type in another case is no change.
				Config:           gpuConfig("a100"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:            "hodei_worker.trainer",
				ImportState:             true,
				ImportStateId:           ns + "/trainer",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}

func TestAccWorkerKubernetes_unschedulableFailsAtTimeoutWithoutOrphan(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: kubeProvider(kubeconfig) + k8sWorker("inference", ns, k8sImage, `
  gpu {
    type  = "t4"
    count = 3
  }
  timeouts { create = "8s" }`),
				ExpectError: regexp.MustCompile(`Insufficient\s+nvidia.com/gpu`),
			},
			{
				PreConfig: func() { assert.NoError(t, assertNoPod(cli, ns, "inference")) },
				Config:    `# nothing`,
				PlanOnly:  true,
			},
		},
	})
}

func TestAccWorkerKubernetes_antiAffinitySpreadsOverNodes(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	config := kubeProvider(kubeconfig) + fmt.Sprintf(`
resource "hodei_worker" "cache" {
  count     = 3
  name      = "cache-${count.index}"
  backend   = "kubernetes"
  namespace = %q
  image     = %q
  labels    = { app = "cache" }
  scheduling {
    pod_anti_affinity {
      labels   = { app = "cache" }
      required = true
    }
  }
}
`, ns, k8sImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				nodes := map[string]bool{}
				for i := 0; i < 3; i++ {
					nodes[getPod(t, cli, ns, fmt.Sprintf("cache-%d", i)).Spec.NodeName] = true
				}
				assert.Len(t, nodes, 3, "three workers on three distinct nodes: %v", nodes)
				return nil
			},
		}},
	})
}

func TestAccWorkerKubernetes_topologySpreadOverZones(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	config := kubeProvider(kubeconfig) + fmt.Sprintf(`
resource "hodei_worker" "pool" {
  count     = 4
  name      = "pool-${count.index}"
  backend   = "kubernetes"
  namespace = %q
  image     = %q
  labels    = { app = "pool" }
  scheduling {
    topology_spread {
      max_skew     = 1
      topology_key = "topology.kubernetes.io/zone"
    }
  }
}
`, ns, k8sImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				zones := map[string]int{}
				for i := 0; i < 4; i++ {
					zones[nodeZone(t, cli, getPod(t, cli, ns, fmt.Sprintf("pool-%d", i)).Spec.NodeName)]++
				}
				assert.Equal(t, map[string]int{"zone-a": 2, "zone-b": 2}, zones)
				return nil
			},
		}},
	})
}

func TestAccWorkerKubernetes_tolerationOpensTaintedNode(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	pinned := `
  scheduling {
    node_selector = { "kubernetes.io/hostname" = "cpu-tainted-0" }
    %s
  }
  timeouts { create = "6s" }`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      kubeProvider(kubeconfig) + k8sWorker("batch", ns, k8sImage, fmt.Sprintf(pinned, "")),
				ExpectError: regexp.MustCompile(`untolerated\s+taint`),
			},
			{
				Config: kubeProvider(kubeconfig) + k8sWorker("batch", ns, k8sImage, fmt.Sprintf(pinned, `
    toleration {
      key    = "dedicated"
      value  = "batch"
      effect = "NoSchedule"
    }`)),
				Check: func(*terraform.State) error {
					assert.Equal(t, "cpu-tainted-0", getPod(t, cli, ns, "batch").Spec.NodeName)
					return nil
				},
			},
		},
	})
}

func TestAccWorkerKubernetes_nodeAffinityOperators(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	ctx := context.Background()
	// A numeric node label for Gt; the node simulator keeps labels it did not set.
	for node, rank := range map[string]string{"cpu-0": "1", "cpu-1": "10"} {
		patch := fmt.Sprintf(`{"metadata":{"labels":{"hodei.test/rank":%q}}}`, rank)
		_, err := cli.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		for _, node := range []string{"cpu-0", "cpu-1"} {
			_, _ = cli.CoreV1().Nodes().Patch(context.Background(), node, types.MergePatchType, []byte(`{"metadata":{"labels":{"hodei.test/rank":null}}}`), metav1.PatchOptions{})
		}
	})
	affinity := func(key, operator, values string) string {
		return fmt.Sprintf(`
  scheduling {
    node_affinity {
      required = true
      match_expression {
        key      = %q
        operator = %q
        values   = %s
      }
    }
  }`, key, operator, values)
	}
	config := kubeProvider(kubeconfig) +
		k8sWorker("not-in", ns, k8sImage, affinity("topology.kubernetes.io/zone", "NotIn", `["zone-b"]`)) +
		k8sWorker("exists", ns, k8sImage, affinity("accelerator", "Exists", "null")+`
  gpu { type = "t4" }`) +
		k8sWorker("gt", ns, k8sImage, affinity("hodei.test/rank", "Gt", `["5"]`))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				notIn := getPod(t, cli, ns, "not-in").Spec.NodeName
				assert.Equal(t, "zone-a", nodeZone(t, cli, notIn), "NotIn zone-b lands in zone-a (on %s)", notIn)
				exists := getPod(t, cli, ns, "exists").Spec.NodeName
				assert.Contains(t, []string{"gpu-t4-0", "gpu-t4-1"}, exists, "Exists accelerator with a T4 lands on a T4 node, whose taint the GPU worker tolerates")
				assert.Equal(t, "cpu-1", getPod(t, cli, ns, "gt").Spec.NodeName, "Gt 5 lands on the node ranked 10")
				return nil
			},
		}},
	})
}

func TestAccWorkerKubernetes_preferredPodAffinityColocates(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	config := kubeProvider(kubeconfig) +
		k8sWorker("cache", ns, k8sImage, `labels = { app = "cache" }`) + fmt.Sprintf(`
resource "hodei_worker" "reader" {
  name      = "reader"
  backend   = "kubernetes"
  namespace = %q
  image     = %q
  scheduling {
    pod_affinity {
      labels = { app = "cache" }
      weight = 100
    }
  }
  depends_on = [hodei_worker.cache]
}
`, ns, k8sImage)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				assert.Equal(t, getPod(t, cli, ns, "cache").Spec.NodeName, getPod(t, cli, ns, "reader").Spec.NodeName)
				return nil
			},
		}},
	})
}

func TestAccWorkerKubernetes_volumes(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	bindClaim(t, cli, ns, "datasets")

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: kubeProvider(kubeconfig) + k8sWorker("reader", ns, k8sImage, `
  volume {
    name       = "datasets"
    mount_path = "/data"
    read_only  = true
    sub_path   = "v3"
    persistent { claim_name = "datasets" }
  }
  volume {
    name       = "scratch"
    mount_path = "/scratch"
    ephemeral {
      size_limit = "1Gi"
      medium     = "Memory"
    }
  }
  volume {
    name       = "models"
    mount_path = "/models"
    read_only  = true
    host_path {
      path = "/srv/hodei/models"
      type = "DirectoryOrCreate"
    }
  }`),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("hodei_worker.reader", "status", "Running"),
					func(*terraform.State) error {
						pod := getPod(t, cli, ns, "reader")
						assert.Equal(t, corev1.PodRunning, pod.Status.Phase)
						vols := map[string]corev1.Volume{}
						for _, v := range pod.Spec.Volumes {
							vols[v.Name] = v
						}
						require.NotNil(t, vols["datasets"].PersistentVolumeClaim)
						assert.Equal(t, "datasets", vols["datasets"].PersistentVolumeClaim.ClaimName)
						require.NotNil(t, vols["scratch"].EmptyDir)
						assert.Equal(t, corev1.StorageMediumMemory, vols["scratch"].EmptyDir.Medium)
						assert.True(t, vols["scratch"].EmptyDir.SizeLimit.Equal(k8sresource.MustParse("1Gi")))
						require.NotNil(t, vols["models"].HostPath)
						require.NotNil(t, vols["models"].HostPath.Type)
						assert.Equal(t, corev1.HostPathDirectoryOrCreate, *vols["models"].HostPath.Type)
						mounts := map[string]corev1.VolumeMount{}
						for _, m := range pod.Spec.Containers[0].VolumeMounts {
							mounts[m.Name] = m
						}
						assert.Equal(t, corev1.VolumeMount{Name: "datasets", MountPath: "/data", ReadOnly: true, SubPath: "v3"}, mounts["datasets"])
						return nil
					},
				),
			},
		},
	})
}

func TestAccWorkerKubernetes_imageFailuresFailFastWithoutOrphan(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				PreConfig:   func() { started = time.Now() },
				Config:      kubeProvider(kubeconfig) + k8sWorker("pull", ns, "registry.example/hodei/worker:missing", ""),
				ExpectError: regexp.MustCompile(`ErrImagePull|ImagePullBackOff`),
			},
			{
				PreConfig: func() {
					assert.Less(t, time.Since(started), 15*time.Second, "an image that cannot be pulled fails the apply within 15 s")
					assert.NoError(t, assertNoPod(cli, ns, "pull"))
				},
				Config:      kubeProvider(kubeconfig) + k8sWorker("crash", ns, "registry.example/hodei/worker:crash", ""),
				ExpectError: words("container worker of pod " + ns + "/crash exited with code 1 (Error)"),
			},
			{
				PreConfig: func() { assert.NoError(t, assertNoPod(cli, ns, "crash")) },
				Config:    `# nothing`,
				PlanOnly:  true,
			},
		},
	})
}

func TestAccWorkerKubernetes_driftAndUpdates(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	ctx := context.Background()
	config := func(image, team string) string {
		return kubeProvider(kubeconfig) + k8sWorker("worker", ns, image, fmt.Sprintf(`
  labels      = { team = %q }
  annotations = { owner = "ml-platform" }
  resources {
    cpu    = "100m"
    memory = "64Mi"
  }`, team))
	}
	var uid types.UID
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, "worker") },
		Steps: []resource.TestStep{
			{
				Config: config(k8sImage, "ml"),
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, "worker")
					uid = pod.UID
					assert.Equal(t, "ml", pod.Labels["team"])
					assert.Equal(t, "hodei", pod.Labels["app.kubernetes.io/managed-by"])
					assert.Equal(t, "worker", pod.Labels["hodei.io/worker"])
					assert.Contains(t, pod.Annotations["hodei.io/spec"], `"name":"worker"`)
					sc := pod.Spec.Containers[0].SecurityContext
					require.NotNil(t, sc)
					assert.False(t, *sc.AllowPrivilegeEscalation)
					assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
					return nil
				},
			},
			{
				// A label change patches the same pod.
				Config: config(k8sImage, "research"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.worker", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, "worker")
					assert.Equal(t, uid, pod.UID, "same pod")
					assert.Equal(t, "research", pod.Labels["team"])
					return nil
				},
			},
			{
				// A declared label edited out of band is put back in place; a
				// label another client added is not the worker's and stays.
				PreConfig: func() {
					_, err := cli.CoreV1().Pods(ns).Patch(ctx, "worker", types.MergePatchType, []byte(`{"metadata":{"labels":{"team":"hacked","extra":"x"}}}`), metav1.PatchOptions{})
					require.NoError(t, err)
				},
				Config: config(k8sImage, "research"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.worker", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, "worker")
					assert.Equal(t, uid, pod.UID)
					assert.Equal(t, "research", pod.Labels["team"])
					assert.Equal(t, "x", pod.Labels["extra"])
					return nil
				},
			},
			{
				ResourceName:            "hodei_worker.worker",
				ImportState:             true,
				ImportStateId:           "kubernetes/" + ns + "/worker",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				// Deleted out of band: the plan creates it.
				PreConfig: func() {
					zero := int64(0)
					require.NoError(t, cli.CoreV1().Pods(ns).Delete(ctx, "worker", metav1.DeleteOptions{GracePeriodSeconds: &zero}))
					require.NoError(t, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
						return assertNoPod(cli, ns, "worker") == nil, nil
					}))
				},
				Config: config(k8sImage, "research"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.worker", plancheck.ResourceActionCreate),
				}},
			},
			{
				// An image change replaces.
				Config: config(k8sImage+"-next", "research"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.worker", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					assert.Equal(t, k8sImage+"-next", getPod(t, cli, ns, "worker").Spec.Containers[0].Image)
					return nil
				},
			},
			{
				// Resources replace on Kubernetes; respelled they do not.
				Config:           strings.Replace(config(k8sImage+"-next", "research"), `"100m"`, `"0.1"`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func TestAccWorkerKubernetes_exitedWorkerIsReplaced(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				// The job finishes after it was scheduled; the next plan replaces it.
				Config:             kubeProvider(kubeconfig) + k8sWorker("job", ns, "registry.example/hodei/worker:exit0", `wait_for = "scheduled"`),
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.job", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					return wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
						return getPod(t, cli, ns, "job").Status.Phase == corev1.PodSucceeded, nil
					})
				},
			},
		},
	})
}

func TestAccWorkerKubernetes_podSecurityRestricted(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      kubeProvider(kubeconfig) + k8sWorker("root", ns, k8sImage, ""),
				ExpectError: regexp.MustCompile(`violates\s+PodSecurity\s+"restricted`),
			},
			{
				Config: kubeProvider(kubeconfig) + k8sWorker("nonroot", ns, k8sImage, `
  security {
    run_as_non_root = true
    run_as_user     = 1000
  }`),
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, "nonroot")
					assert.Equal(t, corev1.PodRunning, pod.Status.Phase)
					require.NotNil(t, pod.Spec.SecurityContext)
					require.NotNil(t, pod.Spec.SecurityContext.SeccompProfile)
					assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.Spec.SecurityContext.SeccompProfile.Type)
					require.NotNil(t, pod.Spec.SecurityContext.RunAsNonRoot)
					assert.True(t, *pod.Spec.SecurityContext.RunAsNonRoot)
					return nil
				},
			},
		},
	})
}

func TestAccWorkerKubernetes_leastPrivilegeKubeconfig(t *testing.T) {
	cli, _ := kubeTestClient(t)
	restricted := requireEnv(t, envTestRestrictedKubeconfig)
	name := randomName("limited")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, restrictedNamespace, name) },
		Steps: []resource.TestStep{
			{
				Config: kubeProvider(restricted) + k8sWorker(name, restrictedNamespace, k8sImage, `labels = { team = "ml" }`),
				Check: func(*terraform.State) error {
					assert.Equal(t, corev1.PodRunning, getPod(t, cli, restrictedNamespace, name).Status.Phase)
					return nil
				},
			},
			{
				Config: kubeProvider(restricted) + k8sWorker(name, restrictedNamespace, k8sImage, `labels = { team = "research" }`),
				Check: func(*terraform.State) error {
					assert.Equal(t, "research", getPod(t, cli, restrictedNamespace, name).Labels["team"])
					return nil
				},
			},
			{
				Config: kubeProvider(restricted) + k8sWorker(name, restrictedNamespace, k8sImage, `labels = { team = "research" }`) +
					k8sWorker(name+"-elsewhere", "default", k8sImage, ""),
				ExpectError: regexp.MustCompile(`(?i)forbidden`),
			},
		},
	})
}

func requireEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("%s is not set (make test sets it when the devcluster runs)", name)
	}
	return v
}
