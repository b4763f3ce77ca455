package provider

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// The devcluster's simulated DRA driver (tools/devcluster) publishes, as
// NVIDIA's k8s-dra-driver-gpu does, one ResourceSlice per GPU node: four
// A100 80GB devices on gpu-dra-a100-80gb-0, four A100 40GB on
// gpu-dra-a100-40gb-0 and seven 1g.10gb MIG devices of an H100 on
// gpu-dra-h100-mig-0. The real kube-scheduler allocates.
const (
	draNodeA100x80 = "gpu-dra-a100-80gb-0"
	draNodeMIG     = "gpu-dra-h100-mig-0"
	pluginNodeMIG  = "gpu-h100-mig-0"
	pluginNodeA100 = "gpu-a100-0"
)

// draTestClient is kubeTestClient for a devcluster that runs the DRA
// simulation: its DeviceClass gpu.nvidia.com exists.
func draTestClient(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	cli, kubeconfig := kubeTestClient(t)
	if _, err := cli.ResourceV1().DeviceClasses().Get(context.Background(), "gpu.nvidia.com", metav1.GetOptions{}); err != nil {
		t.Skipf("needs the devcluster's DRA simulation (DeviceClass gpu.nvidia.com): %v", err)
	}
	return cli, kubeconfig
}

// generatedClaim is the ResourceClaim that the resource-claim controller
// made for the pod's claim "gpu".
func generatedClaim(t *testing.T, cli kubernetes.Interface, pod *corev1.Pod) *resourcev1.ResourceClaim {
	t.Helper()
	for _, s := range pod.Status.ResourceClaimStatuses {
		if s.Name == "gpu" && s.ResourceClaimName != nil {
			claim, err := cli.ResourceV1().ResourceClaims(pod.Namespace).Get(context.Background(), *s.ResourceClaimName, metav1.GetOptions{})
			require.NoError(t, err)
			return claim
		}
	}
	t.Fatalf("pod %s/%s names no generated claim: %+v", pod.Namespace, pod.Name, pod.Status.ResourceClaimStatuses)
	return nil
}

// assertClaimDevices checks that the claim was allocated exactly the
// devices that the state lists in gpu.devices, on the pod's node.
func assertClaimDevices(t *testing.T, s *terraform.State, address string, claim *resourcev1.ResourceClaim, node string, count int) []string {
	t.Helper()
	require.NotNil(t, claim.Status.Allocation, "claim %s is allocated", claim.Name)
	results := claim.Status.Allocation.Devices.Results
	require.Len(t, results, count)
	attrs := s.RootModule().Resources[address].Primary.Attributes
	assert.Equal(t, strconv.Itoa(count), attrs["gpu.devices.#"])
	var devices []string
	for i, r := range results {
		assert.Equal(t, "gpu.nvidia.com", r.Driver)
		assert.Equal(t, node, r.Pool, "the slice's pool is the node")
		assert.Equal(t, r.Driver, attrs[fmt.Sprintf("gpu.devices.%d.driver", i)])
		assert.Equal(t, r.Pool, attrs[fmt.Sprintf("gpu.devices.%d.pool", i)])
		assert.Equal(t, r.Device, attrs[fmt.Sprintf("gpu.devices.%d.device", i)])
		devices = append(devices, r.Device)
	}
	return devices
}

// assertNoDRAObjects is the check that a worker left nothing: no pod, no
// template, no claim in the namespace (the generated claim goes with the
// pod, through the garbage collector: it is waited for).
func assertNoDRAObjects(cli kubernetes.Interface, namespace, name string) error {
	if err := assertNoPod(cli, namespace, name); err != nil {
		return err
	}
	ctx := context.Background()
	switch _, err := cli.ResourceV1().ResourceClaimTemplates(namespace).Get(ctx, name, metav1.GetOptions{}); {
	case err == nil:
		return fmt.Errorf("resource claim template %s/%s still exists", namespace, name)
	case !apierrors.IsNotFound(err):
		return err
	}
	var left []string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		claims, err := cli.ResourceV1().ResourceClaims(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		left = nil
		for _, c := range claims.Items {
			left = append(left, c.Name)
		}
		return len(left) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("resource claims left in %s: %v (%w)", namespace, left, err)
	}
	return nil
}

func draWorker(name, namespace, gpu string) string {
	return k8sWorker(name, namespace, k8sImage, "gpu {\n"+gpu+"\n  }")
}

