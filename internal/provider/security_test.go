package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// Security: secrets stay out of logs and plan output, a corrupted canonical
// spec is an error on import, and every worker gets the least-privilege
// defaults the contract promises on both backends.

// secrets is a recognisable token and a real client key pair: a key that
// does not parse would fail before the client used it.
type secrets struct {
	token   string
	cert    string
	key     string
	needles []string // text that must never be printed
}

func newSecrets(t *testing.T) secrets {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hodei-secret-probe"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	s := secrets{
		token: "hodei-secret-token-" + randomName("x"),
		cert:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		key:   string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})),
	}
	s.needles = []string{s.token, base64.StdEncoding.EncodeToString([]byte(s.token)), base64.StdEncoding.EncodeToString([]byte(s.key))[:48]}
	// Each line of the key's body, so that a key printed with escaped
	// newlines (JSON, %q) is found too.
	for _, line := range strings.Split(s.key, "\n") {
		if len(line) >= 20 && !strings.HasPrefix(line, "-----") {
			s.needles = append(s.needles, line)
		}
	}
	return s
}

// assertAbsent fails when any secret shows in text.
func (s secrets) assertAbsent(t *testing.T, what, text string) {
	t.Helper()
	for _, n := range s.needles {
		if strings.Contains(text, n) {
			t.Errorf("a secret (%.12s…) appears in %s", n, what)
		}
	}
}

// providerBlock configures the kubernetes backend with the secrets at an
// address where nothing listens: any use of the credentials fails there.
// The docker block carries the same client key pair, which Configure
// receives too.
func (s secrets) providerBlock() string {
	return fmt.Sprintf(`
provider "hodei" {
  kubernetes {
    host               = "https://127.0.0.1:1"
    token              = %q
    client_certificate = %q
    client_key         = %q
    insecure           = true
  }
  docker {
    host          = "tcp://127.0.0.1:1"
    cert_material = %q
    key_material  = %q
  }
}
`, s.token, s.cert, s.key, s.cert, s.key)
}

const secretProbeWorker = `
resource "hodei_worker" "probe" {
  name      = "secret-probe"
  backend   = "kubernetes"
  namespace = "default"
  image     = "registry.example/hodei/worker:1.0"
  env       = { MODE = "probe" }
  timeouts { create = "10s" }
}
`

// TestAccSecretsNotInTraceLogOrPlanOutput runs the real CLI with the
// provider binary at TF_LOG=trace, captures both the CLI's and the provider's
// log (the provider's reaches the CLI through go-plugin), the plan output and
// the output of an apply that uses the credentials and fails: none holds the
// token or the client key.
func TestAccSecretsNotInTraceLogOrPlanOutput(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	s := newSecrets(t)
	dir := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "trace.log")
	main := "terraform {\n  required_providers {\n    hodei = { source = \"hodei-jobs/hodei\" }\n  }\n}\n" + s.providerBlock() + secretProbeWorker
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main), 0o600))
	// The CLI's children inherit the test's environment, which may turn the
	// SDK's loggers off (main does so when no TF_LOG is set): each is asked
	// for explicitly.
	extra := []string{"TF_LOG=trace", "TF_LOG_PROVIDER=trace", "TF_LOG_PATH=" + logFile}
	for _, name := range sdkLogLevelEnv {
		extra = append(extra, name+"=TRACE")
	}
	env := cliEnv(t, extra...)
	plan := terraformCLI(t, dir, env, "plan", "-input=false", "-no-color")
	assert.Contains(t, plan, "1 to add")
	s.assertAbsent(t, "the plan output", plan)

	tf := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if tf == "" {
		tf = "terraform"
	}
	cmd := exec.Command(tf, "apply", "-auto-approve", "-input=false", "-no-color")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the apply cannot reach 127.0.0.1:1:\n%s", out)
	assert.Contains(t, string(out), "127.0.0.1:1", "the error names the address tried")
	s.assertAbsent(t, "the apply output", string(out))

	show := terraformCLI(t, dir, env, "show", "-no-color")
	s.assertAbsent(t, "terraform show", show)

	data, err := os.ReadFile(logFile)
	require.NoError(t, err)
	log := string(data)
	assert.True(t, strings.Contains(log, "[TRACE]"), "the CLI's trace log is captured")
	assert.True(t, regexp.MustCompile(`\[TRACE\]\s+provider\.terraform-provider-hodei: [^\n]*tf_rpc=ConfigureProvider`).MatchString(log), "the provider's own log lines are captured")
	assert.True(t, strings.Contains(log, "ConfigureProvider"), "the configure call, which carries the secrets, is logged around")
	s.assertAbsent(t, "the TF_LOG=trace log", log)
}

