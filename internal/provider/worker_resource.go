package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

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
	_ resource.ResourceWithConfigure      = &workerResource{}
	_ resource.ResourceWithModifyPlan     = &workerResource{}
	_ resource.ResourceWithValidateConfig = &workerResource{}
	_ resource.ResourceWithImportState    = &workerResource{}
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
	r.data = providerDataFrom(req.ProviderData, &resp.Diagnostics)
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
	resp.Diagnostics.Append(getWorker(ctx, req.Plan.Raw, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	spec, diags := expandSpec(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	// Write-only values are in the configuration only, never in the plan.
	var secretEnvWO types.Map
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("secret_env_wo"), &secretEnvWO)...)
	spec.SecretEnvWO = strMap(secretEnvWO)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	drv := r.data.backendDriver(ctx, spec.Backend, &resp.Diagnostics)
	if drv == nil {
		return
	}
	tflog.Debug(ctx, "creating worker", map[string]any{"id": str(plan.ID), "wait_for": str(plan.WaitFor)})
	obs, err := drv.Create(ctx, spec, worker.WaitFor(str(plan.WaitFor)))
	if err != nil {
		backendError(&resp.Diagnostics, fmt.Sprintf("Creating worker %q on %s failed", spec.Name, spec.Backend), err)
		return
	}
	flattenObserved(obs, &plan)
	resp.Diagnostics.Append(setWorker(ctx, &resp.State.Raw, &plan)...)
}

func (r *workerResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state workerModel
	resp.Diagnostics.Append(getWorker(ctx, req.State.Raw, &state)...)
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
		next.WaitFor = types.StringValue(string(worker.DefaultWaitFor))
		next.RecreateOnExit = types.BoolValue(true)
	}
	resp.Diagnostics.Append(setWorker(ctx, &resp.State.Raw, &next)...)
}

func (r *workerResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state workerModel
	resp.Diagnostics.Append(getWorker(ctx, req.Plan.Raw, &plan)...)
	resp.Diagnostics.Append(getWorker(ctx, req.State.Raw, &state)...)
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
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	drv := r.data.backendDriver(ctx, spec.Backend, &resp.Diagnostics)
	if drv == nil {
		return
	}
	// The computed facts come from the object as it is after the update, not
	// from the plan; a change of state-only attributes reads it too.
	var obs *worker.Observed
	var err error
	ref := worker.RefOf(spec)
	if len(worker.Changes(old, spec)) > 0 {
		obs, err = drv.Update(ctx, spec, str(state.UID))
	} else {
		obs, err = drv.Read(ctx, ref)
		if err == nil && obs != nil {
			err = worker.CheckIdentity(ref, worker.ObjectKind(ref.Backend), str(state.UID), obs.UID)
		}
	}
	if err == nil && obs == nil {
		err = fmt.Errorf("%s is gone; a refresh will plan to create it again", ref.ID())
	}
	if err != nil {
		backendError(&resp.Diagnostics, fmt.Sprintf("Updating worker %q failed", spec.Name), err)
		return
	}
	flattenObserved(obs, &plan)
	resp.Diagnostics.Append(setWorker(ctx, &resp.State.Raw, &plan)...)
}

func (r *workerResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state workerModel
	resp.Diagnostics.Append(getWorker(ctx, req.State.Raw, &state)...)
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
