package kubernetes

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

var _ worker.Preflighter = (*Driver)(nil)

const (
	checkDryRun    = "server-side dry-run of the pod"
	checkPlacement = "placement against the cluster's nodes"
)

// Preflight sends the pod to the API server with dryRun=All, so that
// admission (Pod Security, ResourceQuota, LimitRange, webhooks) answers at
// plan, and, for a pod that selects nodes or asks for GPUs, matches it
// against the cluster's nodes, listed once per provider process.
func (d *Driver) Preflight(ctx context.Context, spec *worker.Spec) worker.PreflightReport {
	var report worker.PreflightReport
	pod, err := buildPod(spec, d.opts)
	if err != nil {
		// The plan's own checks report what buildPod refuses.
		return report
	}
	if !d.dryRun(ctx, spec, pod, &report) {
		return report
	}
	if spec.GPU.DRA() {
		d.checkDevices(ctx, spec, &report)
	}
	if selectsNodes(pod) {
		d.checkPlacement(ctx, pod, spec, &report)
	}
	return report
}

// dryRun reports what admission says about the worker's pod, and whether
// the API server answered.
func (d *Driver) dryRun(ctx context.Context, spec *worker.Spec, pod *corev1.Pod, report *worker.PreflightReport) bool {
	sent, err := d.dryRuns.answer(ctx, nameless(spec, d.opts), pod.Name, func() error {
		_, err := d.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err
	})
	if err == nil || apierrors.IsAlreadyExists(err) {
		// A pod of that name exists: the one this plan replaces, or one
		// that create will report on at apply. Admission passed it first.
		return true
	}
	if !fromAPIServer(err) {
		report.Skipped = append(report.Skipped, worker.SkippedCheck{Check: checkDryRun, Reason: d.apiError("sending the pod", err).Error()})
		return false
	}
	var status apierrors.APIStatus
	errors.As(err, &status)
	msg := status.Status().Message
	refused := pod.Namespace + "/" + sent
	if sent != pod.Name {
		refused += fmt.Sprintf(" (checked once for the pods of this plan that differ from it only in their name, such as %s)", pod.Name)
	}
	where := fmt.Sprintf("the API server refused pod %s at a dry-run create, as it would at apply: %s", refused, msg)
	switch {
	case apierrors.IsForbidden(err) && strings.Contains(msg, "cannot create resource"):
		// RBAC: a dry-run needs the create verb; so does the apply, but
		// the account that plans is not always the one that applies.
		report.Skipped = append(report.Skipped, worker.SkippedCheck{Check: checkDryRun, Reason: msg})
	case strings.Contains(msg, "violates PodSecurity"):
		report.Problems = append(report.Problems, worker.Problem{Path: worker.Path{"security"}, Summary: "Refused by Pod Security Admission", Detail: where})
	case strings.Contains(msg, "exceeded quota") || strings.Contains(msg, "failed quota"):
		report.Problems = append(report.Problems, d.quotaProblem(ctx, pod, where))
	case strings.Contains(msg, "usage per Container") || strings.Contains(msg, "usage per Pod") || strings.Contains(msg, "to request ratio"):
		report.Problems = append(report.Problems, worker.Problem{Path: worker.Path{"resources"}, Summary: "Outside the namespace's LimitRange", Detail: where})
	case strings.Contains(msg, "admission webhook") && strings.Contains(msg, "denied the request"):
		report.Problems = append(report.Problems, worker.Problem{Summary: "Refused by an admission webhook", Detail: where})
	case apierrors.IsNotFound(err) || strings.Contains(msg, "not found") || strings.Contains(msg, "no PriorityClass with name"):
		// A namespace, service account or priority class that another
		// resource of the same run may create.
		report.Problems = append(report.Problems, worker.Problem{Path: missingObjectPath(msg), Warning: true, Summary: "Refers to an object that does not exist yet",
			Detail: where + ". Nothing to do if another resource of this configuration creates it."})
	default:
		report.Problems = append(report.Problems, worker.Problem{Summary: "Refused by the Kubernetes API server", Detail: where})
	}
	return true
}

// missingObjectPath is the attribute that names the missing object.
func missingObjectPath(msg string) worker.Path {
	switch {
	case strings.Contains(msg, "namespaces"):
		return worker.Path{"namespace"}
	case strings.Contains(msg, "PriorityClass"):
		return worker.Path{"scheduling", "priority_class_name"}
	}
	return nil
}

// quotaProblem is an error, unless a pod of the worker's name exists: that
// is the pod a replacement removes first, and it counts against the quota
// until then.
func (d *Driver) quotaProblem(ctx context.Context, pod *corev1.Pod, where string) worker.Problem {
	p := worker.Problem{Path: worker.Path{"resources"}, Summary: "Exceeds the namespace's ResourceQuota", Detail: where}
	if existing, err := d.getOwned(ctx, pod.Namespace, pod.Name); err == nil && existing != nil {
		p.Warning = true
		p.Detail += fmt.Sprintf(". Pod %s/%s still counts against the quota; if this plan replaces it, the quota may have room once it is gone.", pod.Namespace, pod.Name)
	}
	return p
}

