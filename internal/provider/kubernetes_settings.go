package provider

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/backend/kubernetes"
)

// The environment variables behind the kubernetes block's settings, those
// the Terraform kubernetes provider reads. KUBECONFIG comes last, in the
// backend, as kubectl reads it.
const (
	EnvKubeConfigPath    = "KUBE_CONFIG_PATH"
	EnvKubeConfigPaths   = "KUBE_CONFIG_PATHS"
	EnvKubeContext       = "KUBE_CTX"
	EnvKubeHost          = "KUBE_HOST"
	EnvKubeToken         = "KUBE_TOKEN"
	EnvKubeCACert        = "KUBE_CLUSTER_CA_CERT_DATA"
	EnvKubeClientCert    = "KUBE_CLIENT_CERT_DATA"
	EnvKubeClientKey     = "KUBE_CLIENT_KEY_DATA"
	EnvKubeInsecure      = "KUBE_INSECURE"
	EnvKubeTLSServerName = "KUBE_TLS_SERVER_NAME"
	EnvKubeProxyURL      = "KUBE_PROXY_URL"
	EnvKubeNamespace     = "KUBE_NAMESPACE"
)

// execAPIVersions are the ExecCredential versions client-go speaks.
var execAPIVersions = []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"}

type kubernetesExecModel struct {
	APIVersion types.String `tfsdk:"api_version"`
	Command    types.String `tfsdk:"command"`
	Args       types.List   `tfsdk:"args"`
	Env        types.Map    `tfsdk:"env"`
}

// inClusterConflicts are the settings that say where the cluster is or who
// the provider is, which in_cluster takes from the pod instead.
var inClusterConflicts = []string{
	"config_path", "config_paths", "config_context", "host", "token", "token_file",
	"cluster_ca_certificate", "client_certificate", "client_key", "insecure", "tls_server_name", "exec",
}

// kubernetesConfig is the backend's configuration from the kubernetes block
// (nil when absent), each empty setting taken from its environment variable.
// With in_cluster, the environment is not read: the pod says it all.
func kubernetesConfig(ctx context.Context, k *kubernetesModel, getenv func(string) string, diags *diag.Diagnostics) kubernetes.Config {
	if k == nil {
		k = &kubernetesModel{}
	}
	if k.InCluster.ValueBool() {
		return kubernetes.Config{InCluster: true, ProxyURL: str(k.ProxyURL)}
	}
	setting := func(v types.String, env string) string {
		if v.IsNull() {
			return getenv(env)
		}
		return str(v)
	}
	cfg := kubernetes.Config{
		ConfigContext:        setting(k.ConfigContext, EnvKubeContext),
		Host:                 setting(k.Host, EnvKubeHost),
		Token:                setting(k.Token, EnvKubeToken),
		TokenFile:            str(k.TokenFile),
		ClusterCACertificate: setting(k.ClusterCACertificate, EnvKubeCACert),
		ClientCertificate:    setting(k.ClientCertificate, EnvKubeClientCert),
		ClientKey:            setting(k.ClientKey, EnvKubeClientKey),
		Insecure:             k.Insecure.ValueBool(),
		TLSServerName:        setting(k.TLSServerName, EnvKubeTLSServerName),
		ProxyURL:             setting(k.ProxyURL, EnvKubeProxyURL),
	}
	if k.Insecure.IsNull() && getenv(EnvKubeInsecure) != "" {
		insecure, err := strconv.ParseBool(getenv(EnvKubeInsecure))
		if err != nil {
			diags.AddAttributeError(path.Root("kubernetes").AtName("insecure"), "Invalid "+EnvKubeInsecure, err.Error())
		}
		cfg.Insecure = insecure
	}
	switch {
	case str(k.ConfigPath) != "":
		cfg.ConfigPaths = []string{str(k.ConfigPath)}
	case !k.ConfigPaths.IsNull():
		cfg.ConfigPaths = strList(k.ConfigPaths)
	case getenv(EnvKubeConfigPath) != "":
		cfg.ConfigPaths = []string{getenv(EnvKubeConfigPath)}
	case getenv(EnvKubeConfigPaths) != "":
		cfg.ConfigPaths = filepath.SplitList(getenv(EnvKubeConfigPaths))
	}
	if exec := objectAs[kubernetesExecModel](ctx, k.Exec, diags); exec != nil {
		cfg.Exec = &kubernetes.ExecConfig{
			APIVersion: str(exec.APIVersion),
			Command:    str(exec.Command),
			Args:       strList(exec.Args),
			Env:        strMap(exec.Env),
		}
	}
	return cfg
}

// validateKubernetes are the rules between the kubernetes block's settings
// that schema validators cannot say: in_cluster = true excludes the
// settings it replaces (in_cluster = false excludes nothing).
func validateKubernetes(ctx context.Context, obj types.Object, resp *provider.ValidateConfigResponse) {
	k := objectAs[kubernetesModel](ctx, obj, &resp.Diagnostics)
	if k == nil || k.InCluster.IsUnknown() || !k.InCluster.ValueBool() {
		return
	}
	attrs := obj.Attributes()
	for _, name := range inClusterConflicts {
		if v, ok := attrs[name]; ok && !v.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("kubernetes").AtName(name), "Conflicting kubernetes settings",
				fmt.Sprintf("kubernetes.%s cannot be set with in_cluster = true, which takes the API server and the credentials from the pod's service account.", name))
		}
	}
}

// proxyURL accepts the proxy addresses client-go can use.
type proxyURL struct{}

func (proxyURL) Description(context.Context) string {
	return "an http, https or socks5 URL"
}

func (v proxyURL) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (proxyURL) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	u, err := url.Parse(req.ConfigValue.ValueString())
	if err == nil && u.Host == "" {
		err = fmt.Errorf("no host")
	}
	if err == nil && u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" {
		err = fmt.Errorf("scheme %q is not http, https or socks5", u.Scheme)
	}
	if err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid proxy URL",
			fmt.Sprintf("%s must be an http, https or socks5 URL such as http://proxy.example:3128: %v", req.Path, err))
	}
}

var _ validator.String = proxyURL{}

// execAPIVersion restricts exec.api_version to what client-go speaks.
var execAPIVersion = []validator.String{stringvalidator.OneOf(execAPIVersions...)}