// TestAccSecretsNotInAcceptanceTraceLog does the same with the in-process
// provider of terraform-plugin-testing: TF_ACC_LOG_PATH sends the CLI's log
// and the provider's tflog output (at TRACE) to one file; TF_ACC_LOG sets the
// CLI's level. The plan JSON is checked too.
func TestAccSecretsNotInAcceptanceTraceLog(t *testing.T) {
	s := newSecrets(t)
	logFile := filepath.Join(t.TempDir(), "acc-trace.log")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	t.Setenv("TF_ACC_LOG", "TRACE")
	t.Setenv("TF_LOG_PROVIDER", "TRACE")
	for _, name := range sdkLogLevelEnv {
		t.Setenv(name, "TRACE")
	}
	noSecretInPlan := planCheckFunc(func(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
		b, err := json.Marshal(req.Plan.ResourceChanges)
		if err != nil {
			resp.Error = err
			return
		}
		for _, n := range s.needles {
			if strings.Contains(string(b), n) {
				resp.Error = fmt.Errorf("a secret (%.12s…) appears in the planned changes", n)
			}
		}
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:             s.providerBlock() + secretProbeWorker,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks:   resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{noSecretInPlan}},
			},
			{
				Config:           s.providerBlock() + secretProbeWorker,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{noSecretInPlan}},
				ExpectError:      regexp.MustCompile(`127\.0\.0\.1:1`),
			},
		},
	})
	data, err := os.ReadFile(logFile)
	require.NoError(t, err)
	log := string(data)
	assert.True(t, strings.Contains(log, "[TRACE]"), "the CLI's trace log is captured")
	assert.True(t, strings.Contains(log, "tf_provider_addr"), "the in-process provider's log lines are captured")
	s.assertAbsent(t, "the TF_ACC_LOG_PATH log", withoutTestConfigurations(log))
}

type planCheckFunc func(context.Context, plancheck.CheckPlanRequest, *plancheck.CheckPlanResponse)

func (f planCheckFunc) CheckPlan(ctx context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	f(ctx, req, resp)
}

