package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// requireStaticBusybox skips tests that build images on a machine without
// Debian's busybox-static.
func requireStaticBusybox(t *testing.T) {
	t.Helper()
	if err := checkStatic(hostBusybox); err != nil {
		t.Skip(err)
	}
}

func TestBuildTestImages(t *testing.T) {
	requireStaticBusybox(t)
	images, err := BuildTestImages(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if images.Busybox.Name != "devcluster.local/busybox:1.36" || images.Pause.Name != "devcluster.local/pause:3.10" {
		t.Fatalf("names %q and %q", images.Busybox.Name, images.Pause.Name)
	}
	// The registry's busybox is another image (config) of the same layer.
	if images.Served.Layer.Digest != images.Busybox.Layer.Digest || images.Served.Config.Digest == images.Busybox.Config.Digest {
		t.Errorf("served image: layer %s and config %s; busybox's: %s and %s", images.Served.Layer.Digest, images.Served.Config.Digest,
			images.Busybox.Layer.Digest, images.Busybox.Config.Digest)
	}
	if images.Busybox.Layer.Digest != images.Pause.Layer.Digest {
		t.Errorf("the images have different layers: %v and %v", images.Busybox.Layer, images.Pause.Layer)
	}
	busyboxConfig := checkArchive(t, images.Busybox)
	if !slices.Equal(busyboxConfig.Config.Cmd, []string{"sh"}) || busyboxConfig.Config.Entrypoint != nil {
		t.Errorf("busybox runs %q %q, want Cmd [sh]", busyboxConfig.Config.Entrypoint, busyboxConfig.Config.Cmd)
	}
	pauseConfig := checkArchive(t, images.Pause)
	if !slices.Equal(pauseConfig.Config.Entrypoint, []string{"/bin/sleep", "infinity"}) {
		t.Errorf("pause runs %q %q", pauseConfig.Config.Entrypoint, pauseConfig.Config.Cmd)
	}

	again, err := BuildTestImages(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if again.Busybox.Manifest.Digest != images.Busybox.Manifest.Digest || again.Pause.Manifest.Digest != images.Pause.Manifest.Digest {
		t.Errorf("a second build gives other manifests: %s %s, then %s %s", images.Busybox.Manifest.Digest,
			images.Pause.Manifest.Digest, again.Busybox.Manifest.Digest, again.Pause.Manifest.Digest)
	}
}

// checkArchive checks image's OCI layout against its descriptors and its
// layer's content, and returns its configuration.
func checkArchive(t *testing.T, image TestImage) ocispec.Image {
	t.Helper()
	files := readTar(t, image.Archive)
	if got := string(files[ocispec.ImageLayoutFile]); got != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("%s: oci-layout %q", image.Archive, got)
	}
	var index ocispec.Index
	if err := json.Unmarshal(files[ocispec.ImageIndexFile], &index); err != nil {
		t.Fatalf("%s: index.json: %v", image.Archive, err)
	}
	if len(index.Manifests) != 1 {
		t.Fatalf("%s: index.json lists %d manifests", image.Archive, len(index.Manifests))
	}
	entry := index.Manifests[0]
	if entry.Digest != image.Manifest.Digest || entry.Size != image.Manifest.Size || entry.MediaType != ocispec.MediaTypeImageManifest {
		t.Errorf("%s: index entry %+v, want %+v", image.Archive, entry, image.Manifest)
	}
	if entry.Annotations[containerdImageNameAnnotation] != image.Name || entry.Annotations[ocispec.AnnotationRefName] != image.Tag {
		t.Errorf("%s: index annotations %v", image.Archive, entry.Annotations)
	}

	blobs, err := readArchiveBlobs(image.Archive)
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 3 {
		t.Errorf("%s: %d blobs, want layer, config and manifest", image.Archive, len(blobs))
	}
	var manifest ocispec.Manifest
	if err := json.Unmarshal(blobs[image.Manifest.Digest], &manifest); err != nil {
		t.Fatalf("%s: manifest: %v", image.Archive, err)
	}
	if manifest.MediaType != ocispec.MediaTypeImageManifest || !reflect.DeepEqual(manifest.Config, image.Config) ||
		!reflect.DeepEqual(manifest.Layers, []ocispec.Descriptor{image.Layer}) {
		t.Errorf("%s: manifest %+v", image.Archive, manifest)
	}
	if image.Config.MediaType != ocispec.MediaTypeImageConfig || image.Layer.MediaType != ocispec.MediaTypeImageLayer {
		t.Errorf("%s: media types %s and %s", image.Archive, image.Config.MediaType, image.Layer.MediaType)
	}
	var config ocispec.Image
	if err := json.Unmarshal(blobs[image.Config.Digest], &config); err != nil {
		t.Fatalf("%s: config: %v", image.Archive, err)
	}
	if config.OS != "linux" || config.Architecture != runtime.GOARCH || config.Config.User != "" ||
		!slices.Equal(config.Config.Env, []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}) {
		t.Errorf("%s: config %+v", image.Archive, config)
	}
	// The layer is uncompressed, so its diff ID is its digest.
	if config.RootFS.Type != "layers" || len(config.RootFS.DiffIDs) != 1 || config.RootFS.DiffIDs[0] != image.Layer.Digest {
		t.Errorf("%s: rootfs %+v", image.Archive, config.RootFS)
	}
	checkLayer(t, blobs[image.Layer.Digest])
	return config
}

