package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/bcrypt"
	"sigs.k8s.io/yaml"
)

const (
	// registryBinary is Debian's docker-registry package: the CNCF
	// distribution registry 2.8.
	registryBinary       = "docker-registry"
	registryUser         = "hodei"
	registryStartTimeout = 30 * time.Second
	registryStopTimeout  = 5 * time.Second
)

// Registry is a private image registry, a docker-registry child process on
// 127.0.0.1 with TLS from the cluster CA and basic authentication, holding
// the busybox test image: what the image pull secret tests pull from.
type Registry struct {
	Username string
	Password string

	host    string // 127.0.0.1:PORT
	caFile  string // absolute
	image   string // the pushed busybox, host/repository:tag
	logPath string
	client  *http.Client

	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process is reaped
	waitErr error         // cmd.Wait's result, set before exited is closed
}

// registryInfo is what WriteInfo writes for tests.
type registryInfo struct {
	Host     string `json:"host"`
	Username string `json:"username"`
	Password string `json:"password"`
	CAFile   string `json:"ca_file"`
	Image    string `json:"image"`
}

// StartRegistry starts docker-registry with its storage, configuration and
// log (registry.log) in dir, waits until it answers, and pushes
// images.Served as hodei/busybox. ctx bounds the start and the push only:
// the registry runs until Stop, and dies with devcluster.
func StartRegistry(ctx context.Context, pki *PKI, dir string, images TestImages) (*Registry, error) {
	binary, err := exec.LookPath(registryBinary)
	if err != nil {
		return nil, fmt.Errorf("the image registry needs %s: apt-get install docker-registry", registryBinary)
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	caFile, err := filepath.Abs(pki.CACert)
	if err != nil {
		return nil, err
	}
	client, err := registryClient(caFile)
	if err != nil {
		return nil, err
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	r := &Registry{
		Username: registryUser,
		Password: rand.Text(),
		host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		caFile:   caFile,
		logPath:  filepath.Join(dir, "registry.log"),
		client:   client,
	}
	r.image = r.host + "/" + servedImageRepository + ":" + images.Served.Tag
	configPath, err := r.writeConfig(pki, dir)
	if err != nil {
		return nil, err
	}
	if err := r.start(binary, configPath); err != nil {
		return nil, err
	}
	if err := r.waitReady(ctx); err != nil {
		return nil, errors.Join(err, r.Stop())
	}
	if err := r.push(ctx, images.Served, servedImageRepository); err != nil {
		return nil, errors.Join(fmt.Errorf("pushing %s: %w (registry log: %s)", r.image, err, r.logPath), r.Stop())
	}
	return r, nil
}

// Host is the registry's address, 127.0.0.1:PORT: the first part of its
// images' references.
func (r *Registry) Host() string { return r.host }

// Image is the reference of the busybox image pushed at start.
func (r *Registry) Image() string { return r.image }

// Pid is the docker-registry process's.
func (r *Registry) Pid() int { return r.cmd.Process.Pid }

// writeConfig writes the registry's serving certificate, htpasswd file and
// configuration, and returns the configuration's path.
func (r *Registry) writeConfig(pki *PKI, dir string) (string, error) {
	certFile, keyFile, err := pki.ServingCertFiles("registry", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return "", err
	}
	// docker-registry's htpasswd accepts bcrypt only.
	hash, err := bcrypt.GenerateFromPassword([]byte(r.Password), bcrypt.DefaultCost)
	if err != nil {
		return "", err
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(r.Username+":"+string(hash)+"\n"), 0o600); err != nil {
		return "", err
	}
	config, err := yaml.Marshal(map[string]any{
		"version": "0.1",
		"log":     map[string]any{"level": "info", "formatter": "text"},
		"storage": map[string]any{"filesystem": map[string]any{"rootdirectory": filepath.Join(dir, "storage")}},
		"http": map[string]any{
			"addr": r.host,
			// It signs upload state between requests. A single process
			// needs no stable one, but without it the registry warns.
			"secret":  rand.Text(),
			"tls":     map[string]any{"certificate": certFile, "key": keyFile},
			"headers": map[string]any{"X-Content-Type-Options": []string{"nosniff"}},
		},
		"auth": map[string]any{"htpasswd": map[string]any{"realm": "devcluster", "path": htpasswd}},
	})
	if err != nil {
		return "", err
	}
	configPath := filepath.Join(dir, "config.yml")
	return configPath, os.WriteFile(configPath, config, 0o600)
}

// start runs docker-registry in a process group of its own (a terminal's
// SIGINT is devcluster's to handle) that the kernel kills if devcluster dies.
func (r *Registry) start(binary, configPath string) error {
	logFile, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(binary, "serve", configPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = withoutRegistryOverrides(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", registryBinary, err)
	}
	r.cmd = cmd
	r.exited = make(chan struct{})
	go func() {
		r.waitErr = cmd.Wait()
		close(r.exited)
	}()
	return nil
}

// withoutRegistryOverrides drops REGISTRY_* variables, which docker-registry
// would read as overrides of its configuration.
func withoutRegistryOverrides(environ []string) []string {
	var kept []string
	for _, variable := range environ {
		if !strings.HasPrefix(variable, "REGISTRY_") {
			kept = append(kept, variable)
		}
	}
	return kept
}

// waitReady waits until GET /v2/ answers 401: TLS and authentication are up.
func (r *Registry) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, registryStartTimeout)
	defer cancel()
	for {
		status, err := r.probe(ctx)
		if err == nil && status == http.StatusUnauthorized {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("status %d", status)
		}
		select {
		case <-r.exited:
			return fmt.Errorf("%s exited before answering (%v); see %s", registryBinary, r.waitErr, r.logPath)
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer GET https://%s/v2/ with 401 within %s: %v; see %s", registryBinary, r.host, registryStartTimeout, err, r.logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// probe is an unauthenticated GET /v2/. It gives up after a second: should
// another process have taken the port, it may never answer, and waitReady
// must see the registry's exit.
func (r *Registry) probe(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+r.host+"/v2/", nil)
	if err != nil {
		return 0, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// push uploads image's layer, config and manifest to repository with the
// registry API v2, the manifest tagged with the image's tag.
func (r *Registry) push(ctx context.Context, image TestImage, repository string) error {
	blobs, err := readArchiveBlobs(image.Archive)
	if err != nil {
		return err
	}
	for _, desc := range []ocispec.Descriptor{image.Layer, image.Config, image.Manifest} {
		if _, ok := blobs[desc.Digest]; !ok {
			return fmt.Errorf("%s lacks blob %s", image.Archive, desc.Digest)
		}
	}
	for _, desc := range []ocispec.Descriptor{image.Layer, image.Config} {
		if err := r.pushBlob(ctx, repository, desc.Digest, blobs[desc.Digest]); err != nil {
			return err
		}
	}
	return r.pushManifest(ctx, repository, image.Tag, image.Manifest.Digest, blobs[image.Manifest.Digest])
}

// pushBlob is a monolithic upload: POST opens the upload session, PUT with
// the digest sends the content and closes it.
func (r *Registry) pushBlob(ctx context.Context, repository string, dgst digest.Digest, content []byte) error {
	resp, err := r.do(ctx, http.MethodPost, "/v2/"+repository+"/blobs/uploads/", "", nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusAccepted {
		return unexpectedStatus("starting the upload of "+dgst.String(), resp)
	}
	location, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil {
		return fmt.Errorf("upload location %q: %w", resp.Header.Get("Location"), err)
	}
	query := location.Query()
	query.Set("digest", dgst.String())
	location.RawQuery = query.Encode()
	resp, err = r.do(ctx, http.MethodPut, location.String(), "application/octet-stream", content)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return unexpectedStatus("uploading "+dgst.String(), resp)
	}
	return nil
}

func (r *Registry) pushManifest(ctx context.Context, repository, tag string, dgst digest.Digest, manifest []byte) error {
	resp, err := r.do(ctx, http.MethodPut, "/v2/"+repository+"/manifests/"+tag, ocispec.MediaTypeImageManifest, manifest)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return unexpectedStatus("putting the manifest", resp)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != dgst.String() {
		return fmt.Errorf("the registry stored the manifest as %q, not %s", got, dgst)
	}
	return nil
}

// do sends an authenticated request to target, a path or an absolute URL,
// and returns the response with its body read and closed.
func (r *Registry) do(ctx context.Context, method, target, contentType string, body []byte) (*http.Response, error) {
	base := &url.URL{Scheme: "https", Host: r.host}
	u, err := base.Parse(target)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(r.Username, r.Password)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// Kept for the error message; the registry's answers here are small.
	message, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(message))
	return resp, nil
}

func unexpectedStatus(what string, resp *http.Response) error {
	message, _ := io.ReadAll(resp.Body)
	return fmt.Errorf("%s: %s %s: %s: %s", what, resp.Request.Method, resp.Request.URL.Path, resp.Status, bytes.TrimSpace(message))
}

// Stop sends SIGTERM to the registry and SIGKILL if it has not exited within
// 5 s. The registry has no graceful shutdown without a drain timeout:
// SIGTERM ends it at once, and that is no error.
func (r *Registry) Stop() error {
	// Process.Signal, not kill(2) on the bare pid: once the process is
	// reaped its pid may be another's.
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping %s (pid %d): %w", registryBinary, r.cmd.Process.Pid, err)
	}
	select {
	case <-r.exited:
	case <-time.After(registryStopTimeout):
		if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("killing %s (pid %d): %w", registryBinary, r.cmd.Process.Pid, err)
		}
		<-r.exited
		return fmt.Errorf("%s (pid %d) did not stop within %s of SIGTERM and was killed", registryBinary, r.cmd.Process.Pid, registryStopTimeout)
	}
	var exitErr *exec.ExitError
	if errors.As(r.waitErr, &exitErr) {
		if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.Signaled() && status.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	if r.waitErr != nil {
		return fmt.Errorf("%s exited: %w; see %s", registryBinary, r.waitErr, r.logPath)
	}
	return nil
}

// WriteInfo writes, for tests, where the registry is, its credentials, the
// CA to trust and the pushed image, as JSON readable by the owner only.
func (r *Registry) WriteInfo(path string) error {
	data, err := json.MarshalIndent(registryInfo{
		Host:     r.host,
		Username: r.Username,
		Password: r.Password,
		CAFile:   r.caFile,
		Image:    r.image,
	}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

// HostsDir writes containerd's host configuration for the registry into
// dir, the directory CRI's registry.config_path names: dir/HOST/hosts.toml.
// containerd 1.6 refuses a hosts.toml without a [host] table (and falls back
// to certificate files), and after the [host] entries it also tries the
// top-level server: both carry the CA, so that a failed pull reports the
// registry's answer, not an unknown authority.
func (r *Registry) HostsDir(dir string) error {
	hostDir := filepath.Join(dir, r.host)
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		return err
	}
	server := "https://" + r.host
	hosts := fmt.Sprintf(`server = %[1]q
capabilities = ["pull", "resolve"]
ca = %[2]q

[host.%[1]q]
  capabilities = ["pull", "resolve"]
  ca = %[2]q
`, server, r.caFile)
	return os.WriteFile(filepath.Join(hostDir, "hosts.toml"), []byte(hosts), 0o644)
}

// registryClient trusts the cluster CA only.
func registryClient(caFile string) (*http.Client, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}, nil
}

// freeLoopbackPort is a port free at the time of the call. docker-registry
// cannot take a listener, so another process could take it before the
// registry does; then the registry exits and StartRegistry says so.
func freeLoopbackPort() (int, error) {
	listener, port, err := loopbackListener()
	if err != nil {
		return 0, err
	}
	return port, listener.Close()
}
