package provider

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// workerModel is hodei_worker as Terraform holds it. Every block is a
// framework value, not a Go slice or pointer: in a plan a block, a list of
// blocks or any element of them may be unknown (a dynamic block over a value
// known only after apply), which a Go value cannot hold.
type workerModel struct {
	ID             types.String   `tfsdk:"id"`
	Name           types.String   `tfsdk:"name"`
	Backend        types.String   `tfsdk:"backend"`
	Namespace      types.String   `tfsdk:"namespace"`
	Image          types.String   `tfsdk:"image"`
	Command        types.List     `tfsdk:"command"`
	Args           types.List     `tfsdk:"args"`
	Env            types.Map      `tfsdk:"env"`
	WorkingDir     types.String   `tfsdk:"working_dir"`
	Labels         types.Map      `tfsdk:"labels"`
	Annotations    types.Map      `tfsdk:"annotations"`
	RestartPolicy  types.String   `tfsdk:"restart_policy"`
	Resources      types.Object   `tfsdk:"resources"`
	GPU            types.Object   `tfsdk:"gpu"`
	Volumes        types.List     `tfsdk:"volume"`
	Scheduling     types.Object   `tfsdk:"scheduling"`
	Security       types.Object   `tfsdk:"security"`
	WaitFor        types.String   `tfsdk:"wait_for"`
	RecreateOnExit types.Bool     `tfsdk:"recreate_on_exit"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
	Status         types.String   `tfsdk:"status"`
	NodeName       types.String   `tfsdk:"node_name"`
	IP             types.String   `tfsdk:"ip"`
	UID            types.String   `tfsdk:"uid"`
	StartedAt      types.String   `tfsdk:"started_at"`

	ImagePullPolicy  types.String `tfsdk:"image_pull_policy"`
	ImagePullSecrets types.List   `tfsdk:"image_pull_secrets"`

	EnvFrom                      types.List          `tfsdk:"env_from"`
	SecretEnv                    types.List          `tfsdk:"secret_env"`
	ConfigEnv                    types.List          `tfsdk:"config_env"`
	SecretEnvWO                  types.Map           `tfsdk:"secret_env_wo"`
	SecretEnvWOVersion           types.Int64         `tfsdk:"secret_env_wo_version"`
	ServiceAccountName           types.String        `tfsdk:"service_account_name"`
	AutomountServiceAccountToken types.Bool          `tfsdk:"automount_service_account_token"`
	RuntimeClassName             types.String        `tfsdk:"runtime_class_name"`
	ShmSize                      semanticStringValue `tfsdk:"shm_size"`
	TerminationGracePeriod       semanticStringValue `tfsdk:"termination_grace_period"`
	Readiness                    types.Object        `tfsdk:"readiness"`
}

type readinessModel struct {
	Exec             types.Object        `tfsdk:"exec"`
	HTTPGet          types.Object        `tfsdk:"http_get"`
	TCPSocket        types.Object        `tfsdk:"tcp_socket"`
	Period           semanticStringValue `tfsdk:"period"`
	FailureThreshold types.Int64         `tfsdk:"failure_threshold"`
	InitialDelay     semanticStringValue `tfsdk:"initial_delay"`
}

type execProbeModel struct {
	Command types.List `tfsdk:"command"`
}

type httpGetProbeModel struct {
	Path   types.String `tfsdk:"path"`
	Port   types.Int64  `tfsdk:"port"`
	Scheme types.String `tfsdk:"scheme"`
}

type tcpSocketProbeModel struct {
	Port types.Int64 `tfsdk:"port"`
}

type resourcesModel struct {
	CPU         semanticStringValue `tfsdk:"cpu"`
	Memory      semanticStringValue `tfsdk:"memory"`
	CPULimit    semanticStringValue `tfsdk:"cpu_limit"`
	MemoryLimit semanticStringValue `tfsdk:"memory_limit"`

	EphemeralStorage      semanticStringValue `tfsdk:"ephemeral_storage"`
	EphemeralStorageLimit semanticStringValue `tfsdk:"ephemeral_storage_limit"`
}

type gpuModel struct {
	Count        types.Int64         `tfsdk:"count"`
	Type         semanticStringValue `tfsdk:"type"`
	Allocation   types.String        `tfsdk:"allocation"`
	MinMemory    semanticStringValue `tfsdk:"min_memory"`
	Product      types.List          `tfsdk:"product"`
	MIGProfile   types.String        `tfsdk:"mig_profile"`
	Devices      types.List          `tfsdk:"devices"`
	Vendor       types.String        `tfsdk:"vendor"`
	ResourceName types.String        `tfsdk:"resource_name"`
}

type deviceModel struct {
	Driver types.String `tfsdk:"driver"`
	Pool   types.String `tfsdk:"pool"`
	Device types.String `tfsdk:"device"`
}

type volumeModel struct {
	Name       types.String `tfsdk:"name"`
	MountPath  types.String `tfsdk:"mount_path"`
	ReadOnly   types.Bool   `tfsdk:"read_only"`
	SubPath    types.String `tfsdk:"sub_path"`
	Persistent types.Object `tfsdk:"persistent"`
	Ephemeral  types.Object `tfsdk:"ephemeral"`
	HostPath   types.Object `tfsdk:"host_path"`
	Secret     types.Object `tfsdk:"secret"`
	ConfigMap  types.Object `tfsdk:"config_map"`
}

type persistentModel struct {
	ClaimName types.String `tfsdk:"claim_name"`
}

type ephemeralModel struct {
	SizeLimit semanticStringValue `tfsdk:"size_limit"`
	Medium    types.String        `tfsdk:"medium"`
}

type hostPathModel struct {
	Path types.String `tfsdk:"path"`
	Type types.String `tfsdk:"type"`
}

type schedulingModel struct {
	NodeSelector      types.Map    `tfsdk:"node_selector"`
	PriorityClassName types.String `tfsdk:"priority_class_name"`
	NodeAffinity      types.List   `tfsdk:"node_affinity"`
	PodAffinity       types.List   `tfsdk:"pod_affinity"`
	PodAntiAffinity   types.List   `tfsdk:"pod_anti_affinity"`
	Tolerations       types.List   `tfsdk:"toleration"`
	TopologySpread    types.List   `tfsdk:"topology_spread"`
}

type nodeAffinityModel struct {
	Required         types.Bool  `tfsdk:"required"`
	Weight           types.Int64 `tfsdk:"weight"`
	MatchExpressions types.List  `tfsdk:"match_expression"`
}

type matchExpressionModel struct {
	Key      types.String `tfsdk:"key"`
	Operator types.String `tfsdk:"operator"`
	Values   types.List   `tfsdk:"values"`
}

type podAffinityModel struct {
	Labels      types.Map    `tfsdk:"labels"`
	TopologyKey types.String `tfsdk:"topology_key"`
	Required    types.Bool   `tfsdk:"required"`
	Weight      types.Int64  `tfsdk:"weight"`
	Namespaces  types.List   `tfsdk:"namespaces"`
}

type tolerationModel struct {
	Key               types.String `tfsdk:"key"`
	Operator          types.String `tfsdk:"operator"`
	Value             types.String `tfsdk:"value"`
	Effect            types.String `tfsdk:"effect"`
	TolerationSeconds types.Int64  `tfsdk:"toleration_seconds"`
}

type topologySpreadModel struct {
	MaxSkew           types.Int64  `tfsdk:"max_skew"`
	TopologyKey       types.String `tfsdk:"topology_key"`
	WhenUnsatisfiable types.String `tfsdk:"when_unsatisfiable"`
	Labels            types.Map    `tfsdk:"labels"`
}

type securityModel struct {
	RunAsUser              types.Int64 `tfsdk:"run_as_user"`
	RunAsGroup             types.Int64 `tfsdk:"run_as_group"`
	RunAsNonRoot           types.Bool  `tfsdk:"run_as_non_root"`
	ReadOnlyRootFilesystem types.Bool  `tfsdk:"read_only_root_filesystem"`
	AddCapabilities        types.List  `tfsdk:"add_capabilities"`
}

// blockTypes are the object types of the resource's blocks, read from its
// schema (custom types included) once, so that flattening builds values
// of exactly the schema's types without restating them.
type blockTypes struct {
	resources, gpu, volume, persistent, ephemeral, hostPath types.ObjectType
	scheduling, nodeAffinity, matchExpression, podAffinity  types.ObjectType
	toleration, topologySpread, security                    types.ObjectType

	readiness, execProbe, httpGetProbe, tcpSocketProbe types.ObjectType

	device types.ObjectType
}

var workerBlockTypes = sync.OnceValue(func() blockTypes {
	s := workerSchema(context.Background())
	at := func(p path.Path) types.ObjectType {
		t, diags := s.TypeAtPath(context.Background(), p)
		obj, ok := t.(types.ObjectType)
		if diags.HasError() || !ok {
			panic(fmt.Sprintf("schema has no block at %s: %v", p, diags))
		}
		return obj
	}
	volume := path.Root("volume").AtListIndex(0)
	scheduling := path.Root("scheduling")
	return blockTypes{
		resources:       at(path.Root("resources")),
		gpu:             at(path.Root("gpu")),
		volume:          at(volume),
		persistent:      at(volume.AtName("persistent")),
		ephemeral:       at(volume.AtName("ephemeral")),
		hostPath:        at(volume.AtName("host_path")),
		scheduling:      at(scheduling),
		nodeAffinity:    at(scheduling.AtName("node_affinity").AtListIndex(0)),
		matchExpression: at(scheduling.AtName("node_affinity").AtListIndex(0).AtName("match_expression").AtListIndex(0)),
		podAffinity:     at(scheduling.AtName("pod_affinity").AtListIndex(0)),
		toleration:      at(scheduling.AtName("toleration").AtListIndex(0)),
		topologySpread:  at(scheduling.AtName("topology_spread").AtListIndex(0)),
		security:        at(path.Root("security")),

		readiness:      at(path.Root("readiness")),
		execProbe:      at(path.Root("readiness").AtName("exec")),
		httpGetProbe:   at(path.Root("readiness").AtName("http_get")),
		tcpSocketProbe: at(path.Root("readiness").AtName("tcp_socket")),

		device: at(path.Root("gpu").AtName("devices").AtListIndex(0)),
	}
})
