package provider

import (
	"context"
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

// objectOf is a block's value: null when v is nil.
func objectOf[T any](t types.ObjectType, v *T, diags *diag.Diagnostics) types.Object {
	if v == nil {
		return types.ObjectNull(t.AttrTypes)
	}
	o, d := encodeObject(context.Background(), t.AttrTypes, v)
	diags.Append(d...)
	return o
}

// listOf is a list of blocks' value: empty, never null, as Terraform holds a
// list block that the configuration leaves out.
func listOf[T any](t types.ObjectType, items []T, diags *diag.Diagnostics) types.List {
	if len(items) == 0 {
		return types.ListValueMust(t, []attr.Value{})
	}
	elems := make([]attr.Value, len(items))
	for i := range items {
		o, d := encodeObject(context.Background(), t.AttrTypes, &items[i])
		diags.Append(d...)
		elems[i] = o
	}
	l, d := types.ListValue(t, elems)
	diags.Append(d...)
	return l
}

// flattenSpec fills the configuration attributes of m from a spec. State
// holds known values only: while the provider's gpu_type is not known (a
// refresh before apply), the built-in catalog names the GPU's vendor.
func flattenSpec(s *worker.Spec, catalog *worker.Catalog, m *workerModel) diag.Diagnostics {
	var diags diag.Diagnostics
	if catalog == nil {
		catalog = worker.DefaultCatalog()
	}
	bt := workerBlockTypes()
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
	m.ImagePullPolicy = optString(s.ImagePullPolicy)
	m.ImagePullSecrets = listValue(s.ImagePullSecrets, &diags)
	flattenSecrets(s, m, &diags)
	m.ServiceAccountName = optString(s.ServiceAccountName)
	m.AutomountServiceAccountToken = types.BoolValue(s.AutomountServiceAccountToken)
	m.RuntimeClassName = optString(s.RuntimeClassName)
	m.ShmSize = quantityValue(s.ShmSize)
	var resources *resourcesModel
	if r := s.Resources; r != nil {
		resources = &resourcesModel{CPU: quantityValue(r.CPU), Memory: quantityValue(r.Memory), CPULimit: quantityValue(r.CPULimit), MemoryLimit: quantityValue(r.MemoryLimit),
			EphemeralStorage: quantityValue(r.EphemeralStorage), EphemeralStorageLimit: quantityValue(r.EphemeralStorageLimit)}
	}
	m.Resources = objectOf(bt.resources, resources, &diags)
	var gpu *gpuModel
	if g := s.GPU; g != nil {
		gpu = &gpuModel{Count: types.Int64Value(g.Count), Type: gpuTypeValue(g.Type), Allocation: types.StringValue(g.AllocationMode()),
			MinMemory: quantityValue(g.MinMemory), Product: types.ListNull(types.StringType), MIGProfile: optString(g.MIGProfile),
			Devices: types.ListUnknown(bt.device)}
		if g.Product != nil {
			gpu.Product = listValue(g.Product, &diags)
		}
		if prior := objectAs[gpuModel](context.Background(), m.GPU, &diags); prior != nil {
			// The devices are the read's (flattenObserved); until then the
			// ones known.
			gpu.Devices = prior.Devices
		}
		gpu.setCatalogFacts(catalog)
	}
	m.GPU = objectOf(bt.gpu, gpu, &diags)
	volumes := make([]volumeModel, 0, len(s.Volumes))
	for _, v := range s.Volumes {
		vm := volumeModel{Name: types.StringValue(v.Name), MountPath: types.StringValue(v.MountPath), ReadOnly: types.BoolValue(v.ReadOnly), SubPath: optString(v.SubPath)}
		var persistent *persistentModel
		if v.Persistent != nil {
			persistent = &persistentModel{ClaimName: types.StringValue(v.Persistent.ClaimName)}
		}
		var ephemeral *ephemeralModel
		if v.Ephemeral != nil {
			ephemeral = &ephemeralModel{SizeLimit: quantityValue(v.Ephemeral.SizeLimit), Medium: types.StringValue(v.Ephemeral.Medium)}
		}
		var hostPath *hostPathModel
		if v.HostPath != nil {
			hostPath = &hostPathModel{Path: types.StringValue(v.HostPath.Path), Type: types.StringValue(v.HostPath.Type)}
		}
		vm.Persistent = objectOf(bt.persistent, persistent, &diags)
		vm.Ephemeral = objectOf(bt.ephemeral, ephemeral, &diags)
		vm.HostPath = objectOf(bt.hostPath, hostPath, &diags)
		vm.Secret = flattenKeysVolume(v.Secret, &diags)
		vm.ConfigMap = flattenKeysVolume(v.ConfigMap, &diags)
		volumes = append(volumes, vm)
	}
	m.Volumes = listOf(bt.volume, volumes, &diags)
	var scheduling *schedulingModel
	if sch := s.Scheduling; sch != nil {
		scheduling = flattenScheduling(sch, bt, &diags)
	}
	m.Scheduling = objectOf(bt.scheduling, scheduling, &diags)
	var security *securityModel
	if sec := s.Security; sec != nil {
		security = &securityModel{
			RunAsUser:              optInt64(sec.RunAsUser),
			RunAsGroup:             optInt64(sec.RunAsGroup),
			RunAsNonRoot:           types.BoolValue(sec.RunAsNonRoot),
			ReadOnlyRootFilesystem: types.BoolValue(sec.ReadOnlyRootFilesystem),
			AddCapabilities:        listValue(sec.AddCapabilities, &diags),
		}
	}
	m.Security = objectOf(bt.security, security, &diags)
	m.TerminationGracePeriod = durationValue(s.TerminationGracePeriod)
	m.Readiness = objectOf(bt.readiness, flattenReadiness(s.Readiness, bt, &diags), &diags)
	return diags
}

func flattenReadiness(r *worker.Readiness, bt blockTypes, diags *diag.Diagnostics) *readinessModel {
	if r == nil {
		return nil
	}
	var exec *execProbeModel
	if r.Exec != nil {
		exec = &execProbeModel{Command: listValue(r.Exec.Command, diags)}
	}
	var httpGet *httpGetProbeModel
	if h := r.HTTPGet; h != nil {
		httpGet = &httpGetProbeModel{Path: types.StringValue(h.Path), Port: types.Int64Value(h.Port), Scheme: types.StringValue(h.Scheme)}
	}
	var tcpSocket *tcpSocketProbeModel
	if r.TCPSocket != nil {
		tcpSocket = &tcpSocketProbeModel{Port: types.Int64Value(r.TCPSocket.Port)}
	}
	return &readinessModel{
		Exec:             objectOf(bt.execProbe, exec, diags),
		HTTPGet:          objectOf(bt.httpGetProbe, httpGet, diags),
		TCPSocket:        objectOf(bt.tcpSocketProbe, tcpSocket, diags),
		Period:           durationValue(r.Period),
		FailureThreshold: types.Int64Value(r.FailureThreshold),
		InitialDelay:     durationValue(r.InitialDelay),
	}
}

// setCatalogFacts sets vendor and resource_name from the catalog entry of
// the GPU type: null for a name the catalog lacks, unknown while the type
// or the catalog is unknown.
func (g *gpuModel) setCatalogFacts(catalog *worker.Catalog) {
	g.Vendor, g.ResourceName = types.StringNull(), types.StringNull()
	if t, ok := catalog.Lookup(str(g.Type)); ok {
		g.Vendor, g.ResourceName = types.StringValue(t.Vendor), types.StringValue(t.ResourceName())
	} else if g.Type.IsUnknown() || catalog == nil {
		g.Vendor, g.ResourceName = types.StringUnknown(), types.StringUnknown()
	}
}

func flattenScheduling(s *worker.Scheduling, bt blockTypes, diags *diag.Diagnostics) *schedulingModel {
	m := &schedulingModel{
		NodeSelector:      mapValue(s.NodeSelector, diags),
		PriorityClassName: optString(s.PriorityClassName),
	}
	nodeAffinity := make([]nodeAffinityModel, 0, len(s.NodeAffinity))
	for _, na := range s.NodeAffinity {
		expressions := make([]matchExpressionModel, 0, len(na.MatchExpressions))
		for _, me := range na.MatchExpressions {
			expressions = append(expressions, matchExpressionModel{
				Key: types.StringValue(me.Key), Operator: types.StringValue(me.Operator), Values: listValue(me.Values, diags),
			})
		}
		nodeAffinity = append(nodeAffinity, nodeAffinityModel{
			Required: types.BoolValue(na.Required), Weight: optInt32(na.Weight),
			MatchExpressions: listOf(bt.matchExpression, expressions, diags),
		})
	}
	m.NodeAffinity = listOf(bt.nodeAffinity, nodeAffinity, diags)
	flattenPodAffinity := func(terms []worker.PodAffinity) types.List {
		out := make([]podAffinityModel, 0, len(terms))
		for _, pa := range terms {
			out = append(out, podAffinityModel{
				Labels: mapValue(pa.Labels, diags), TopologyKey: types.StringValue(pa.TopologyKey),
				Required: types.BoolValue(pa.Required), Weight: optInt32(pa.Weight), Namespaces: listValue(pa.Namespaces, diags),
			})
		}
		return listOf(bt.podAffinity, out, diags)
	}
	m.PodAffinity = flattenPodAffinity(s.PodAffinity)
	m.PodAntiAffinity = flattenPodAffinity(s.PodAntiAffinity)
	tolerations := make([]tolerationModel, 0, len(s.Tolerations))
	for _, t := range s.Tolerations {
		tolerations = append(tolerations, tolerationModel{
			Key: optString(t.Key), Operator: types.StringValue(t.Operator), Value: optString(t.Value),
			Effect: types.StringValue(t.Effect), TolerationSeconds: optInt64(t.TolerationSeconds),
		})
	}
	m.Tolerations = listOf(bt.toleration, tolerations, diags)
	spreads := make([]topologySpreadModel, 0, len(s.TopologySpread))
	for _, ts := range s.TopologySpread {
		spreads = append(spreads, topologySpreadModel{
			MaxSkew: types.Int64Value(int64(ts.MaxSkew)), TopologyKey: types.StringValue(ts.TopologyKey),
			WhenUnsatisfiable: types.StringValue(ts.WhenUnsatisfiable), Labels: mapValue(ts.Labels, diags),
		})
	}
	m.TopologySpread = listOf(bt.topologySpread, spreads, diags)
	return m
}

// flattenObserved sets the computed facts of m.
func flattenObserved(obs *worker.Observed, m *workerModel) {
	m.Status = types.StringValue(string(obs.Status))
	m.NodeName = types.StringValue(obs.NodeName)
	m.IP = types.StringValue(obs.IP)
	m.UID = types.StringValue(obs.UID)
	m.StartedAt = startedAt(obs)
	if m.GPU.IsNull() || m.GPU.IsUnknown() {
		return
	}
	var diags diag.Diagnostics
	gpu := objectAs[gpuModel](context.Background(), m.GPU, &diags)
	if gpu == nil {
		return
	}
	gpu.Devices = devicesValue(obs, &diags)
	m.GPU = objectOf(workerBlockTypes().gpu, gpu, &diags)
}

// devicesValue is gpu.devices: null when the claim's devices were lost.
func devicesValue(obs *worker.Observed, diags *diag.Diagnostics) types.List {
	t := workerBlockTypes().device
	if obs.DevicesLost {
		return types.ListNull(t)
	}
	devices := make([]deviceModel, 0, len(obs.Devices))
	for _, d := range obs.Devices {
		devices = append(devices, deviceModel{Driver: types.StringValue(d.Driver), Pool: types.StringValue(d.Pool), Device: types.StringValue(d.Device)})
	}
	return listOf(t, devices, diags)
}

// startedAt is the start time in RFC 3339, empty before the worker started.
func startedAt(obs *worker.Observed) types.String {
	if obs.StartedAt.IsZero() {
		return types.StringValue("")
	}
	return types.StringValue(obs.StartedAt.UTC().Format(time.RFC3339))
}
