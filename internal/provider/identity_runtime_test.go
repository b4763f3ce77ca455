package provider

import (
	"context"
	"fmt"
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
	nodev1 "k8s.io/api/node/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ensureRuntimeClass makes the RuntimeClass name (handler nvidia) unless it
// exists: the API server's RuntimeClass admission refuses a pod that names
// one that does not. The devcluster is shared, so one that another test
// made is left alone, and this test deletes only its own.
func ensureRuntimeClass(t *testing.T, cli kubernetes.Interface, name string) {
	t.Helper()
	ctx := context.Background()
	_, err := cli.NodeV1().RuntimeClasses().Create(ctx, &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Handler: "nvidia"}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.NodeV1().RuntimeClasses().Delete(context.Background(), name, metav1.DeleteOptions{}) })
}

func hasAPITokenVolume(pod *corev1.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, "kube-api-access-") {
			return true
		}
	}
	return false
}

// TestAccWorkerKubernetes_identityRuntimeAndStorage checks on the API
// server's pods: no API token by default, the service account and the
// token when asked, the worker's runtime class and the catalog's for a GPU
// type, ephemeral-storage requests and limits, and the /dev/shm emptyDir;
// import reproduces the configuration, and a shm_size change replaces.
func TestAccWorkerKubernetes_identityRuntimeAndStorage(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	ctx := context.Background()
	_, err := cli.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "trainer"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	ensureRuntimeClass(t, cli, "nvidia")
	ownClass := randomName("rc")
	ensureRuntimeClass(t, cli, ownClass)
	gpuType := randomName("l4")
	config := func(shm string) string {
		return fmt.Sprintf(`
provider "hodei" {
  kubernetes { config_path = %q }
  gpu_type {
    name          = %q
    vendor        = "nvidia"
    node_label    = "nvidia-tesla-a100"
    runtime_class = "nvidia"
  }
}
`, kubeconfig, gpuType) +
			k8sWorker("plain", ns, k8sImage, "") +
			k8sWorker("ident", ns, k8sImage, fmt.Sprintf(`
  service_account_name            = "trainer"
  automount_service_account_token = true
  runtime_class_name              = %q
  shm_size                        = %q
  resources {
    ephemeral_storage       = "1Gi"
    ephemeral_storage_limit = "2Gi"
  }`, ownClass, shm)) +
			k8sWorker("gpu", ns, k8sImage, fmt.Sprintf(`gpu { type = %q }`, gpuType))
	}
	var identUID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			for _, name := range []string{"plain", "ident", "gpu"} {
				if err := assertNoPod(cli, ns, name); err != nil {
					return err
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: config("256Mi"),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("hodei_worker.plain", "automount_service_account_token", "false"),
					resource.TestCheckResourceAttr("hodei_worker.ident", "shm_size", "256Mi"),
					func(s *terraform.State) error {
						identUID = s.RootModule().Resources["hodei_worker.ident"].Primary.Attributes["uid"]
						plain := getPod(t, cli, ns, "plain")
						assert.Equal(t, "default", plain.Spec.ServiceAccountName, "the namespace's default account")
						assert.Equal(t, ptrTo(false), plain.Spec.AutomountServiceAccountToken)
						assert.False(t, hasAPITokenVolume(plain), "no API token unless asked: %v", plain.Spec.Volumes)
						assert.Nil(t, plain.Spec.RuntimeClassName)

						ident := getPod(t, cli, ns, "ident")
						assert.Equal(t, "trainer", ident.Spec.ServiceAccountName)
						assert.Equal(t, ptrTo(true), ident.Spec.AutomountServiceAccountToken)
						assert.True(t, hasAPITokenVolume(ident), "the token is mounted when asked: %v", ident.Spec.Volumes)
						assert.Equal(t, ptrTo(ownClass), ident.Spec.RuntimeClassName)
						c := ident.Spec.Containers[0]
						assert.True(t, c.Resources.Requests[corev1.ResourceEphemeralStorage].Equal(k8sresource.MustParse("1Gi")), "%v", c.Resources.Requests)
						assert.True(t, c.Resources.Limits[corev1.ResourceEphemeralStorage].Equal(k8sresource.MustParse("2Gi")), "%v", c.Resources.Limits)
						var shm *corev1.Volume
						for i := range ident.Spec.Volumes {
							if ident.Spec.Volumes[i].Name == "hodei-shm" {
								shm = &ident.Spec.Volumes[i]
							}
						}
						if assert.NotNil(t, shm, "the /dev/shm volume") && assert.NotNil(t, shm.EmptyDir) {
							assert.Equal(t, corev1.StorageMediumMemory, shm.EmptyDir.Medium)
							assert.Equal(t, "256Mi", shm.EmptyDir.SizeLimit.String())
						}
						assert.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: "hodei-shm", MountPath: "/dev/shm"})

						gpu := getPod(t, cli, ns, "gpu")
						assert.Equal(t, ptrTo("nvidia"), gpu.Spec.RuntimeClassName, "the GPU type's runtime class")
						assert.Equal(t, "gpu-a100-0", gpu.Spec.NodeName)
						return nil
					},
				),
			},
			{
				ResourceName:            "hodei_worker.ident",
				ImportState:             true,
				ImportStateId:           ns + "/ident",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				// A respelled size is no change.
				Config:   config("0.25Gi"),
				PlanOnly: true,
			},
			{
				Config: config("512Mi"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.ident", plancheck.ResourceActionReplace),
					plancheck.ExpectResourceAction("hodei_worker.plain", plancheck.ResourceActionNoop),
				}},
				Check: func(s *terraform.State) error {
					assert.NotEqual(t, identUID, s.RootModule().Resources["hodei_worker.ident"].Primary.Attributes["uid"], "a new pod")
					for _, v := range getPod(t, cli, ns, "ident").Spec.Volumes {
						if v.Name == "hodei-shm" {
							assert.Equal(t, "512Mi", v.EmptyDir.SizeLimit.String())
						}
					}
					return nil
				},
			},
		},
	})
}

