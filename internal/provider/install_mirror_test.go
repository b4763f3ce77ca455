package provider

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/dirhash"
)

// providerAddress is where users install the provider from:
// registry.terraform.io/hodei-jobs/hodei with Terraform, and with OpenTofu,
// which resolves "hodei-jobs/hodei" on its own registry,
// registry.opentofu.org/hodei-jobs/hodei. The host and namespace come from
// terraform-plugin-testing's TF_ACC_PROVIDER_HOST and
// TF_ACC_PROVIDER_NAMESPACE, which scripts/test.sh sets for OpenTofu.
func providerAddress() string {
	host, namespace := os.Getenv(resource.EnvTfAccProviderHost), os.Getenv(resource.EnvTfAccProviderNamespace)
	if host == "" {
		host = "registry.terraform.io"
	}
	if namespace == "" {
		namespace = "hodei-jobs"
	}
	return host + "/" + namespace + "/hodei"
}

// releaseArchive builds the provider for this machine's platform as
// .goreleaser.yml does for a snapshot (`goreleaser release --snapshot`):
// version 0.0.0-snapshot-<short commit>, CGO off, -trimpath, the same
// ldflags, the binary terraform-provider-hodei_v<version> (with the
// README) in terraform-provider-hodei_<version>_<os>_<arch>.zip. goreleaser itself is
// not run: it has no single-platform release, so it would build all 15
// platforms of the file where one is needed; its first build takes about
// 10 minutes here; and pinning it in tools/go.mod would grow that file from
// 53 to 361 lines and upgrade tfplugindocs' dependencies.
// TestReleaseArchiveFollowsGoreleaserConfig keeps the two in step.
func releaseArchive(t *testing.T, dir string) (version, archive string) {
	t.Helper()
	root := repoRoot(t)
	commit, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	require.NoError(t, err, "git rev-parse")
	version = "0.0.0-snapshot-" + strings.TrimSpace(string(commit))
	binary := "terraform-provider-hodei_v" + version
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", filepath.Join(dir, binary), ".")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	// goreleaser's archives hold the binary and, by default, the README,
	// LICENSE and CHANGELOG files of the repository's root.
	files := map[string]string{binary: filepath.Join(dir, binary)}
	for _, pattern := range []string{"license*", "LICENSE*", "readme*", "README*", "changelog*", "CHANGELOG*"} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		for _, m := range matches {
			files[filepath.Base(m)] = m
		}
	}
	archive = filepath.Join(dir, fmt.Sprintf("terraform-provider-hodei_%s_%s_%s.zip", version, runtime.GOOS, runtime.GOARCH))
	f, err := os.Create(archive)
	require.NoError(t, err)
	zw := zip.NewWriter(f)
	for name, path := range files {
		info, err := os.Stat(path)
		require.NoError(t, err)
		header, err := zip.FileInfoHeader(info)
		require.NoError(t, err)
		header.Name, header.Method = name, zip.Deflate
		w, err := zw.CreateHeader(header)
		require.NoError(t, err)
		src, err := os.Open(path)
		require.NoError(t, err)
		_, err = io.Copy(w, src)
		require.NoError(t, err)
		require.NoError(t, src.Close())
	}
	require.NoError(t, zw.Close())
	require.NoError(t, f.Close())
	return version, archive
}

// The build above is the one .goreleaser.yml describes.
func TestReleaseArchiveFollowsGoreleaserConfig(t *testing.T) {
	config, err := os.ReadFile(filepath.Join(repoRoot(t), ".goreleaser.yml"))
	require.NoError(t, err)
	for _, line := range []string{
		"- CGO_ENABLED=0",
		"- -trimpath",
		`- "-s -w -X main.version={{.Version}}"`,
		`binary: "{{ .ProjectName }}_v{{ .Version }}"`,
		"- formats: [zip]",
		`name_template: "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}"`,
		"project_name: terraform-provider-hodei",
		`version_template: "{{ .Version }}-snapshot-{{ .ShortCommit }}"`,
	} {
		assert.Contains(t, string(config), line, "releaseArchive builds what .goreleaser.yml says; change both")
	}
	manifest, err := os.ReadFile(filepath.Join(repoRoot(t), "terraform-registry-manifest.json"))
	require.NoError(t, err)
	assert.Contains(t, string(manifest), `"protocol_versions": ["6.0"]`, "main.go serves protocol 6")
}

