package provider

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// k8sWorkerAt is a Kubernetes worker at resource address hodei_worker.<addr>.
func k8sWorkerAt(addr, name, namespace, image, extra string) string {
	return fmt.Sprintf(`
resource "hodei_worker" %q {
  name      = %q
  backend   = "kubernetes"
  namespace = %q
  image     = %q
  command   = ["sleep", "3600"]
  %s
}
`, addr, name, namespace, image, extra)
}

const k8sImageV2 = "registry.example/hodei/worker:2.0"

func patchPod(t *testing.T, cli kubernetes.Interface, namespace, name string, pt types.PatchType, patch string) {
	t.Helper()
	_, err := cli.CoreV1().Pods(namespace).Patch(context.Background(), name, pt, []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
}

// TestAccLifecycleKubernetes_createBeforeDestroyFixedName: an image change
// under create_before_destroy with a fixed name cannot make the new pod
// while the old one holds the name. The create waits (bounded by its 5 s
// timeout), fails with the import hint, and deletes nothing: the original
// pod, same UID, still runs and is still in the state.
func TestAccLifecycleKubernetes_createBeforeDestroyFixedName(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	const name = "lc-cbd"
	lifecycle := `lifecycle { create_before_destroy = true }
  timeouts { create = "5s" }`
	var original *corev1.Pod
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{
			{
				Config: kubeProvider(kubeconfig) + k8sWorkerAt("w", name, ns, k8sImage, lifecycle),
				Check:  func(*terraform.State) error { original = getPod(t, cli, ns, name); return nil },
			},
			{
				Config: kubeProvider(kubeconfig) + k8sWorkerAt("w", name, ns, k8sImageV2, lifecycle),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.w", plancheck.ResourceActionCreateBeforeDestroy),
				}},
				ExpectError: existsError,
			},
			{
				PreConfig: func() {
					pod := getPod(t, cli, ns, name)
					assert.Equal(t, original.UID, pod.UID, "the original pod is the same one")
					assert.Nil(t, pod.DeletionTimestamp, "and is not being deleted")
					assert.Equal(t, corev1.PodRunning, pod.Status.Phase)
					assert.Equal(t, k8sImage, pod.Spec.Containers[0].Image)
					assert.Equal(t, 1, countPods(t, cli, ns, name))
				},
				Config:   kubeProvider(kubeconfig) + k8sWorkerAt("w", name, ns, k8sImage, lifecycle),
				PlanOnly: true,
				Check: func(s *terraform.State) error {
					uid, err := stateUID(s, "hodei_worker.w")
					assert.Equal(t, string(original.UID), uid)
					return err
				},
			},
		},
	})
}

// TestAccLifecycleKubernetes_renameWithoutMoved: hodei_worker.a becomes
// hodei_worker.b with the same name and no moved block. b's create waits
// for a's pod to go instead of deleting it; afterwards exactly one pod of
// that name runs and b's state names it.
func TestAccLifecycleKubernetes_renameWithoutMoved(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	const name = "lc-mv"
	var first *corev1.Pod
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{
			{
				Config: kubeProvider(kubeconfig) + k8sWorkerAt("a", name, ns, k8sImage, ""),
				Check:  func(*terraform.State) error { first = getPod(t, cli, ns, name); return nil },
			},
			{
				Config: kubeProvider(kubeconfig) + k8sWorkerAt("b", name, ns, k8sImage, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.a", plancheck.ResourceActionDestroy),
					plancheck.ExpectResourceAction("hodei_worker.b", plancheck.ResourceActionCreate),
				}},
				Check: func(s *terraform.State) error {
					assert.Equal(t, 1, countPods(t, cli, ns, name), "exactly one pod of the worker")
					pod := getPod(t, cli, ns, name)
					assert.Equal(t, corev1.PodRunning, pod.Status.Phase)
					assert.Nil(t, pod.DeletionTimestamp)
					assert.NotEqual(t, first.UID, pod.UID, "b made its own pod")
					uid, err := stateUID(s, "hodei_worker.b")
					assert.Equal(t, string(pod.UID), uid, "the state names the live pod")
					return err
				},
			},
		},
	})
}

// TestAccLifecycleKubernetes_deleteLeavesReplacedPod: the worker's pod is
// deleted out of band and one that looks owned (same name, labels and
// annotations) takes its name. A destroy deletes nothing and says so (see
// the Docker test for the two cases).
func TestAccLifecycleKubernetes_deleteLeavesReplacedPod(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
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
			name := "lc-del-" + tc.name
			w := newWorkspace(t, kubeProvider(kubeconfig)+k8sWorkerAt("w", name, ns, k8sImage, ""))
			w.mustApply(2 * time.Minute)
			original := getPod(t, cli, ns, name)

			zero := int64(0)
			require.NoError(t, cli.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero}))
			require.NoError(t, wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
				return assertNoPod(cli, ns, name) == nil, nil
			}))
			impostor, err := cli.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: original.Labels, Annotations: original.Annotations},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "worker", Image: k8sImage, Command: []string{"sleep", "3600"}}},
				},
			}, metav1.CreateOptions{})
			require.NoError(t, err)
			t.Cleanup(func() {
				_ = cli.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
			})

			warned := func(out, summary string) {
				assert.Contains(t, out, summary)
				assert.Regexp(t, `(?s)has\s+UID\s+`+string(impostor.UID)+`.*the\s+state\s+holds\s+UID\s+`+string(original.UID), out, "the warning names both pods")
			}
			if tc.warning == "" {
				changes, out := w.planChanges()
				assert.True(t, changes)
				warned(out, "Worker replaced outside Terraform")
			}
			out, err := w.run(2*time.Minute, append([]string{"destroy", "-auto-approve", "-input=false"}, tc.destroy...)...)
			require.NoError(t, err, "the destroy succeeds:\n%s", out)
			if tc.warning != "" {
				warned(out, tc.warning)
			}
			pod := getPod(t, cli, ns, name)
			assert.Equal(t, impostor.UID, pod.UID, "the other pod is the same one")
			assert.Nil(t, pod.DeletionTimestamp, "and is not being deleted")
			state, err := w.run(time.Minute, "state", "list")
			require.NoError(t, err)
			assert.NotContains(t, state, "hodei_worker.w")
		})
	}
}