// TestAccWorkerDocker_shmSizeAndRuntime checks what `docker inspect`
// reports for shm_size, that an ephemeral storage change replaces the
// container, and that import reproduces the configuration.
func TestAccWorkerDocker_shmSizeAndRuntime(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("shm")
	config := func(storage string) string {
		return simpleWorker(name, fmt.Sprintf(`
  shm_size = "128Mi"
  resources {
    memory_limit      = "256Mi"
    ephemeral_storage = %q
  }`, storage))
	}
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
		Steps: []resource.TestStep{
			{
				Config: config("1Gi"),
				Check: func(*terraform.State) error {
					info := inspect(t, cli, name)
					firstID = info.ID
					assert.Equal(t, int64(128<<20), info.HostConfig.ShmSize)
					assert.Contains(t, []string{"", "runc"}, info.HostConfig.Runtime, "the daemon's default runtime")
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
			{
				Config: config("2Gi"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.test", plancheck.ResourceActionReplace),
				}},
				Check: func(*terraform.State) error {
					info := inspect(t, cli, name)
					assert.NotEqual(t, firstID, info.ID, "a new container")
					assert.Equal(t, int64(128<<20), info.HostConfig.ShmSize)
					return nil
				},
			},
		},
	})
}

// TestAccWorkerDocker_missingRuntimeRefusedWithoutOrphan names a runtime the
// daemon lacks, directly and through a gpu_type: the daemon refuses the
// create in its own words, and no container is left. The GPU case turns
// the preflight off, which would refuse an NVIDIA worker on this daemon at
// plan already (TestAccWorkerDocker_nvidiaGPURefusedWithoutOrphan).
func TestAccWorkerDocker_missingRuntimeRefusedWithoutOrphan(t *testing.T) {
	cli := dockerTestClient(t)
	for _, tc := range []struct{ name, provider, body string }{
		{"own", ``, `runtime_class_name = "nvidia"`},
		{"catalog", `
provider "hodei" {
  preflight = "off"
  gpu_type {
    name          = "rtx"
    vendor        = "nvidia"
    node_label    = "rtx"
    runtime_class = "nvidia"
  }
}
`, `gpu { type = "rtx" }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := randomName("rt")
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{
					{
						Config:      tc.provider + simpleWorker(name, tc.body),
						ExpectError: regexp.MustCompile(`(?s)with\s+runtime\s+"nvidia"\s+\(runtime_class_name,\s+else\s+the\s+gpu_type's\s+runtime_class\):.*Unknown\s+runtime\s+specified\s+nvidia`),
					},
					{
						PreConfig: func() { assert.NoError(t, assertNoContainer(cli, name)) },
						Config:    `# nothing`,
						PlanOnly:  true,
					},
				},
			})
		})
	}
}

