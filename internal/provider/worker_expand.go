package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Expansion turns the Terraform model into a worker.Spec. Unknown values
// expand as empty, and validation skips empty optional values, so a plan with
// values known only after apply is checked as far as it can be.

type stringer interface {
	IsNull() bool
	IsUnknown() bool
	ValueString() string
}

func str(v stringer) string {
	if v.IsNull() || v.IsUnknown() {
		return ""
	}
	return v.ValueString()
}

func strList(ctx context.Context, v types.List, diags *diag.Diagnostics) []string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := []string{}
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}

func strMap(ctx context.Context, v types.Map, diags *diag.Diagnostics) map[string]string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}

func int64Ptr(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := v.ValueInt64()
	return &n
}

func int32Ptr(v types.Int64) *int32 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	n := int32(v.ValueInt64())
	return &n
}

// expandSpec builds the spec a model declares. Backend and namespace are
// taken as they stand: the plan resolves them first.
func expandSpec(ctx context.Context, m *workerModel) (*worker.Spec, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := &worker.Spec{
		Name:          str(m.Name),
		Backend:       worker.Backend(str(m.Backend)),
		Namespace:     str(m.Namespace),
		Image:         str(m.Image),
		Command:       strList(ctx, m.Command, &diags),
		Args:          strList(ctx, m.Args, &diags),
		Env:           strMap(ctx, m.Env, &diags),
		WorkingDir:    str(m.WorkingDir),
		Labels:        strMap(ctx, m.Labels, &diags),
		Annotations:   strMap(ctx, m.Annotations, &diags),
		RestartPolicy: str(m.RestartPolicy),
	}
	if r := m.Resources; r != nil {
		s.Resources = &worker.Resources{CPU: str(r.CPU), Memory: str(r.Memory), CPULimit: str(r.CPULimit), MemoryLimit: str(r.MemoryLimit)}
	}
	if g := m.GPU; g != nil {
		s.GPU = &worker.GPU{Count: g.Count.ValueInt64(), Type: str(g.Type)}
	}
	for _, v := range m.Volumes {
		vol := worker.Volume{Name: str(v.Name), MountPath: str(v.MountPath), ReadOnly: v.ReadOnly.ValueBool(), SubPath: str(v.SubPath)}
		if v.Persistent != nil {
			vol.Persistent = &worker.PersistentSource{ClaimName: str(v.Persistent.ClaimName)}
		}
		if v.Ephemeral != nil {
			vol.Ephemeral = &worker.EphemeralSource{SizeLimit: str(v.Ephemeral.SizeLimit), Medium: str(v.Ephemeral.Medium)}
		}
		if v.HostPath != nil {
			vol.HostPath = &worker.HostPathSource{Path: str(v.HostPath.Path), Type: str(v.HostPath.Type)}
		}
		s.Volumes = append(s.Volumes, vol)
	}
	if sch := m.Scheduling; sch != nil {
		s.Scheduling = expandScheduling(ctx, sch, &diags)
	}
	if sec := m.Security; sec != nil {
		s.Security = &worker.Security{
			RunAsUser:              int64Ptr(sec.RunAsUser),
			RunAsGroup:             int64Ptr(sec.RunAsGroup),
			RunAsNonRoot:           sec.RunAsNonRoot.ValueBool(),
			ReadOnlyRootFilesystem: sec.ReadOnlyRootFilesystem.ValueBool(),
			AddCapabilities:        strList(ctx, sec.AddCapabilities, &diags),
		}
	}
	return s, diags
}

func expandScheduling(ctx context.Context, m *schedulingModel, diags *diag.Diagnostics) *worker.Scheduling {
	s := &worker.Scheduling{
		NodeSelector:      strMap(ctx, m.NodeSelector, diags),
		PriorityClassName: str(m.PriorityClassName),
	}
	for _, na := range m.NodeAffinity {
		term := worker.NodeAffinity{Required: na.Required.ValueBool(), Weight: int32Ptr(na.Weight)}
		for _, me := range na.MatchExpressions {
			term.MatchExpressions = append(term.MatchExpressions, worker.MatchExpression{
				Key: str(me.Key), Operator: str(me.Operator), Values: strList(ctx, me.Values, diags),
			})
		}
		s.NodeAffinity = append(s.NodeAffinity, term)
	}
	expandPodAffinity := func(terms []podAffinityModel) []worker.PodAffinity {
		var out []worker.PodAffinity
		for _, pa := range terms {
			out = append(out, worker.PodAffinity{
				Labels:      strMap(ctx, pa.Labels, diags),
				TopologyKey: str(pa.TopologyKey),
				Required:    pa.Required.ValueBool(),
				Weight:      int32Ptr(pa.Weight),
				Namespaces:  strList(ctx, pa.Namespaces, diags),
			})
		}
		return out
	}
	s.PodAffinity = expandPodAffinity(m.PodAffinity)
	s.PodAntiAffinity = expandPodAffinity(m.PodAntiAffinity)
	for _, t := range m.Tolerations {
		s.Tolerations = append(s.Tolerations, worker.Toleration{
			Key: str(t.Key), Operator: str(t.Operator), Value: str(t.Value), Effect: str(t.Effect),
			TolerationSeconds: int64Ptr(t.TolerationSeconds),
		})
	}
	for _, ts := range m.TopologySpread {
		s.TopologySpread = append(s.TopologySpread, worker.TopologySpread{
			MaxSkew: int32(ts.MaxSkew.ValueInt64()), TopologyKey: str(ts.TopologyKey),
			WhenUnsatisfiable: str(ts.WhenUnsatisfiable), Labels: strMap(ctx, ts.Labels, diags),
		})
	}
	return s
}
