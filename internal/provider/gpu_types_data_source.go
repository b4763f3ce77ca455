package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = &gpuTypesDataSource{}

// gpuTypesDataSource exposes the effective GPU catalog: the built-in types
// with the provider's gpu_type blocks added or overriding.
type gpuTypesDataSource struct {
	data *providerData
}

func newGPUTypesDataSource() datasource.DataSource { return &gpuTypesDataSource{} }

var gpuTypeAttrTypes = map[string]attr.Type{
	"name":          types.StringType,
	"vendor":        types.StringType,
	"resource_name": types.StringType,
	"node_label":    types.StringType,
	"runtime_class": types.StringType,
	"dra_driver":    types.StringType,
	"device_class":  types.StringType,
	"products":      types.ListType{ElemType: types.StringType},
}

type gpuTypesModel struct {
	ID    types.String `tfsdk:"id"`
	Types types.List   `tfsdk:"types"`
}

func (d *gpuTypesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_gpu_types"
}

func (d *gpuTypesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The effective GPU catalog: the built-in types plus the provider's `gpu_type` blocks.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Always `gpu_types`."},
			"types": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "Catalog entries sorted by name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":          schema.StringAttribute{Computed: true, MarkdownDescription: "Type name for `gpu.type`."},
					"vendor":        schema.StringAttribute{Computed: true, MarkdownDescription: "`nvidia`, `amd` or `intel`."},
					"resource_name": schema.StringAttribute{Computed: true, MarkdownDescription: "Kubernetes extended resource."},
					"node_label":    schema.StringAttribute{Computed: true, MarkdownDescription: "Value of the GPU node label."},
					"runtime_class": schema.StringAttribute{Computed: true, MarkdownDescription: "Default runtime class of the type's workers; null for none."},
					"dra_driver":    schema.StringAttribute{Computed: true, MarkdownDescription: "DRA driver of the vendor, the domain of its device attributes (e.g. `gpu.nvidia.com`)."},
					"device_class":  schema.StringAttribute{Computed: true, MarkdownDescription: "DeviceClass that DRA workers of this type request."},
					"products": schema.ListAttribute{Computed: true, ElementType: types.StringType,
						MarkdownDescription: "Product names that `type` alone selects in DRA mode; empty: any device of the DeviceClass."},
				}},
			},
		},
	}
}

func (d *gpuTypesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (d *gpuTypesDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	var elems []attr.Value
	for _, t := range d.data.catalog.Types() {
		products := t.Products
		if products == nil {
			products = []string{}
		}
		obj, diags := types.ObjectValue(gpuTypeAttrTypes, map[string]attr.Value{
			"dra_driver":    types.StringValue(t.DRADriver()),
			"device_class":  types.StringValue(t.DeviceClass(false)),
			"products":      listValue(products, &resp.Diagnostics),
			"name":          types.StringValue(t.Name),
			"vendor":        types.StringValue(t.Vendor),
			"resource_name": types.StringValue(t.ResourceName()),
			"node_label":    types.StringValue(t.NodeLabel),
			"runtime_class": optString(t.RuntimeClass),
		})
		resp.Diagnostics.Append(diags...)
		elems = append(elems, obj)
	}
	list, diags := types.ListValue(types.ObjectType{AttrTypes: gpuTypeAttrTypes}, elems)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &gpuTypesModel{ID: types.StringValue("gpu_types"), Types: list})...)
}