// TestAccWorkerDocker_identityAndStorageWarn plans, with the real CLI, a
// Docker worker with the Kubernetes-only settings: each gets a warning that
// names it.
func TestAccWorkerDocker_identityAndStorageWarn(t *testing.T) {
	dockerTestClient(t)
	w := newWorkspace(t, fmt.Sprintf(`
resource "hodei_worker" "w" {
  name                            = %q
  image                           = %q
  service_account_name            = "trainer"
  automount_service_account_token = true
  resources {
    ephemeral_storage       = "1Gi"
    ephemeral_storage_limit = "2Gi"
  }
}
`, randomName("warn"), testImage))
	// -json, as the human output folds similar warnings into one.
	out, err := w.run(2*time.Minute, "plan", "-input=false", "-json")
	require.NoError(t, err)
	for _, attr := range []string{"service_account_name", "automount_service_account_token", "resources.ephemeral_storage", "resources.ephemeral_storage_limit"} {
		assert.Regexp(t, regexp.MustCompile(`"severity":"warning","summary":"Not honoured by Docker","detail":"`+regexp.QuoteMeta(attr)+`: `), out, attr)
	}
}

// TestAccGPUTypeRuntimeClass reads a gpu_type's runtime_class back from the
// catalog data source (none for a built-in type), and reports an invalid
// one at `terraform validate`, naming the attribute.
func TestAccGPUTypeRuntimeClass(t *testing.T) {
	dockerTestClient(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: `
provider "hodei" {
  gpu_type {
    name          = "l4"
    vendor        = "nvidia"
    node_label    = "nvidia-l4"
    runtime_class = "nvidia"
  }
}
data "hodei_gpu_types" "all" {}
`,
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckTypeSetElemNestedAttrs("data.hodei_gpu_types.all", "types.*", map[string]string{"name": "l4", "runtime_class": "nvidia"}),
				func(s *terraform.State) error {
					attrs := s.RootModule().Resources["data.hodei_gpu_types.all"].Primary.Attributes
					for k, v := range attrs {
						if strings.HasSuffix(k, ".name") && v == "a100" {
							assert.NotContains(t, attrs, strings.TrimSuffix(k, ".name")+".runtime_class", "built-in types have none")
						}
					}
					return nil
				},
			),
		}},
	})

	w := newWorkspace(t, `
provider "hodei" {
  gpu_type {
    name          = "l4"
    vendor        = "nvidia"
    node_label    = "nvidia-l4"
    runtime_class = "NVIDIA Runtime"
  }
}
data "hodei_gpu_types" "all" {}
`)
	out, err := w.run(time.Minute, "validate")
	require.Error(t, err)
	assert.Regexp(t, regexp.MustCompile(`(?s)Invalid runtime class.*runtime_class = "NVIDIA Runtime".*not a DNS-1123\s+subdomain`), out)
}