// min_memory = "60Gi" lands on the 80 GB node and never on the 40 GB one;
// the claim's allocation is gpu.devices; import is lossless; destroy leaves
// no pod, template or claim.
func TestAccWorkerKubernetesDRA_minMemoryPicksThe80GBNode(t *testing.T) {
	cli, kubeconfig := draTestClient(t)
	ns := testNamespace(t, cli, nil)
	config := kubeProvider(kubeconfig) + draWorker("big", ns, `
    type       = "a100"
    allocation = "dra"
    min_memory = "60Gi"`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoDRAObjects(cli, ns, "big") },
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(s *terraform.State) error {
					pod := getPod(t, cli, ns, "big")
					assert.Equal(t, draNodeA100x80, pod.Spec.NodeName, "the allocator picked a device of at least 60Gi")
					c := pod.Spec.Containers[0]
					assert.Empty(t, c.Resources.Limits, "no extended resource in DRA mode")
					assert.Equal(t, []corev1.ResourceClaim{{Name: "gpu"}}, c.Resources.Claims)
					assert.Empty(t, pod.Spec.NodeSelector, "no node selector in DRA mode")
					template, err := cli.ResourceV1().ResourceClaimTemplates(ns).Get(context.Background(), "big", metav1.GetOptions{})
					require.NoError(t, err)
					require.Len(t, template.OwnerReferences, 1)
					assert.Equal(t, pod.UID, template.OwnerReferences[0].UID, "the pod owns its template")
					request := template.Spec.Spec.Devices.Requests[0].Exactly
					assert.Equal(t, "gpu.nvidia.com", request.DeviceClassName)
					assert.Contains(t, request.Selectors, resourcev1.DeviceSelector{CEL: &resourcev1.CELDeviceSelector{
						Expression: `device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("60Gi")) >= 0`}})
					assertClaimDevices(t, s, "hodei_worker.big", generatedClaim(t, cli, pod), draNodeA100x80, 1)
					return nil
				},
			},
			{
				ResourceName:            "hodei_worker.big",
				ImportState:             true,
				ImportStateId:           ns + "/big",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}

// count = 2 gets two distinct devices, in gpu.devices and in the claim;
// the provider's gpu_allocation decides the mode, and changing it replaces
// the worker with a device-plugin pod and removes the template.
func TestAccWorkerKubernetesDRA_twoDevicesAndAllocationChangeReplaces(t *testing.T) {
	cli, kubeconfig := draTestClient(t)
	ns := testNamespace(t, cli, nil)
	config := func(allocation string) string {
		return fmt.Sprintf(`
provider "hodei" {
  gpu_allocation = %q
  kubernetes { config_path = %q }
}
`, allocation, kubeconfig) + draWorker("pair", ns, `
    type  = "a100"
    count = 2`)
	}
	var uid string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoDRAObjects(cli, ns, "pair") },
		Steps: []resource.TestStep{
			{
				Config: config("dra"),
				Check: func(s *terraform.State) error {
					pod := getPod(t, cli, ns, "pair")
					uid = string(pod.UID)
					assert.Equal(t, "dra", s.RootModule().Resources["hodei_worker.pair"].Primary.Attributes["gpu.allocation"])
					devices := assertClaimDevices(t, s, "hodei_worker.pair", generatedClaim(t, cli, pod), pod.Spec.NodeName, 2)
					assert.NotEqual(t, devices[0], devices[1], "two distinct devices")
					return nil
				},
			},
			{
				Config: config("device_plugin"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.pair", plancheck.ResourceActionReplace),
				}},
				Check: func(s *terraform.State) error {
					pod := getPod(t, cli, ns, "pair")
					assert.NotEqual(t, uid, string(pod.UID), "replaced")
					assert.Equal(t, pluginNodeA100, pod.Spec.NodeName)
					assert.Equal(t, "2", pod.Spec.Containers[0].Resources.Limits.Name("nvidia.com/gpu", "").String())
					assert.Empty(t, pod.Spec.ResourceClaims)
					assert.Equal(t, "0", s.RootModule().Resources["hodei_worker.pair"].Primary.Attributes["gpu.devices.#"])
					_, err := cli.ResourceV1().ResourceClaimTemplates(ns).Get(context.Background(), "pair", metav1.GetOptions{})
					assert.True(t, apierrors.IsNotFound(err), "the DRA worker's template went with it: %v", err)
					return nil
				},
			},
		},
	})
}