// TestAccLifecycleKubernetes_foreignLabelsAndAnnotations: keys that another
// client adds (as Istio, Calico or kubectl label do) are not the worker's:
// the plan after they appear is empty, also for a worker whose spread
// constraint counts its own labels (a label change there replaces), and an
// apply that changes a declared label in place and drops another keeps
// them. A declared key removed from the configuration leaves the pod.
func TestAccLifecycleKubernetes_foreignLabelsAndAnnotations(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	const name, spread = "lc-meta", "lc-spread"
	config := func(labels string) string {
		return kubeProvider(kubeconfig) +
			k8sWorkerAt("w", name, ns, k8sImage, fmt.Sprintf(`labels      = { %s }
  annotations = { owner = "ml-platform", note = "keep" }`, labels)) +
			k8sWorkerAt("spread", spread, ns, k8sImage, `scheduling {
    topology_spread {
      max_skew           = 1
      topology_key       = "topology.kubernetes.io/zone"
      when_unsatisfiable = "ScheduleAnyway"
    }
  }`)
	}
	foreign := `{"metadata":{"labels":{"security.istio.io/tlsMode":"istio","added-by":"kubectl"},` +
		`"annotations":{"cni.projectcalico.org/podIP":"10.0.0.7/32","sidecar.istio.io/status":"{}"}}}`
	var uid, spreadUID types.UID
	assertForeignKept := func(pod *corev1.Pod) {
		assert.Equal(t, "istio", pod.Labels["security.istio.io/tlsMode"])
		assert.Equal(t, "kubectl", pod.Labels["added-by"])
		assert.Equal(t, "10.0.0.7/32", pod.Annotations["cni.projectcalico.org/podIP"])
		assert.Equal(t, "{}", pod.Annotations["sidecar.istio.io/status"])
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			return errorsJoin(assertNoPod(cli, ns, name), assertNoPod(cli, ns, spread))
		},
		Steps: []resource.TestStep{
			{
				Config: config(`team = "ml", tier = "batch"`),
				Check: func(*terraform.State) error {
					uid, spreadUID = getPod(t, cli, ns, name).UID, getPod(t, cli, ns, spread).UID
					return nil
				},
			},
			{
				PreConfig: func() {
					patchPod(t, cli, ns, name, types.MergePatchType, foreign)
					patchPod(t, cli, ns, spread, types.MergePatchType, foreign)
				},
				Config:   config(`team = "ml", tier = "batch"`),
				PlanOnly: true, // fails on any change
			},
			{
				Config: config(`team = "infra"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.w", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("hodei_worker.spread", plancheck.ResourceActionNoop),
				}},
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, name)
					assert.Equal(t, uid, pod.UID, "changed in place")
					assert.Equal(t, "infra", pod.Labels["team"])
					assert.NotContains(t, pod.Labels, "tier", "the key removed from the configuration leaves the pod")
					assert.Equal(t, "ml-platform", pod.Annotations["owner"])
					assertForeignKept(pod)
					other := getPod(t, cli, ns, spread)
					assert.Equal(t, spreadUID, other.UID, "the spread worker is not replaced")
					assertForeignKept(other)
					return nil
				},
			},
			{
				Config:   config(`team = "infra"`),
				PlanOnly: true,
			},
		},
	})
}

// TestAccLifecycleKubernetes_imageChangedOutOfBand: an image set through the
// API (as kubectl set image does) is drift: the plan replaces the worker,
// and the apply brings back the configured image in a new pod.
func TestAccLifecycleKubernetes_imageChangedOutOfBand(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	const name = "lc-image"
	config := kubeProvider(kubeconfig) + k8sWorkerAt("w", name, ns, k8sImage, "")
	var uid types.UID
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{
			{
				Config: config,
				Check:  func(*terraform.State) error { uid = getPod(t, cli, ns, name).UID; return nil },
			},
			{
				PreConfig: func() {
					patchPod(t, cli, ns, name, types.StrategicMergePatchType,
						fmt.Sprintf(`{"spec":{"containers":[{"name":"worker","image":%q}]}}`, k8sImageV2))
					require.Equal(t, k8sImageV2, getPod(t, cli, ns, name).Spec.Containers[0].Image)
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.w", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, name)
					assert.NotEqual(t, uid, pod.UID, "replaced")
					assert.Equal(t, k8sImage, pod.Spec.Containers[0].Image)
					return nil
				},
			},
		},
	})
}

func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
