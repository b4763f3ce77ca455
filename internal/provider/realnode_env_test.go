package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// TestAccRealNode_environment: env, env_from (a Secret with a prefix, a
// ConfigMap), secret_env and config_env reach the process's environment
// with their values, as the kubelet resolves them.
func TestAccRealNode_environment(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ctx := context.Background()
	ns := testNamespace(t, cli, nil)
	password := "pw-" + randomName("db")
	_, err := cli.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		StringData: map[string]string{"password": password, "user": "app"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cli.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"},
		Data: map[string]string{"level": "debug", "tier": "batch"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	const name = "env"
	mode := "plain-" + randomName("mode")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{{
			Config: kubeProvider(kubeconfig) + realWorker(name, ns, "env | sort", fmt.Sprintf(`
  env = { MODE = %q, SPACED = "a b  c" }
  env_from {
    secret_ref = "db"
    prefix     = "DB_"
  }
  env_from { config_map_ref = "settings" }
  secret_env {
    name   = "PASSWORD"
    secret = "db"
    key    = "password"
  }
  config_env {
    name       = "LEVEL"
    config_map = "settings"
    key        = "level"
  }`, mode)),
			Check: func(*terraform.State) error {
				env := processOutput(t, cli, ns, name)
				for _, want := range []string{
					"MODE=" + mode, "SPACED=a b  c",
					"DB_password=" + password, "DB_user=app",
					"level=debug", "tier=batch",
					"PASSWORD=" + password, "LEVEL=debug",
				} {
					assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(want)+`$`, env, "the process's environment")
				}
				return nil
			},
		}},
	})
}

// TestAccRealNode_secretEnvWriteOnly: a secret_env_wo value, kept in no
// state, is in the process's environment (from the Secret the provider
// makes for it).
func TestAccRealNode_secretEnvWriteOnly(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	skipWithoutWriteOnly(t)
	ns := testNamespace(t, cli, nil)
	const name = "write-only"
	token := "wo-" + randomName("token")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{{
			Config: kubeProvider(kubeconfig) + realWorker(name, ns, "echo API_TOKEN=$API_TOKEN", fmt.Sprintf(`
  secret_env_wo         = { API_TOKEN = %q }
  secret_env_wo_version = 1`, token)),
			Check: func(*terraform.State) error {
				assert.Contains(t, outputLines(processOutput(t, cli, ns, name)), "API_TOKEN="+token)
				return nil
			},
		}},
	})
}

// TestAccRealNode_missingSecret: a secret_env whose Secret does not exist
// yet makes the kubelet report CreateContainerConfigError; the create waits
// (the kubelet retries), so a Secret made meanwhile, as another resource or
// an operator would, lets it succeed with the value in the process. One
// that never comes fails at the create timeout with the kubelet's message,
// and leaves no pod.
func TestAccRealNode_missingSecret(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ns := testNamespace(t, cli, nil)
	secretEnv := func(secret string) string {
		return fmt.Sprintf(`
  secret_env {
    name   = "LATE"
    secret = %q
    key    = "value"
  }`, secret)
	}

	t.Run("created during the create", func(t *testing.T) {
		const name = "late-secret"
		value := "late-" + randomName("v")
		made := make(chan error, 1)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
			Steps: []resource.TestStep{{
				PreConfig: func() {
					go func() { made <- createSecretOnceRefused(cli, ns, name, "late", value) }()
				},
				Config: kubeProvider(kubeconfig) + realWorker(name, ns, "echo LATE=$LATE", secretEnv("late")+`
  timeouts { create = "2m" }`),
				Check: func(*terraform.State) error {
					require.NoError(t, <-made, "the pod met the missing Secret before the Secret was made")
					assert.Contains(t, outputLines(processOutput(t, cli, ns, name)), "LATE="+value)
					return nil
				},
			}},
		})
	})

	t.Run("never created", func(t *testing.T) {
		const name = "absent-secret"
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			Steps: []resource.TestStep{
				{
					Config: kubeProvider(kubeconfig) + realWorker(name, ns, "true", secretEnv("absent")+`
  timeouts { create = "15s" }`),
					ExpectError: words(`was not running within the create timeout`, `container worker waiting: CreateContainerConfigError: secret "absent" not found`),
				},
				{
					PreConfig: func() { assert.NoError(t, assertNoPod(cli, ns, name), "the failed create leaves no pod") },
					Config:    `# nothing`,
					PlanOnly:  true,
				},
			},
		})
	})
}

// createSecretOnceRefused waits until the kubelet has refused to start the
// worker's container for want of the Secret, then makes it.
func createSecretOnceRefused(cli kubernetes.Interface, namespace, pod, secret, value string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		p, err := cli.CoreV1().Pods(namespace).Get(ctx, pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		for _, s := range p.Status.ContainerStatuses {
			if s.State.Waiting != nil && s.State.Waiting.Reason == "CreateContainerConfigError" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for CreateContainerConfigError: %w", err)
	}
	_, err = cli.CoreV1().Secrets(namespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secret},
		StringData: map[string]string{"value": value}}, metav1.CreateOptions{})
	return err
}
