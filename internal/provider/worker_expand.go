package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Expansion turns the Terraform model into a worker.Spec. A value not known
// yet expands as empty (a string, list or map), absent (a block) or the zero
// element (an element of a list), so that list indexes still match the
// configuration's; validation leaves out what lies under an unknown value
// (unknownPaths) and checks the rest.

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

func strList(v types.List) []string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := make([]string, 0, len(v.Elements()))
	for _, e := range v.Elements() {
		s, _ := e.(types.String)
		out = append(out, str(s))
	}
	return out
}

func strMap(v types.Map) map[string]string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := make(map[string]string, len(v.Elements()))
	for k, e := range v.Elements() {
		s, _ := e.(types.String)
		out[k] = str(s)
	}
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

// objectAs decodes a block: nil when it is absent or not known yet.
func objectAs[T any](ctx context.Context, v types.Object, diags *diag.Diagnostics) *T {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	var out T
	diags.Append(decodeObject(ctx, v, &out)...)
	return &out
}

// listAs decodes a list of blocks; an element not known yet is T's zero
// value, whose attributes are all null.
func listAs[T any](ctx context.Context, v types.List, diags *diag.Diagnostics) []T {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := make([]T, len(v.Elements()))
	for i, e := range v.Elements() {
		if obj, ok := e.(types.Object); ok {
			if item := objectAs[T](ctx, obj, diags); item != nil {
				out[i] = *item
			}
		}
	}
	return out
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
		Command:       strList(m.Command),
		Args:          strList(m.Args),
		Env:           strMap(m.Env),
		WorkingDir:    str(m.WorkingDir),
		Labels:        strMap(m.Labels),
		Annotations:   strMap(m.Annotations),
		RestartPolicy: str(m.RestartPolicy),

		ImagePullPolicy:  str(m.ImagePullPolicy),
		ImagePullSecrets: strList(m.ImagePullSecrets),

		ServiceAccountName:           str(m.ServiceAccountName),
		AutomountServiceAccountToken: m.AutomountServiceAccountToken.ValueBool(),
		RuntimeClassName:             str(m.RuntimeClassName),
		ShmSize:                      str(m.ShmSize),
		TerminationGracePeriod:       str(m.TerminationGracePeriod),
	}
	if r := objectAs[readinessModel](ctx, m.Readiness, &diags); r != nil {
		s.Readiness = expandReadiness(ctx, r, &diags)
	}
	expandSecrets(ctx, m, s, &diags)
	if r := objectAs[resourcesModel](ctx, m.Resources, &diags); r != nil {
		s.Resources = &worker.Resources{CPU: str(r.CPU), Memory: str(r.Memory), CPULimit: str(r.CPULimit), MemoryLimit: str(r.MemoryLimit),
			EphemeralStorage: str(r.EphemeralStorage), EphemeralStorageLimit: str(r.EphemeralStorageLimit)}
	}
	if g := objectAs[gpuModel](ctx, m.GPU, &diags); g != nil {
		s.GPU = &worker.GPU{Count: g.Count.ValueInt64(), Type: str(g.Type), Allocation: str(g.Allocation),
			MinMemory: str(g.MinMemory), Product: strList(g.Product), MIGProfile: str(g.MIGProfile)}
	}
	for _, v := range listAs[volumeModel](ctx, m.Volumes, &diags) {
		vol := worker.Volume{Name: str(v.Name), MountPath: str(v.MountPath), ReadOnly: v.ReadOnly.ValueBool(), SubPath: str(v.SubPath)}
		if p := objectAs[persistentModel](ctx, v.Persistent, &diags); p != nil {
			vol.Persistent = &worker.PersistentSource{ClaimName: str(p.ClaimName)}
		}
		if e := objectAs[ephemeralModel](ctx, v.Ephemeral, &diags); e != nil {
			vol.Ephemeral = &worker.EphemeralSource{SizeLimit: str(e.SizeLimit), Medium: str(e.Medium)}
		}
		if h := objectAs[hostPathModel](ctx, v.HostPath, &diags); h != nil {
			vol.HostPath = &worker.HostPathSource{Path: str(h.Path), Type: str(h.Type)}
		}
		vol.Secret = expandKeysVolume(ctx, v.Secret, &diags)
		vol.ConfigMap = expandKeysVolume(ctx, v.ConfigMap, &diags)
		s.Volumes = append(s.Volumes, vol)
	}
	if sch := objectAs[schedulingModel](ctx, m.Scheduling, &diags); sch != nil {
		s.Scheduling = expandScheduling(ctx, sch, &diags)
	}
	if sec := objectAs[securityModel](ctx, m.Security, &diags); sec != nil {
		s.Security = &worker.Security{
			RunAsUser:              int64Ptr(sec.RunAsUser),
			RunAsGroup:             int64Ptr(sec.RunAsGroup),
			RunAsNonRoot:           sec.RunAsNonRoot.ValueBool(),
			ReadOnlyRootFilesystem: sec.ReadOnlyRootFilesystem.ValueBool(),
			AddCapabilities:        strList(sec.AddCapabilities),
		}
	}
	return s, diags
}

