package kubernetes

import (
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// defaultWeight is the weight of a preferred term that sets none.
const defaultWeight int32 = 1

// schedulePod fills in where the pod may and should run: the GPU's node
// selector and toleration, then the worker's scheduling block, one to one.
func schedulePod(pod *corev1.PodSpec, spec *worker.Spec, opts Options) error {
	selector, err := nodeSelector(spec, opts)
	if err != nil {
		return err
	}
	pod.NodeSelector = selector
	if spec.GPU != nil {
		if gpuType, ok := opts.Catalog.Lookup(spec.GPU.Type); ok {
			pod.Tolerations = append(pod.Tolerations, corev1.Toleration{
				Key:      gpuType.ResourceName(),
				Operator: corev1.TolerationOpExists,
				Effect:   corev1.TaintEffectNoSchedule,
			})
		}
	}
	s := spec.Scheduling
	if s == nil {
		return gpuNodeAffinity(pod, spec.GPU)
	}
	for _, t := range s.Tolerations {
		pod.Tolerations = append(pod.Tolerations, corev1.Toleration{
			Key:               t.Key,
			Operator:          corev1.TolerationOperator(t.Operator),
			Value:             t.Value,
			Effect:            corev1.TaintEffect(t.Effect),
			TolerationSeconds: t.TolerationSeconds,
		})
	}
	pod.Affinity = affinity(s)
	for _, ts := range s.TopologySpread {
		pod.TopologySpreadConstraints = append(pod.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew:           ts.MaxSkew,
			TopologyKey:       ts.TopologyKey,
			WhenUnsatisfiable: corev1.UnsatisfiableConstraintAction(ts.WhenUnsatisfiable),
			LabelSelector:     &metav1.LabelSelector{MatchLabels: spreadLabels(ts, spec)},
		})
	}
	pod.PriorityClassName = s.PriorityClassName
	return gpuNodeAffinity(pod, spec.GPU)
}

// GPU Feature Discovery's node labels, which device-plugin workers that
// select by memory or product require.
const (
	labelGPUMemory  = "nvidia.com/gpu.memory"
	labelGPUProduct = "nvidia.com/gpu.product"
)

// gpuNodeAffinity adds, for a device-plugin worker, min_memory and product
// as required node affinity on GPU Feature Discovery's labels: memory in
// MiB (Gt one less than the minimum, as the labels are whole MiB) and the
// product as GFD spells it, dashes for spaces. The requirements join every
// required term, since Kubernetes ORs the terms.
func gpuNodeAffinity(pod *corev1.PodSpec, g *worker.GPU) error {
	if g == nil || g.DRA() || g.MinMemory == "" && len(g.Product) == 0 {
		return nil
	}
	var requirements []corev1.NodeSelectorRequirement
	if g.MinMemory != "" {
		q, err := worker.ParseQuantity(g.MinMemory)
		if err != nil {
			return fmt.Errorf("gpu.min_memory %q: %w", g.MinMemory, err)
		}
		const mib = 1 << 20
		minMiB := (q.Value() + mib - 1) / mib
		requirements = append(requirements, corev1.NodeSelectorRequirement{
			Key: labelGPUMemory, Operator: corev1.NodeSelectorOpGt, Values: []string{strconv.FormatInt(minMiB-1, 10)},
		})
	}
	if len(g.Product) > 0 {
		values := make([]string, len(g.Product))
		for i, p := range g.Product {
			values[i] = strings.ReplaceAll(p, " ", "-")
		}
		requirements = append(requirements, corev1.NodeSelectorRequirement{Key: labelGPUProduct, Operator: corev1.NodeSelectorOpIn, Values: values})
	}
	if pod.Affinity == nil {
		pod.Affinity = &corev1.Affinity{}
	}
	if pod.Affinity.NodeAffinity == nil {
		pod.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	na := pod.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{}}}
	}
	terms := na.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	for i := range terms {
		terms[i].MatchExpressions = append(terms[i].MatchExpressions, requirements...)
	}
	return nil
}

// nodeSelector merges the GPU type's node label with scheduling.node_selector.
// The two naming different values for the same key could never schedule.
func nodeSelector(spec *worker.Spec, opts Options) (map[string]string, error) {
	var out map[string]string
	// In DRA mode the allocator picks the node from the devices it claims.
	if spec.GPU != nil && !spec.GPU.DRA() {
		gpuType, err := spec.GPU.CatalogType(opts.Catalog)
		if err != nil {
			return nil, err
		}
		out = map[string]string{opts.GPUNodeLabelKey: gpuType.NodeLabel}
	}
	if spec.Scheduling == nil || len(spec.Scheduling.NodeSelector) == 0 {
		return out, nil
	}
	if out == nil {
		out = make(map[string]string, len(spec.Scheduling.NodeSelector))
	}
	for k, v := range spec.Scheduling.NodeSelector {
		if current, taken := out[k]; taken && current != v {
			return nil, gpuSelectorConflict(spec, k, v, current)
		}
		out[k] = v
	}
	return out, nil
}

