package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/docker"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/kubernetes"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Default timeouts when the timeouts block leaves them out.
const (
	defaultCreateTimeout = 5 * time.Minute
	defaultUpdateTimeout = 5 * time.Minute
	defaultDeleteTimeout = 2 * time.Minute
	readTimeout          = time.Minute
)

var (
	_ resource.ResourceWithConfigure   = &workerResource{}
	_ resource.ResourceWithModifyPlan  = &workerResource{}
	_ resource.ResourceWithImportState = &workerResource{}
)

type workerResource struct {
	data *providerData
}

func newWorkerResource() resource.Resource { return &workerResource{} }

func (r *workerResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_worker"
}

func (r *workerResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = workerSchema(ctx)
}

func (r *workerResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("got %T", req.ProviderData))
		return
	}
	r.data = data
}

// ModifyPlan resolves what the plan can know (backend, namespace, id, GPU
// vendor), validates the whole spec before any API call, and decides per
// backend what changes in place and what replaces.
func (r *workerResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan workerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r.resolvePlan(ctx, req, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	spec, diags := expandSpec(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	problems := worker.Validate(spec, r.data.policy())
	switch spec.Backend {
	case worker.BackendDocker:
		problems = append(problems, docker.Check(spec, r.data.catalog)...)
	case worker.BackendKubernetes:
		problems = append(problems, kubernetes.Check(spec, r.data.kubernetesOptions())...)
	}
	for _, p := range problems {
		if !isUnknown(ctx, req, p.Path) {
			addProblem(&resp.Diagnostics, p)
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if !req.State.Raw.IsNull() {
		var state workerModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		r.planChanges(ctx, &state, spec, &plan, resp)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// resolvePlan fills the attributes the configuration leaves to the provider.
func (r *workerResource) resolvePlan(ctx context.Context, req resource.ModifyPlanRequest, plan *workerModel, diags *diag.Diagnostics) {
	var configBackend, configNamespace types.String
	diags.Append(req.Config.GetAttribute(ctx, path.Root("backend"), &configBackend)...)
	diags.Append(req.Config.GetAttribute(ctx, path.Root("namespace"), &configNamespace)...)
	if configBackend.IsUnknown() || plan.Labels.IsUnknown() {
		return
	}
	backend, err := worker.ResolveBackend(str(configBackend), strMap(ctx, plan.Labels, diags), r.data.defaultBackend)
	if err != nil {
		diags.AddAttributeError(path.Root("backend"), "Conflicting backend selection", err.Error())
		return
	}
	plan.Backend = types.StringValue(string(backend))
	switch {
	case !configNamespace.IsNull():
		plan.Namespace = configNamespace
	case backend == worker.BackendKubernetes:
		plan.Namespace = types.StringValue(r.data.namespace)
	default:
		plan.Namespace = types.StringNull()
	}
	if plan.GPU != nil {
		plan.GPU.setCatalogFacts(r.data.catalog)
	}
	if !plan.Name.IsUnknown() && !plan.Namespace.IsUnknown() {
		plan.ID = types.StringValue(worker.Ref{Backend: backend, Namespace: str(plan.Namespace), Name: str(plan.Name)}.ID())
	}
}

// planChanges marks what forces replacement and keeps the computed facts of
// a worker that is not replaced.
func (r *workerResource) planChanges(ctx context.Context, state *workerModel, planned *worker.Spec, plan *workerModel, resp *resource.ModifyPlanResponse) {
	old, diags := expandSpec(ctx, state)
	resp.Diagnostics.Append(diags...)
	replace := false
	for _, c := range worker.Changes(old, planned) {
		if !c.InPlace {
			replace = true
			resp.RequiresReplace.Append(path.Root(c.Attribute))
		}
	}
	if worker.Status(str(state.Status)).Exited() && plan.RecreateOnExit.ValueBool() {
		replace = true
		resp.RequiresReplace.Append(path.Root("status"))
		tflog.Info(ctx, "worker exited; planning its replacement", map[string]any{"id": str(state.ID), "status": str(state.Status)})
	}
	keepPriorSpelling(state, plan)
	if replace {
		plan.Status, plan.NodeName, plan.IP = types.StringUnknown(), types.StringUnknown(), types.StringUnknown()
		plan.UID, plan.StartedAt = types.StringUnknown(), types.StringUnknown()
		return
	}
	plan.Status, plan.NodeName, plan.IP, plan.UID, plan.StartedAt = state.Status, state.NodeName, state.IP, state.UID, state.StartedAt
}

// isUnknown tells whether a problem is about a value the plan does not know
// yet; such a value is checked again when it is known.
func isUnknown(ctx context.Context, req resource.ModifyPlanRequest, p worker.Path) bool {
	var v attr.Value
	if diags := req.Plan.GetAttribute(ctx, toPath(p), &v); diags.HasError() || v == nil {
		return false
	}
	return v.IsUnknown()
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

// backendError turns a backend's error into a diagnostic; a foreign object
// of the worker's name is about the name attribute.
func backendError(diags *diag.Diagnostics, summary string, err error) {
	var notOwned *worker.NotOwnedError
	if errors.As(err, &notOwned) {
		diags.AddAttributeError(path.Root("name"), summary, err.Error())
		return
	}
	diags.AddError(summary, err.Error())
}

func (r *workerResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan workerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	spec, diags := expandSpec(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	drv, err := r.data.driver(ctx, spec.Backend)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("backend"), "Backend unreachable", err.Error())
		return
	}
	tflog.Debug(ctx, "creating worker", map[string]any{"id": str(plan.ID), "wait_for": str(plan.WaitFor)})
	obs, err := drv.Create(ctx, spec, str(plan.WaitFor))
	if err != nil {
		backendError(&resp.Diagnostics, fmt.Sprintf("Creating worker %q on %s failed", spec.Name, spec.Backend), err)
		return
	}
	flattenObserved(obs, &plan)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *workerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state workerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	ref, drv := r.data.driverFor(ctx, str(state.ID), &resp.Diagnostics)
	if drv == nil {
		return
	}
	obs, err := drv.Read(ctx, ref)
	importing := state.Name.IsNull()
	if err == nil && obs != nil && !importing {
		err = worker.CheckIdentity(ref, worker.ObjectKind(ref.Backend), str(state.UID), obs.UID)
	}
	var notOwned *worker.NotOwnedError
	var replaced *worker.ReplacedError
	switch {
	case (errors.As(err, &notOwned) || errors.As(err, &replaced)) && !importing:
		resp.Diagnostics.AddWarning("Worker replaced outside Terraform", err.Error()+"; the worker leaves the state.")
		resp.State.RemoveResource(ctx)
		return
	case err != nil:
		backendError(&resp.Diagnostics, fmt.Sprintf("Reading worker %s failed", ref.ID()), err)
		return
	case obs == nil:
		tflog.Info(ctx, "worker is gone; it leaves the state", map[string]any{"id": ref.ID()})
		resp.State.RemoveResource(ctx)
		return
	}
	if obs.Spec.Name != ref.Name || obs.Spec.Backend != ref.Backend {
		// A spec copied from another object, or edited, would make the state
		// describe a worker other than the one read.
		resp.Diagnostics.AddError(fmt.Sprintf("Reading worker %s failed", ref.ID()), fmt.Sprintf(
			"its %s value describes worker %q on backend %q, not this one: it was edited or copied from another object. Restore it, or delete the object and let Terraform create it again.",
			worker.AnnotationSpec, obs.Spec.Name, obs.Spec.Backend))
		return
	}
	next := state
	resp.Diagnostics.Append(flattenSpec(&obs.Spec, r.data.catalog, &next)...)
	flattenObserved(obs, &next)
	if importing {
		next.WaitFor = types.StringValue(worker.DefaultWaitFor)
		next.RecreateOnExit = types.BoolValue(true)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &next)...)
}

func (r *workerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state workerModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	spec, diags := expandSpec(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	old, diags := expandSpec(ctx, &state)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	// The plan carries the observed facts of state (planChanges): an update
	// never replaces.
	if len(worker.Changes(old, spec)) > 0 {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		drv, err := r.data.driver(ctx, spec.Backend)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("backend"), "Backend unreachable", err.Error())
			return
		}
		obs, err := drv.Update(ctx, spec, str(state.UID))
		if err != nil {
			backendError(&resp.Diagnostics, fmt.Sprintf("Updating worker %q failed", spec.Name), err)
			return
		}
		if obs != nil {
			flattenObserved(obs, &plan)
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *workerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state workerModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, defaultDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ref, drv := r.data.driverFor(ctx, str(state.ID), &resp.Diagnostics)
	if drv == nil {
		return
	}
	var notOwned *worker.NotOwnedError
	var replaced *worker.ReplacedError
	if err := drv.Delete(ctx, ref, str(state.UID)); errors.As(err, &notOwned) {
		resp.Diagnostics.AddWarning("Worker not deleted", err.Error())
	} else if errors.As(err, &replaced) {
		resp.Diagnostics.AddWarning("Worker not deleted", err.Error()+"; the worker leaves this state, the object stays.")
	} else if err != nil {
		resp.Diagnostics.AddError(fmt.Sprintf("Deleting worker %s failed", ref.ID()), err.Error())
	}
}

func (r *workerResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ref, err := worker.ParseID(req.ID)
	if err != nil {
		resp.Diagnostics.AddError("Invalid import id", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), ref.ID())...)
}

// keepPriorSpelling shows a respelled quantity or GPU type as no change even
// when something else in its block does change.
func keepPriorSpelling(state, plan *workerModel) {
	keep := func(prior *semanticStringValue, planned *semanticStringValue) {
		if eq, _ := prior.StringSemanticEquals(context.Background(), *planned); eq {
			*planned = *prior
		}
	}
	if state.Resources != nil && plan.Resources != nil {
		keep(&state.Resources.CPU, &plan.Resources.CPU)
		keep(&state.Resources.Memory, &plan.Resources.Memory)
		keep(&state.Resources.CPULimit, &plan.Resources.CPULimit)
		keep(&state.Resources.MemoryLimit, &plan.Resources.MemoryLimit)
	}
	if state.GPU != nil && plan.GPU != nil {
		keep(&state.GPU.Type, &plan.GPU.Type)
	}
	for i := range plan.Volumes {
		if i < len(state.Volumes) && state.Volumes[i].Ephemeral != nil && plan.Volumes[i].Ephemeral != nil {
			keep(&state.Volumes[i].Ephemeral.SizeLimit, &plan.Volumes[i].Ephemeral.SizeLimit)
		}
	}
}
