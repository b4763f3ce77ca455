package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The real nodes' test images. No registry outside can be reached, so they
// are built here from the host's static busybox.
const (
	busyboxImageRepository = "devcluster.local/busybox"
	busyboxImageTag        = "1.36"
	pauseImageRepository   = "devcluster.local/pause"
	// servedImageRepository is the registry's busybox, under its host.
	servedImageRepository = "hodei/busybox"
	pauseImageTag         = "3.10"

	// hostBusybox is where Debian's busybox-static installs its binary.
	hostBusybox = "/bin/busybox"

	// containerdImageNameAnnotation is the index annotation by which
	// `ctr images import` names an image (containerd's images.AnnotationImageName).
	containerdImageNameAnnotation = "io.containerd.image.name"

	imagePathEnv = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
)

// imageEpoch is every file's modification time and the images' creation
// time: fixed, so that two builds give the same digests.
var imageEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// TestImage is one image written as an OCI image-layout tar archive.
type TestImage struct {
	Name     string // the name `ctr images import` gives it, repository:tag
	Tag      string
	Archive  string // path of the OCI image-layout tar
	Manifest ocispec.Descriptor
	Config   ocispec.Descriptor
	Layer    ocispec.Descriptor // the only layer, uncompressed
}

// TestImages are the images the real nodes run: busybox for pods and pause
// for pod sandboxes, imported at start, and the busybox the private registry
// serves. All have the same layer.
type TestImages struct {
	Busybox TestImage
	Pause   TestImage
	// Served is busybox with a label of its own, so of another image ID: a
	// kubelet that pulled an image with credentials asks for them again for
	// every later pod of that image ID (KubeletEnsureSecretPulledImages), and
	// a preloaded busybox of the same ID would then need the registry too.
	Served TestImage
}

// BuildTestImages writes busybox.tar, pause.tar and served.tar into dir.
func BuildTestImages(dir string) (TestImages, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return TestImages{}, err
	}
	layer, err := busyboxLayer(hostBusybox)
	if err != nil {
		return TestImages{}, err
	}
	busybox, err := writeImage(filepath.Join(dir, "busybox.tar"), busyboxImageRepository, busyboxImageTag, layer,
		ocispec.ImageConfig{Env: []string{imagePathEnv}, Cmd: []string{"sh"}})
	if err != nil {
		return TestImages{}, err
	}
	// The sandbox only has to hold the pod's namespaces. As PID 1 it ignores
	// SIGTERM; containerd stops sandboxes with SIGKILL.
	pause, err := writeImage(filepath.Join(dir, "pause.tar"), pauseImageRepository, pauseImageTag, layer,
		ocispec.ImageConfig{Env: []string{imagePathEnv}, Entrypoint: []string{"/bin/sleep", "infinity"}})
	if err != nil {
		return TestImages{}, err
	}
	served, err := writeImage(filepath.Join(dir, "served.tar"), servedImageRepository, busyboxImageTag, layer,
		ocispec.ImageConfig{Env: []string{imagePathEnv}, Cmd: []string{"sh"}, Labels: map[string]string{"devcluster.hodei.io/image": "registry"}})
	if err != nil {
		return TestImages{}, err
	}
	return TestImages{Busybox: busybox, Pause: pause, Served: served}, nil
}

// busyboxLayer is a layer tar: busybox, a link per applet and the few files
// and directories a container expects. Uncompressed: 2 MiB, and its digest
// does not depend on the Go version's compressor.
func busyboxLayer(busybox string) ([]byte, error) {
	if err := checkStatic(busybox); err != nil {
		return nil, err
	}
	binary, err := os.ReadFile(busybox)
	if err != nil {
		return nil, err
	}
	applets, err := busyboxApplets(busybox)
	if err != nil {
		return nil, err
	}
	layer := newTarBuilder()
	layer.dir("bin/", 0o755)
	layer.file("bin/busybox", 0o755, binary)
	for _, applet := range applets {
		// --list names busybox itself too: a link there would replace the binary.
		if applet != "busybox" {
			layer.symlink("bin/"+applet, "busybox")
		}
	}
	layer.dir("dev/", 0o755)
	layer.dir("etc/", 0o755)
	layer.file("etc/group", 0o644, []byte("root:x:0:\nnobody:x:65534:\n"))
	layer.file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"))
	layer.dir("proc/", 0o555)
	layer.dir("root/", 0o700)
	layer.dir("sys/", 0o555)
	layer.dir("tmp/", 0o1777)
	return layer.bytes()
}

// checkStatic refuses a dynamically linked busybox (Debian's busybox
// package), which could not run in an image without a C library.
func checkStatic(busybox string) error {
	const hint = "install Debian's busybox-static package (apt-get install busybox-static)"
	file, err := elf.Open(busybox)
	if err != nil {
		return fmt.Errorf("test images need a static %s: %w; %s", busybox, err, hint)
	}
	defer file.Close()
	for _, prog := range file.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; %s", busybox, hint)
		}
	}
	return nil
}

