package docker

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/docker/docker/api/types/registry"
)

// RegistryAuth is one registry_auth block of the provider: the credentials
// of one registry, given as a user name and password or read from a Docker
// config file (with the credential helpers that file names).
type RegistryAuth struct {
	Address    string
	Username   string
	Password   string
	ConfigFile string
}

// dockerHubAuthKey is the key under which the Docker CLI keeps Docker Hub's
// credentials in a config file (docker/docker's registry.IndexServer).
const dockerHubAuthKey = "https://index.docker.io/v1/"

// dockerHubDomain is the registry of an image reference without one.
const dockerHubDomain = "docker.io"

// registryKey is the host[:port] a registry address or an image's domain
// names, with Docker Hub's aliases made one, so that "docker.io",
// "index.docker.io" and "https://index.docker.io/v1/" match as the Docker
// CLI matches them.
func registryKey(address string) string {
	host := strings.ToLower(credentials.ConvertToHostname(strings.TrimSpace(address)))
	switch host {
	case dockerHubDomain, "index.docker.io", "registry-1.docker.io":
		return dockerHubDomain
	}
	return host
}

// pullCredentials is what a pull sends: the encoded auth, and for messages
// (never the password) where it came from.
type pullCredentials struct {
	registry string // host[:port] of the image's registry
	encoded  string // image.PullOptions.RegistryAuth; empty: anonymous
	source   string // "registry_auth", a config file's path, or "" when none
	username string
	searched string // the config file that had none, when source is ""
}

// describe tells, for an error message, which credentials the pull sent.
func (c pullCredentials) describe() string {
	switch {
	case c.source == "":
		return fmt.Sprintf("no credentials were sent: neither the provider's docker.registry_auth nor %s has any for %s "+
			"(add a registry_auth block for it, or `docker login %s`)", c.searched, c.registry, c.registry)
	case c.username != "":
		return fmt.Sprintf("the credentials of user %q for %s from %s were sent", c.username, c.registry, c.source)
	}
	return fmt.Sprintf("the credentials for %s from %s were sent", c.registry, c.source)
}

// credentialsFor finds the credentials of the registry that image names: a
// registry_auth block for it first, else the default Docker config file
// (DOCKER_CONFIG, else ~/.docker/config.json) as the Docker CLI reads it,
// with its credsStore and credHelpers. None is an anonymous pull.
func credentialsFor(image string, blocks []RegistryAuth) (pullCredentials, error) {
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return pullCredentials{}, fmt.Errorf("image %q: %w", image, err)
	}
	domain := reference.Domain(named)
	out := pullCredentials{registry: domain}
	configKey := domain
	if registryKey(domain) == dockerHubDomain {
		configKey = dockerHubAuthKey
	}
	for _, b := range blocks {
		if registryKey(b.Address) != registryKey(domain) {
			continue
		}
		if b.Username != "" || b.Password != "" {
			out.source, out.username = "registry_auth", b.Username
			return out.encode(registry.AuthConfig{Username: b.Username, Password: b.Password, ServerAddress: configKey})
		}
		cfg, err := loadConfigFile(b.ConfigFile)
		if err != nil {
			return out, fmt.Errorf("registry_auth for %s: %w", b.Address, err)
		}
		return out.fromConfigFile(cfg, configKey)
	}
	cfg, err := loadDefaultConfigFile()
	if err != nil {
		return out, err
	}
	return out.fromConfigFile(cfg, configKey)
}

func (c pullCredentials) fromConfigFile(cfg *configfile.ConfigFile, key string) (pullCredentials, error) {
	auth, err := cfg.GetAuthConfig(key)
	if err != nil {
		return c, fmt.Errorf("reading the credentials for %s from %s: %w", c.registry, cfg.Filename, err)
	}
	if auth.Username == "" && auth.Password == "" && auth.IdentityToken == "" && auth.RegistryToken == "" {
		c.searched = cfg.Filename
		return c, nil
	}
	c.source, c.username = cfg.Filename, auth.Username
	auth.ServerAddress = key
	return c.encode(registry.AuthConfig(auth))
}

func (c pullCredentials) encode(auth registry.AuthConfig) (pullCredentials, error) {
	encoded, err := registry.EncodeAuthConfig(auth)
	if err != nil {
		return c, fmt.Errorf("encoding the credentials for %s: %w", c.registry, err)
	}
	c.encoded = encoded
	return c, nil
}

// loadConfigFile reads a Docker config file that a registry_auth block
// names. A missing one is an error: the block asked for it.
func loadConfigFile(path string) (*configfile.ConfigFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading Docker config file: %w", err)
	}
	defer f.Close()
	cfg := configfile.New(path)
	if err := cfg.LoadFromReader(f); err != nil {
		return nil, fmt.Errorf("parsing Docker config file %s: %w", path, err)
	}
	return cfg, nil
}

// loadDefaultConfigFile reads the config file the Docker CLI reads, with
// its default credential store when the file has no credentials. The
// directory is found here rather than by config.Dir, which caches the
// first DOCKER_CONFIG it sees for the life of the process. A missing file
// is no credentials.
func loadDefaultConfigFile() (*configfile.ConfigFile, error) {
	dir := os.Getenv(config.EnvOverrideConfigDir)
	if dir == "" {
		// No home directory: no default credentials, as for a missing file.
		home, _ := os.UserHomeDir()
		if home == "" {
			return configfile.New(""), nil
		}
		dir = filepath.Join(home, ".docker")
	}
	cfg, err := config.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the Docker config file: %w", err)
	}
	if !cfg.ContainsAuth() {
		cfg.CredentialsStore = credentials.DetectDefaultStore(cfg.CredentialsStore)
	}
	return cfg, nil
}

// pullError keeps the daemon's own reason and says what the registry's
// answer means: 401 (credentials missing or refused), 404 (no such
// repository or tag) or a TLS failure, which the daemon's trust decides.
func pullError(ref string, creds pullCredentials, err error) error {
	msg := strings.ToLower(err.Error())
	var hint string
	switch {
	case cerrdefs.IsUnauthorized(err) || containsAny(msg, "unauthorized", "no basic auth credentials", "authentication required"):
		hint = fmt.Sprintf("the registry %s answered 401 Unauthorized; %s", creds.registry, creds.describe())
	case containsAny(msg, "x509:", "tls:", "certificate"):
		hint = fmt.Sprintf("the TLS connection to %s failed: the Docker daemon, which pulls, must trust the registry's CA "+
			"(on the daemon's host: /etc/docker/certs.d/%s/ca.crt)", creds.registry, creds.registry)
	case cerrdefs.IsNotFound(err) || containsAny(msg, "manifest unknown", "not found", "repository does not exist", "name unknown"):
		hint = fmt.Sprintf("the registry %s has no such repository or tag (404 manifest unknown); check the image name and tag", creds.registry)
	case containsAny(msg, "denied"):
		hint = fmt.Sprintf("the registry %s denied access; %s", creds.registry, creds.describe())
	}
	if hint == "" {
		return fmt.Errorf("pulling image %q: %w", ref, err)
	}
	return fmt.Errorf("pulling image %q: %w (%s)", ref, err, hint)
}

func containsAny(s string, parts ...string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