// checkLayer checks the busybox layer's files.
func checkLayer(t *testing.T, layer []byte) {
	t.Helper()
	headers := map[string]*tar.Header{}
	reader := tar.NewReader(bytes.NewReader(layer))
	var binary []byte
	for {
		header, err := reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		headers[header.Name] = header
		if !header.ModTime.Equal(imageEpoch) || header.Uid != 0 || header.Gid != 0 {
			t.Errorf("layer: %s has mtime %s, owner %d:%d", header.Name, header.ModTime, header.Uid, header.Gid)
		}
		if header.Name == "bin/busybox" {
			if binary, err = io.ReadAll(reader); err != nil {
				t.Fatal(err)
			}
		}
	}
	host, err := os.ReadFile(hostBusybox)
	if err != nil {
		t.Fatal(err)
	}
	// busybox --list names busybox too; a link there would replace the binary.
	if header := headers["bin/busybox"]; !bytes.Equal(binary, host) || header.Typeflag != tar.TypeReg || header.Mode != 0o755 {
		t.Errorf("layer: bin/busybox is not the host's executable busybox")
	}
	for _, applet := range []string{"sh", "sleep", "cat", "["} {
		header := headers["bin/"+applet]
		if header == nil || header.Typeflag != tar.TypeSymlink || header.Linkname != "busybox" {
			t.Errorf("layer: bin/%s is %+v, want a symlink to busybox", applet, header)
		}
	}
	for name, mode := range map[string]int64{"tmp/": 0o1777, "proc/": 0o555, "sys/": 0o555, "dev/": 0o755, "etc/": 0o755, "root/": 0o700} {
		if header := headers[name]; header == nil || header.Typeflag != tar.TypeDir || header.Mode != mode {
			t.Errorf("layer: %s is %+v, want a directory of mode %o", name, header, mode)
		}
	}
	for _, name := range []string{"etc/passwd", "etc/group"} {
		if header := headers[name]; header == nil || header.Typeflag != tar.TypeReg {
			t.Errorf("layer: no file %s", name)
		}
	}
}

// readTar returns the regular files of a tar by name.
func readTar(t *testing.T, path string) map[string][]byte {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	files := map[string][]byte{}
	reader := tar.NewReader(file)
	for {
		header, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if header.Typeflag == tar.TypeReg {
			if files[header.Name], err = io.ReadAll(reader); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestImportTestImages(t *testing.T) {
	requireStaticBusybox(t)
	images, err := BuildTestImages(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	address := startTestContainerd(t)
	for _, image := range []TestImage{images.Busybox, images.Pause} {
		ctr(t, address, "images", "import", image.Archive)
	}
	names := strings.Fields(ctr(t, address, "images", "ls", "-q"))
	for _, image := range []TestImage{images.Busybox, images.Pause} {
		if !slices.Contains(names, image.Name) {
			t.Errorf("ctr images ls names %q, not %s", names, image.Name)
		}
	}
	// Unpacked for the default snapshotter, as CRI needs: a single layer's
	// snapshot is named by its chain ID, which is its diff ID.
	if snapshots := ctr(t, address, "snapshots", "ls"); !strings.Contains(snapshots, images.Busybox.Layer.Digest.String()) {
		t.Errorf("no snapshot of layer %s:\n%s", images.Busybox.Layer.Digest, snapshots)
	}
}

// startTestContainerd starts a containerd of the test's own, all its files
// in one temporary directory, and returns its socket. The directory is in
// /tmp because a unix socket's path is at most 108 bytes. The cleanup stops
// containerd by its pid and removes the directory.
func startTestContainerd(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"containerd", "ctr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian's containerd package)", tool)
		}
	}
	dir, err := os.MkdirTemp("/tmp", "imgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing containerd's directory: %v", err)
		}
	})
	address := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), address, filepath.Join(dir, "opt"))
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "containerd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command("containerd", "--config", configPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("containerd (pid %d) ignored SIGTERM; killing it", cmd.Process.Pid)
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for exec.Command("ctr", "--address", address, "version").Run() != nil {
		select {
		case <-exited:
			t.Fatalf("containerd exited at start:\n%s", readFile(t, logPath))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not answer on %s:\n%s", address, readFile(t, logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return address
}

// ctr runs ctr in the k8s.io namespace, CRI's, and returns its output.
func ctr(t *testing.T, address string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ctr", append([]string{"--address", address, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
