package provider

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubebackend "github.com/hodei-jobs/terraform-provider-hodei/internal/backend/kubernetes"
	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// The reference examples (the provider page's and the resource page's) carry
// their own provider blocks and name things a real platform has, so they are
// applied as a user would: the real CLI, the provider binary through a
// development override, and the objects they refer to made first.

// cliEnv is the environment of a terraform run that uses the provider built
// from this module (providerBin) through dev_overrides.
func cliEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	rc := filepath.Join(t.TempDir(), "terraformrc")
	require.NoError(t, os.WriteFile(rc, fmt.Appendf(nil,
		"provider_installation {\n  dev_overrides {\n    \"hodei-jobs/hodei\" = %q\n  }\n  direct {}\n}\n", providerBin(t)), 0o600))
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1")
	return append(env, extra...)
}

// terraformCLI runs the terraform of the acceptance tests in dir, which
// must succeed.
func terraformCLI(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	out, err := runTerraformCLI(dir, env, args...)
	require.NoError(t, err, "terraform %s:\n%s", strings.Join(args, " "), out)
	return out
}

// runTerraformCLI runs the terraform of the acceptance tests in dir and
// returns its combined output.
func runTerraformCLI(dir string, env []string, args ...string) (string, error) {
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		tf = "terraform"
	}
	cmd := exec.Command(tf, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// applyWithCLI copies an example with a required_providers block added,
// applies it, checks that the next plan is empty, and destroys it.
func applyWithCLI(t *testing.T, example string, env []string) {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(example)
	require.NoError(t, err)
	main := string(src)
	if !strings.Contains(main, "required_providers") {
		main = "terraform {\n  required_providers {\n    hodei = { source = \"hodei-jobs/hodei\" }\n  }\n}\n\n" + main
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600))
	terraformCLI(t, dir, env, "apply", "-auto-approve", "-input=false", "-no-color")
	t.Cleanup(func() { terraformCLI(t, dir, env, "destroy", "-auto-approve", "-input=false", "-no-color") })
	out := terraformCLI(t, dir, env, "plan", "-input=false", "-no-color", "-detailed-exitcode")
	require.Contains(t, out, "No changes.")
}

func TestAccExampleProviderConfigurations(t *testing.T) {
	dockerTestClient(t)
	home := t.TempDir()
	for _, f := range []string{".hodei/lab/client.pem", ".hodei/lab/client-key.pem", ".hodei/lab/ca.pem", ".kube/config"} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(home, f)), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(home, f), []byte("placeholder\n"), 0o600))
	}
	dir := t.TempDir()
	src, err := os.ReadFile("../../examples/provider/provider.tf")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), src, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("placeholder\n"), 0o600))
	// Clients are made on first use: configuring every provider block
	// contacts no engine, so the configurations apply with no worker.
	out := terraformCLI(t, dir, cliEnv(t, "HOME="+home), "apply", "-auto-approve", "-input=false", "-no-color")
	require.Contains(t, out, "Apply complete!")
}

func TestAccExampleResourceOnBothBackends(t *testing.T) {
	docker := dockerTestClient(t)
	cli, kubeconfig := kubeTestClient(t)
	ctx := context.Background()

	// Kubernetes: the namespace, priority class and claim the trainer uses.
	_, err := cli.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml"}}, metav1.CreateOptions{})
	require.NoError(t, ignoreExists(err))
	_, err = cli.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "batch-high"}, Value: 1000}, metav1.CreateOptions{})
	require.NoError(t, ignoreExists(err))
	t.Cleanup(func() {
		_ = cli.SchedulingV1().PriorityClasses().Delete(context.Background(), "batch-high", metav1.DeleteOptions{})
	})
	waitForServiceAccount(t, cli, "ml")
	bindClaim(t, cli, "ml", "datasets")

	// Docker: the builder image, whose agent waits for work.
	builderImage(t, docker, "registry.example.com/builder:2.1")
	t.Cleanup(func() { _ = docker.VolumeRemove(context.Background(), "build-cache", true) })

	applyWithCLI(t, "../../examples/resources/hodei_worker/resource.tf", cliEnv(t, "KUBECONFIG="+kubeconfig))
}

func TestAccExampleDataSources(t *testing.T) {
	dockerTestClient(t)
	cli, kubeconfig := kubeTestClient(t)
	ctx := context.Background()
	_, err := cli.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ml"}}, metav1.CreateOptions{})
	require.NoError(t, ignoreExists(err))
	waitForServiceAccount(t, cli, "ml")

	// The worker the data source reads is made by another configuration:
	// here, by the backend directly.
	drv := kubebackend.NewDriver(cli, "", kubebackend.Options{})
	cache := &worker.Spec{Name: "cache-0", Backend: worker.BackendKubernetes, Namespace: "ml", Image: "registry.example.com/cache:7",
		RestartPolicy: "Always", Labels: map[string]string{"app": "cache"}}
	_, err = drv.Create(ctx, cache, "running")
	require.NoError(t, err)
	t.Cleanup(func() { _ = drv.Delete(context.Background(), worker.RefOf(cache), "") })

	env := cliEnv(t, "KUBECONFIG="+kubeconfig)
	applyWithCLI(t, "../../examples/data-sources/hodei_worker/data-source.tf", env)
	applyWithCLI(t, "../../examples/data-sources/hodei_gpu_types/data-source.tf", env)
}

func ignoreExists(err error) error {
	if err != nil && strings.Contains(err.Error(), "already exists") {
		return nil
	}
	return err
}

// builderImage makes an image of that name from the busybox test image's
// files plus /usr/local/bin/hodei-agent, a stand-in agent that waits.
func builderImage(t *testing.T, docker *client.Client, ref string) {
	t.Helper()
	busybox, err := exec.LookPath("busybox")
	require.NoError(t, err, "busybox-static is needed to build the example's image")
	bin, err := os.ReadFile(busybox)
	require.NoError(t, err)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, body []byte, link string) {
		hdr := &tar.Header{Name: name, Mode: mode, Size: int64(len(body))}
		if link != "" {
			hdr = &tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: link, Mode: 0o777}
		}
		require.NoError(t, tw.WriteHeader(hdr))
		_, err := tw.Write(body)
		require.NoError(t, err)
	}
	for _, d := range []string{"bin/", "usr/", "usr/local/", "usr/local/bin/", "tmp/", "cache/"} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}))
	}
	add("bin/busybox", 0o755, bin, "")
	for _, applet := range []string{"sh", "sleep"} {
		add("bin/"+applet, 0, nil, "busybox")
	}
	add("usr/local/bin/hodei-agent", 0o755, []byte("#!/bin/sh\ntrap 'exit 0' TERM\nwhile true; do sleep 1; done\n"), "")
	require.NoError(t, tw.Close())
	rc, err := docker.ImageImport(context.Background(), image.ImportSource{Source: &buf, SourceName: "-"}, ref, image.ImportOptions{})
	require.NoError(t, err)
	_, _ = bytes.NewBuffer(nil).ReadFrom(rc)
	require.NoError(t, rc.Close())
	t.Cleanup(func() { _, _ = docker.ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true}) })
}
