package provider

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/docker"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/kubernetes"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// providerData is what Configure hands to resources. Backend clients are made
// on first use and then shared by every resource of the run; a backend that
// could not be reached is tried again on its next use.
type providerData struct {
	// settingsKnown is false while a provider setting is known only after
	// apply; then an empty defaultBackend or namespace is not known yet
	// either, and a nil catalog (gpu_type unknown) has no entries.
	settingsKnown   bool
	defaultBackend  string
	gpuNodeLabelKey string
	// gpuAllocation is the provider's gpu_allocation, empty while unknown.
	gpuAllocation     string
	hostPathAllowlist []string
	namespace         string
	catalog           *worker.Catalog
	dockerConfig      docker.Config
	kubernetesConfig  kubernetes.Config
	// preflight is how the plan checks created workers against their engine.
	preflight worker.Preflight

	dockerDriver     lazyDriver
	kubernetesDriver lazyDriver

	// dockerRegistryAuth are the docker block's registry_auth blocks.
	dockerRegistryAuth []docker.RegistryAuth
}

// providerDataFrom is what Configure hands a resource or data source: nil
// while the provider is not configured yet (Configure runs during validation
// too), and any other type than *providerData an error, never a silent nil.
func providerDataFrom(v any, diags *diag.Diagnostics) *providerData {
	if v == nil {
		return nil
	}
	data, ok := v.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("got %T", v))
	}
	return data
}

// lazyDriver keeps the first driver that connect makes, and no error: a
// daemon started or a kubeconfig written after a failed request is found by
// the next one. The mutex lets one caller connect while the others wait.
type lazyDriver struct {
	mu     sync.Mutex
	driver worker.Driver
}

func (l *lazyDriver) get(connect func() (worker.Driver, error)) (worker.Driver, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.driver == nil {
		drv, err := connect()
		if err != nil {
			return nil, err
		}
		l.driver = drv
	}
	return l.driver, nil
}

func (d *providerData) kubernetesOptions() kubernetes.Options {
	return kubernetes.Options{GPUNodeLabelKey: d.gpuNodeLabelKey, Catalog: d.catalog}
}

func (d *providerData) policy() worker.Policy {
	return worker.Policy{Catalog: d.catalog, HostPathAllowlist: d.hostPathAllowlist}
}

// driver returns the backend's driver, connecting on first use. A backend
// that cannot be reached is an error naming it and the address tried.
func (d *providerData) driver(ctx context.Context, backend worker.Backend) (worker.Driver, error) {
	switch backend {
	case worker.BackendDocker:
		return d.dockerDriver.get(func() (worker.Driver, error) {
			cli, err := docker.NewClient(ctx, d.dockerConfig)
			if err != nil {
				return nil, fmt.Errorf("docker backend: %w", err)
			}
			return docker.NewDriver(cli, d.catalog, d.dockerRegistryAuth), nil
		})
	case worker.BackendKubernetes:
		return d.kubernetesDriver.get(func() (worker.Driver, error) {
			client, restConfig, err := kubernetes.NewClient(d.kubernetesConfig)
			if err != nil {
				return nil, fmt.Errorf("kubernetes backend: %w", err)
			}
			return kubernetes.NewDriver(client, restConfig.Host, d.kubernetesOptions()), nil
		})
	}
	return nil, fmt.Errorf("unknown backend %q", backend)
}

// backendDriver is the driver of a worker's backend; nil, with a diagnostic
// on the backend attribute, when it cannot be reached.
func (d *providerData) backendDriver(ctx context.Context, backend worker.Backend, diags *diag.Diagnostics) worker.Driver {
	drv, err := d.driver(ctx, backend)
	if err != nil {
		diags.AddAttributeError(path.Root("backend"), "Backend unreachable", err.Error())
		return nil
	}
	return drv
}

// driverFor parses a worker id and returns its backend's driver; nil, with
// a diagnostic, when either fails.
func (d *providerData) driverFor(ctx context.Context, id string, diags *diag.Diagnostics) (worker.Ref, worker.Driver) {
	ref, err := worker.ParseID(id)
	if err != nil {
		diags.AddAttributeError(path.Root("id"), "Invalid worker id", err.Error())
		return ref, nil
	}
	drv, err := d.driver(ctx, ref.Backend)
	if err != nil {
		diags.AddError("Backend unreachable", err.Error())
		return ref, nil
	}
	return ref, drv
}
