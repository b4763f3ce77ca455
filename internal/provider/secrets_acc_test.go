package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goversion "github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// secretProbe is a workspace run at TF_LOG=trace, with a write-only value
// and an env value that the test then looks for everywhere the provider
// or Terraform writes. The write-only value comes, as it should in real
// use, from an ephemeral variable (TF_VAR_api_token): a literal in the
// configuration is part of the configuration, which Terraform itself keeps
// in a saved plan (terraform show -json prints it under "configuration").
type secretProbe struct {
	*tfWorkspace
	writeOnly, envValue string
	logFile             string
}

const apiTokenVariable = `
variable "api_token" {
  type      = string
  sensitive = true
  ephemeral = true
}
`

// skipWithoutWriteOnly skips a test of secret_env_wo on a Terraform or an
// OpenTofu older than 1.11, which have no write-only attributes (make test
// falls back to Terraform 1.5.7 where no newer one is on PATH);
// TestWriteOnlyRefusedForOldTerraform shows the error those get. Both
// clients report their version as terraform_version.
func skipWithoutWriteOnly(t *testing.T) {
	t.Helper()
	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		tf = "terraform"
	}
	out, err := exec.Command(tf, "version", "-json").Output()
	require.NoError(t, err)
	var v struct {
		Version string `json:"terraform_version"`
	}
	require.NoError(t, json.Unmarshal(out, &v))
	if goversion.Must(goversion.NewVersion(v.Version)).LessThan(tfversion.Version1_11_0) {
		t.Skipf("secret_env_wo needs Terraform 1.11 or later, or OpenTofu 1.11 or later; %s is %s", tf, v.Version)
	}
}

func newSecretProbe(t *testing.T, config func(envValue string) string) *secretProbe {
	t.Helper()
	skipWithoutWriteOnly(t)
	p := &secretProbe{writeOnly: "wo-" + randomName("value"), envValue: "env-" + randomName("value")}
	p.logFile = filepath.Join(t.TempDir(), "trace.log")
	extra := []string{"TF_LOG=trace", "TF_LOG_PROVIDER=trace", "TF_LOG_PATH=" + p.logFile}
	for _, name := range sdkLogLevelEnv {
		extra = append(extra, name+"=TRACE")
	}
	extra = append(extra, "TF_VAR_api_token="+p.writeOnly)
	p.tfWorkspace = newWorkspace(t, apiTokenVariable+config(p.envValue), extra...)
	return p
}

// applyThroughSavedPlan plans into a file, checks its JSON, and applies it.
func (p *secretProbe) applyThroughSavedPlan() {
	t := p.t
	t.Helper()
	out, err := p.run(2*time.Minute, "plan", "-input=false", "-out=plan.tfplan")
	require.NoError(t, err, out)
	p.absent("the plan output", out, p.writeOnly, p.envValue)
	planJSON, err := p.run(time.Minute, "show", "-json", "plan.tfplan")
	require.NoError(t, err, planJSON)
	require.Contains(t, planJSON, `"secret_env_wo_version"`)
	p.absent("terraform show -json of the saved plan", planJSON, p.writeOnly)
	out, err = p.run(3*time.Minute, "apply", "-input=false", "plan.tfplan")
	require.NoError(t, err, out)
	p.absent("the apply output", out, p.writeOnly, p.envValue)
}

// checkStateAndLog looks in the state file, terraform show and the trace
// log (CLI and provider) for the write-only value.
func (p *secretProbe) checkStateAndLog() {
	t := p.t
	t.Helper()
	state, err := os.ReadFile(filepath.Join(p.dir, "terraform.tfstate"))
	require.NoError(t, err)
	require.Contains(t, string(state), `"secret_env_wo_version": 1`)
	p.absent("the state file", string(state), p.writeOnly)
	assert.Contains(t, string(state), p.envValue, "env's values are state, as their attribute")
	show, err := p.run(time.Minute, "show")
	require.NoError(t, err, show)
	p.absent("terraform show", show, p.writeOnly, p.envValue)
	log, err := os.ReadFile(p.logFile)
	require.NoError(t, err)
	require.Contains(t, string(log), "provider.terraform-provider-hodei", "the provider's own log lines are captured")
	p.absent("the TF_LOG=trace log", string(log), p.writeOnly)
}

