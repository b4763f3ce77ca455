// Package docker makes Hodei workers real as Docker containers. Docker's
// types stay inside this package; it speaks worker.Spec and worker.Observed.
package docker

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/docker/cli/cli/connhelper"
	"github.com/docker/docker/client"
)

// Config is the provider's docker block. Empty fields fall back to the
// environment and then to the Docker context as the Docker CLI reads them
// (see resolveEndpoint); DOCKER_API_VERSION pins the API version.
type Config struct {
	Host string
	// CAMaterial, CertMaterial and KeyMaterial are PEM contents, an
	// alternative to CertPath's ca.pem, cert.pem and key.pem.
	CAMaterial   string
	CertMaterial string
	KeyMaterial  string
	CertPath     string
	// SSHOpts are extra ssh options for an ssh:// host.
	SSHOpts []string
	// WrapTransport, when set, wraps the HTTP transport (to count requests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// NewClient makes a client that negotiates the API version with the daemon,
// so an older engine (API 1.41) and a newer one both work. It checks the
// daemon answers, and names the address tried, and the setting to fix when
// TLS fails, when it does not.
func NewClient(ctx context.Context, cfg Config) (*client.Client, error) {
	ep, err := resolveEndpoint(cfg)
	if err != nil {
		return nil, err
	}
	if isSocket(ep.Host) || strings.HasPrefix(ep.Host, "ssh://") {
		ep.tlsFrom = "" // TLS is for network addresses; ssh secures its own
	}
	opts, err := clientOpts(ep, cfg.SSHOpts)
	if err != nil {
		return nil, err
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if cfg.WrapTransport != nil {
		// The first client set the transport up for the host; the second
		// sends through the wrapped copy of it, over https when the first
		// did (the scheme is guessed from an unwrapped transport only).
		// Its options are made afresh: the first client changed the HTTP
		// client that its own options hold.
		httpClient := cli.HTTPClient()
		httpClient.Transport = cfg.WrapTransport(httpClient.Transport)
		_ = cli.Close()
		if opts, err = clientOpts(ep, cfg.SSHOpts); err != nil {
			return nil, err
		}
		opts = append(opts, client.WithHTTPClient(httpClient))
		if ep.tlsFrom != "" {
			opts = append(opts, client.WithScheme("https"))
		}
		if cli, err = client.NewClientWithOpts(opts...); err != nil {
			return nil, fmt.Errorf("docker client: %w", err)
		}
	}
	ping, err := cli.Ping(ctx)
	if err != nil {
		_ = cli.Close()
		// The host as resolved: an ssh helper's client has a placeholder host.
		return nil, unreachable(ep, err)
	}
	cli.NegotiateAPIVersionPing(ping)
	return cli, nil
}

// clientOpts are the options of a client of ep. Whichever setting names it,
// an ssh:// host is dialled through docker/cli's connection helper, with
// the extra ssh options; any other host takes the endpoint's TLS material
// as a Docker context applies it.
func clientOpts(ep endpoint, sshOpts []string) ([]client.Opt, error) {
	helper, err := connhelper.GetConnectionHelperWithSSHOpts(ep.Host, sshOpts)
	if err != nil {
		return nil, fmt.Errorf("docker host %q (%s): %w", ep.Host, ep.hostFrom, err)
	}
	if helper != nil {
		return []client.Opt{client.WithHost(helper.Host), client.WithDialContext(helper.Dialer),
			client.WithVersionFromEnv(), client.WithAPIVersionNegotiation()}, nil
	}
	opts, err := ep.ClientOpts()
	if err != nil {
		return nil, fmt.Errorf("docker TLS material (%s): %w", ep.tlsFrom, err)
	}
	return opts, nil
}