// mig_profile in DRA mode claims a MIG device of the H100 node through the
// DeviceClass mig.nvidia.com; a claim deleted out of band is a replacement.
func TestAccWorkerKubernetesDRA_migProfileAndClaimDeletedOutOfBand(t *testing.T) {
	cli, kubeconfig := draTestClient(t)
	ns := testNamespace(t, cli, nil)
	config := kubeProvider(kubeconfig) + draWorker("slice", ns, `
    type        = "h100"
    allocation  = "dra"
    mig_profile = "1g.10gb"`)
	var uid string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoDRAObjects(cli, ns, "slice") },
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(s *terraform.State) error {
					pod := getPod(t, cli, ns, "slice")
					uid = string(pod.UID)
					assert.Equal(t, draNodeMIG, pod.Spec.NodeName)
					template, err := cli.ResourceV1().ResourceClaimTemplates(ns).Get(context.Background(), "slice", metav1.GetOptions{})
					require.NoError(t, err)
					assert.Equal(t, "mig.nvidia.com", template.Spec.Spec.Devices.Requests[0].Exactly.DeviceClassName)
					devices := assertClaimDevices(t, s, "hodei_worker.slice", generatedClaim(t, cli, pod), draNodeMIG, 1)
					assert.Contains(t, devices[0], "mig", "a MIG device")
					return nil
				},
			},
			{
				PreConfig: func() {
					claim := generatedClaim(t, cli, getPod(t, cli, ns, "slice"))
					require.NoError(t, cli.ResourceV1().ResourceClaims(ns).Delete(context.Background(), claim.Name, metav1.DeleteOptions{
						Preconditions: &metav1.Preconditions{UID: &claim.UID},
					}))
					// The claim's finalizer keeps it, being deleted, while the
					// pod uses it.
					require.NoError(t, wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
						current, err := cli.ResourceV1().ResourceClaims(ns).Get(ctx, claim.Name, metav1.GetOptions{})
						return apierrors.IsNotFound(err) || err == nil && (current.UID != claim.UID || current.DeletionTimestamp != nil), nil
					}))
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.slice", plancheck.ResourceActionReplace),
				}},
				Check: func(s *terraform.State) error {
					pod := getPod(t, cli, ns, "slice")
					assert.NotEqual(t, uid, string(pod.UID), "replaced")
					assertClaimDevices(t, s, "hodei_worker.slice", generatedClaim(t, cli, pod), draNodeMIG, 1)
					return nil
				},
			},
		},
	})
}

// A selector that no device satisfies fails the create with the
// scheduler's reason and leaves no pod, template or claim.
func TestAccWorkerKubernetesDRA_unsatisfiableFailsWithoutOrphan(t *testing.T) {
	cli, kubeconfig := draTestClient(t)
	ns := testNamespace(t, cli, nil)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: kubeProvider(kubeconfig) + k8sWorker("huge", ns, k8sImage, `
  gpu {
    type       = "a100"
    allocation = "dra"
    min_memory = "200Gi"
  }
  timeouts { create = "10s" }`),
				ExpectError: regexp.MustCompile(`(?s)was not scheduled within the create timeout.*(cannot allocate all claims|resourceclaim)`),
			},
			{
				PreConfig: func() { assert.NoError(t, assertNoDRAObjects(cli, ns, "huge")) },
				Config:    `# nothing`,
				PlanOnly:  true,
			},
		},
	})
}

// With the device plugin, mig_profile requests the mixed strategy's
// nvidia.com/mig-1g.10gb, which only the H100 MIG node offers; the profile
// is known only at apply.
func TestAccWorkerKubernetes_devicePluginMIGProfile(t *testing.T) {
	cli, kubeconfig := draTestClient(t)
	ns := testNamespace(t, cli, nil)
	config := unknownInputs(`mig = "1g.10gb"`) + kubeProvider(kubeconfig) + draWorker("mig", ns, `
    type        = "h100"
    mig_profile = local.in.mig`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, "mig") },
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue("hodei_worker.mig", tfjsonpath.New("gpu").AtMapKey("mig_profile")),
			}},
			Check: func(s *terraform.State) error {
				pod := getPod(t, cli, ns, "mig")
				assert.Equal(t, pluginNodeMIG, pod.Spec.NodeName)
				limits := pod.Spec.Containers[0].Resources.Limits
				assert.Equal(t, "1", limits.Name("nvidia.com/mig-1g.10gb", "").String())
				_, whole := limits["nvidia.com/gpu"]
				assert.False(t, whole, "no whole GPU")
				assert.Equal(t, "device_plugin", s.RootModule().Resources["hodei_worker.mig"].Primary.Attributes["gpu.allocation"])
				return nil
			},
		}},
	})
}