func gpuSelectorConflict(spec *worker.Spec, key, value, gpuValue string) error {
	return fmt.Errorf("scheduling.node_selector sets %s=%q but gpu type %q selects nodes with %s=%q; no node can satisfy both: remove that key from node_selector",
		key, value, spec.GPU.Type, key, gpuValue)
}

// spreadLabels selects the pods that a spread counts: the labels given, else
// the worker's own labels, else every Hodei worker, never every pod.
func spreadLabels(ts worker.TopologySpread, spec *worker.Spec) map[string]string {
	switch {
	case ts.Labels != nil:
		return maps.Clone(ts.Labels)
	case len(spec.Labels) > 0:
		return maps.Clone(spec.Labels)
	}
	return map[string]string{worker.LabelManagedBy: worker.ManagedByValue}
}

func affinity(s *worker.Scheduling) *corev1.Affinity {
	out := &corev1.Affinity{
		NodeAffinity:    nodeAffinity(s.NodeAffinity),
		PodAffinity:     podAffinity(s.PodAffinity),
		PodAntiAffinity: podAntiAffinity(s.PodAntiAffinity),
	}
	if out.NodeAffinity == nil && out.PodAffinity == nil && out.PodAntiAffinity == nil {
		return nil
	}
	return out
}

// nodeAffinity ORs the required terms, each a nodeSelectorTerm, and weighs
// the preferred ones.
func nodeAffinity(terms []worker.NodeAffinity) *corev1.NodeAffinity {
	if len(terms) == 0 {
		return nil
	}
	out := &corev1.NodeAffinity{}
	for _, t := range terms {
		term := corev1.NodeSelectorTerm{MatchExpressions: nodeRequirements(t.MatchExpressions)}
		if t.Required {
			if out.RequiredDuringSchedulingIgnoredDuringExecution == nil {
				out.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
			}
			required := out.RequiredDuringSchedulingIgnoredDuringExecution
			required.NodeSelectorTerms = append(required.NodeSelectorTerms, term)
			continue
		}
		out.PreferredDuringSchedulingIgnoredDuringExecution = append(out.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.PreferredSchedulingTerm{Weight: weightOf(t.Weight), Preference: term})
	}
	return out
}

func nodeRequirements(expressions []worker.MatchExpression) []corev1.NodeSelectorRequirement {
	out := make([]corev1.NodeSelectorRequirement, 0, len(expressions))
	for _, e := range expressions {
		out = append(out, corev1.NodeSelectorRequirement{
			Key:      e.Key,
			Operator: corev1.NodeSelectorOperator(e.Operator),
			Values:   e.Values,
		})
	}
	return out
}

func podAffinity(terms []worker.PodAffinity) *corev1.PodAffinity {
	required, preferred := podAffinityTerms(terms)
	if required == nil && preferred == nil {
		return nil
	}
	return &corev1.PodAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution:  required,
		PreferredDuringSchedulingIgnoredDuringExecution: preferred,
	}
}

func podAntiAffinity(terms []worker.PodAffinity) *corev1.PodAntiAffinity {
	required, preferred := podAffinityTerms(terms)
	if required == nil && preferred == nil {
		return nil
	}
	return &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution:  required,
		PreferredDuringSchedulingIgnoredDuringExecution: preferred,
	}
}

func podAffinityTerms(terms []worker.PodAffinity) (required []corev1.PodAffinityTerm, preferred []corev1.WeightedPodAffinityTerm) {
	for _, t := range terms {
		topologyKey := t.TopologyKey
		if topologyKey == "" {
			topologyKey = worker.DefaultTopologyKey
		}
		term := corev1.PodAffinityTerm{
			LabelSelector: &metav1.LabelSelector{MatchLabels: maps.Clone(t.Labels)},
			TopologyKey:   topologyKey,
			Namespaces:    t.Namespaces,
		}
		if t.Required {
			required = append(required, term)
			continue
		}
		preferred = append(preferred, corev1.WeightedPodAffinityTerm{Weight: weightOf(t.Weight), PodAffinityTerm: term})
	}
	return required, preferred
}

func weightOf(w *int32) int32 {
	if w == nil {
		return defaultWeight
	}
	return *w
}
