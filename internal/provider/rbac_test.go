package provider

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// documentedRoleFile is the least-privilege Role that docs/index.md (through
// templates/index.md.tmpl) and SECURITY.md show, and that the tests apply.
const documentedRoleFile = "examples/rbac/role.yaml"

// documentedRole parses the Role of documentedRoleFile.
func documentedRole(t *testing.T) *rbacv1.Role {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), documentedRoleFile))
	require.NoError(t, err)
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	require.NoError(t, err, "%s is not a Kubernetes object", documentedRoleFile)
	role, ok := obj.(*rbacv1.Role)
	require.True(t, ok, "%s holds a %T, not a Role", documentedRoleFile, obj)
	return role
}

// The Role the tests apply is the one both documents show, word for word.
func TestDocumentedRoleIsTheTestedOne(t *testing.T) {
	root := repoRoot(t)
	role, err := os.ReadFile(filepath.Join(root, documentedRoleFile))
	require.NoError(t, err)
	security, err := os.ReadFile(filepath.Join(root, "SECURITY.md"))
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(security), "```yaml\n"+string(role)+"```\n"), "SECURITY.md shows %s verbatim in a yaml block", documentedRoleFile)
	// tfplugindocs puts the file into docs/; make docs-check keeps it current.
	for _, template := range []string{"index.md.tmpl", "guides/terraform-cloud.md.tmpl"} {
		text, err := os.ReadFile(filepath.Join(root, "templates", template))
		require.NoError(t, err)
		assert.True(t, strings.Contains(string(text), `{{ codefile "yaml" "`+documentedRoleFile+`" }}`), "templates/%s includes %s", template, documentedRoleFile)
	}
	assert.Equal(t, "hodei-provider", documentedRole(t).Name)
}

// roleAccess makes a namespace, a service account bound to role in it, and
// a kubeconfig with a token of that account, and waits until the API
// server authorizes every rule of role for it.
func roleAccess(t *testing.T, cli kubernetes.Interface, adminKubeconfig string, role *rbacv1.Role) (namespace, kubeconfig string) {
	t.Helper()
	ctx := context.Background()
	ns := testNamespace(t, cli, nil)
	role = role.DeepCopy()
	role.Namespace = ns
	_, err := cli.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: role.Name}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cli.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cli.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: role.Name, Namespace: ns}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	token, err := cli.CoreV1().ServiceAccounts(ns).CreateToken(ctx, role.Name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: new(int64(3600))},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	// RBAC reads roles and bindings from a cache: wait until it has them.
	user := "system:serviceaccount:" + ns + ":" + role.Name
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		for _, rule := range role.Rules {
			for _, verb := range rule.Verbs {
				review, err := cli.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User:               user,
					ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Resource: rule.Resources[0]},
				}}, metav1.CreateOptions{})
				// Not yet allowed, or not answered: ask again.
				if allowed := err == nil && review.Status.Allowed; !allowed {
					return false, nil
				}
			}
		}
		return true, nil
	})
	require.NoError(t, err, "the role binding of %s did not take effect", user)

	admin, err := clientcmd.LoadFromFile(adminKubeconfig)
	require.NoError(t, err)
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	restricted := clientcmdapi.NewConfig()
	restricted.Clusters["devcluster"] = cluster
	restricted.AuthInfos[role.Name] = &clientcmdapi.AuthInfo{Token: token.Status.Token}
	restricted.Contexts[role.Name] = &clientcmdapi.Context{Cluster: "devcluster", AuthInfo: role.Name, Namespace: ns}
	restricted.CurrentContext = role.Name
	kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*restricted, kubeconfig))
	return ns, kubeconfig
}

// unschedulableWorker never finds a node, so its create times out and
// quotes the scheduler's warning events.
func unschedulableWorker(namespace string) string {
	return k8sWorker("stranded", namespace, k8sImage, `
  scheduling {
    node_selector = { "hodei.io/no-such-node" = "true" }
  }
  timeouts { create = "6s" }`)
}

// Everything the provider does to a worker works under the documented Role
// and nothing more: create (waiting by watch), refresh, drift repair and an
// update in place, delete, and the events of a pod that cannot be scheduled.
func TestAccWorkerKubernetes_documentedRole(t *testing.T) {
	cli, adminKubeconfig := kubeTestClient(t)
	ns, kubeconfig := roleAccess(t, cli, adminKubeconfig, documentedRole(t))
	name := randomName("rbac")
	var uid types.UID
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{
			{
				Config: kubeProvider(kubeconfig) + k8sWorker(name, ns, k8sImage, `labels = { team = "ml" }`),
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, name)
					assert.Equal(t, corev1.PodRunning, pod.Status.Phase)
					uid = pod.UID
					return nil
				},
			},
			{
				Config: kubeProvider(kubeconfig) + k8sWorker(name, ns, k8sImage, `labels = { team = "research" }`),
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, name)
					assert.Equal(t, "research", pod.Labels["team"])
					assert.Equal(t, uid, pod.UID, "labels change in place")
					return nil
				},
			},
			{
				// Drift made out of band is read back and repaired.
				PreConfig: func() {
					_, err := cli.CoreV1().Pods(ns).Patch(context.Background(), name, types.MergePatchType,
						[]byte(`{"metadata":{"labels":{"team":"edited"}}}`), metav1.PatchOptions{})
					require.NoError(t, err)
				},
				Config: kubeProvider(kubeconfig) + k8sWorker(name, ns, k8sImage, `labels = { team = "research" }`),
				Check: func(*terraform.State) error {
					assert.Equal(t, "research", getPod(t, cli, ns, name).Labels["team"])
					return nil
				},
			},
			{
				Config:      kubeProvider(kubeconfig) + k8sWorker(name, ns, k8sImage, `labels = { team = "research" }`) + unschedulableWorker(ns),
				ExpectError: regexp.MustCompile(`FailedScheduling`),
			},
			{
				PreConfig: func() { assert.NoError(t, assertNoPod(cli, ns, "stranded")) },
				Config:    kubeProvider(kubeconfig) + k8sWorker(name, ns, k8sImage, `labels = { team = "research" }`),
			},
		},
	})
}