// TestAccWorkerDocker_corruptSpecLabelOnImport: a container with the
// ownership labels whose hodei.io/spec label is damaged, of another version,
// or names another worker, is an import error that says so, never a panic
// and never a state that describes something else.
func TestAccWorkerDocker_corruptSpecLabelOnImport(t *testing.T) {
	cli := dockerTestClient(t)
	ctx := context.Background()
	other, err := worker.EncodeCanonical(&worker.Spec{Name: "someone-else", Backend: worker.BackendDocker, Image: testImage, RestartPolicy: "Always"})
	require.NoError(t, err)
	cases := []struct {
		spec   string
		expect string
	}{
		{`{"v":1,"spec":{"name":"trunc`, `hodei.io/spec\s+value\s+is\s+not\s+a\s+valid\s+worker\s+spec`},
		{`not json at all`, `hodei.io/spec\s+value\s+is\s+not\s+a\s+valid\s+worker\s+spec`},
		{`{"v":7,"spec":{"name":"x","backend":"docker"}}`, `has\s+version\s+7`},
		{`{"v":1,"spec":{"image":"busybox"}}`, `lacks\s+the\s+worker's\s+name\s+or\s+backend`},
		{`{"v":1,"spec":{"name":"x","backend":"docker","gpu":{"count":"two"}}}`, `not\s+a\s+valid\s+worker\s+spec`},
		{other, `describes\s+worker\s+"someone-else"`},
	}
	var steps []resource.TestStep
	for i, c := range cases {
		name := randomName(fmt.Sprintf("corrupt%d", i))
		_, err := cli.ContainerCreate(ctx, &container.Config{
			Image: testImage,
			Cmd:   []string{"sleep", "3600"},
			Labels: map[string]string{
				worker.LabelManagedBy: worker.ManagedByValue,
				worker.LabelWorker:    name,
				worker.AnnotationSpec: c.spec,
			},
		}, nil, nil, nil, name)
		require.NoError(t, err)
		t.Cleanup(func() {
			_ = cli.ContainerRemove(context.Background(), name, container.RemoveOptions{Force: true})
		})
		steps = append(steps, resource.TestStep{
			Config:        simpleWorker(name, ""),
			ResourceName:  "hodei_worker.test",
			ImportState:   true,
			ImportStateId: "docker/" + name,
			ExpectError:   regexp.MustCompile(c.expect),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
}

// TestAccWorkerDocker_securityDefaults: every container drops all
// capabilities, forbids new privileges and is not privileged; the security
// block adds a user, a read-only root file system and named capabilities.
func TestAccWorkerDocker_securityDefaults(t *testing.T) {
	cli := dockerTestClient(t)
	plain, hardened := randomName("plain"), randomName("hardened")
	config := simpleWorker(plain, "") + strings.Replace(simpleWorker(hardened, `
  security {
    run_as_user               = 1000
    run_as_group              = 1000
    run_as_non_root           = true
    read_only_root_filesystem = true
    add_capabilities          = ["NET_BIND_SERVICE"]
  }`), `"hodei_worker" "test"`, `"hodei_worker" "hardened"`, 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			if err := assertNoContainer(cli, plain); err != nil {
				return err
			}
			return assertNoContainer(cli, hardened)
		},
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				p := inspect(t, cli, plain)
				assert.Equal(t, []string{"ALL"}, []string(p.HostConfig.CapDrop))
				assert.Empty(t, p.HostConfig.CapAdd)
				assert.Contains(t, p.HostConfig.SecurityOpt, "no-new-privileges:true")
				assert.False(t, p.HostConfig.Privileged)
				assert.False(t, p.HostConfig.ReadonlyRootfs)
				assert.Empty(t, p.HostConfig.Binds, "no bind mount unless a host_path volume asks")
				assert.NotEqual(t, "host", string(p.HostConfig.NetworkMode))
				assert.NotEqual(t, "host", string(p.HostConfig.PidMode))

				h := inspect(t, cli, hardened)
				assert.Equal(t, "1000:1000", h.Config.User)
				assert.True(t, h.HostConfig.ReadonlyRootfs)
				assert.Equal(t, []string{"ALL"}, []string(h.HostConfig.CapDrop))
				require.Len(t, h.HostConfig.CapAdd, 1)
				assert.Equal(t, "NET_BIND_SERVICE", strings.TrimPrefix(h.HostConfig.CapAdd[0], "CAP_"), "the daemon may write CAP_")
				assert.Contains(t, h.HostConfig.SecurityOpt, "no-new-privileges:true")
				assert.False(t, h.HostConfig.Privileged)
				return nil
			},
		}},
	})
}

