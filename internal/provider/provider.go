// Package provider is the Terraform face of Hodei: schemas, plan rules and
// the mapping between Terraform values and worker specs. Terraform types
// stop here.
package provider

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/docker"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// EnvDefaultBackend overrides default_backend's fallback.
const EnvDefaultBackend = "HODEI_DEFAULT_BACKEND"

var (
	_ provider.Provider                   = &hodeiProvider{}
	_ provider.ProviderWithValidateConfig = &hodeiProvider{}
)

type hodeiProvider struct {
	version string
}

// New returns the provider factory that main and the tests serve.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &hodeiProvider{version: version} }
}

type providerModel struct {
	DefaultBackend    types.String `tfsdk:"default_backend"`
	GPUNodeLabelKey   types.String `tfsdk:"gpu_node_label_key"`
	GPUAllocation     types.String `tfsdk:"gpu_allocation"`
	HostPathAllowlist types.List   `tfsdk:"host_path_allowlist"`
	Docker            types.Object `tfsdk:"docker"`
	Kubernetes        types.Object `tfsdk:"kubernetes"`
	GPUTypes          types.List   `tfsdk:"gpu_type"`
	Preflight         types.String `tfsdk:"preflight"`
}

type dockerModel struct {
	Host         types.String `tfsdk:"host"`
	CertPath     types.String `tfsdk:"cert_path"`
	CAMaterial   types.String `tfsdk:"ca_material"`
	CertMaterial types.String `tfsdk:"cert_material"`
	KeyMaterial  types.String `tfsdk:"key_material"`
	SSHOpts      types.List   `tfsdk:"ssh_opts"`

	RegistryAuth types.List `tfsdk:"registry_auth"`
}

type registryAuthModel struct {
	Address    types.String `tfsdk:"address"`
	Username   types.String `tfsdk:"username"`
	Password   types.String `tfsdk:"password"`
	ConfigFile types.String `tfsdk:"config_file"`
}

type kubernetesModel struct {
	ConfigPath           types.String `tfsdk:"config_path"`
	ConfigContext        types.String `tfsdk:"config_context"`
	Host                 types.String `tfsdk:"host"`
	Token                types.String `tfsdk:"token"`
	ClusterCACertificate types.String `tfsdk:"cluster_ca_certificate"`
	ClientCertificate    types.String `tfsdk:"client_certificate"`
	ClientKey            types.String `tfsdk:"client_key"`
	Insecure             types.Bool   `tfsdk:"insecure"`
	Namespace            types.String `tfsdk:"namespace"`
	ConfigPaths          types.List   `tfsdk:"config_paths"`
	TokenFile            types.String `tfsdk:"token_file"`
	TLSServerName        types.String `tfsdk:"tls_server_name"`
	ProxyURL             types.String `tfsdk:"proxy_url"`
	InCluster            types.Bool   `tfsdk:"in_cluster"`
	Exec                 types.Object `tfsdk:"exec"`
}

type gpuTypeModel struct {
	Name      types.String `tfsdk:"name"`
	Vendor    types.String `tfsdk:"vendor"`
	NodeLabel types.String `tfsdk:"node_label"`

	RuntimeClass types.String `tfsdk:"runtime_class"`
}

func (p *hodeiProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "hodei"
	resp.Version = p.version
}

