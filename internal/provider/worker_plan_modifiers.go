package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Replacement is decided in the schema, where `terraform plan` and the docs
// show it. Attributes that always replace use the framework's
// RequiresReplace; those whose answer depends on the backend or on meaning
// (a respelled quantity is no change) ask worker.Changes, the contract's
// table, about the two specs.

// replacedPerContract is a RequiresReplaceIf function: the change of the
// top-level attribute replaces the worker when worker.Changes says it
// cannot be made in place.
func replacedPerContract(attribute string) func(ctx context.Context, state tfsdk.State, plan tfsdk.Plan) bool {
	return func(ctx context.Context, state tfsdk.State, plan tfsdk.Plan) bool {
		var prior, planned workerModel
		if getWorker(ctx, state.Raw, &prior).HasError() || getWorker(ctx, plan.Raw, &planned).HasError() {
			return true
		}
		old, d1 := expandSpec(ctx, &prior)
		next, d2 := expandSpec(ctx, &planned)
		if d1.HasError() || d2.HasError() {
			return true
		}
		if next.Backend == "" {
			// Not resolved yet (ModifyPlan resolves it, and replaces when it
			// changes): the attribute follows the worker's backend.
			next.Backend = old.Backend
		}
		for _, c := range worker.Changes(old, next) {
			if c.Attribute == attribute {
				return !c.InPlace
			}
		}
		return false
	}
}

func mapReplacedPerContract(attribute, doc string) planmodifier.Map {
	ifChanged := replacedPerContract(attribute)
	return mapplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.MapRequest, resp *mapplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = ifChanged(ctx, req.State, req.Plan)
	}, doc, doc)
}

func objectReplacedPerContract(attribute, doc string) planmodifier.Object {
	ifChanged := replacedPerContract(attribute)
	return objectplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.ObjectRequest, resp *objectplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = ifChanged(ctx, req.State, req.Plan)
	}, doc, doc)
}

func listReplacedPerContract(attribute, doc string) planmodifier.List {
	ifChanged := replacedPerContract(attribute)
	return listplanmodifier.RequiresReplaceIf(func(ctx context.Context, req planmodifier.ListRequest, resp *listplanmodifier.RequiresReplaceIfFuncResponse) {
		resp.RequiresReplace = ifChanged(ctx, req.State, req.Plan)
	}, doc, doc)
}

// keepEquivalentPrior plans the prior value of a semantic string that the
// configuration respells ("1024Mi" for "1Gi", "A100" for "a100"), so that a
// respelling is no change, even next to a change in the same block.
type keepEquivalentPrior struct{ kind semanticKind }

func (keepEquivalentPrior) Description(context.Context) string {
	return "A value that means the same as the prior one keeps the prior spelling."
}

func (m keepEquivalentPrior) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (m keepEquivalentPrior) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	prior, planned := req.StateValue, req.PlanValue
	if prior.IsNull() || prior.IsUnknown() || planned.IsNull() || planned.IsUnknown() {
		return
	}
	if m.kind.equal(prior.ValueString(), planned.ValueString()) {
		resp.PlanValue = prior
	}
}