func expandScheduling(ctx context.Context, m *schedulingModel, diags *diag.Diagnostics) *worker.Scheduling {
	s := &worker.Scheduling{
		NodeSelector:      strMap(m.NodeSelector),
		PriorityClassName: str(m.PriorityClassName),
	}
	for _, na := range listAs[nodeAffinityModel](ctx, m.NodeAffinity, diags) {
		term := worker.NodeAffinity{Required: na.Required.ValueBool(), Weight: int32Ptr(na.Weight)}
		for _, me := range listAs[matchExpressionModel](ctx, na.MatchExpressions, diags) {
			term.MatchExpressions = append(term.MatchExpressions, worker.MatchExpression{
				Key: str(me.Key), Operator: str(me.Operator), Values: strList(me.Values),
			})
		}
		s.NodeAffinity = append(s.NodeAffinity, term)
	}
	expandPodAffinity := func(terms types.List) []worker.PodAffinity {
		var out []worker.PodAffinity
		for _, pa := range listAs[podAffinityModel](ctx, terms, diags) {
			out = append(out, worker.PodAffinity{
				Labels:      strMap(pa.Labels),
				TopologyKey: str(pa.TopologyKey),
				Required:    pa.Required.ValueBool(),
				Weight:      int32Ptr(pa.Weight),
				Namespaces:  strList(pa.Namespaces),
			})
		}
		return out
	}
	s.PodAffinity = expandPodAffinity(m.PodAffinity)
	s.PodAntiAffinity = expandPodAffinity(m.PodAntiAffinity)
	for _, t := range listAs[tolerationModel](ctx, m.Tolerations, diags) {
		s.Tolerations = append(s.Tolerations, worker.Toleration{
			Key: str(t.Key), Operator: str(t.Operator), Value: str(t.Value), Effect: str(t.Effect),
			TolerationSeconds: int64Ptr(t.TolerationSeconds),
		})
	}
	for _, ts := range listAs[topologySpreadModel](ctx, m.TopologySpread, diags) {
		s.TopologySpread = append(s.TopologySpread, worker.TopologySpread{
			MaxSkew: int32(ts.MaxSkew.ValueInt64()), TopologyKey: str(ts.TopologyKey),
			WhenUnsatisfiable: str(ts.WhenUnsatisfiable), Labels: strMap(ts.Labels),
		})
	}
	return s
}

func expandReadiness(ctx context.Context, m *readinessModel, diags *diag.Diagnostics) *worker.Readiness {
	r := &worker.Readiness{
		Period:           str(m.Period),
		FailureThreshold: m.FailureThreshold.ValueInt64(),
		InitialDelay:     str(m.InitialDelay),
	}
	if e := objectAs[execProbeModel](ctx, m.Exec, diags); e != nil {
		r.Exec = &worker.ExecProbe{Command: strList(e.Command)}
	}
	if h := objectAs[httpGetProbeModel](ctx, m.HTTPGet, diags); h != nil {
		r.HTTPGet = &worker.HTTPGetProbe{Path: str(h.Path), Port: h.Port.ValueInt64(), Scheme: str(h.Scheme)}
	}
	if t := objectAs[tcpSocketProbeModel](ctx, m.TCPSocket, diags); t != nil {
		r.TCPSocket = &worker.TCPSocketProbe{Port: t.Port.ValueInt64()}
	}
	return r
}