// Each verb of the documented Role is needed: without it, the step that
// uses it fails with the API server's "forbidden" (or, for the events that
// are read on a best-effort basis, says that they could not be read).
func TestAccWorkerKubernetes_documentedRoleIsMinimal(t *testing.T) {
	cli, adminKubeconfig := kubeTestClient(t)
	documented := documentedRole(t)
	worker := func(ns, labels string) string {
		return k8sWorker("minimal", ns, k8sImage, `labels = { team = "`+labels+`" }`)
	}
	cases := []struct {
		resource, verb string
		steps          func(t *testing.T, ns, kubeconfig string) []resource.TestStep
	}{
		{"pods", "get", func(_ *testing.T, ns, kubeconfig string) []resource.TestStep {
			// A pod alone is created before anything reads it (issue 16):
			// the refresh after the apply is what fails, and the pod is in
			// the state, so the admin's credentials destroy it.
			return []resource.TestStep{
				{Config: kubeProvider(kubeconfig) + worker(ns, "ml"), ExpectError: forbidden("reading pod")},
				{Config: kubeProvider(adminKubeconfig)},
			}
		}},
		{"pods", "watch", createFails("watching pod")},
		{"pods", "create", createFails("creating pod")},
		{"pods", "patch", func(_ *testing.T, ns, kubeconfig string) []resource.TestStep {
			return []resource.TestStep{
				{Config: kubeProvider(kubeconfig) + worker(ns, "ml")},
				{Config: kubeProvider(kubeconfig) + worker(ns, "research"), ExpectError: forbidden("patching the labels and annotations of pod")},
				{Config: kubeProvider(kubeconfig) + worker(ns, "ml")},
			}
		}},
		{"pods", "delete", func(t *testing.T, ns, kubeconfig string) []resource.TestStep {
			return []resource.TestStep{
				{Config: kubeProvider(kubeconfig) + worker(ns, "ml")},
				{Config: kubeProvider(kubeconfig) + worker(ns, "ml"), Destroy: true, ExpectError: forbidden("deleting pod")},
				{
					// The admin removes it, so that the test's own destroy finds nothing.
					PreConfig: func() {
						require.NoError(t, cli.CoreV1().Pods(ns).Delete(context.Background(), "minimal", metav1.DeleteOptions{GracePeriodSeconds: new(int64(0))}))
					},
					Config: kubeProvider(kubeconfig),
				},
			}
		}},
		{"events", "list", func(_ *testing.T, ns, kubeconfig string) []resource.TestStep {
			return []resource.TestStep{{
				Config:      kubeProvider(kubeconfig) + unschedulableWorker(ns),
				ExpectError: regexp.MustCompile(`(?s)events could not be read.*forbidden`),
			}}
		}},
	}
	for _, c := range cases {
		t.Run("without "+c.resource+" "+c.verb, func(t *testing.T) {
			role := documented.DeepCopy()
			found := false
			for i, rule := range role.Rules {
				if slices.Contains(rule.Resources, c.resource) && slices.Contains(rule.Verbs, c.verb) {
					role.Rules[i].Verbs = slices.DeleteFunc(slices.Clone(rule.Verbs), func(v string) bool { return v == c.verb })
					found = true
				}
			}
			require.True(t, found, "the documented Role has no %s %s", c.verb, c.resource)
			role.Rules = slices.DeleteFunc(role.Rules, func(r rbacv1.PolicyRule) bool { return len(r.Verbs) == 0 })
			ns, kubeconfig := roleAccess(t, cli, adminKubeconfig, role)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, "minimal") },
				Steps:                    c.steps(t, ns, kubeconfig),
			})
		})
	}
	// Every verb of the Role has its case.
	var covered []string
	for _, c := range cases {
		covered = append(covered, c.resource+" "+c.verb)
	}
	for _, rule := range documented.Rules {
		for _, verb := range rule.Verbs {
			assert.Contains(t, covered, strings.Join(rule.Resources, ",")+" "+verb)
		}
	}
}

// forbidden is the error of a call that the Role does not allow: the
// provider's action, then the API server's refusal.
func forbidden(action string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)` + regexp.QuoteMeta(action) + `.*forbidden`)
}

// createFails is the case of a verb that create needs for action.
func createFails(action string) func(*testing.T, string, string) []resource.TestStep {
	return func(_ *testing.T, ns, kubeconfig string) []resource.TestStep {
		return []resource.TestStep{{
			Config:      kubeProvider(kubeconfig) + k8sWorker("minimal", ns, k8sImage, ""),
			ExpectError: forbidden(action),
		}}
	}
}
