package provider

import (
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Flattening turns a spec read from a backend back into the model. Nil and
// empty maps and lists stay apart (the canonical form keeps them), optional
// strings without a default are null when empty.

func optString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func listValue(values []string, diags *diag.Diagnostics) types.List {
	if values == nil {
		return types.ListNull(types.StringType)
	}
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	l, d := types.ListValue(types.StringType, elems)
	diags.Append(d...)
	return l
}

func mapValue(values map[string]string, diags *diag.Diagnostics) types.Map {
	if values == nil {
		return types.MapNull(types.StringType)
	}
	elems := make(map[string]attr.Value, len(values))
	for k, v := range values {
		elems[k] = types.StringValue(v)
	}
	m, d := types.MapValue(types.StringType, elems)
	diags.Append(d...)
	return m
}

func optInt64(p *int64) types.Int64 {
	if p == nil {
		return types.Int64Null()
	}
	return types.Int64Value(*p)
}

func optInt32(p *int32) types.Int64 {
	if p == nil {
		return types.Int64Null()
	}
	return types.Int64Value(int64(*p))
}

// flattenSpec fills the configuration attributes of m from a spec.
func flattenSpec(s *worker.Spec, catalog *worker.Catalog, m *workerModel) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(worker.RefOf(s).ID())
	m.Name = types.StringValue(s.Name)
	m.Backend = types.StringValue(string(s.Backend))
	m.Namespace = optString(s.Namespace)
	m.Image = types.StringValue(s.Image)
	m.Command = listValue(s.Command, &diags)
	m.Args = listValue(s.Args, &diags)
	m.Env = mapValue(s.Env, &diags)
	m.WorkingDir = optString(s.WorkingDir)
	m.Labels = mapValue(s.Labels, &diags)
	m.Annotations = mapValue(s.Annotations, &diags)
	m.RestartPolicy = types.StringValue(s.RestartPolicy)
	m.Resources = nil
	if r := s.Resources; r != nil {
		m.Resources = &resourcesModel{CPU: quantityValue(r.CPU), Memory: quantityValue(r.Memory), CPULimit: quantityValue(r.CPULimit), MemoryLimit: quantityValue(r.MemoryLimit)}
	}
	m.GPU = nil
	if g := s.GPU; g != nil {
		m.GPU = flattenGPU(g, catalog)
	}
	m.Volumes = []volumeModel{}
	for _, v := range s.Volumes {
		vm := volumeModel{Name: types.StringValue(v.Name), MountPath: types.StringValue(v.MountPath), ReadOnly: types.BoolValue(v.ReadOnly), SubPath: optString(v.SubPath)}
		if v.Persistent != nil {
			vm.Persistent = &persistentModel{ClaimName: types.StringValue(v.Persistent.ClaimName)}
		}
		if v.Ephemeral != nil {
			vm.Ephemeral = &ephemeralModel{SizeLimit: quantityValue(v.Ephemeral.SizeLimit), Medium: types.StringValue(v.Ephemeral.Medium)}
		}
		if v.HostPath != nil {
			vm.HostPath = &hostPathModel{Path: types.StringValue(v.HostPath.Path), Type: types.StringValue(v.HostPath.Type)}
		}
		m.Volumes = append(m.Volumes, vm)
	}
	m.Scheduling = nil
	if sch := s.Scheduling; sch != nil {
		m.Scheduling = flattenScheduling(sch, &diags)
	}
	m.Security = nil
	if sec := s.Security; sec != nil {
		m.Security = &securityModel{
			RunAsUser:              optInt64(sec.RunAsUser),
			RunAsGroup:             optInt64(sec.RunAsGroup),
			RunAsNonRoot:           types.BoolValue(sec.RunAsNonRoot),
			ReadOnlyRootFilesystem: types.BoolValue(sec.ReadOnlyRootFilesystem),
			AddCapabilities:        listValue(sec.AddCapabilities, &diags),
		}
	}
	return diags
}