// busyboxApplets lists the applets busybox was built with, sorted so that the
// layer does not depend on busybox's order.
func busyboxApplets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", busybox, err)
	}
	applets := strings.Fields(string(out))
	if len(applets) == 0 {
		return nil, fmt.Errorf("%s --list printed no applets", busybox)
	}
	sort.Strings(applets)
	return applets, nil
}

// writeImage writes an OCI image-layout tar holding one image of layer with
// config, named repository:tag for `ctr images import`.
func writeImage(archive, repository, tag string, layer []byte, config ocispec.ImageConfig) (TestImage, error) {
	platform := ocispec.Platform{Architecture: runtime.GOARCH, OS: "linux"}
	layerDesc := blobDescriptor(ocispec.MediaTypeImageLayer, layer)
	configJSON, err := json.Marshal(ocispec.Image{
		Created:  &imageEpoch,
		Platform: platform,
		Config:   config,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{layerDesc.Digest}},
	})
	if err != nil {
		return TestImage{}, err
	}
	configDesc := blobDescriptor(ocispec.MediaTypeImageConfig, configJSON)
	manifestJSON, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layerDesc},
	})
	if err != nil {
		return TestImage{}, err
	}
	manifestDesc := blobDescriptor(ocispec.MediaTypeImageManifest, manifestJSON)
	name := repository + ":" + tag

	indexEntry := manifestDesc
	indexEntry.Platform = &platform
	indexEntry.Annotations = map[string]string{
		containerdImageNameAnnotation: name,
		ocispec.AnnotationRefName:     tag,
	}
	indexJSON, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{indexEntry},
	})
	if err != nil {
		return TestImage{}, err
	}
	layoutJSON, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return TestImage{}, err
	}

	tarball := newTarBuilder()
	tarball.file(ocispec.ImageLayoutFile, 0o644, layoutJSON)
	tarball.file(ocispec.ImageIndexFile, 0o644, indexJSON)
	tarball.dir("blobs/", 0o755)
	tarball.dir("blobs/sha256/", 0o755)
	for _, blob := range [][]byte{layer, configJSON, manifestJSON} {
		tarball.file(blobPath(digest.FromBytes(blob)), 0o644, blob)
	}
	content, err := tarball.bytes()
	if err != nil {
		return TestImage{}, err
	}
	if err := os.WriteFile(archive, content, 0o644); err != nil {
		return TestImage{}, err
	}
	return TestImage{
		Name:     name,
		Tag:      tag,
		Archive:  archive,
		Manifest: manifestDesc,
		Config:   configDesc,
		Layer:    layerDesc,
	}, nil
}

func blobDescriptor(mediaType string, content []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(content), Size: int64(len(content))}
}

// blobPath is where an OCI image layout keeps the blob of dgst.
func blobPath(dgst digest.Digest) string {
	return path.Join(ocispec.ImageBlobsDir, dgst.Algorithm().String(), dgst.Encoded())
}

// readArchiveBlobs returns the blobs of an OCI image-layout tar by digest,
// checking that each matches its name.
func readArchiveBlobs(archive string) (map[digest.Digest][]byte, error) {
	content, err := os.ReadFile(archive)
	if err != nil {
		return nil, err
	}
	blobs := map[digest.Digest][]byte{}
	reader := tar.NewReader(bytes.NewReader(content))
	for {
		header, err := reader.Next()
		if errors.Is(err, io.EOF) {
			return blobs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", archive, err)
		}
		dir, encoded := path.Split(header.Name)
		if header.Typeflag != tar.TypeReg || dir != ocispec.ImageBlobsDir+"/sha256/" {
			continue
		}
		blob := new(bytes.Buffer)
		if _, err := blob.ReadFrom(reader); err != nil {
			return nil, fmt.Errorf("%s: %w", archive, err)
		}
		dgst := digest.NewDigestFromEncoded(digest.SHA256, encoded)
		if digest.FromBytes(blob.Bytes()) != dgst {
			return nil, fmt.Errorf("%s: blob %s does not match its digest", archive, header.Name)
		}
		blobs[dgst] = blob.Bytes()
	}
}

// tarBuilder writes a tar in memory with root-owned entries of fixed
// modification time. The first error is kept and returned by bytes.
type tarBuilder struct {
	buf bytes.Buffer
	w   *tar.Writer
	err error
}

func newTarBuilder() *tarBuilder {
	b := &tarBuilder{}
	b.w = tar.NewWriter(&b.buf)
	return b
}

func (b *tarBuilder) dir(name string, mode int64) {
	b.write(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}, nil)
}

func (b *tarBuilder) file(name string, mode int64, content []byte) {
	b.write(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(content))}, content)
}

func (b *tarBuilder) symlink(name, target string) {
	b.write(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, nil)
}

func (b *tarBuilder) write(header *tar.Header, content []byte) {
	if b.err != nil {
		return
	}
	header.ModTime = imageEpoch
	if b.err = b.w.WriteHeader(header); b.err == nil && content != nil {
		_, b.err = b.w.Write(content)
	}
}

func (b *tarBuilder) bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	if err := b.w.Close(); err != nil {
		return nil, err
	}
	return b.buf.Bytes(), nil
}
