// Command noop is the floor of the bench: a plugin-framework provider whose
// one resource, noop_worker, has hodei_worker's schema — every attribute and
// block, with their validators, plan modifiers and defaults — and calls no
// API. Terraform and the framework do all they do for a resource of that
// schema (start the plugin, decode and validate it, run the schema's plan
// modifiers, plan, apply, write state) and nothing else, so its apply, plan
// and destroy of N resources, and its CPU, are the least any framework
// provider can take for workers of this size (issue 16: "a no-op provider,
// same schema size"). What the floor leaves out is the resource's own code:
// ValidateConfig, ModifyPlan, the CRUD and the model conversions.
package main

import (
	"context"
	"log"
	"os"
	"runtime/debug"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	hodei "github.com/hodei-jobs/terraform-provider-hodei/internal/provider"
)

type noopProvider struct{ worker schema.Schema }

func (noopProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "noop"
}

func (noopProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (noopProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p noopProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return noopWorker(p) }}
}

func (noopProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

type noopWorker struct{ worker schema.Schema }

func (noopWorker) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_worker"
}

func (w noopWorker) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = w.worker
}

// known is the state a create or an update writes: the plan, with the
// computed values it left unknown set to null, as no API gave them.
func known(plan tftypes.Value, state *tfsdk.State, diags *diag.Diagnostics) {
	v, err := tftypes.Transform(plan, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
	if err != nil {
		diags.AddError("noop", err.Error())
		return
	}
	state.Raw = v
}

func (noopWorker) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	known(req.Plan.Raw, &resp.State, &resp.Diagnostics)
}

func (noopWorker) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (noopWorker) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	known(req.Plan.Raw, &resp.State, &resp.Diagnostics)
}

func (noopWorker) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// workerSchema is hodei_worker's schema, asked of the provider as Terraform
// would ask it.
func workerSchema(ctx context.Context) schema.Schema {
	p := hodei.New("bench")()
	var meta provider.MetadataResponse
	p.Metadata(ctx, provider.MetadataRequest{}, &meta)
	for _, factory := range p.Resources(ctx) {
		r := factory()
		var name resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: meta.TypeName}, &name)
		if name.TypeName == "hodei_worker" {
			var s resource.SchemaResponse
			r.Schema(ctx, resource.SchemaRequest{}, &s)
			return s.Schema
		}
	}
	log.Fatal("noop: the hodei provider has no hodei_worker resource")
	return schema.Schema{}
}

func main() {
	// The provider's own process settings (main.go's tuneGC and
	// quietUnrequestedLogs), so that the floor differs from it by the
	// resource's code alone.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(150)
	}
	if os.Getenv("TF_LOG") == "" && os.Getenv("TF_LOG_PROVIDER") == "" {
		for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"} {
			if _, set := os.LookupEnv(name); !set {
				_ = os.Setenv(name, "OFF")
			}
		}
	}
	ctx := context.Background()
	p := noopProvider{worker: workerSchema(ctx)}
	err := providerserver.Serve(ctx, func() provider.Provider { return p }, providerserver.ServeOpts{
		Address:         "registry.terraform.io/bench/noop",
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err)
	}
}
