package provider

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// The examples name the provider by its registry address; the in-process
// provider must be served under the same one.
func useRegistryAddress(t *testing.T) {
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "hodei-jobs")
}

// applyExample applies an example folder as a root module with the real
// CLI, checks the next plan is empty, and destroys it.
func applyExample(t *testing.T, dir string, vars config.Variables) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			ConfigDirectory: config.StaticDirectory(dir),
			ConfigVariables: vars,
		}},
	})
}

func exampleDirs(t *testing.T) []string {
	dirs, err := filepath.Glob("../../examples/blocks/*")
	require.NoError(t, err)
	return append(dirs, "../../examples/workers-module")
}

func TestAccExamplesOnDocker(t *testing.T) {
	dockerTestClient(t)
	useRegistryAddress(t)
	for _, dir := range exampleDirs(t) {
		if filepath.Base(dir) == "gpu" {
			continue // no GPU runtime here: TestAccWorkerDocker_nvidiaGPURefusedWithoutOrphan covers it
		}
		if filepath.Base(dir) == "secret_references" {
			continue // Kubernetes only: TestAccWorkerDocker_secretEnvWriteOnly checks the plan error on Docker
		}
		if filepath.Base(dir) == "gpu_dra" {
			continue // Kubernetes only: the invalid case "gpu allocation dra on docker" checks the error on Docker
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if filepath.Base(dir) == "secret_env_wo" {
				skipWithoutWriteOnly(t)
			}
			vars := config.Variables{"backend": config.StringVariable("docker")}
			if filepath.Base(dir) == "volume_host_path" {
				vars["host_dir"] = config.StringVariable(t.TempDir())
			}
			applyExample(t, dir, vars)
		})
	}
}

func TestAccExamplesOnKubernetes(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	useRegistryAddress(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	bindClaim(t, cli, "default", "example-datasets")
	bindClaim(t, cli, "default", "datasets")
	exampleSecretAndConfigMap(t, cli, "default")
	t.Run("quickstart", func(t *testing.T) {
		applyExample(t, "../../examples/quickstart", config.Variables{"docker_available": config.BoolVariable(true)})
	})
	for _, dir := range exampleDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if filepath.Base(dir) == "secret_env_wo" {
				skipWithoutWriteOnly(t)
			}
			vars := config.Variables{"backend": config.StringVariable("kubernetes")}
			if filepath.Base(dir) == "volume_host_path" {
				vars["host_dir"] = config.StringVariable("/srv/hodei/models")
			}
			applyExample(t, dir, vars)
		})
	}
}

// bindClaim makes a PersistentVolume and a claim on it, and waits until the
// persistent-volume binder bound them.
func bindClaim(t *testing.T, cli kubernetes.Interface, namespace, claim string) {
	t.Helper()
	ctx := context.Background()
	class := "hodei-example"
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: randomName("pv")},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: k8sresource.MustParse("1Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:       class,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/hodei/" + claim}},
		},
	}
	_, err := cli.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cli.CoreV1().PersistentVolumeClaims(namespace).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: claim},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: k8sresource.MustParse("1Gi")}},
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = cli.CoreV1().PersistentVolumeClaims(namespace).Delete(context.Background(), claim, metav1.DeleteOptions{})
		_ = cli.CoreV1().PersistentVolumes().Delete(context.Background(), pv.Name, metav1.DeleteOptions{})
	})
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := cli.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, claim, metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.ClaimBound, nil
	})
	require.NoError(t, err, "claim %s/%s was not bound", namespace, claim)
}

// exampleSecretAndConfigMap makes the Secret and ConfigMap that the
// secret_references example reads.
func exampleSecretAndConfigMap(t *testing.T, cli kubernetes.Interface, namespace string) {
	t.Helper()
	ctx := context.Background()
	_, err := cli.CoreV1().Secrets(namespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "example-db"},
		StringData: map[string]string{"user": "app", "password": "s3cret"}}, metav1.CreateOptions{})
	require.NoError(t, ignoreExists(err))
	_, err = cli.CoreV1().ConfigMaps(namespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "example-settings"},
		Data: map[string]string{"level": "debug"}}, metav1.CreateOptions{})
	require.NoError(t, ignoreExists(err))
	t.Cleanup(func() {
		_ = cli.CoreV1().Secrets(namespace).Delete(context.Background(), "example-db", metav1.DeleteOptions{})
		_ = cli.CoreV1().ConfigMaps(namespace).Delete(context.Background(), "example-settings", metav1.DeleteOptions{})
	})
}