func (p *hodeiProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declares execution workers of the Hodei job platform as Kubernetes pods or Docker containers. " +
			"Clients are made on first use: a configuration with only Docker workers needs no kubeconfig, and the reverse.",
		Attributes: map[string]schema.Attribute{
			"default_backend": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Backend of workers that name none: `\"docker\"` or `\"kubernetes\"`. Env `HODEI_DEFAULT_BACKEND`; default `\"docker\"`.",
				Validators:          oneOf(worker.Backends),
			},
			"gpu_node_label_key": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Node label that GPU workers select on. Default `\"accelerator\"`.",
			},
			"gpu_allocation": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "How Kubernetes workers get their GPUs unless their `gpu.allocation` says. " + enumDoc(worker.Allocations) + " Default `\"device_plugin\"`. " +
					"`\"dra\"` claims devices through Dynamic Resource Allocation (`resource.k8s.io/v1`); see the guide *GPUs with DRA*. " +
					"Docker workers always use the device plugin's mode. A change replaces the Kubernetes GPU workers that follow it.",
				Validators: oneOf(worker.Allocations),
			},
			"host_path_allowlist": schema.ListAttribute{
				ElementType:         types.StringType,
				Optional:            true,
				MarkdownDescription: "When set, a `host_path` volume outside these path prefixes is a plan error.",
			},
			"preflight": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "How `terraform plan` checks each worker it creates or replaces against its engine: " + enumDoc(worker.PreflightModes) + "; default `\"on\"`. " +
					"`\"on\"`: on Kubernetes the pod is sent with `dryRun=All`, so that what admission refuses (Pod Security, ResourceQuota, LimitRange, webhooks) fails the plan, " +
					"and a GPU, node selector or required node affinity that no node can satisfy is a warning; on Docker an NVIDIA GPU worker on a daemon without NVIDIA support fails the plan. " +
					"`\"strict\"`: those warnings are errors too. `\"off\"`: the plan asks the engines nothing. " +
					"Cost: one dry-run request per distinct pod among the Kubernetes workers it creates (workers whose pods differ only in their name, as in a `count`, share one), " +
					"one node list and one `docker info` per provider process, and none for a worker that stays; Terraform plans again at apply, which repeats them once. " +
					"Checks the plan cannot run (no permission, engine not reachable yet) are skipped with a warning. See the [plan-time checks guide](../guides/plan-time-checks).",
				Validators: oneOf(worker.PreflightModes),
			},
		},
		Blocks: map[string]schema.Block{
			"docker": schema.SingleNestedBlock{
				MarkdownDescription: "The Docker engine. Empty settings come from the environment, then from the Docker context, as the Docker CLI reads them " +
					"(`DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`, `DOCKER_CONTEXT`, the current context of `~/.docker/config.json`); " +
					"the API version is negotiated with the daemon unless `DOCKER_API_VERSION` pins it. See [Where each Docker setting comes from](#where-each-docker-setting-comes-from).",
				Attributes: dockerAttributes(),
				Blocks:     map[string]schema.Block{"registry_auth": registryAuthBlock()},
			},
			"kubernetes": schema.SingleNestedBlock{
				MarkdownDescription: "The Kubernetes cluster: a kubeconfig (with a context), explicit settings, an exec credential plugin, or the pod's own service account. " +
					"Explicit settings override the kubeconfig's; explicit credentials replace its user's. Each setting falls back to its environment variable " +
					"(the [Kubernetes authentication guide](../guides/kubernetes-authentication) has the table).",
				Attributes: map[string]schema.Attribute{
					"config_path": schema.StringAttribute{Optional: true, MarkdownDescription: "Kubeconfig path. Env `KUBE_CONFIG_PATH`, then `KUBE_CONFIG_PATHS`, then `KUBECONFIG`, a list as kubectl reads it. " +
						"Unlike kubectl, the provider never falls back to `~/.kube/config` or in-cluster credentials: with none of `config_path`, `config_paths`, their environment variables, `host` or `in_cluster`, a Kubernetes worker is an error.",
						Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("config_paths"))}},
					"config_paths":   schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Kubeconfig paths, merged as kubectl merges `KUBECONFIG` (the first file that sets a value wins); each must exist. Env `KUBE_CONFIG_PATHS` (separated by `:`)."},
					"config_context": schema.StringAttribute{Optional: true, MarkdownDescription: "Context of the kubeconfig to use. Env `KUBE_CTX`; default: the kubeconfig's current context."},
					"host":           schema.StringAttribute{Optional: true, MarkdownDescription: "API server address, e.g. `https://10.0.0.1:6443`. Env `KUBE_HOST`."},
					"token": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "Bearer token. Env `KUBE_TOKEN`.",
						Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("token_file"), path.MatchRelative().AtParent().AtName("exec"))}},
					"token_file": schema.StringAttribute{Optional: true, MarkdownDescription: "File holding the bearer token, read at the first request, again every minute and after a 401, so that a rotated (projected service account) token is used from the next request on.",
						Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("exec"))}},
					"cluster_ca_certificate": schema.StringAttribute{Optional: true, MarkdownDescription: "PEM CA bundle of the API server. Env `KUBE_CLUSTER_CA_CERT_DATA`."},
					"client_certificate": schema.StringAttribute{Optional: true, MarkdownDescription: "PEM client certificate (the content, e.g. `file(\"client.pem\")`). Env `KUBE_CLIENT_CERT_DATA`.",
						Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("client_key"))}},
					"client_key": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "PEM client key (the content). Env `KUBE_CLIENT_KEY_DATA`.",
						Validators: []validator.String{stringvalidator.AlsoRequires(path.MatchRelative().AtParent().AtName("client_certificate"))}},
					"insecure":        schema.BoolAttribute{Optional: true, MarkdownDescription: "Skip verifying the API server's certificate. Env `KUBE_INSECURE`."},
					"tls_server_name": schema.StringAttribute{Optional: true, MarkdownDescription: "Name to check the API server's certificate against, when `host` is not one of its names (an IP address, a tunnel). Env `KUBE_TLS_SERVER_NAME`."},
					"proxy_url": schema.StringAttribute{Optional: true, MarkdownDescription: "Proxy to reach the API server through: `http://`, `https://` or `socks5://`. Env `KUBE_PROXY_URL`. Unlike `HTTPS_PROXY`, it applies to every address, loopback ones too.",
						Validators: []validator.String{proxyURL{}}},
					"in_cluster": schema.BoolAttribute{Optional: true, MarkdownDescription: "Use the service account of the pod the provider runs in (`KUBERNETES_SERVICE_HOST` and the mounted token). " +
						"Off by default, so that a run inside a pod never uses the pod's identity unless asked; excludes the settings that say where the cluster is and who the provider is, and the environment variables are not read."},
					"namespace": schema.StringAttribute{Optional: true, MarkdownDescription: "Namespace of workers that set none. Env `KUBE_NAMESPACE`; default `\"default\"`."},
				},
				Blocks: map[string]schema.Block{
					"exec": schema.SingleNestedBlock{
						MarkdownDescription: "A credential plugin, as a kubeconfig's `exec` user runs it (`aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`). " +
							"client-go runs it when the first request needs a credential, and again when the credential's `expirationTimestamp` passes or the API server answers 401, so a long apply outlives short tokens. " +
							"The plugin gets no terminal (`interactiveMode: Never`).",
						// Required attributes of an optional block would be required without it.
						Validators: []validator.Object{objectvalidator.AlsoRequires(path.MatchRelative().AtName("api_version"), path.MatchRelative().AtName("command"))},
						Attributes: map[string]schema.Attribute{
							"api_version": schema.StringAttribute{Optional: true, Validators: execAPIVersion,
								MarkdownDescription: "Required. ExecCredential version the plugin speaks: " + enumDoc(execAPIVersions) + "."},
							"command": schema.StringAttribute{Optional: true, MarkdownDescription: "Required. The plugin: a path, or a name looked up in `PATH`."},
							"args":    schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Arguments of the plugin."},
							"env": schema.MapAttribute{ElementType: types.StringType, Optional: true, Sensitive: true,
								MarkdownDescription: "Environment variables added to the provider's for the plugin. Sensitive: never shown in plans or logs."},
						},
					},
				},
			},
			"gpu_type": schema.ListNestedBlock{
				MarkdownDescription: "Adds to or overrides the built-in GPU catalog.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"name": schema.StringAttribute{Required: true, MarkdownDescription: "Type name, as workers write it in `gpu.type` (any case)."},
						"vendor": schema.StringAttribute{
							Required: true, MarkdownDescription: "`nvidia`, `amd` or `intel`: selects the Kubernetes resource and the Docker devices.",
							Validators: oneOf(worker.Vendors),
						},
						"node_label": schema.StringAttribute{Required: true, MarkdownDescription: "Value of the `gpu_node_label_key` label on nodes with this GPU."},
						"runtime_class": schema.StringAttribute{
							Optional: true,
							MarkdownDescription: "Runtime class that workers of this type get unless they set `runtime_class_name`: the pod's `runtimeClassName` " +
								"on Kubernetes (e.g. `\"nvidia\"` for the NVIDIA container runtime), the daemon's runtime on Docker. Built-in types have none, " +
								"as clusters with the vendor's device plugin need none. Read when a worker is created: a later change leaves existing workers alone.",
						},
					},
				},
			},
		},
	}
}

