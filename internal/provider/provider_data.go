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
// on first use and then shared by every resource of the run.
type providerData struct {
	// settingsKnown is false while a provider setting is known only after
	// apply; then an empty defaultBackend or namespace is not known yet
	// either, and a nil catalog (gpu_type unknown) has no entries.
	settingsKnown     bool
	defaultBackend    string
	gpuNodeLabelKey   string
	hostPathAllowlist []string
	namespace         string
	catalog           *worker.Catalog
	dockerConfig      docker.Config
	kubernetesConfig  kubernetes.Config

	dockerOnce     sync.Once
	dockerDriver   worker.Driver
	dockerErr      error
	kubernetesOnce sync.Once
	kubeDriver     worker.Driver
	kubeErr        error
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
		d.dockerOnce.Do(func() {
			cli, err := docker.NewClient(ctx, d.dockerConfig)
			if err != nil {
				d.dockerErr = fmt.Errorf("docker backend: %w", err)
				return
			}
			d.dockerDriver = docker.NewDriver(cli, d.catalog)
		})
		return d.dockerDriver, d.dockerErr
	case worker.BackendKubernetes:
		d.kubernetesOnce.Do(func() {
			client, restConfig, err := kubernetes.NewClient(d.kubernetesConfig)
			if err != nil {
				d.kubeErr = fmt.Errorf("kubernetes backend: %w", err)
				return
			}
			d.kubeDriver = kubernetes.NewDriver(client, restConfig.Host, d.kubernetesOptions())
		})
		return d.kubeDriver, d.kubeErr
	}
	return nil, fmt.Errorf("unknown backend %q", backend)
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
