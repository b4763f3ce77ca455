package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// preflightProvider is the provider on the devcluster with a preflight mode
// ("" keeps the default) and an H200 type that no devcluster node has.
func preflightProvider(kubeconfig, mode string) string {
	setting := ""
	if mode != "" {
		setting = fmt.Sprintf("preflight = %q", mode)
	}
	return fmt.Sprintf(`
provider "hodei" {
  %s
  kubernetes { config_path = %q }
  gpu_type {
    name       = "h200"
    vendor     = "nvidia"
    node_label = "nvidia-h200"
  }
}
`, setting, kubeconfig)
}

// words matches the phrases in order, across Terraform's line wrapping.
func words(phrases ...string) *regexp.Regexp {
	var parts []string
	for _, p := range phrases {
		parts = append(parts, strings.Join(strings.Fields(regexp.QuoteMeta(p)), `\s+`))
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

// assertNoPods checks that a namespace holds no pod: the plans made nothing.
func assertNoPods(t *testing.T, cli kubernetes.Interface, namespace string) {
	t.Helper()
	pods, err := cli.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, pods.Items, "a plan made a pod in %s", namespace)
}

// TestAccPreflightKubernetes_admissionRefusalsFailAtPlan plans workers that
// the devcluster's admission refuses (Pod Security, ResourceQuota,
// LimitRange): each fails at plan naming the attribute and the rule, and
// nothing is made; with preflight = "off" the same plans pass.
func TestAccPreflightKubernetes_admissionRefusalsFailAtPlan(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ctx := context.Background()
	restricted := testNamespace(t, cli, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	quota := testNamespace(t, cli, nil)
	_, err := cli.CoreV1().ResourceQuotas(quota).Create(ctx, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "small"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceLimitsCPU: k8sresource.MustParse("2"),
			corev1.ResourcePods:      k8sresource.MustParse("5"),
		}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	limited := testNamespace(t, cli, nil)
	_, err = cli.CoreV1().LimitRanges(limited).Create(ctx, &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: "max-cpu"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer,
			Max:  corev1.ResourceList{corev1.ResourceCPU: k8sresource.MustParse("1")},
		}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	// The quota controller must have seen the quota before admission
	// enforces it.
	require.Eventually(t, func() bool {
		q, err := cli.CoreV1().ResourceQuotas(quota).Get(ctx, "small", metav1.GetOptions{})
		return err == nil && q.Status.Hard != nil
	}, 30*time.Second, 200*time.Millisecond)

	cpu := func(limit string) string { return fmt.Sprintf("resources {\n    cpu_limit = %q\n  }", limit) }
	configs := map[string]string{
		"psa":        k8sWorker("root", restricted, k8sImage, ""),
		"quota":      k8sWorker("big", quota, k8sImage, cpu("3")),
		"limitrange": k8sWorker("wide", limited, k8sImage, cpu("2")),
	}
	steps := []resource.TestStep{
		{Config: preflightProvider(kubeconfig, "") + configs["psa"], PlanOnly: true,
			ExpectError: words(`Refused by Pod Security Admission`, `security:`, `violates PodSecurity "restricted:latest": runAsNonRoot != true`)},
		{Config: preflightProvider(kubeconfig, "") + configs["quota"], PlanOnly: true,
			ExpectError: words(`Exceeds the namespace's ResourceQuota`, `resources:`, `exceeded quota: small`)},
		{Config: preflightProvider(kubeconfig, "") + configs["limitrange"], PlanOnly: true,
			ExpectError: words(`Outside the namespace's LimitRange`, `resources:`, `maximum cpu usage per Container is 1`)},
	}
	for _, name := range []string{"psa", "quota", "limitrange"} {
		steps = append(steps, resource.TestStep{Config: preflightProvider(kubeconfig, "off") + configs[name], PlanOnly: true, ExpectNonEmptyPlan: true})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
	for _, ns := range []string{restricted, quota, limited} {
		assertNoPods(t, cli, ns)
	}
}

// placementWorkers are four GPU or node-selecting workers that no
// devcluster node can take.
func placementWorkers(ns string) string {
	return k8sWorker("h200", ns, k8sImage, `gpu {
    type = "h200"
  }`) + k8sWorker("eight", ns, k8sImage, `gpu {
    type  = "A100"
    count = 8
  }`) + k8sWorker("nowhere", ns, k8sImage, `scheduling {
    node_affinity {
      required = true
      match_expression {
        key      = "topology.kubernetes.io/zone"
        operator = "In"
        values   = ["zone-z"]
      }
    }
  }`) + k8sWorker("batch", ns, k8sImage, `scheduling {
    node_selector = { dedicated = "batch" }
  }`)
}

// TestAccPreflightKubernetes_placementWarnsAtPlan plans, with the real CLI,
// workers that no node can take: each is a warning naming its attribute and
// what the cluster offers, the plan lists the nodes once, strict makes the
// warnings errors, off asks nothing, and nothing is made.
func TestAccPreflightKubernetes_placementWarnsAtPlan(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	requests := filepath.Join(t.TempDir(), "requests.log")
	w := newWorkspace(t, preflightProvider(kubeconfig, "")+placementWorkers(ns), EnvRequestLog+"="+requests)

	changes, out := w.planChanges()
	assert.True(t, changes)
	for _, want := range []string{
		`Warning: No node has this GPU type`,
		`no node has the label accelerator=nvidia-h200 (gpu type "h200"); nodes offer:`,
		`nvidia-tesla-a100 ×4 (1 node)`, `nvidia-tesla-t4 ×2 (2 nodes)`,
		`Warning: More GPUs than any node offers`,
		`gpu.count 8 exceeds the 4 nvidia.com/gpu of the largest node with accelerator=nvidia-tesla-a100`,
		`Warning: No node matches`,
		`scheduling.node_affinity: no node matches`, `topology.kubernetes.io/zone: zone-a (`,
		`Warning: Every matching node has a taint the worker does not tolerate`,
		`dedicated=batch:NoSchedule (cpu-tainted-0)`,
	} {
		assert.Contains(t, strings.Join(strings.Fields(out), " "), strings.Join(strings.Fields(want), " "))
	}
	log, err := os.ReadFile(requests)
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(log), "kubernetes GET /api/v1/nodes\n"), "one node LIST per plan:\n%s", log)
	assert.Equal(t, 4, strings.Count(string(log), "kubernetes POST /api/v1/namespaces/"+ns+"/pods\n"), "one dry-run per created worker:\n%s", log)

	w.setConfig(preflightProvider(kubeconfig, "strict") + placementWorkers(ns))
	out, err = w.run(time.Minute, "plan", "-input=false")
	require.Error(t, err)
	assert.Equal(t, 4, strings.Count(out, "Error: "), out)
	assert.Contains(t, out, "Error: No node has this GPU type")

	require.NoError(t, os.Truncate(requests, 0))
	w.setConfig(preflightProvider(kubeconfig, "off") + placementWorkers(ns))
	changes, out = w.planChanges()
	assert.True(t, changes)
	assert.NotRegexp(t, `Warning: (No node|More GPUs|Every matching)`, out)
	log, err = os.ReadFile(requests)
	require.NoError(t, err)
	assert.Empty(t, string(log), "preflight = \"off\" asks the cluster nothing")
	assertNoPods(t, cli, ns)
}

// TestAccPreflightKubernetes_restrictedAccountPlansWithAtMostAWarning plans,
// as the namespace-scoped account of the devcluster, a GPU worker in its
// namespace (the dry-run is allowed, the node list is not: skipped without
// a word) and one in a namespace it may not create pods in (the dry-run is
// skipped with a warning): the plan succeeds and makes nothing.
func TestAccPreflightKubernetes_restrictedAccountPlansWithAtMostAWarning(t *testing.T) {
	cli, _ := kubeTestClient(t)
	restricted := requireEnv(t, envTestRestrictedKubeconfig)
	own, other := randomName("pf"), randomName("pf")
	w := newWorkspace(t, preflightProvider(restricted, "")+k8sWorker(own, restrictedNamespace, k8sImage, `gpu {
    type = "T4"
  }`)+k8sWorker(other, "default", k8sImage, ""))
	changes, out := w.planChanges()
	assert.True(t, changes)
	assert.NotContains(t, out, "Error:")
	assert.Equal(t, 1, strings.Count(out, "Warning: Preflight check skipped"), out)
	assert.NotContains(t, out, "more similar warning", "the node list is skipped without a word")
	assert.Contains(t, strings.Join(strings.Fields(out), " "), `could not run the server-side dry-run of the pod: pods is forbidden: User "system:serviceaccount:hodei-limited:hodei-provider" cannot create resource "pods"`)
	assert.NotContains(t, out, "listing nodes")
	assert.NoError(t, assertNoPod(cli, restrictedNamespace, own))
	assert.NoError(t, assertNoPod(cli, "default", other))
}

// TestAccPreflightKubernetes_onlyCreatesAndReplacementsAsk applies a GPU
// worker and plans it again: the refresh reads the pod once and the plan
// sends no dry-run and lists no nodes. A plan that replaces it sends one
// dry-run (the pod of that name exists: no error) and lists the nodes once.
func TestAccPreflightKubernetes_onlyCreatesAndReplacementsAsk(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	requests := filepath.Join(t.TempDir(), "requests.log")
	t.Setenv(EnvRequestLog, requests)
	config := preflightProvider(kubeconfig, "") + k8sWorker("steady", ns, k8sImage, `gpu {
    type = "T4"
  }`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: func() { require.NoError(t, os.Truncate(requests, 0)) },
				Config:    config,
				PlanOnly:  true,
			},
			{
				PreConfig: func() {
					data, err := os.ReadFile(requests)
					require.NoError(t, err)
					log := string(data)
					assert.NotContains(t, log, "POST", "no dry-run for a worker that stays:\n%s", log)
					assert.NotContains(t, log, "/nodes", "no node list for a worker that stays:\n%s", log)
					assert.Equal(t, 1, strings.Count(log, "kubernetes GET /api/v1/namespaces/"+ns+"/pods/steady\n"), "one read per refresh:\n%s", log)
				},
				Config:   config,
				PlanOnly: true,
			},
			{
				// A new image replaces the pod: Terraform plans the create
				// half with no prior state, and the preflight runs for it.
				PreConfig:          func() { require.NoError(t, os.Truncate(requests, 0)) },
				Config:             strings.Replace(config, k8sImage, k8sImageV2, 1),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					data, err := os.ReadFile(requests)
					require.NoError(t, err)
					log := string(data)
					// The step plans more than once, each in a provider
					// process of its own: one dry-run and one node list each.
					dryRuns := strings.Count(log, "kubernetes POST /api/v1/namespaces/"+ns+"/pods\n")
					assert.Positive(t, dryRuns, "a dry-run for the replacement:\n%s", log)
					assert.Equal(t, dryRuns, strings.Count(log, "kubernetes GET /api/v1/nodes\n"), "one node list per plan:\n%s", log)
				},
				Config:   config,
				PlanOnly: true,
			},
		},
	})
}