func (p *hodeiProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Settings known only after apply (another resource's output) leave
	// the values that depend on them unknown at plan, or defer the plan
	// where Terraform allows it; the final plan at apply sees them known.
	settingsKnown := req.Config.Raw.IsFullyKnown()
	if !settingsKnown && req.ClientCapabilities.DeferralAllowed {
		resp.Deferred = &provider.Deferred{Reason: provider.DeferredReasonProviderConfigUnknown}
	}
	data := &providerData{
		settingsKnown:   settingsKnown,
		defaultBackend:  str(cfg.DefaultBackend),
		gpuNodeLabelKey: str(cfg.GPUNodeLabelKey),
		gpuAllocation:   str(cfg.GPUAllocation),
		namespace:       worker.DefaultNamespace,
	}
	if data.defaultBackend == "" && !cfg.DefaultBackend.IsUnknown() {
		data.defaultBackend = os.Getenv(EnvDefaultBackend)
		if data.defaultBackend == "" {
			data.defaultBackend = string(worker.BackendDocker)
		}
	}
	if data.gpuAllocation == "" && !cfg.GPUAllocation.IsUnknown() {
		data.gpuAllocation = worker.AllocationDevicePlugin
	}
	if data.gpuNodeLabelKey == "" {
		data.gpuNodeLabelKey = worker.DefaultGPUNodeLabel
	}
	data.hostPathAllowlist = strList(cfg.HostPathAllowlist)
	data.preflight = worker.Preflight(str(cfg.Preflight))
	if data.preflight == "" {
		data.preflight = worker.PreflightOn
	}
	if !cfg.GPUTypes.IsUnknown() {
		var extra []worker.GPUType
		for _, t := range listAs[gpuTypeModel](ctx, cfg.GPUTypes, &resp.Diagnostics) {
			extra = append(extra, worker.GPUType{Name: str(t.Name), Vendor: str(t.Vendor), NodeLabel: str(t.NodeLabel), RuntimeClass: str(t.RuntimeClass)})
		}
		catalog, err := worker.NewCatalog(extra...)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("gpu_type"), "Invalid gpu_type", err.Error())
			return
		}
		data.catalog = catalog
	}
	if d := objectAs[dockerModel](ctx, cfg.Docker, &resp.Diagnostics); d != nil {
		data.dockerConfig = docker.Config{
			Host:         str(d.Host),
			CertPath:     expandHome(str(d.CertPath)),
			CAMaterial:   str(d.CAMaterial),
			CertMaterial: str(d.CertMaterial),
			KeyMaterial:  str(d.KeyMaterial),
			SSHOpts:      strList(d.SSHOpts),
		}
		data.dockerRegistryAuth = registryAuths(ctx, d.RegistryAuth, &resp.Diagnostics)
	}
	k := objectAs[kubernetesModel](ctx, cfg.Kubernetes, &resp.Diagnostics)
	data.kubernetesConfig = kubernetesConfig(ctx, k, os.Getenv, &resp.Diagnostics)
	switch {
	case cfg.Kubernetes.IsUnknown() || k != nil && k.Namespace.IsUnknown():
		data.namespace = ""
	case k != nil && str(k.Namespace) != "":
		data.namespace = str(k.Namespace)
	case (k == nil || !k.InCluster.ValueBool()) && os.Getenv(EnvKubeNamespace) != "":
		data.namespace = os.Getenv(EnvKubeNamespace)
	}
	if path := os.Getenv(EnvRequestLog); path != "" {
		log, err := openRequestLog(path)
		if err != nil {
			resp.Diagnostics.AddError("Invalid request log", err.Error())
			return
		}
		data.dockerConfig.WrapTransport = log.wrap(string(worker.BackendDocker))
		data.kubernetesConfig.WrapTransport = log.wrap(string(worker.BackendKubernetes))
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

// ValidateConfig runs the rules between provider settings that schema
// validators cannot say.
func (p *hodeiProvider) ValidateConfig(ctx context.Context, req provider.ValidateConfigRequest, resp *provider.ValidateConfigResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	validateDocker(ctx, cfg.Docker, resp)
	validateKubernetes(ctx, cfg.Kubernetes, resp)
	for i, t := range listAs[gpuTypeModel](ctx, cfg.GPUTypes, &resp.Diagnostics) {
		if err := worker.CheckRuntimeClass(str(t.RuntimeClass)); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("gpu_type").AtListIndex(i).AtName("runtime_class"), "Invalid runtime class", "runtime_class "+err.Error()+".")
		}
	}
}

func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

func (p *hodeiProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newWorkerResource}
}

func (p *hodeiProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newGPUTypesDataSource, newWorkerDataSource}
}
