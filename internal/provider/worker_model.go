package provider

import (
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// workerModel is hodei_worker as Terraform holds it.
type workerModel struct {
	ID             types.String     `tfsdk:"id"`
	Name           types.String     `tfsdk:"name"`
	Backend        types.String     `tfsdk:"backend"`
	Namespace      types.String     `tfsdk:"namespace"`
	Image          types.String     `tfsdk:"image"`
	Command        types.List       `tfsdk:"command"`
	Args           types.List       `tfsdk:"args"`
	Env            types.Map        `tfsdk:"env"`
	WorkingDir     types.String     `tfsdk:"working_dir"`
	Labels         types.Map        `tfsdk:"labels"`
	Annotations    types.Map        `tfsdk:"annotations"`
	RestartPolicy  types.String     `tfsdk:"restart_policy"`
	Resources      *resourcesModel  `tfsdk:"resources"`
	GPU            *gpuModel        `tfsdk:"gpu"`
	Volumes        []volumeModel    `tfsdk:"volume"`
	Scheduling     *schedulingModel `tfsdk:"scheduling"`
	Security       *securityModel   `tfsdk:"security"`
	WaitFor        types.String     `tfsdk:"wait_for"`
	RecreateOnExit types.Bool       `tfsdk:"recreate_on_exit"`
	Timeouts       timeouts.Value   `tfsdk:"timeouts"`
	Status         types.String     `tfsdk:"status"`
	NodeName       types.String     `tfsdk:"node_name"`
	IP             types.String     `tfsdk:"ip"`
	UID            types.String     `tfsdk:"uid"`
	StartedAt      types.String     `tfsdk:"started_at"`
}

type resourcesModel struct {
	CPU         semanticStringValue `tfsdk:"cpu"`
	Memory      semanticStringValue `tfsdk:"memory"`
	CPULimit    semanticStringValue `tfsdk:"cpu_limit"`
	MemoryLimit semanticStringValue `tfsdk:"memory_limit"`
}

type gpuModel struct {
	Count        types.Int64         `tfsdk:"count"`
	Type         semanticStringValue `tfsdk:"type"`
	Vendor       types.String        `tfsdk:"vendor"`
	ResourceName types.String        `tfsdk:"resource_name"`
}

type volumeModel struct {
	Name       types.String     `tfsdk:"name"`
	MountPath  types.String     `tfsdk:"mount_path"`
	ReadOnly   types.Bool       `tfsdk:"read_only"`
	SubPath    types.String     `tfsdk:"sub_path"`
	Persistent *persistentModel `tfsdk:"persistent"`
	Ephemeral  *ephemeralModel  `tfsdk:"ephemeral"`
	HostPath   *hostPathModel   `tfsdk:"host_path"`
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
	NodeSelector      types.Map             `tfsdk:"node_selector"`
	PriorityClassName types.String          `tfsdk:"priority_class_name"`
	NodeAffinity      []nodeAffinityModel   `tfsdk:"node_affinity"`
	PodAffinity       []podAffinityModel    `tfsdk:"pod_affinity"`
	PodAntiAffinity   []podAffinityModel    `tfsdk:"pod_anti_affinity"`
	Tolerations       []tolerationModel     `tfsdk:"toleration"`
	TopologySpread    []topologySpreadModel `tfsdk:"topology_spread"`
}

type nodeAffinityModel struct {
	Required         types.Bool             `tfsdk:"required"`
	Weight           types.Int64            `tfsdk:"weight"`
	MatchExpressions []matchExpressionModel `tfsdk:"match_expression"`
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
