package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = &workerDataSource{}

// workerDataSource reads one worker's placement without owning it.
type workerDataSource struct {
	data *providerData
}

func newWorkerDataSource() datasource.DataSource { return &workerDataSource{} }

type workerDataModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Backend     types.String `tfsdk:"backend"`
	Namespace   types.String `tfsdk:"namespace"`
	Image       types.String `tfsdk:"image"`
	Labels      types.Map    `tfsdk:"labels"`
	Annotations types.Map    `tfsdk:"annotations"`
	Status      types.String `tfsdk:"status"`
	NodeName    types.String `tfsdk:"node_name"`
	IP          types.String `tfsdk:"ip"`
	UID         types.String `tfsdk:"uid"`
	StartedAt   types.String `tfsdk:"started_at"`
	GPUDevices  types.List   `tfsdk:"gpu_devices"`
}

func (d *workerDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_worker"
}

func (d *workerDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(doc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: doc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one worker made by this provider — its placement, address, status and labels — for modules that need it without owning it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "`kubernetes/<namespace>/<name>`, `<namespace>/<name>` or `docker/<name>`.",
			},
			"name":        computed("Worker name."),
			"backend":     computed("`docker` or `kubernetes`."),
			"namespace":   computed("Kubernetes namespace; empty on Docker."),
			"image":       computed("Container image."),
			"labels":      schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The worker's labels, without the provider's own."},
			"annotations": schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The worker's annotations."},
			"status":      computed("`Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`."),
			"node_name":   computed("Node of the pod, or the Docker engine's host name."),
			"ip":          computed("Pod or container IP."),
			"uid":         computed("Pod UID or container ID."),
			"started_at":  computed("Start time (RFC 3339)."),
			"gpu_devices": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "The devices the worker's ResourceClaim was allocated, as the resource's `gpu.devices` (DRA workers only; empty otherwise, " +
					"null when the claim was deleted out of band).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"driver": computed("DRA driver, e.g. `gpu.nvidia.com`."),
					"pool":   computed("Resource pool (usually the node)."),
					"device": computed("Device name within the pool."),
				}},
			},
		},
	}
}

func (d *workerDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *workerDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg workerDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	ref, drv := d.data.driverFor(ctx, cfg.ID.ValueString(), &resp.Diagnostics)
	if drv == nil {
		return
	}
	obs, err := drv.Read(ctx, ref)
	if err != nil {
		backendError(&resp.Diagnostics, fmt.Sprintf("Reading worker %s failed", ref.ID()), err)
		return
	}
	if obs == nil {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Worker not found", fmt.Sprintf("no worker %s exists on the %s backend.", ref.ID(), ref.Backend))
		return
	}
	out := workerDataModel{
		ID:        types.StringValue(ref.ID()),
		Name:      types.StringValue(obs.Spec.Name),
		Backend:   types.StringValue(string(obs.Spec.Backend)),
		Namespace: types.StringValue(ref.Namespace),
		Image:     types.StringValue(obs.Spec.Image),
		Status:    types.StringValue(string(obs.Status)),
		NodeName:  types.StringValue(obs.NodeName),
		IP:        types.StringValue(obs.IP),
		UID:       types.StringValue(obs.UID),
		StartedAt: startedAt(obs),
	}
	labels, annotations := obs.Spec.Labels, obs.Spec.Annotations
	if labels == nil {
		labels = map[string]string{}
	}
	if annotations == nil {
		annotations = map[string]string{}
	}
	out.GPUDevices = devicesValue(obs, &resp.Diagnostics)
	out.Labels = mapValue(labels, &resp.Diagnostics)
	out.Annotations = mapValue(annotations, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &out)...)
}
