package docker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	ctxdocker "github.com/docker/cli/cli/context/docker"
	"github.com/docker/cli/cli/context/store"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dockerConfigWithContext makes a Docker CLI configuration folder holding
// the context "remote" (a tcp host with TLS files) in the context store's
// layout, and, when current is set, config.json naming it current.
func dockerConfigWithContext(t *testing.T, current bool) string {
	t.Helper()
	dir := t.TempDir()
	s := store.New(filepath.Join(dir, "contexts"), store.NewConfig(nil,
		store.EndpointTypeGetter(ctxdocker.DockerEndpoint, func() any { return &ctxdocker.EndpointMeta{} })))
	require.NoError(t, s.CreateOrUpdate(store.Metadata{
		Name:      "remote",
		Endpoints: map[string]any{ctxdocker.DockerEndpoint: ctxdocker.EndpointMeta{Host: "tcp://context.example:2376"}},
	}))
	require.NoError(t, s.ResetEndpointTLSMaterial("remote", ctxdocker.DockerEndpoint, &store.EndpointTLSData{
		Files: map[string][]byte{"ca.pem": []byte("context ca"), "cert.pem": []byte("context cert"), "key.pem": []byte("context key")},
	}))
	if current {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"currentContext": "remote"}`), 0o600))
	}
	return dir
}

func certDir(t *testing.T, tag string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"ca.pem", "cert.pem", "key.pem"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(tag+" "+f), 0o600))
	}
	return dir
}

// The precedence the provider documents, setting by setting: attribute,
// environment, Docker context, default socket.
func TestResolveEndpointPrecedence(t *testing.T) {
	envCerts, attrCerts := certDir(t, "env"), certDir(t, "attr")
	cases := []struct {
		name          string
		cfg           Config
		env           map[string]string
		currentCtx    bool
		host, from    string
		tlsFrom, ca   string
		skipTLSVerify bool
	}{
		{name: "nothing: the default socket", host: client.DefaultDockerHost, from: "the default socket"},
		{name: "attribute over DOCKER_HOST and context", cfg: Config{Host: "tcp://attr.example:2376"},
			env: map[string]string{"DOCKER_HOST": "tcp://env.example:2376", "DOCKER_CONTEXT": "remote"}, currentCtx: true,
			host: "tcp://attr.example:2376", from: "docker.host"},
		{name: "DOCKER_HOST over the context, with DOCKER_CERT_PATH unverified", env: map[string]string{
			"DOCKER_HOST": "tcp://env.example:2376", "DOCKER_CONTEXT": "remote", "DOCKER_CERT_PATH": envCerts},
			host: "tcp://env.example:2376", from: "DOCKER_HOST", tlsFrom: "DOCKER_CERT_PATH", ca: "env ca.pem", skipTLSVerify: true},
		{name: "DOCKER_TLS_VERIFY verifies", env: map[string]string{
			"DOCKER_HOST": "tcp://env.example:2376", "DOCKER_CERT_PATH": envCerts, "DOCKER_TLS_VERIFY": "1"},
			host: "tcp://env.example:2376", from: "DOCKER_HOST", tlsFrom: "DOCKER_CERT_PATH", ca: "env ca.pem"},
		{name: "cert_path over DOCKER_CERT_PATH", cfg: Config{CertPath: attrCerts}, env: map[string]string{
			"DOCKER_HOST": "tcp://env.example:2376", "DOCKER_CERT_PATH": envCerts},
			host: "tcp://env.example:2376", from: "DOCKER_HOST", tlsFrom: "docker.cert_path", ca: "attr ca.pem"},
		{name: "DOCKER_CONTEXT: its host and TLS files, not DOCKER_CERT_PATH", env: map[string]string{
			"DOCKER_CONTEXT": "remote", "DOCKER_CERT_PATH": envCerts},
			host: "tcp://context.example:2376", from: `docker context "remote" (DOCKER_CONTEXT)`, tlsFrom: `docker context "remote" (DOCKER_CONTEXT)`, ca: "context ca"},
		{name: "the current context of config.json", currentCtx: true,
			host: "tcp://context.example:2376", from: `docker context "remote" (the current context of`, tlsFrom: `docker context "remote"`, ca: "context ca"},
		{name: "material over the context's TLS files", cfg: Config{CAMaterial: "attr ca", CertMaterial: "attr cert", KeyMaterial: "attr key"}, currentCtx: true,
			host: "tcp://context.example:2376", from: `docker context "remote"`, tlsFrom: settingMaterial, ca: "attr ca"},
		{name: "DOCKER_CONTEXT=default is the CLI's default context", env: map[string]string{"DOCKER_CONTEXT": "default"}, currentCtx: true,
			host: client.DefaultDockerHost, from: "the default socket"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range []string{"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"} {
				t.Setenv(name, c.env[name])
			}
			t.Setenv("DOCKER_CONFIG", dockerConfigWithContext(t, c.currentCtx))
			ep, err := resolveEndpoint(c.cfg)
			require.NoError(t, err)
			assert.Equal(t, c.host, ep.Host)
			assert.True(t, strings.HasPrefix(ep.hostFrom, c.from), "host from %q, want %q", ep.hostFrom, c.from)
			assert.True(t, strings.HasPrefix(ep.tlsFrom, c.tlsFrom) && (c.tlsFrom != "" || ep.tlsFrom == ""), "TLS from %q, want %q", ep.tlsFrom, c.tlsFrom)
			if c.ca == "" {
				assert.Nil(t, ep.TLSData)
				return
			}
			require.NotNil(t, ep.TLSData)
			assert.Equal(t, c.ca, string(ep.TLSData.CA))
			assert.Equal(t, c.skipTLSVerify, ep.SkipTLSVerify)
		})
	}
}

func TestResolveEndpointUnknownContextIsNamed(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("DOCKER_CONTEXT", "nowhere")
	_, err := resolveEndpoint(Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `docker context "nowhere" (DOCKER_CONTEXT)`)
}

func TestCheckHost(t *testing.T) {
	for _, ok := range []string{"unix:///var/run/docker.sock", "tcp://10.0.0.1:2376", "ssh://deploy@build.example.com", "ssh://build.example.com:2222"} {
		assert.NoError(t, CheckHost(ok), ok)
	}
	for _, bad := range []string{"/var/run/docker.sock", "http://build.example.com", "build.example.com:2376", "ssh://u:secret@build.example.com"} {
		err := CheckHost(bad)
		if assert.Error(t, err, bad) {
			assert.NotContains(t, err.Error(), "secret", "the error does not quote a password")
		}
	}
}
