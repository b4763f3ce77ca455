package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// startTestRegistry starts a registry with a new PKI and images under a
// temporary directory; the cleanup stops it unless the test did.
func startTestRegistry(t *testing.T) (*Registry, *PKI, TestImages) {
	t.Helper()
	requireStaticBusybox(t)
	if _, err := exec.LookPath(registryBinary); err != nil {
		t.Skipf("%s is not installed (Debian's docker-registry package)", registryBinary)
	}
	dir := t.TempDir()
	pki, err := EnsurePKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	images, err := BuildTestImages(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	registry, err := StartRegistry(ctx, pki, filepath.Join(dir, "registry"), images)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := registry.Stop(); err != nil {
			t.Error(err)
		}
	})
	return registry, pki, images
}

func TestRegistry(t *testing.T) {
	registry, pki, images := startTestRegistry(t)
	client, err := registryClient(pki.CACert)
	if err != nil {
		t.Fatal(err)
	}
	manifestURL := "https://" + registry.Host() + "/v2/hodei/busybox/manifests/1.36"
	get := func(url, password string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", ocispec.MediaTypeImageManifest)
		if password != "" {
			req.SetBasicAuth(registry.Username, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	if resp, _ := get(manifestURL, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without credentials: %s, want 401", resp.Status)
	}
	if resp, _ := get(manifestURL, registry.Password+"x"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("with a wrong password: %s, want 401", resp.Status)
	}
	resp, body := get(manifestURL, registry.Password)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with credentials: %s: %s", resp.Status, body)
	}
	blobs, err := readArchiveBlobs(images.Served.Archive)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, blobs[images.Served.Manifest.Digest]) ||
		resp.Header.Get("Docker-Content-Digest") != images.Served.Manifest.Digest.String() ||
		resp.Header.Get("Content-Type") != ocispec.MediaTypeImageManifest {
		t.Errorf("manifest %s (%s): %s", resp.Header.Get("Docker-Content-Digest"), resp.Header.Get("Content-Type"), body)
	}
	layerURL := "https://" + registry.Host() + "/v2/hodei/busybox/blobs/" + images.Served.Layer.Digest.String()
	if resp, body := get(layerURL, registry.Password); resp.StatusCode != http.StatusOK || !bytes.Equal(body, blobs[images.Served.Layer.Digest]) {
		t.Errorf("layer: %s, %d bytes", resp.Status, len(body))
	}
	if registry.Image() != registry.Host()+"/hodei/busybox:1.36" {
		t.Errorf("image %q", registry.Image())
	}

	pid := registry.Pid()
	if err := registry.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("docker-registry (pid %d) still exists after Stop: %v", pid, err)
	}
}

func TestRegistryWriteInfo(t *testing.T) {
	registry, pki, _ := startTestRegistry(t)
	path := filepath.Join(t.TempDir(), "registry.json")
	if err := registry.WriteInfo(path); err != nil {
		t.Fatal(err)
	}
	stat, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if stat.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 600", stat.Mode().Perm())
	}
	var info map[string]string
	if err := json.Unmarshal([]byte(readFile(t, path)), &info); err != nil {
		t.Fatal(err)
	}
	caFile, err := filepath.Abs(pki.CACert)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"host":     registry.Host(),
		"username": "hodei",
		"password": registry.Password,
		"ca_file":  caFile,
		"image":    registry.Host() + "/hodei/busybox:1.36",
	}
	if len(info) != len(want) {
		t.Errorf("info %v, want %v", info, want)
	}
	for key, value := range want {
		if info[key] != value {
			t.Errorf("%s = %q, want %q", key, info[key], value)
		}
	}
}

// TestRegistryHostsDir pulls the pushed image with a containerd that knows
// the registry only from HostsDir: the same host configuration code as CRI's.
func TestRegistryHostsDir(t *testing.T) {
	registry, _, images := startTestRegistry(t)
	address := startTestContainerd(t)
	hostsDir := t.TempDir()
	if err := registry.HostsDir(hostsDir); err != nil {
		t.Fatal(err)
	}
	hostsToml := readFile(t, filepath.Join(hostsDir, registry.Host(), "hosts.toml"))
	if !strings.Contains(hostsToml, `[host."https://`+registry.Host()+`"]`) {
		t.Errorf("hosts.toml:\n%s", hostsToml)
	}
	user := registry.Username + ":" + registry.Password
	out := ctr(t, address, "images", "pull", "--hosts-dir", hostsDir, "--user", user, registry.Image())
	if !strings.Contains(out, images.Served.Manifest.Digest.String()) {
		t.Errorf("pull did not fetch manifest %s:\n%s", images.Served.Manifest.Digest, out)
	}
	if names := ctr(t, address, "images", "ls", "-q"); !strings.Contains(names, registry.Image()) {
		t.Errorf("ctr images ls: %s", names)
	}

	missing := registry.Host() + "/hodei/busybox:missing"
	failed, err := exec.Command("ctr", "--address", address, "--namespace", "k8s.io",
		"images", "pull", "--hosts-dir", hostsDir, "--user", user, missing).CombinedOutput()
	if err == nil || !strings.Contains(string(failed), "not found") || strings.Contains(string(failed), "x509") {
		t.Errorf("pulling %s: %v, want a not found error:\n%s", missing, err, failed)
	}
}