// TestAccPreflightKubernetes_countSharesOneDryRun plans four GPU workers
// of one count and a fifth with another image: each plan process sends two
// dry-runs, one per pod that differs from the others in more than its
// name, beside its one node list. In a namespace that Pod Security refuses
// them, the plan of a count of three fails for each of the three.
func TestAccPreflightKubernetes_countSharesOneDryRun(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	restricted := testNamespace(t, cli, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	requests := filepath.Join(t.TempDir(), "requests.log")
	t.Setenv(EnvRequestLog, requests)
	gpu := `gpu {
    type = "T4"
  }`
	counted := func(namespace string, n int) string {
		return k8sWorkerAt("same", "same-${count.index}", namespace, k8sImage, fmt.Sprintf("count = %d\n  %s", n, gpu))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:             preflightProvider(kubeconfig, "") + counted(ns, 4) + k8sWorker("odd", ns, k8sImageV2, gpu),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					data, err := os.ReadFile(requests)
					require.NoError(t, err)
					log := string(data)
					dryRuns := strings.Count(log, "kubernetes POST /api/v1/namespaces/"+ns+"/pods\n")
					nodeLists := strings.Count(log, "kubernetes GET /api/v1/nodes\n")
					assert.Positive(t, nodeLists, "a node list per plan:\n%s", log)
					assert.Equal(t, 2*nodeLists, dryRuns, "two dry-runs per plan, not five:\n%s", log)
				},
				Config: preflightProvider(kubeconfig, "") + counted(restricted, 3),
				// Terraform reports the three in no fixed order.
				ExpectError: words(`Refused by Pod Security Admission`, `Refused by Pod Security Admission`, `Refused by Pod Security Admission`),
				PlanOnly:    true,
			},
		},
	})
	assertNoPods(t, cli, ns)
	assertNoPods(t, cli, restricted)
}

