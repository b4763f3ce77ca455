// Package kubernetes runs Hodei workers as pods: one pod per worker, one
// container named "worker". Kubernetes types stay inside this package; its
// callers speak worker.Spec, worker.Observed and worker.Ref.
package kubernetes

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Config is the provider's kubernetes block. Explicit fields override what the
// kubeconfig says, as in the Terraform kubernetes provider.
type Config struct {
	ConfigPaths          []string
	ConfigContext        string
	Host                 string
	Token                string
	ClusterCACertificate string
	ClientCertificate    string
	ClientKey            string
	Insecure             bool
	// WrapTransport, when set, wraps the HTTP transport (to count requests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

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

var errNoConfig = errors.New("no Kubernetes configuration: set kubernetes.config_path, KUBECONFIG, or kubernetes.host")

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
	paths, err := kubeconfigPaths(cfg.ConfigPaths)
	if err != nil {
		return nil, err
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
	overrides := &clientcmd.ConfigOverrides{
		ClusterInfo: clientcmdapi.Cluster{
			Server:                   cfg.Host,
			CertificateAuthorityData: []byte(cfg.ClusterCACertificate),
			InsecureSkipTLSVerify:    cfg.Insecure,
		},
		AuthInfo: clientcmdapi.AuthInfo{
			Token:                 cfg.Token,
			ClientCertificateData: []byte(cfg.ClientCertificate),
			ClientKeyData:         []byte(cfg.ClientKey),
		},
	}
	restCfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, cfg.ConfigContext, overrides, access).ClientConfig()
	switch {
	case clientcmd.IsEmptyConfig(err):
		return nil, fmt.Errorf("%w (the kubeconfig %s defines no cluster)", errNoConfig, strings.Join(paths, string(filepath.ListSeparator)))
	case err != nil:
		return nil, fmt.Errorf("kubernetes configuration: %w", err)
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
