package docker

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decoded(t *testing.T, c pullCredentials) registry.AuthConfig {
	t.Helper()
	if c.encoded == "" {
		return registry.AuthConfig{}
	}
	auth, err := registry.DecodeAuthConfig(c.encoded)
	require.NoError(t, err)
	return *auth
}

func TestCredentialsForMatchesRegistriesAsDockerDoes(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	blocks := []RegistryAuth{
		{Address: "https://registry.example.com:5000/", Username: "ci", Password: "p1"},
		{Address: "index.docker.io", Username: "hub", Password: "p2"},
	}
	for _, c := range []struct{ image, user, server string }{
		{"registry.example.com:5000/team/app:1", "ci", "registry.example.com:5000"},
		{"busybox:1.36", "hub", dockerHubAuthKey},
		{"docker.io/library/busybox", "hub", dockerHubAuthKey},
		{"registry.example.com/team/app:1", "", ""}, // another port is another registry
	} {
		got, err := credentialsFor(c.image, blocks)
		require.NoError(t, err, c.image)
		auth := decoded(t, got)
		assert.Equal(t, c.user, auth.Username, c.image)
		assert.Equal(t, c.server, auth.ServerAddress, c.image)
	}
}

// A config file that names a credential helper gets the credentials from
// that program, as docker pull does.
func TestCredentialsForRunsTheConfigFilesCredentialHelper(t *testing.T) {
	bin := t.TempDir()
	helper := "#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = registry.example.com ] || exit 1\n" +
		"echo '{\"ServerURL\":\"registry.example.com\",\"Username\":\"from-helper\",\"Secret\":\"helper-secret\"}'\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker-credential-hodeitest"), []byte(helper), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"credHelpers": {"registry.example.com": "hodeitest"}}`), 0o600))

	got, err := credentialsFor("registry.example.com/team/app:1", nil)
	require.NoError(t, err)
	auth := decoded(t, got)
	assert.Equal(t, "from-helper", auth.Username)
	assert.Equal(t, "helper-secret", auth.Password)
	assert.Equal(t, filepath.Join(dir, "config.json"), got.source)
	assert.NotContains(t, got.describe(), "helper-secret")

	// A registry_auth block's own config_file, with the same helper.
	other := filepath.Join(t.TempDir(), "other.json")
	require.NoError(t, os.WriteFile(other, []byte(`{"credHelpers": {"registry.example.com": "hodeitest"}}`), 0o600))
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	got, err = credentialsFor("registry.example.com/team/app:1", []RegistryAuth{{Address: "registry.example.com", ConfigFile: other}})
	require.NoError(t, err)
	assert.Equal(t, "from-helper", decoded(t, got).Username)
}

func TestPullErrorSaysWhatTheRegistryAnswered(t *testing.T) {
	creds := pullCredentials{registry: "registry.example.com", source: "registry_auth", username: "ci"}
	for msg, want := range map[string]string{
		"unauthorized: authentication required":                                                   "answered 401 Unauthorized; the credentials of user \"ci\"",
		"manifest for x:1 not found: manifest unknown":                                            "404 manifest unknown",
		"Get \"https://registry.example.com/v2/\": x509: certificate signed by unknown authority": "must trust the registry's CA",
	} {
		assert.Contains(t, pullError("registry.example.com/x:1", creds, errors.New(msg)).Error(), want, msg)
	}
}