// selectsNodes tells whether the pod depends on particular nodes: GPUs, a
// node selector or a required node affinity.
func selectsNodes(pod *corev1.Pod) bool {
	if len(pod.Spec.NodeSelector) > 0 {
		return true
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		return true
	}
	return false
}

// checkPlacement warns about what no node of the cluster offers.
func (d *Driver) checkPlacement(ctx context.Context, pod *corev1.Pod, spec *worker.Spec, report *worker.PreflightReport) {
	nodes, err := listNodes(ctx, &d.nodes, d.client)
	if err != nil {
		report.Skipped = append(report.Skipped, worker.SkippedCheck{Check: checkPlacement, Reason: err.Error(), Quiet: apierrors.IsForbidden(err)})
		return
	}
	warn := func(path worker.Path, summary, format string, args ...any) {
		report.Problems.Warnf(path, summary, format+". The scheduler would leave the pod Pending until the create times out.", args...)
	}
	if spec.GPU != nil && !spec.GPU.DRA() {
		gpuType, ok := d.opts.Catalog.Lookup(spec.GPU.Type)
		if !ok {
			return
		}
		resource := corev1.ResourceName(gpuType.ResourceName())
		key := d.opts.GPUNodeLabelKey
		offered := gpuOffer(nodes, key, d.opts.Catalog)
		labelled := nodesWith(nodes, func(n *corev1.Node) bool { return n.Labels[key] == gpuType.NodeLabel })
		switch {
		case len(labelled) == 0:
			warn(worker.Path{"gpu", "type"}, "No node has this GPU type", "no node has the label %s=%s (gpu type %q); nodes offer: %s", key, gpuType.NodeLabel, spec.GPU.Type, offered)
			return
		case largest(labelled, resource) == 0:
			warn(worker.Path{"gpu", "type"}, "No node offers this GPU resource", "no node with %s=%s has %s in its allocatable resources; nodes offer: %s", key, gpuType.NodeLabel, resource, offered)
			return
		case spec.GPU.Count > largest(labelled, resource):
			warn(worker.Path{"gpu", "count"}, "More GPUs than any node offers", "gpu.count %d exceeds the %d %s of the largest node with %s=%s; nodes offer: %s",
				spec.GPU.Count, largest(labelled, resource), resource, key, gpuType.NodeLabel, offered)
			return
		}
	}
	selected := nodesWith(nodes, func(n *corev1.Node) bool {
		ok, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(n)
		return err == nil && ok
	})
	if len(selected) == 0 {
		// With nodes that the selector alone matches, the affinity is what
		// rules them out.
		path := worker.Path{"scheduling", "node_selector"}
		if len(nodesWith(nodes, func(n *corev1.Node) bool {
			ok, err := nodeaffinity.NewRequiredNodeAffinity(pod.Spec.NodeSelector, nil).Match(n)
			return err == nil && ok
		})) > 0 {
			path = worker.Path{"scheduling", "node_affinity"}
		}
		warn(path, "No node matches", "no node matches the pod's node selector and required node affinity; nodes carry: %s", nodeLabels(nodes, pod))
		return
	}
	untolerated := map[string][]string{}
	for _, n := range selected {
		taint, ok := corev1helpers.FindMatchingUntoleratedTaint(logr.Discard(), n.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
			return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
		}, false)
		if !ok {
			return
		}
		untolerated[taint.ToString()] = append(untolerated[taint.ToString()], n.Name)
	}
	var taints []string
	for taint, names := range untolerated {
		taints = append(taints, fmt.Sprintf("%s (%s)", taint, strings.Join(names, ", ")))
	}
	sort.Strings(taints)
	warn(worker.Path{"scheduling", "toleration"}, "Every matching node has a taint the worker does not tolerate",
		"the nodes that match carry taints with no toleration in the worker: %s", strings.Join(taints, "; "))
}

func nodesWith(nodes []corev1.Node, match func(*corev1.Node) bool) []*corev1.Node {
	var out []*corev1.Node
	for i := range nodes {
		if match(&nodes[i]) {
			out = append(out, &nodes[i])
		}
	}
	return out
}

func largest(nodes []*corev1.Node, resource corev1.ResourceName) int64 {
	var most int64
	for _, n := range nodes {
		if q, ok := n.Status.Allocatable[resource]; ok {
			most = max(most, q.Value())
		}
	}
	return most
}