// importAndPlan forgets the worker, imports it and expects an empty plan:
// env's values come back from the live object, secret_env_wo_version from
// the canonical spec.
func (p *secretProbe) importAndPlan(address, id string) {
	t := p.t
	t.Helper()
	out, err := p.run(time.Minute, "state", "rm", address)
	require.NoError(t, err, out)
	out, err = p.run(time.Minute, "import", "-input=false", address, id)
	require.NoError(t, err, out)
	changes, out := p.planChanges()
	assert.False(t, changes, "import followed by plan must be empty:\n%s", out)
}

func (p *secretProbe) absent(what, text string, values ...string) {
	p.t.Helper()
	for _, v := range values {
		assert.NotContains(p.t, text, v, "a value appears in %s", what)
	}
}

func metadataText(t *testing.T, labels, annotations map[string]string) string {
	t.Helper()
	b, err := json.Marshal([]map[string]string{labels, annotations})
	require.NoError(t, err)
	return string(b)
}

// TestAccWorkerKubernetes_secretReferences applies a worker with every kind
// of Secret and ConfigMap reference and a write-only variable, through the
// real CLI at TF_LOG=trace: the pod carries each reference, the
// provider-owned Secret holds the write-only value (owned by the pod), no
// state, plan, log, label or annotation holds it, no label or annotation
// holds env's value, import and plan are empty, and destroy removes the
// Secret with the pod.
func TestAccWorkerKubernetes_secretReferences(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ctx := context.Background()
	ns := testNamespace(t, cli, nil)
	_, err := cli.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": "s3cret", "user": "app"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cli.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"},
		Data: map[string]string{"level": "debug"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	name := randomName("secrets")
	p := newSecretProbe(t, func(envValue string) string {
		return kubeProvider(kubeconfig) + fmt.Sprintf(`
resource "hodei_worker" "w" {
  name      = %q
  backend   = "kubernetes"
  namespace = %q
  image     = %q
  command   = ["sleep", "3600"]
  env       = { MODE = %q }

  env_from {
    secret_ref = "db"
    prefix     = "DB_"
  }
  env_from {
    config_map_ref = "settings"
    optional       = true
  }
  secret_env {
    name   = "PASSWORD"
    secret = "db"
    key    = "password"
  }
  config_env {
    name       = "LEVEL"
    config_map = "settings"
    key        = "level"
  }
  volume {
    name       = "creds"
    mount_path = "/creds"
    read_only  = true
    secret {
      name         = "db"
      default_mode = "0440"
      items {
        key  = "password"
        path = "db/password"
      }
    }
  }
  volume {
    name       = "settings"
    mount_path = "/etc/settings"
    config_map { name = "settings" }
  }

  secret_env_wo         = { API_TOKEN = var.api_token }
  secret_env_wo_version = 1
}
`, name, ns, testImage, envValue)
	})
	p.destroyOnCleanup()
	p.applyThroughSavedPlan()

	pod := getPod(t, cli, ns, name)
	c := pod.Spec.Containers[0]
	owned := worker.OwnedSecretName(name)
	assert.Equal(t, []corev1.EnvFromSource{
		{Prefix: "DB_", SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}},
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Optional: ptrTo(true)}},
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: owned}}},
	}, c.EnvFrom)
	assert.Equal(t, []corev1.EnvVar{
		{Name: "MODE", Value: p.envValue},
		{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
		{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "level"}}},
	}, c.Env)
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	require.NotNil(t, volumes["creds"].Secret)
	assert.Equal(t, "db", volumes["creds"].Secret.SecretName)
	assert.Equal(t, ptrTo(int32(0o440)), volumes["creds"].Secret.DefaultMode)
	assert.Equal(t, []corev1.KeyToPath{{Key: "password", Path: "db/password"}}, volumes["creds"].Secret.Items)
	require.NotNil(t, volumes["settings"].ConfigMap)
	assert.Equal(t, "settings", volumes["settings"].ConfigMap.Name)
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	assert.Equal(t, "/creds", mounts["creds"])
	assert.Equal(t, "/etc/settings", mounts["settings"])

	secret, err := cli.CoreV1().Secrets(ns).Get(ctx, owned, metav1.GetOptions{})
	require.NoError(t, err, "the provider-owned Secret exists with the worker")
	assert.Equal(t, p.writeOnly, string(secret.Data["API_TOKEN"]))
	assert.True(t, worker.IsOwned(secret.Labels, name), "labelled as the worker's: %v", secret.Labels)
	require.Len(t, secret.OwnerReferences, 1)
	assert.Equal(t, pod.UID, secret.OwnerReferences[0].UID, "owned by the pod, for the garbage collector")
	p.absent("the Secret's labels and annotations", metadataText(t, secret.Labels, secret.Annotations), p.writeOnly)
	p.absent("the pod's labels and annotations", metadataText(t, pod.Labels, pod.Annotations), p.writeOnly, p.envValue)
	podJSON, err := json.Marshal(pod)
	require.NoError(t, err)
	p.absent("the pod", string(podJSON), p.writeOnly)

	p.checkStateAndLog()
	changes, out := p.planChanges()
	assert.False(t, changes, "apply followed by plan must be empty:\n%s", out)
	p.importAndPlan("hodei_worker.w", "kubernetes/"+ns+"/"+name)

	out, err = p.run(3*time.Minute, "destroy", "-auto-approve", "-input=false")
	require.NoError(t, err, out)
	require.NoError(t, assertNoPod(cli, ns, name))
	_, err = cli.CoreV1().Secrets(ns).Get(ctx, owned, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the provider-owned Secret is gone after destroy: %v", err)
}