// TestAccPreflight_unreachableEnginesWarnAndPlan plans a Kubernetes worker
// and an NVIDIA Docker worker against engines where nothing listens: the
// preflight is skipped with a warning naming the address, and the plan
// succeeds (a cluster made in the same run is not there yet either).
func TestAccPreflight_unreachableEnginesWarnAndPlan(t *testing.T) {
	faultPrereqs(t)
	w := newWorkspace(t, unreachableKubernetes+`
resource "hodei_worker" "k8s" {
  name    = "pf-unreachable"
  backend = "kubernetes"
  image   = "registry.example/hodei/worker:1.0"
}
resource "hodei_worker" "gpu" {
  name    = "pf-unreachable"
  backend = "docker"
  image   = "registry.example/hodei/worker:1.0"
  gpu { type = "T4" }
}
`)
	// As JSON, each diagnostic of its own: the human view shows the second
	// warning of a summary as "one more similar warning".
	out, err := w.run(time.Minute, "plan", "-input=false", "-json")
	require.NoError(t, err, out)
	var details []string
	for _, line := range strings.Split(out, "\n") {
		var msg struct {
			Type       string `json:"type"`
			Diagnostic struct {
				Severity, Summary, Detail string
			} `json:"diagnostic"`
		}
		if json.Unmarshal([]byte(line), &msg) == nil && msg.Type == "diagnostic" && msg.Diagnostic.Summary == "Preflight check skipped" {
			assert.Equal(t, "warning", msg.Diagnostic.Severity)
			details = append(details, msg.Diagnostic.Detail)
		}
	}
	require.Len(t, details, 2, out)
	assert.Contains(t, strings.Join(details, "\n"), "https://127.0.0.1:1")
	assert.Contains(t, strings.Join(details, "\n"), "/nonexistent/hodei-test/docker.sock")
}
