package docker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/docker/cli/cli/config"
	dcontext "github.com/docker/cli/cli/context"
	ctxdocker "github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/docker/client"
)

// Environment variables the Docker CLI reads, beyond those of the client
// package (DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY).
const (
	EnvContext   = "DOCKER_CONTEXT"
	EnvConfigDir = config.EnvOverrideConfigDir
)

// The settings, as errors name them.
const (
	settingHost     = "docker.host"
	settingCertPath = "docker.cert_path"
	settingMaterial = "docker.ca_material, docker.cert_material and docker.key_material"
	// defaultContext is the Docker CLI's name for "no stored context".
	defaultContext = "default"
)

// endpoint is the daemon's address and TLS material, as a Docker context
// holds them, and where each came from, so that an error can name the
// setting to fix.
type endpoint struct {
	ctxdocker.Endpoint
	hostFrom string
	// tlsFrom is empty when the connection uses no TLS.
	tlsFrom string
}

// resolveEndpoint applies the provider's precedence, per setting: the
// attribute, then the environment, then the Docker context (DOCKER_CONTEXT,
// else the current context of the CLI's config.json), then the default
// socket. As in the Docker CLI, a context is read only when neither the host
// attribute nor DOCKER_HOST names a daemon, and the TLS variables do not
// apply to a context's daemon; TLS attributes apply to any daemon.
func resolveEndpoint(cfg Config) (endpoint, error) {
	var ep endpoint
	switch {
	case cfg.Host != "":
		ep.Host, ep.hostFrom = cfg.Host, settingHost
	case os.Getenv(client.EnvOverrideHost) != "":
		ep.Host, ep.hostFrom = os.Getenv(client.EnvOverrideHost), client.EnvOverrideHost
	default:
		fromContext, err := contextEndpoint()
		if err != nil {
			return ep, err
		}
		if fromContext.Host != "" {
			ep = fromContext
		}
	}
	if ep.Host == "" {
		ep.Host, ep.hostFrom = client.DefaultDockerHost, "the default socket"
	}

	switch {
	case cfg.CAMaterial != "" || cfg.CertMaterial != "" || cfg.KeyMaterial != "":
		ep.TLSData = &dcontext.TLSData{CA: bytesOrNil(cfg.CAMaterial), Cert: bytesOrNil(cfg.CertMaterial), Key: bytesOrNil(cfg.KeyMaterial)}
		ep.SkipTLSVerify, ep.tlsFrom = false, settingMaterial
	case cfg.CertPath != "":
		data, err := tlsFiles(cfg.CertPath, true)
		if err != nil {
			return ep, fmt.Errorf("%s: %w", settingCertPath, err)
		}
		ep.TLSData, ep.SkipTLSVerify, ep.tlsFrom = data, false, settingCertPath
	case ep.tlsFrom != "":
		// The context's own TLS material.
	case os.Getenv(client.EnvOverrideCertPath) != "":
		// As the client package reads it: TLS with the folder's files,
		// verifying the daemon only when DOCKER_TLS_VERIFY is set.
		data, err := tlsFiles(os.Getenv(client.EnvOverrideCertPath), true)
		if err != nil {
			return ep, fmt.Errorf("%s: %w", client.EnvOverrideCertPath, err)
		}
		ep.TLSData, ep.SkipTLSVerify = data, os.Getenv(client.EnvTLSVerify) == ""
		ep.tlsFrom = client.EnvOverrideCertPath
	case os.Getenv(client.EnvTLSVerify) != "":
		// As the Docker CLI reads it: the files of the config folder, the
		// client certificate only where it exists.
		data, err := tlsFiles(configDir(), false)
		if err != nil {
			return ep, fmt.Errorf("%s: %w", client.EnvTLSVerify, err)
		}
		ep.TLSData, ep.SkipTLSVerify = data, false
		ep.tlsFrom = client.EnvTLSVerify + " (files of " + configDir() + ")"
	}
	return ep, nil
}

// contextEndpoint is the endpoint of the Docker context in use, or none
// when that is the CLI's default context (its address is DOCKER_HOST's).
func contextEndpoint() (endpoint, error) {
	dir := configDir()
	name, from := os.Getenv(EnvContext), EnvContext
	if name == "" {
		cf, err := config.Load(dir)
		if err != nil {
			return endpoint{}, fmt.Errorf("docker CLI configuration: %w", err)
		}
		name, from = cf.CurrentContext, "the current context of "+filepath.Join(dir, config.ConfigFileName)
	}
	if name == "" || name == defaultContext {
		return endpoint{}, nil
	}
	s := store.New(filepath.Join(dir, "contexts"), store.NewConfig(nil,
		store.EndpointTypeGetter(ctxdocker.DockerEndpoint, func() any { return &ctxdocker.EndpointMeta{} })))
	meta, err := s.GetMetadata(name)
	if err != nil {
		return endpoint{}, fmt.Errorf("docker context %q (%s): %w", name, from, err)
	}
	epMeta, err := ctxdocker.EndpointFromContext(meta)
	if err != nil {
		return endpoint{}, fmt.Errorf("docker context %q (%s): %w", name, from, err)
	}
	withTLS, err := ctxdocker.WithTLSData(s, name, epMeta)
	if err != nil {
		return endpoint{}, fmt.Errorf("docker context %q (%s): %w", name, from, err)
	}
	ep := endpoint{Endpoint: withTLS, hostFrom: fmt.Sprintf("docker context %q (%s)", name, from)}
	if withTLS.TLSData != nil || withTLS.SkipTLSVerify {
		ep.tlsFrom = ep.hostFrom
	}
	return ep, nil
}

// configDir is the Docker CLI's configuration folder: DOCKER_CONFIG, else
// ~/.docker. (config.Dir would keep the first answer for the process.)
func configDir() string {
	if dir := os.Getenv(EnvConfigDir); dir != "" {
		return dir
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".docker")
}

// tlsFiles reads ca.pem, cert.pem and key.pem of dir; with all false, a
// client certificate and key that do not exist are left out, as the Docker
// CLI does for DOCKER_TLS_VERIFY.
func tlsFiles(dir string, all bool) (*dcontext.TLSData, error) {
	paths := [3]string{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}
	if !all {
		for i := 1; i < 3; i++ {
			if _, err := os.Stat(paths[i]); errors.Is(err, os.ErrNotExist) {
				paths[i] = ""
			}
		}
	}
	return dcontext.TLSDataFromFiles(paths[0], paths[1], paths[2])
}

func bytesOrNil(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}
