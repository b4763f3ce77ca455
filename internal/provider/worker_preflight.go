package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/docker"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// preflightTimeout bounds what a plan waits for the engine's answers: an
// engine that does not answer costs the plan a warning, not its time.
const preflightTimeout = 20 * time.Second

// preflight asks the engine of a worker that the plan creates what it would
// refuse or could not place. Terraform plans the create half of a
// replacement with no prior state too, so this covers replacements; a
// worker that exists and stays asks nothing, and refresh is untouched. It
// runs only when every value is known: the final plan at apply checks the
// rest.
func (r *workerResource) preflight(ctx context.Context, req resource.ModifyPlanRequest, plan *workerModel, spec *worker.Spec, diags *diag.Diagnostics) {
	mode := r.data.preflight
	if mode == worker.PreflightOff || !r.data.settingsKnown || !req.State.Raw.IsNull() || !req.Config.Raw.IsFullyKnown() ||
		plan.Backend.IsUnknown() || plan.Namespace.IsUnknown() {
		return
	}
	backend := worker.Backend(str(plan.Backend))
	if backend == worker.BackendDocker && !docker.PreflightNeeded(spec, r.data.catalog) {
		return
	}
	drv, err := r.data.driver(ctx, backend)
	if err != nil {
		diags.AddAttributeWarning(path.Root("backend"), "Preflight check skipped", "The plan could not check the worker against its engine: "+err.Error()+". The apply may still succeed.")
		return
	}
	checker, ok := drv.(worker.Preflighter)
	if !ok {
		return
	}
	checkCtx, cancel := context.WithTimeout(ctx, preflightTimeout)
	defer cancel()
	report := checker.Preflight(checkCtx, spec)
	for _, s := range report.Skipped {
		if s.Quiet {
			tflog.Debug(ctx, "preflight check skipped", map[string]any{"check": s.Check, "reason": s.Reason})
			continue
		}
		diags.AddWarning("Preflight check skipped", "The plan could not run the "+s.Check+": "+s.Reason+". The apply may still succeed.")
	}
	for _, p := range report.Problems {
		if mode == worker.PreflightStrict {
			p.Warning = false
		}
		if p.Warning {
			p.Detail += ` (preflight = "strict" in the provider makes this an error)`
		}
		if len(p.Path) == 0 {
			addResourceProblem(diags, p)
			continue
		}
		addProblem(diags, p)
	}
}

// addResourceProblem reports a finding about the worker as a whole.
func addResourceProblem(diags *diag.Diagnostics, p worker.Problem) {
	if p.Warning {
		diags.AddWarning(p.Summary, p.Detail)
		return
	}
	diags.AddError(p.Summary, p.Detail)
}