// TestAccWorkerKubernetes_securityDefaults: without a security block a pod
// forbids privilege escalation, drops every capability and uses the
// RuntimeDefault seccomp profile; with one it runs as non-root with the
// given IDs, a read-only root file system and only the named capability.
func TestAccWorkerKubernetes_securityDefaults(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			if err := assertNoPod(cli, ns, "plain"); err != nil {
				return err
			}
			return assertNoPod(cli, ns, "hardened")
		},
		Steps: []resource.TestStep{{
			Config: kubeProvider(kubeconfig) + k8sWorker("plain", ns, k8sImage, "") + k8sWorker("hardened", ns, k8sImage, `
  security {
    run_as_user               = 1000
    run_as_group              = 2000
    run_as_non_root           = true
    read_only_root_filesystem = true
    add_capabilities          = ["NET_BIND_SERVICE"]
  }`),
			Check: func(*terraform.State) error {
				for _, name := range []string{"plain", "hardened"} {
					pod := getPod(t, cli, ns, name)
					require.NotNil(t, pod.Spec.SecurityContext, name)
					require.NotNil(t, pod.Spec.SecurityContext.SeccompProfile, name)
					assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.Spec.SecurityContext.SeccompProfile.Type, name)
					assert.False(t, pod.Spec.HostNetwork || pod.Spec.HostPID || pod.Spec.HostIPC, name)
					require.Len(t, pod.Spec.Containers, 1)
					sc := pod.Spec.Containers[0].SecurityContext
					require.NotNil(t, sc, name)
					require.NotNil(t, sc.AllowPrivilegeEscalation, name)
					assert.False(t, *sc.AllowPrivilegeEscalation, name)
					assert.True(t, sc.Privileged == nil || !*sc.Privileged, name)
					require.NotNil(t, sc.Capabilities, name)
					assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop, name)
				}
				plain := getPod(t, cli, ns, "plain")
				assert.Empty(t, plain.Spec.Containers[0].SecurityContext.Capabilities.Add)
				assert.Nil(t, plain.Spec.SecurityContext.RunAsNonRoot)

				hardened := getPod(t, cli, ns, "hardened")
				psc, sc := hardened.Spec.SecurityContext, hardened.Spec.Containers[0].SecurityContext
				require.NotNil(t, psc.RunAsNonRoot)
				assert.True(t, *psc.RunAsNonRoot)
				require.NotNil(t, psc.RunAsUser)
				assert.Equal(t, int64(1000), *psc.RunAsUser)
				require.NotNil(t, psc.RunAsGroup)
				assert.Equal(t, int64(2000), *psc.RunAsGroup)
				require.NotNil(t, sc.ReadOnlyRootFilesystem)
				assert.True(t, *sc.ReadOnlyRootFilesystem)
				assert.Equal(t, []corev1.Capability{"NET_BIND_SERVICE"}, sc.Capabilities.Add)
				return nil
			},
		}},
	})
}

// withoutTestConfigurations drops the configurations that the test harness
// (sdk.helper_resource) logs before each step: they are the test's own text,
// secrets included, not anything the CLI or the provider printed.
func withoutTestConfigurations(log string) string {
	var out []string
	inConfig := false
	for _, line := range strings.Split(log, "\n") {
		switch {
		case strings.Contains(line, "test_terraform_configuration="):
			inConfig = true
			continue
		case inConfig && strings.HasPrefix(line, "  |"):
			continue
		}
		inConfig = false
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestAccWorkerKubernetes_corruptSpecAnnotationOnImport: the same on a pod,
// whose canonical spec is an annotation.
func TestAccWorkerKubernetes_corruptSpecAnnotationOnImport(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	other, err := worker.EncodeCanonical(&worker.Spec{Name: "someone-else", Backend: worker.BackendKubernetes, Namespace: ns, Image: k8sImage, RestartPolicy: "Always"})
	require.NoError(t, err)
	cases := map[string]string{
		"truncated": `{"v":1,"spec":{"name":"trunc`,
		"version":   `{"v":3,"spec":{"name":"version","backend":"kubernetes"}}`,
		"other":     other,
	}
	expect := map[string]string{
		"truncated": `hodei.io/spec\s+value\s+is\s+not\s+a\s+valid\s+worker\s+spec`,
		"version":   `has\s+version\s+3`,
		"other":     `describes\s+worker\s+"someone-else"`,
	}
	var steps []resource.TestStep
	for _, name := range []string{"truncated", "version", "other"} {
		_, err := cli.CoreV1().Pods(ns).Create(context.Background(), &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Labels:      map[string]string{worker.LabelManagedBy: worker.ManagedByValue, worker.LabelWorker: name},
				Annotations: map[string]string{worker.AnnotationSpec: cases[name]},
			},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: worker.ContainerName, Image: k8sImage}}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		steps = append(steps, resource.TestStep{
			Config:        kubeProvider(kubeconfig) + k8sWorker(name, ns, k8sImage, ""),
			ResourceName:  "hodei_worker." + name,
			ImportState:   true,
			ImportStateId: "kubernetes/" + ns + "/" + name,
			ExpectError:   regexp.MustCompile(expect[name]),
		})
	}
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testProviders, Steps: steps})
	for name := range cases {
		_ = getPod(t, cli, ns, name) // a failed import deletes nothing
	}
}
