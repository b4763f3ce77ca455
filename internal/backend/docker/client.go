// Package docker makes Hodei workers real as Docker containers. Docker's
// types stay inside this package; it speaks worker.Spec and worker.Observed.
package docker

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"
)

// Config is the provider's docker block. Empty fields fall back to the
// environment as the Docker CLI reads it (DOCKER_HOST, DOCKER_CERT_PATH,
// DOCKER_TLS_VERIFY, DOCKER_API_VERSION).
type Config struct {
	Host     string
	CertPath string
	// WrapTransport, when set, wraps the HTTP transport (to count requests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// NewClient makes a client that negotiates the API version with the daemon,
// so an older engine (API 1.41) and a newer one both work. It checks the
// daemon answers, and names the address tried when it does not.
func NewClient(ctx context.Context, cfg Config) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	// The attribute, else DOCKER_HOST: either may be ssh://, which only
	// docker/cli's connection helper dials.
	host := cfg.Host
	if host == "" {
		host = os.Getenv(client.EnvOverrideHost)
	}
	if host != "" {
		helper, err := connhelper.GetConnectionHelper(host)
		if err != nil {
			return nil, fmt.Errorf("docker host %q: %w", host, err)
		}
		if helper != nil {
			opts = append(opts, client.WithHost(helper.Host), client.WithDialContext(helper.Dialer))
		} else {
			opts = append(opts, client.WithHost(host))
		}
	}
	if cfg.CertPath != "" {
		opts = append(opts, client.WithTLSClientConfig(
			filepath.Join(cfg.CertPath, "ca.pem"),
			filepath.Join(cfg.CertPath, "cert.pem"),
			filepath.Join(cfg.CertPath, "key.pem")))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if cfg.WrapTransport != nil {
		// The first client set the transport up for the host; the second
		// sends through the wrapped copy of it.
		httpClient := cli.HTTPClient()
		httpClient.Transport = cfg.WrapTransport(httpClient.Transport)
		_ = cli.Close()
		if cli, err = client.NewClientWithOpts(append(opts, client.WithHTTPClient(httpClient))...); err != nil {
			return nil, fmt.Errorf("docker client: %w", err)
		}
	}
	ping, err := cli.Ping(ctx)
	if err != nil {
		_ = cli.Close()
		// The host as given: an ssh helper's client has a placeholder host.
		if host == "" {
			host = cli.DaemonHost()
		}
		return nil, fmt.Errorf("the Docker daemon at %s is unreachable: %w", host, err)
	}
	cli.NegotiateAPIVersionPing(ping)
	return cli, nil
}