// The provider installs the way a user installs it: the release archive in
// a filesystem mirror, terraform init without dev_overrides recording its
// hashes in the lock file, then an apply and a destroy with the installed
// binary on the Docker engine.
func TestAccProviderInstallsFromFilesystemMirror(t *testing.T) {
	docker := dockerTestClient(t)
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		tf = "terraform"
	}
	build := t.TempDir()
	version, archive := releaseArchive(t, build)
	providerAddress := providerAddress()

	// A packed mirror: HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip.
	mirror := t.TempDir()
	packed := filepath.Join(mirror, filepath.FromSlash(providerAddress), filepath.Base(archive))
	require.NoError(t, os.MkdirAll(filepath.Dir(packed), 0o755))
	require.NoError(t, os.Rename(archive, packed))

	rc := filepath.Join(t.TempDir(), "terraformrc")
	require.NoError(t, os.WriteFile(rc, fmt.Appendf(nil, `provider_installation {
  filesystem_mirror {
    path    = %q
    include = [%q]
  }
}
`, mirror, providerAddress), 0o600))
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "TF_CLI_CONFIG_FILE=") || strings.HasPrefix(kv, "TF_PLUGIN_CACHE_DIR=")
	})
	env = append(env, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1")

	name := randomName("mirror")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), fmt.Appendf(nil, `terraform {
  required_providers {
    hodei = {
      source  = "hodei-jobs/hodei"
      version = %q
    }
  }
}

provider "hodei" {}

resource "hodei_worker" "installed" {
  name    = %q
  backend = "docker"
  image   = %q
  command = ["sleep", "3600"]
  labels  = { installed = "mirror" }
}
`, version, name, testImage), 0o600))
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(tf, append(args, "-no-color")...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "terraform %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}

	out := run("init", "-input=false")
	assert.Contains(t, out, "Installed hodei-jobs/hodei v"+version)
	lock, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl"))
	require.NoError(t, err)
	h1, err := dirhash.HashZip(packed, dirhash.Hash1)
	require.NoError(t, err)
	assert.Contains(t, string(lock), fmt.Sprintf("provider %q {\n  version     = %q", providerAddress, version))
	// A mirror has no signed SHA256SUMS, so Terraform records the h1: hash
	// of what it unpacked, and no zh: hash.
	assert.Contains(t, string(lock), "hashes = [\n    \""+h1+"\",\n  ]", "the lock file has the h1: hash of the archive's contents")
	// The provider that runs is the one unpacked from the archive.
	installed := filepath.Join(dir, ".terraform", "providers", filepath.FromSlash(providerAddress), version,
		runtime.GOOS+"_"+runtime.GOARCH, "terraform-provider-hodei_v"+version)
	assert.FileExists(t, installed)

	t.Cleanup(func() { _ = docker.ContainerRemove(context.Background(), name, container.RemoveOptions{Force: true}) })
	run("apply", "-auto-approve", "-input=false")
	info := inspect(t, docker, name)
	assert.True(t, info.State.Running)
	assert.Equal(t, "mirror", info.Config.Labels["installed"])
	assert.Equal(t, "hodei", info.Config.Labels["app.kubernetes.io/managed-by"])
	assert.Regexp(t, regexp.MustCompile(`No changes\.`), run("plan", "-input=false"))

	run("destroy", "-auto-approve", "-input=false")
	assert.NoError(t, assertNoContainer(docker, name))

	// The lock file binds the archive: another one of the same version in
	// the mirror is refused.
	tampered, err := os.Create(packed)
	require.NoError(t, err)
	zw := zip.NewWriter(tampered)
	w, err := zw.Create("terraform-provider-hodei_v" + version)
	require.NoError(t, err)
	_, err = w.Write([]byte("#!/bin/sh\n"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, tampered.Close())
	require.NoError(t, os.RemoveAll(filepath.Join(dir, ".terraform")))
	cmd := exec.Command(tf, "init", "-input=false", "-no-color")
	cmd.Dir, cmd.Env = dir, env
	refused, err := cmd.CombinedOutput()
	require.Error(t, err, "init installed an archive the lock file does not name:\n%s", refused)
	assert.Regexp(t, `doesn.t match any of the checksums\s+previously recorded in the dependency\s+lock\s+file`, string(refused))
}
