package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/docker"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/kubernetes"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// The worker's plan: validation of its configuration, what the provider
// resolves, and which computed facts an existing worker keeps.

// ValidateConfig checks every rule that the configuration alone decides, so
// that `terraform validate` reports them with no provider configuration,
// credentials or engine. Values not known yet are checked when they are
// (Terraform validates again before the final plan).
func (r *workerResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var config workerModel
	resp.Diagnostics.Append(getWorker(ctx, req.Config.Raw, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, diags := expandSpec(ctx, &config)
	resp.Diagnostics.Append(diags...)
	spec.FillDefaults()
	unknown := unknownPaths(req.Config.Raw)
	if _, err := worker.ResolveBackend(string(spec.Backend), spec.Labels, ""); err != nil && !unknown.cover(worker.Path{"labels"}) && !unknown.cover(worker.Path{"backend"}) {
		resp.Diagnostics.AddAttributeError(path.Root("backend"), "Conflicting backend selection", err.Error())
	}
	reportProblems(&resp.Diagnostics, worker.Validate(spec, worker.Policy{}), unknown)
	if !unknown.cover(worker.Path{"wait_for"}) && !unknown.cover(worker.Path{"readiness"}) {
		reportProblems(&resp.Diagnostics, worker.CheckWaitFor(worker.WaitFor(str(config.WaitFor)), spec), unknown)
	}
	if deleteTimeout, diags := config.Timeouts.Delete(ctx, defaultDeleteTimeout); !diags.HasError() && !unknown.cover(worker.Path{"timeouts"}) {
		reportProblems(&resp.Diagnostics, worker.CheckGraceWithinDelete(spec.TerminationGracePeriod, deleteTimeout), unknown)
	}
}

// ModifyPlan resolves what the plan can know (backend, namespace, id, GPU
// vendor) and checks what needs the provider's configuration: the GPU
// catalog, the host path allowlist and what each backend can honour.
// Replacement is the schema's plan modifiers' but for the resolved backend
// and namespace and an exited worker.
func (r *workerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan workerModel
	resp.Diagnostics.Append(getWorker(ctx, req.Plan.Raw, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.resolvePlan(ctx, req, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, diags := expandSpec(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	// With a provider setting not known yet, these rules run at the final
	// plan, when it is.
	if r.data.settingsKnown {
		problems := worker.CheckPolicy(spec, r.data.policy())
		switch spec.Backend {
		case worker.BackendDocker:
			problems = append(problems, docker.Check(spec, r.data.catalog)...)
		case worker.BackendKubernetes:
			problems = append(problems, kubernetes.Check(spec, r.data.kubernetesOptions())...)
		}
		reportProblems(&resp.Diagnostics, problems, unknownPaths(req.Config.Raw))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	r.preflight(ctx, req, &plan, spec, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if !req.State.Raw.IsNull() {
		var state workerModel
		resp.Diagnostics.Append(getWorker(ctx, req.State.Raw, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		planObservedFacts(ctx, req.State, &state, &plan, resp)
		return
	}
	resp.Diagnostics.Append(setWorker(ctx, &resp.Plan.Raw, &plan)...)
}

// planObservedFacts plans the computed facts of a worker that exists. A
// worker that nothing changes keeps them; the framework marked them unknown
// before the plan modifiers found a respelling to be no change. A worker
// that changes in place gets them from the read after its update, so they
// are unknown, but for its uid, which an in-place update keeps.
func planObservedFacts(ctx context.Context, prior tfsdk.State, state, plan *workerModel, resp *resource.ModifyPlanResponse) {
	replace := planReplacements(ctx, state, plan, resp)
	plan.Status, plan.NodeName, plan.IP, plan.StartedAt = state.Status, state.NodeName, state.IP, state.StartedAt
	planDevices(ctx, state, plan, false, &resp.Diagnostics)
	resp.Diagnostics.Append(setWorker(ctx, &resp.Plan.Raw, plan)...)
	if !replace && resp.Plan.Raw.Equal(prior.Raw) {
		return
	}
	plan.Status, plan.NodeName, plan.IP, plan.StartedAt = types.StringUnknown(), types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
	// An in-place update keeps the pod, and so its claim and devices.
	planDevices(ctx, state, plan, replace || len(resp.RequiresReplace) > 0, &resp.Diagnostics)
	resp.Diagnostics.Append(setWorker(ctx, &resp.Plan.Raw, plan)...)
}

// planDevices plans gpu.devices: the state's for a worker that keeps its
// pod, unknown for one that is replaced.
func planDevices(ctx context.Context, state, plan *workerModel, replace bool, diags *diag.Diagnostics) {
	gpu := objectAs[gpuModel](ctx, plan.GPU, diags)
	if gpu == nil {
		return
	}
	gpu.Devices = types.ListUnknown(workerBlockTypes().device)
	if prior := objectAs[gpuModel](ctx, state.GPU, diags); prior != nil && !replace {
		gpu.Devices = prior.Devices
	}
	plan.GPU = objectOf(workerBlockTypes().gpu, gpu, diags)
}

// resolvePlan fills the attributes the configuration leaves to the provider.
// What depends on a value not known yet, in the configuration or in the
// provider's settings, is planned as unknown.
func (r *workerResource) resolvePlan(ctx context.Context, req resource.ModifyPlanRequest, plan *workerModel, diags *diag.Diagnostics) {
	var configBackend, configNamespace types.String
	diags.Append(req.Config.GetAttribute(ctx, path.Root("backend"), &configBackend)...)
	diags.Append(req.Config.GetAttribute(ctx, path.Root("namespace"), &configNamespace)...)
	label, labelKnown := backendLabel(plan.Labels)
	defer r.resolveGPU(ctx, req, plan, diags)
	if configBackend.IsUnknown() || !labelKnown || configBackend.IsNull() && label == "" && r.data.defaultBackend == "" {
		plan.Backend, plan.ID = types.StringUnknown(), types.StringUnknown()
		if configNamespace.IsNull() {
			plan.Namespace = types.StringUnknown()
		}
		return
	}
	backend, err := worker.ResolveBackend(str(configBackend), map[string]string{worker.LabelProvider: label}, r.data.defaultBackend)
	if err != nil {
		diags.AddAttributeError(path.Root("backend"), "Conflicting backend selection", err.Error())
		return
	}
	plan.Backend = types.StringValue(string(backend))
	switch {
	case !configNamespace.IsNull():
		plan.Namespace = configNamespace
	case backend == worker.BackendKubernetes && r.data.namespace == "":
		plan.Namespace = types.StringUnknown()
	case backend == worker.BackendKubernetes:
		plan.Namespace = types.StringValue(r.data.namespace)
	default:
		plan.Namespace = types.StringNull()
	}
	plan.ID = types.StringUnknown()
	if !plan.Name.IsUnknown() && !plan.Namespace.IsUnknown() {
		plan.ID = types.StringValue(worker.Ref{Backend: backend, Namespace: str(plan.Namespace), Name: str(plan.Name)}.ID())
	}
}

// resolveGPU plans the GPU's catalog facts and its allocation: the
// configuration's, else on Kubernetes the provider's gpu_allocation, on
// Docker the device plugin's mode (Docker has no other). It runs once the
// backend is resolved.
func (r *workerResource) resolveGPU(ctx context.Context, req resource.ModifyPlanRequest, plan *workerModel, diags *diag.Diagnostics) {
	gpu := objectAs[gpuModel](ctx, plan.GPU, diags)
	if gpu == nil {
		return
	}
	gpu.setCatalogFacts(r.data.catalog)
	var configAllocation types.String
	diags.Append(req.Config.GetAttribute(ctx, path.Root("gpu").AtName("allocation"), &configAllocation)...)
	switch {
	case !configAllocation.IsNull():
		gpu.Allocation = configAllocation
	case plan.Backend.IsUnknown():
		gpu.Allocation = types.StringUnknown()
	case worker.Backend(str(plan.Backend)) == worker.BackendDocker:
		gpu.Allocation = types.StringValue(worker.AllocationDevicePlugin)
	case r.data.gpuAllocation == "":
		gpu.Allocation = types.StringUnknown()
	default:
		gpu.Allocation = types.StringValue(r.data.gpuAllocation)
	}
	plan.GPU = objectOf(workerBlockTypes().gpu, gpu, diags)
}

// backendLabel is the value of the hodei.io/provider label, and whether
// the plan knows it.
func backendLabel(labels types.Map) (string, bool) {
	if labels.IsUnknown() {
		return "", false
	}
	v, ok := labels.Elements()[worker.LabelProvider].(types.String)
	if !ok {
		return "", true
	}
	return str(v), !v.IsUnknown()
}

// planReplacements replaces a worker whose resolved backend or namespace
// changes (a provider default the schema cannot see) or that exited, and
// tells whether it does.
func planReplacements(ctx context.Context, state, plan *workerModel, resp *resource.ModifyPlanResponse) bool {
	replace := false
	for attribute, values := range map[string][2]types.String{
		"backend":   {state.Backend, plan.Backend},
		"namespace": {state.Namespace, plan.Namespace},
	} {
		if !values[1].IsUnknown() && !values[0].Equal(values[1]) {
			resp.RequiresReplace.Append(path.Root(attribute))
			replace = true
		}
	}
	if planGPUReplacement(ctx, state, plan, resp) {
		replace = true
	}
	if worker.Status(str(state.Status)).Exited() && plan.RecreateOnExit.ValueBool() {
		resp.RequiresReplace.Append(path.Root("status"))
		tflog.Info(ctx, "worker exited; planning its replacement", map[string]any{"id": str(state.ID), "status": str(state.Status)})
		replace = true
	}
	return replace
}

// planGPUReplacement replaces a worker whose resolved GPU allocation
// changes (the provider's gpu_allocation, which the schema cannot see), or
// whose claimed devices were taken out of band (gpu.devices null), and
// tells whether it does.
func planGPUReplacement(ctx context.Context, state, plan *workerModel, resp *resource.ModifyPlanResponse) bool {
	prior := objectAs[gpuModel](ctx, state.GPU, &resp.Diagnostics)
	next := objectAs[gpuModel](ctx, plan.GPU, &resp.Diagnostics)
	if prior == nil || next == nil {
		return false
	}
	allocation := path.Root("gpu").AtName("allocation")
	if !next.Allocation.IsUnknown() && !prior.Allocation.IsNull() && !prior.Allocation.Equal(next.Allocation) {
		resp.RequiresReplace.Append(allocation)
		return true
	}
	if str(prior.Allocation) == worker.AllocationDRA && prior.Devices.IsNull() {
		tflog.Info(ctx, "the worker's ResourceClaim is gone or deallocated; planning its replacement", map[string]any{"id": str(state.ID)})
		resp.RequiresReplace.Append(path.Root("gpu").AtName("devices"))
		return true
	}
	return false
}

// reportProblems adds the problems that are not about a value the
// configuration does not know yet.
func reportProblems(diags *diag.Diagnostics, problems worker.Problems, unknown unknownSet) {
	for _, p := range problems {
		if !unknown.cover(p.Path) {
			addProblem(diags, p)
		}
	}
}

// unknownSet holds the paths of the values a configuration does not know yet.
type unknownSet []worker.Path

// unknownPaths lists the unknown values of a configuration or plan.
func unknownPaths(v tftypes.Value) unknownSet {
	var out unknownSet
	_ = tftypes.Walk(v, func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if v.IsKnown() {
			return true, nil
		}
		// A map's keys are known whenever the map is, and every rule about a
		// value holds for the empty string an unknown value expands to: an
		// unknown value in a known map hides none of the map's problems.
		if steps := p.Steps(); len(steps) > 0 {
			if _, inMap := steps[len(steps)-1].(tftypes.ElementKeyString); inMap {
				return false, nil
			}
		}
		var wp worker.Path
		for _, step := range p.Steps() {
			switch s := step.(type) {
			case tftypes.AttributeName:
				wp = append(wp, string(s))
			case tftypes.ElementKeyInt:
				wp = append(wp, int(s))
			}
		}
		out = append(out, wp)
		return false, nil
	})
	return out
}

// cover tells whether a problem at p may be about an unknown value: one at
// p, above it (a block not known yet) or below it (an element of a list or
// map, a block inside a volume).
func (u unknownSet) cover(p worker.Path) bool {
	for _, q := range u {
		n := min(len(p), len(q))
		same := true
		for i := 0; i < n && same; i++ {
			same = fmt.Sprint(p[i]) == fmt.Sprint(q[i])
		}
		if same {
			return true
		}
	}
	return false
}

func toPath(p worker.Path) path.Path {
	if len(p) == 0 {
		return path.Empty()
	}
	out := path.Root(fmt.Sprint(p[0]))
	for _, step := range p[1:] {
		switch s := step.(type) {
		case int:
			out = out.AtListIndex(s)
		default:
			out = out.AtName(fmt.Sprint(s))
		}
	}
	return out
}

// addProblem reports a finding on its attribute, and names the attribute in
// the text too, since Terraform shows only the source line.
func addProblem(diags *diag.Diagnostics, p worker.Problem) {
	detail := fmt.Sprintf("%s: %s", p.Path, p.Detail)
	if p.Warning {
		diags.AddAttributeWarning(toPath(p.Path), p.Summary, detail)
		return
	}
	diags.AddAttributeError(toPath(p.Path), p.Summary, detail)
}