// gpuOffer says which GPU types the nodes have and how many GPUs (of the
// catalog's resources) each offers, e.g. "nvidia-tesla-t4 ×2 (2 nodes),
// nvidia-tesla-a100 ×4 (1 node)".
func gpuOffer(nodes []corev1.Node, key string, catalog *worker.Catalog) string {
	var resources []corev1.ResourceName
	for _, t := range catalog.Types() {
		if name := corev1.ResourceName(t.ResourceName()); !slices.Contains(resources, name) {
			resources = append(resources, name)
		}
	}
	count := map[string]int{}
	for _, n := range nodes {
		value, ok := n.Labels[key]
		if !ok {
			continue
		}
		var gpus int64
		for _, r := range resources {
			if q, ok := n.Status.Allocatable[r]; ok {
				gpus = max(gpus, q.Value())
			}
		}
		count[fmt.Sprintf("%s ×%d", value, gpus)]++
	}
	if len(count) == 0 {
		return fmt.Sprintf("no node has the label %s", key)
	}
	var out []string
	for offer, n := range count {
		out = append(out, fmt.Sprintf("%s (%s)", offer, plural(n, "node")))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// nodeLabels lists, for each key the pod selects on, the values the nodes
// carry.
func nodeLabels(nodes []corev1.Node, pod *corev1.Pod) string {
	keys := map[string]bool{}
	for k := range pod.Spec.NodeSelector {
		keys[k] = true
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, e := range term.MatchExpressions {
				keys[e.Key] = true
			}
		}
	}
	var out []string
	for k := range keys {
		values := map[string]int{}
		for _, n := range nodes {
			if v, ok := n.Labels[k]; ok {
				values[v]++
			}
		}
		var vs []string
		for v, n := range values {
			vs = append(vs, fmt.Sprintf("%s (%s)", v, plural(n, "node")))
		}
		sort.Strings(vs)
		if len(vs) == 0 {
			vs = []string{"none"}
		}
		out = append(out, fmt.Sprintf("%s: %s", k, strings.Join(vs, ", ")))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// sharedDryRuns lets the workers whose pods differ only in their name (a
// count or for_each of one worker block) share one server-side dry-run:
// admission answers the same for each, short of a webhook that reads the
// name or the worker label. An answer is kept for the provider process,
// which lives for one plan or the apply's plan; one that did not come from
// the API server is dropped, so that the next worker asks again.
type sharedDryRuns struct {
	mu      sync.Mutex
	answers map[[sha256.Size]byte]*dryRunAnswer
}

type dryRunAnswer struct {
	done chan struct{}
	// sent is the name of the pod that the dry-run sent.
	sent string
	err  error
}

// answer is the answer for pods of key, sending the one named name when no
// other has been sent.
func (s *sharedDryRuns) answer(ctx context.Context, key [sha256.Size]byte, name string, send func() error) (string, error) {
	s.mu.Lock()
	if a, ok := s.answers[key]; ok {
		s.mu.Unlock()
		select {
		case <-a.done:
			return a.sent, a.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if s.answers == nil {
		s.answers = map[[sha256.Size]byte]*dryRunAnswer{}
	}
	a := &dryRunAnswer{done: make(chan struct{}), sent: name}
	s.answers[key] = a
	s.mu.Unlock()

	a.err = send()
	if a.err != nil && !fromAPIServer(a.err) {
		s.mu.Lock()
		delete(s.answers, key)
		s.mu.Unlock()
	}
	close(a.done)
	return a.sent, a.err
}

// fromAPIServer tells whether err is the API server's judgement of the
// request, rather than a failure to reach it or to log in.
func fromAPIServer(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && !apierrors.IsUnauthorized(err)
}

// nameless identifies the worker's pod but for what its name decides: the
// pod's name, the worker label, the stored spec, the claim template's and
// the Secret's names.
func nameless(spec *worker.Spec, opts Options) [sha256.Size]byte {
	unnamed := *spec
	unnamed.Name = ""
	pod, err := buildPod(&unnamed, opts)
	if err != nil {
		// Unreachable: the named pod was built from the same spec.
		return sha256.Sum256([]byte(spec.Name))
	}
	encoded, err := json.Marshal(pod)
	if err != nil {
		return sha256.Sum256([]byte(spec.Name))
	}
	return sha256.Sum256(encoded)
}

// onceList lists a kind of object once per provider process, on first use:
// the checks of many workers share one LIST. A LIST that fails for want of
// permission is not asked again; any other failure is retried (a few times
// now, and again by the next caller).
type onceList[T any] struct {
	mu    sync.Mutex
	done  bool
	items []T
	err   error
}

const nodeListAttempts = 3

// listNodes is the cluster's nodes, for the placement checks.
func listNodes(ctx context.Context, c *onceList[corev1.Node], client kubernetes.Interface) ([]corev1.Node, error) {
	return c.get(ctx, "nodes", func(ctx context.Context) ([]corev1.Node, error) {
		// ResourceVersion "0" lets the API server answer from its cache.
		list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return nil, err
		}
		return list.Items, nil
	})
}

func (c *onceList[T]) get(ctx context.Context, what string, fetch func(context.Context) ([]T, error)) ([]T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return c.items, c.err
	}
	var err error
	for attempt := range nodeListAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, err
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		var items []T
		items, err = fetch(ctx)
		switch {
		case err == nil:
			c.done, c.items = true, items
			return c.items, nil
		case apierrors.IsForbidden(err):
			c.done, c.err = true, fmt.Errorf("listing %s: %w", what, err)
			return nil, c.err
		}
	}
	return nil, fmt.Errorf("listing %s: %w", what, err)
}