// TestAccWorkerKubernetes_ownedSecretCollectedWithPod deletes the pod
// outside Terraform: the garbage collector of the devcluster's
// controller-manager removes the Secret that the pod owns.
func TestAccWorkerKubernetes_ownedSecretCollectedWithPod(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	skipWithoutWriteOnly(t)
	ctx := context.Background()
	ns := testNamespace(t, cli, nil)
	name := randomName("gc")
	w := newWorkspace(t, kubeProvider(kubeconfig)+fmt.Sprintf(`
resource "hodei_worker" "w" {
  name                  = %q
  backend               = "kubernetes"
  namespace             = %q
  image                 = %q
  secret_env_wo         = { TOKEN = "t" }
  secret_env_wo_version = 1
}
`, name, ns, testImage))
	w.destroyOnCleanup()
	w.mustApply(3 * time.Minute)
	owned := worker.OwnedSecretName(name)
	_, err := cli.CoreV1().Secrets(ns).Get(ctx, owned, metav1.GetOptions{})
	require.NoError(t, err)
	require.NoError(t, cli.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: ptrTo(int64(0))}))
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cli.CoreV1().Secrets(ns).Get(ctx, owned, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	assert.NoError(t, err, "the garbage collector removes the Secret with its pod")
}

// TestAccWorkerDocker_secretEnvWriteOnly: on Docker the write-only value is
// container environment, and in no state, plan, log or label; env's value
// is in no label; import and plan are empty; the Kubernetes-only blocks
// are a plan error naming each.
func TestAccWorkerDocker_secretEnvWriteOnly(t *testing.T) {
	cli := dockerTestClient(t)
	name := randomName("wo")
	p := newSecretProbe(t, func(envValue string) string {
		return fmt.Sprintf(`
resource "hodei_worker" "w" {
  name                  = %q
  backend               = "docker"
  image                 = %q
  command               = ["sleep", "3600"]
  env                   = { MODE = %q }
  secret_env_wo         = { API_TOKEN = var.api_token }
  secret_env_wo_version = 1
}
`, name, testImage, envValue)
	})
	p.destroyOnCleanup()
	p.applyThroughSavedPlan()

	info := inspect(t, cli, name)
	assert.Contains(t, info.Config.Env, "API_TOKEN="+p.writeOnly, "the write-only value reaches the container's environment")
	assert.Contains(t, info.Config.Env, "MODE="+p.envValue)
	p.absent("the container's labels", metadataText(t, info.Config.Labels, nil), p.writeOnly, p.envValue)

	p.checkStateAndLog()
	changes, out := p.planChanges()
	assert.False(t, changes, "apply followed by plan must be empty:\n%s", out)
	p.importAndPlan("hodei_worker.w", "docker/"+name)
	out, err := p.run(3*time.Minute, "destroy", "-auto-approve", "-input=false")
	require.NoError(t, err, out)

	p.setConfig(fmt.Sprintf(`
resource "hodei_worker" "refs" {
  name    = %q
  backend = "docker"
  image   = %q
  env_from { secret_ref = "db" }
  config_env {
    name       = "LEVEL"
    config_map = "settings"
    key        = "level"
  }
  volume {
    name       = "creds"
    mount_path = "/creds"
    secret { name = "db" }
  }
}
`, randomName("refs"), testImage))
	out, err = p.run(time.Minute, "plan", "-input=false")
	require.Error(t, err, "Kubernetes-only settings on a Docker worker fail the plan:\n%s", out)
	for _, attr := range []string{"env_from", "config_env", "volume[0].secret"} {
		assert.Regexp(t, expectAttributeError(`(?s)`+strings.ReplaceAll(strings.ReplaceAll(attr, "[", `\[`), "]", `\]`)+`.*Kubernetes only`), out)
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestAccWorkerKubernetes_secretReferencesUnknownAtPlan: every new
// attribute, and a dynamic env_from block over a list, comes from another
// resource's output, unknown at plan; the apply makes the pod with them
// and the owned Secret with the write-only value known only then.
func TestAccWorkerKubernetes_secretReferencesUnknownAtPlan(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	name := randomName("unk")
	config := kubeProvider(kubeconfig) + fmt.Sprintf(`
resource "terraform_data" "in" {
  input = {
    secret = "db", config_map = "settings", key = "password", mode = "0400", path = "p", token = "unknown-token", version = 7
    sources = [{ secret = "db", prefix = "DB_" }, { secret = "other", prefix = "O_" }]
  }
}
locals { in = terraform_data.in.output }
resource "hodei_worker" "w" {
  name      = %q
  backend   = "kubernetes"
  namespace = %q
  image     = %q
  dynamic "env_from" {
    for_each = local.in.sources
    content {
      secret_ref = env_from.value.secret
      prefix     = env_from.value.prefix
      optional   = true
    }
  }
  secret_env {
    name   = "PASSWORD"
    secret = local.in.secret
    key    = local.in.key
  }
  config_env {
    name       = "LEVEL"
    config_map = local.in.config_map
    key        = "level"
  }
  volume {
    name       = "creds"
    mount_path = "/creds"
    secret {
      name         = local.in.secret
      default_mode = local.in.mode
      items {
        key  = local.in.key
        path = local.in.path
      }
    }
  }
  secret_env_wo         = { TOKEN = local.in.token }
  secret_env_wo_version = local.in.version
}
`, name, ns, testImage)
	skipWithoutWriteOnly(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: config,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue("hodei_worker.w", tfjsonpath.New("env_from")),
				plancheck.ExpectUnknownValue("hodei_worker.w", tfjsonpath.New("secret_env_wo_version")),
			}},
			Check: func(*terraform.State) error {
				pod := getPod(t, cli, ns, name)
				c := pod.Spec.Containers[0]
				require.Len(t, c.EnvFrom, 3)
				assert.Equal(t, "O_", c.EnvFrom[1].Prefix)
				assert.Equal(t, worker.OwnedSecretName(name), c.EnvFrom[2].SecretRef.Name)
				assert.Equal(t, ptrTo(int32(0o400)), pod.Spec.Volumes[0].Secret.DefaultMode)
				secret, err := cli.CoreV1().Secrets(ns).Get(context.Background(), worker.OwnedSecretName(name), metav1.GetOptions{})
				require.NoError(t, err)
				assert.Equal(t, "unknown-token", string(secret.Data["TOKEN"]))
				return nil
			},
		}},
	})
}
