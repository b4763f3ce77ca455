// Package kubernetes runs Hodei workers as pods: one pod per worker, one
// container named "worker". Kubernetes types stay inside this package; its
// callers speak worker.Spec, worker.Observed and worker.Ref.
package kubernetes

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"
)

// Config is the provider's kubernetes block, its environment fallbacks
// already applied. Explicit fields override what the kubeconfig says, as in
// the Terraform kubernetes provider; explicit credentials (Token, TokenFile,
// ClientCertificate and ClientKey, Exec) replace the kubeconfig user's.
type Config struct {
	ConfigPaths          []string
	ConfigContext        string
	Host                 string
	Token                string
	TokenFile            string
	ClusterCACertificate string
	ClientCertificate    string
	ClientKey            string
	Insecure             bool
	TLSServerName        string
	ProxyURL             string
	Exec                 *ExecConfig
	// InCluster uses the pod's service account (rest.InClusterConfig); it
	// is never chosen without being asked for.
	InCluster bool
	// WrapTransport, when set, wraps the HTTP transport (to count requests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// ExecConfig is a client-go credential plugin (aws eks get-token,
// gke-gcloud-auth-plugin, kubelogin): client-go runs it again when the
// credential it printed expires or the API server answers 401.
type ExecConfig struct {
	APIVersion string
	Command    string
	Args       []string
	Env        map[string]string
}

func (c Config) hasCredentials() bool {
	return c.Token != "" || c.TokenFile != "" || c.ClientCertificate != "" || c.ClientKey != "" || c.Exec != nil
}

// authInfo is the kubeconfig user made of the explicit credentials.
func (c Config) authInfo() *clientcmdapi.AuthInfo {
	user := clientcmdapi.NewAuthInfo()
	user.Token = c.Token
	user.ClientCertificateData = []byte(c.ClientCertificate)
	user.ClientKeyData = []byte(c.ClientKey)
	if c.Exec != nil {
		user.Exec = &clientcmdapi.ExecConfig{
			APIVersion: c.Exec.APIVersion,
			Command:    c.Exec.Command,
			Args:       c.Exec.Args,
			// Terraform has no terminal to give a plugin: one that needs
			// to ask the user fails instead of waiting for an answer.
			InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
		}
		names := make([]string, 0, len(c.Exec.Env))
		for name := range c.Exec.Env {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			user.Exec.Env = append(user.Exec.Env, clientcmdapi.ExecEnvVar{Name: name, Value: c.Exec.Env[name]})
		}
	}
	return user
}

// explicitUser names the kubeconfig user made of the explicit credentials.
const explicitUser = "hodei-provider-settings"

// Client tuning: no client-side rate limit (a negative QPS). Terraform's
// -parallelism already bounds the requests in flight, and the API server's
// priority and fairness is the limit that counts: client-go waits out its 429
// answers. A token bucket here only adds waiting: an apply of 300 workers
// makes 900 requests, which 50 QPS (burst 100) stretch over at least 16 s.
const (
	clientQPS   = -1
	clientBurst = 0
	userAgent   = "terraform-provider-hodei"
)

var errNoConfig = errors.New("no Kubernetes configuration: set kubernetes.config_path, KUBECONFIG, or kubernetes.host (or KUBE_CONFIG_PATH, KUBE_HOST, or kubernetes.in_cluster = true)")

// inClusterConfig is rest.InClusterConfig, a variable so that a test can
// see whether it is called.
var inClusterConfig = rest.InClusterConfig

// NewClient builds a clientset from cfg. It never falls back to an in-cluster
// or localhost configuration: with nothing configured it is an error.
func NewClient(cfg Config) (kubernetes.Interface, *rest.Config, error) {
	restCfg, err := restConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	restCfg.QPS = clientQPS
	restCfg.Burst = clientBurst
	restCfg.UserAgent = userAgent
	if cfg.WrapTransport != nil {
		restCfg.Wrap(cfg.WrapTransport)
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes client for %s: %w", restCfg.Host, err)
	}
	return client, restCfg, nil
}

func restConfig(cfg Config) (*rest.Config, error) {
	if cfg.InCluster {
		restCfg, err := inClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("kubernetes.in_cluster: %w", err)
		}
		if cfg.ProxyURL != "" {
			proxy, err := url.Parse(cfg.ProxyURL)
			if err != nil {
				return nil, fmt.Errorf("kubernetes.proxy_url: %w", err)
			}
			restCfg.Proxy = http.ProxyURL(proxy)
		}
		return restCfg, nil
	}
	paths, err := kubeconfigPaths(cfg.ConfigPaths)
	if err != nil {
		return nil, err
	}
	if cfg.TokenFile != "" {
		if _, err := os.ReadFile(cfg.TokenFile); err != nil {
			return nil, fmt.Errorf("kubernetes.token_file: %w", err)
		}
	}
	if len(paths) == 0 && cfg.Host == "" {
		return nil, errNoConfig
	}
	raw := clientcmdapi.NewConfig()
	var access clientcmd.ConfigAccess
	if len(paths) > 0 {
		rules := &clientcmd.ClientConfigLoadingRules{Precedence: paths}
		if raw, err = rules.Load(); err != nil {
			return nil, fmt.Errorf("loading kubeconfig %s: %w", strings.Join(paths, string(filepath.ListSeparator)), err)
		}
		access = rules
	}
	if cfg.ConfigContext != "" && raw.Contexts[cfg.ConfigContext] == nil {
		return nil, fmt.Errorf("kubernetes.config_context: context %q is not in the kubeconfig %s (its contexts: %s)",
			cfg.ConfigContext, strings.Join(paths, string(filepath.ListSeparator)), strings.Join(slices.Sorted(maps.Keys(raw.Contexts)), ", "))
	}
	overrides := &clientcmd.ConfigOverrides{
		ClusterInfo: clientcmdapi.Cluster{
			Server:                   cfg.Host,
			CertificateAuthorityData: []byte(cfg.ClusterCACertificate),
			InsecureSkipTLSVerify:    cfg.Insecure,
			TLSServerName:            cfg.TLSServerName,
			ProxyURL:                 cfg.ProxyURL,
		},
	}
	if cfg.hasCredentials() {
		raw.AuthInfos[explicitUser] = cfg.authInfo()
		overrides.Context.AuthInfo = explicitUser
	}
	restCfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, cfg.ConfigContext, overrides, access).ClientConfig()
	switch {
	case clientcmd.IsEmptyConfig(err):
		return nil, fmt.Errorf("%w (the kubeconfig %s defines no cluster)", errNoConfig, strings.Join(paths, string(filepath.ListSeparator)))
	case err != nil:
		return nil, fmt.Errorf("kubernetes configuration: %w", err)
	}
	if cfg.TokenFile != "" {
		// Read at the first request, again every minute (as client-go reads
		// a kubeconfig's tokenFile) and after a 401, so that a rotated
		// projected token is used from the next request on.
		restCfg.Wrap(transport.ResettableTokenSourceWrapTransport(transport.NewCachedFileTokenSource(cfg.TokenFile)))
	}
	return restCfg, nil
}

// kubeconfigPaths are the configured files, each of which must exist, or else
// the files of $KUBECONFIG, of which kubectl ignores the missing ones. Unlike
// kubectl it does not default to ~/.kube/config: which cluster to change must
// be said, never guessed.
func kubeconfigPaths(configured []string) ([]string, error) {
	if len(configured) == 0 {
		var paths []string
		for _, p := range filepath.SplitList(os.Getenv(clientcmd.RecommendedConfigPathEnvVar)) {
			if p != "" && !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
		return paths, nil
	}
	paths := make([]string, 0, len(configured))
	for _, p := range configured {
		expanded, err := expandHome(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(expanded); err != nil {
			return nil, fmt.Errorf("kubernetes.config_path: %w", err)
		}
		if !slices.Contains(paths, expanded) {
			paths = append(paths, expanded)
		}
	}
	return paths, nil
}

func expandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("kubernetes.config_path %q: %w", path, err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}