// Every new attribute accepts a value known only at apply, the provider's
// gpu_allocation included; the hodei_worker data source shows the devices.
func TestAccWorkerKubernetesDRA_unknownValues(t *testing.T) {
	cli, kubeconfig := draTestClient(t)
	ns := testNamespace(t, cli, nil)
	config := unknownInputs(`
    allocation = "dra"
    gpu        = "a100"
    memory     = "60Gi"
    product    = "NVIDIA A100-SXM4-80GB"`) + fmt.Sprintf(`
provider "hodei" {
  gpu_allocation = local.in.allocation
  kubernetes { config_path = %q }
}
`, kubeconfig) + draWorker("uv", ns, `
    type       = local.in.gpu
    min_memory = local.in.memory
    product    = [local.in.product]`) + `
data "hodei_worker" "uv" {
  id = hodei_worker.uv.id
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoDRAObjects(cli, ns, "uv") },
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue("hodei_worker.uv", tfjsonpath.New("gpu").AtMapKey("allocation")),
				plancheck.ExpectUnknownValue("hodei_worker.uv", tfjsonpath.New("gpu").AtMapKey("min_memory")),
				plancheck.ExpectUnknownValue("hodei_worker.uv", tfjsonpath.New("gpu").AtMapKey("devices")),
			}},
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr("hodei_worker.uv", "gpu.allocation", "dra"),
				resource.TestCheckResourceAttr("hodei_worker.uv", "gpu.devices.0.pool", draNodeA100x80),
				resource.TestCheckResourceAttrPair("data.hodei_worker.uv", "gpu_devices.0.device", "hodei_worker.uv", "gpu.devices.0.device"),
				func(s *terraform.State) error {
					pod := getPod(t, cli, ns, "uv")
					assert.Equal(t, draNodeA100x80, pod.Spec.NodeName)
					assertClaimDevices(t, s, "hodei_worker.uv", generatedClaim(t, cli, pod), draNodeA100x80, 1)
					return nil
				},
			),
		}},
	})
}

// The devcluster's restricted account, with the grants the docs list for
// DRA workers and no ClusterRole, creates, refreshes and destroys a DRA
// worker; the plan's device check, which needs a cluster-wide LIST of
// resourceslices, is skipped without a warning.
func TestAccWorkerKubernetesDRA_leastPrivilege(t *testing.T) {
	cli, _ := draTestClient(t)
	restricted := requireEnv(t, envTestRestrictedKubeconfig)
	name := randomName("limited-dra")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoDRAObjects(cli, restrictedNamespace, name) },
		Steps: []resource.TestStep{{
			Config: kubeProvider(restricted) + draWorker(name, restrictedNamespace, `
    type       = "a100"
    allocation = "dra"`),
			Check: func(s *terraform.State) error {
				pod := getPod(t, cli, restrictedNamespace, name)
				assert.Equal(t, corev1.PodRunning, pod.Status.Phase)
				assertClaimDevices(t, s, "hodei_worker."+name, generatedClaim(t, cli, pod), pod.Spec.NodeName, 1)
				return nil
			},
		}},
	})
}

// With the device plugin, min_memory and product are required affinity on
// GPU Feature Discovery's labels: the 40 GB A100 node qualifies for
// "40Gi" (its label says 40960 MiB), and the product as GFD spells it.
func TestAccWorkerKubernetes_devicePluginMemoryAndProductAffinity(t *testing.T) {
	cli, kubeconfig := draTestClient(t)
	ns := testNamespace(t, cli, nil)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, "gfd") },
		Steps: []resource.TestStep{{
			Config: kubeProvider(kubeconfig) + draWorker("gfd", ns, `
    type       = "a100"
    min_memory = "40Gi"
    product    = ["NVIDIA A100-SXM4-40GB"]`),
			Check: func(*terraform.State) error {
				pod := getPod(t, cli, ns, "gfd")
				assert.Equal(t, pluginNodeA100, pod.Spec.NodeName)
				terms := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
				require.Len(t, terms, 1)
				assert.ElementsMatch(t, []corev1.NodeSelectorRequirement{
					{Key: "nvidia.com/gpu.memory", Operator: corev1.NodeSelectorOpGt, Values: []string{"40959"}},
					{Key: "nvidia.com/gpu.product", Operator: corev1.NodeSelectorOpIn, Values: []string{"NVIDIA-A100-SXM4-40GB"}},
				}, terms[0].MatchExpressions)
				return nil
			},
		}},
	})
}