func flattenGPU(g *worker.GPU, catalog *worker.Catalog) *gpuModel {
	gm := &gpuModel{Count: types.Int64Value(g.Count), Type: gpuTypeValue(g.Type)}
	gm.setCatalogFacts(catalog)
	return gm
}

// setCatalogFacts sets vendor and resource_name from the catalog entry of
// the GPU type: null for a name the catalog lacks, unknown while the type
// is unknown.
func (g *gpuModel) setCatalogFacts(catalog *worker.Catalog) {
	g.Vendor, g.ResourceName = types.StringNull(), types.StringNull()
	if t, ok := catalog.Lookup(str(g.Type)); ok {
		g.Vendor, g.ResourceName = types.StringValue(t.Vendor), types.StringValue(t.ResourceName())
	} else if g.Type.IsUnknown() {
		g.Vendor, g.ResourceName = types.StringUnknown(), types.StringUnknown()
	}
}

func flattenScheduling(s *worker.Scheduling, diags *diag.Diagnostics) *schedulingModel {
	m := &schedulingModel{
		NodeSelector:      mapValue(s.NodeSelector, diags),
		PriorityClassName: optString(s.PriorityClassName),
		NodeAffinity:      []nodeAffinityModel{},
		PodAffinity:       []podAffinityModel{},
		PodAntiAffinity:   []podAffinityModel{},
		Tolerations:       []tolerationModel{},
		TopologySpread:    []topologySpreadModel{},
	}
	for _, na := range s.NodeAffinity {
		nm := nodeAffinityModel{Required: types.BoolValue(na.Required), Weight: optInt32(na.Weight), MatchExpressions: []matchExpressionModel{}}
		for _, me := range na.MatchExpressions {
			nm.MatchExpressions = append(nm.MatchExpressions, matchExpressionModel{
				Key: types.StringValue(me.Key), Operator: types.StringValue(me.Operator), Values: listValue(me.Values, diags),
			})
		}
		m.NodeAffinity = append(m.NodeAffinity, nm)
	}
	flattenPodAffinity := func(terms []worker.PodAffinity) []podAffinityModel {
		out := []podAffinityModel{}
		for _, pa := range terms {
			out = append(out, podAffinityModel{
				Labels: mapValue(pa.Labels, diags), TopologyKey: types.StringValue(pa.TopologyKey),
				Required: types.BoolValue(pa.Required), Weight: optInt32(pa.Weight), Namespaces: listValue(pa.Namespaces, diags),
			})
		}
		return out
	}
	m.PodAffinity = flattenPodAffinity(s.PodAffinity)
	m.PodAntiAffinity = flattenPodAffinity(s.PodAntiAffinity)
	for _, t := range s.Tolerations {
		m.Tolerations = append(m.Tolerations, tolerationModel{
			Key: optString(t.Key), Operator: types.StringValue(t.Operator), Value: optString(t.Value),
			Effect: types.StringValue(t.Effect), TolerationSeconds: optInt64(t.TolerationSeconds),
		})
	}
	for _, ts := range s.TopologySpread {
		m.TopologySpread = append(m.TopologySpread, topologySpreadModel{
			MaxSkew: types.Int64Value(int64(ts.MaxSkew)), TopologyKey: types.StringValue(ts.TopologyKey),
			WhenUnsatisfiable: types.StringValue(ts.WhenUnsatisfiable), Labels: mapValue(ts.Labels, diags),
		})
	}
	return m
}

// flattenObserved sets the computed facts of m.
func flattenObserved(obs *worker.Observed, m *workerModel) {
	m.Status = types.StringValue(string(obs.Status))
	m.NodeName = types.StringValue(obs.NodeName)
	m.IP = types.StringValue(obs.IP)
	m.UID = types.StringValue(obs.UID)
	m.StartedAt = startedAt(obs)
}

// startedAt is the start time in RFC 3339, empty before the worker started.
func startedAt(obs *worker.Observed) types.String {
	if obs.StartedAt.IsZero() {
		return types.StringValue("")
	}
	return types.StringValue(obs.StartedAt.UTC().Format(time.RFC3339))
}
