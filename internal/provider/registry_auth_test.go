package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
)

// privateRegistry is a CNCF distribution registry (Debian's docker-registry)
// with htpasswd auth that the test starts on a free loopback port and stops
// by its pid.
//
// It serves plain HTTP. The Docker daemon treats every 127.0.0.0/8 registry
// as insecure: it tries HTTPS without verifying the certificate, then plain
// HTTP. Behind TLS, the registry's 401 on the HTTPS try is followed by an
// HTTP try that fails ("connection reset by peer"), and that second error is
// the one the daemon reports, so a wrong password could not be told from a
// broken registry; and a CA would prove nothing, since the daemon does not
// verify it for a loopback registry. Over plain HTTP the HTTPS try fails in
// the handshake and the registry's own answer (401, 404) is what the daemon
// reports, while htpasswd still refuses every pull without the right
// credentials: what the registry log's auth.user.name shows.
type privateRegistry struct {
	addr     string // 127.0.0.1:PORT
	username string
	password string
	logPath  string
}

func startPrivateRegistry(t *testing.T) *privateRegistry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("needs docker-registry (Debian package docker-registry; .ci/run installs it)")
	}
	dir := t.TempDir()
	r := &privateRegistry{username: "hodei-puller", password: "pw-" + randomName("reg"), logPath: filepath.Join(dir, "registry.log")}
	hash, err := bcrypt.GenerateFromPassword([]byte(r.password), bcrypt.MinCost)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(r.username+":"+string(hash)+"\n"), 0o600))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r.addr = l.Addr().String()
	require.NoError(t, l.Close())
	configPath := filepath.Join(dir, "config.yml")
	require.NoError(t, os.WriteFile(configPath, []byte(fmt.Sprintf(`version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
  secret: hodei-test
auth:
  htpasswd:
    realm: hodei-test
    path: %s
`, filepath.Join(dir, "data"), r.addr, filepath.Join(dir, "htpasswd"))), 0o600))
	logFile, err := os.Create(r.logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, "serve", configPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logFile.Close()
	})
	waitUntil(t, 10*time.Second, "the registry answers", func() bool {
		resp, err := http.Get("http://" + r.addr + "/v2/")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusUnauthorized
	})
	return r
}

func (r *privateRegistry) encodedAuth(t *testing.T) string {
	t.Helper()
	auth, err := registry.EncodeAuthConfig(registry.AuthConfig{Username: r.username, Password: r.password, ServerAddress: r.addr})
	require.NoError(t, err)
	return auth
}

// pushTestImage pushes the busybox test image to the registry as ref and
// removes the local tag, so that a worker must pull it.
func (r *privateRegistry) pushTestImage(t *testing.T, cli *client.Client, repo string) string {
	t.Helper()
	ctx := context.Background()
	ref := r.addr + "/" + repo
	require.NoError(t, cli.ImageTag(ctx, testImage, ref))
	stream, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: r.encodedAuth(t)})
	require.NoError(t, err)
	require.NoError(t, jsonmessage.DisplayJSONMessagesStream(stream, io.Discard, 0, false, nil), "pushing %s", ref)
	_ = stream.Close()
	removeLocalImage(t, cli, ref)
	t.Cleanup(func() { removeLocalImage(t, cli, ref) })
	return ref
}

// registryRepo is the repository the tests push to the private registry.
const registryRepo, registryTag = "hodei/busybox", "1"

// removeLocalImage untags ref; the image stays under its other names.
func removeLocalImage(t *testing.T, cli *client.Client, ref string) {
	t.Helper()
	_, _ = cli.ImageRemove(context.Background(), ref, image.RemoveOptions{})
	_, err := cli.ImageInspect(context.Background(), ref)
	require.Error(t, err, "%s is still local", ref)
}

// manifestFetches counts the requests for the manifest of registryRepo:registryTag that
// the registry let through its htpasswd check ("authorized request"): the
// daemon asks for it by tag once per pull, then for its parts by digest.
func (r *privateRegistry) manifestFetches(t *testing.T) int {
	t.Helper()
	log, err := os.ReadFile(r.logPath)
	require.NoError(t, err)
	uri := regexp.MustCompile(`http\.request\.uri="?/v2/` + regexp.QuoteMeta(registryRepo) + `/manifests/` + regexp.QuoteMeta(registryTag) + `"?\s`)
	n := 0
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, `msg="authorized request"`) && uri.MatchString(line) {
			n++
		}
	}
	return n
}

func (r *privateRegistry) providerBlock(password string) string {
	return fmt.Sprintf(`
provider "hodei" {
  docker {
    registry_auth {
      address  = "http://%s"
      username = %q
      password = %q
    }
  }
}
`, r.addr, r.username, password)
}

func registryWorker(name, ref, extra string) string {
	return fmt.Sprintf(`
resource "hodei_worker" "private" {
  name    = %q
  image   = %q
  command = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
  %s
}
`, name, ref, extra)
}

// isolatedDockerConfig points DOCKER_CONFIG at an empty folder, so that no
// credentials of the machine's own ~/.docker take part.
func isolatedDockerConfig(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	return dir
}

func TestAccWorkerDocker_privateRegistry(t *testing.T) {
	cli := dockerTestClient(t)
	reg := startPrivateRegistry(t)
	const repo, tag = registryRepo, registryTag
	ref := reg.pushTestImage(t, cli, repo+":"+tag)

	t.Run("registry_auth credentials pull the image", func(t *testing.T) {
		isolatedDockerConfig(t)
		removeLocalImage(t, cli, ref)
		before := reg.manifestFetches(t)
		name := randomName("regauth")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
			Steps: []resource.TestStep{{
				Config: reg.providerBlock(reg.password) + registryWorker(name, ref, ""),
				Check: func(*terraform.State) error {
					info := inspect(t, cli, name)
					assert.True(t, info.State.Running)
					assert.Equal(t, ref, info.Config.Image)
					img, err := cli.ImageInspect(context.Background(), ref)
					require.NoError(t, err, "the image was pulled")
					assert.Equal(t, img.ID, info.Image, "the container runs the pulled image")
					assert.Contains(t, strings.Join(img.RepoDigests, " "), reg.addr+"/"+repo+"@sha256:", "the image came from the registry")
					assert.Equal(t, before+1, reg.manifestFetches(t), "one authenticated pull")
					return nil
				},
			}},
		})
	})

	t.Run("a wrong password fails fast with the registry's 401", func(t *testing.T) {
		isolatedDockerConfig(t)
		removeLocalImage(t, cli, ref)
		name := randomName("regdeny")
		wrong := "wrong-" + randomName("pw")
		// The real CLI with the provider binary at TF_LOG=trace: the
		// output, the CLI's and the provider's log must not hold the password.
		logPath := filepath.Join(t.TempDir(), "trace.log")
		w := newWorkspace(t, reg.providerBlock(wrong)+registryWorker(name, ref, ""), "TF_LOG=trace", "TF_LOG_PATH="+logPath)
		w.destroyOnCleanup()
		start := time.Now()
		out, err := w.apply(2 * time.Minute)
		require.Error(t, err)
		assert.Less(t, time.Since(start), time.Minute, "the failure comes from the registry's answer, not a timeout")
		assert.Regexp(t, `(?s)pulling\s+image\s+"`+regexp.QuoteMeta(ref)+`".*unauthorized.*answered\s+401\s+Unauthorized.*user\s+"`+
			reg.username+`"\s+for\s+`+regexp.QuoteMeta(reg.addr)+`\s+from\s+registry_auth`, out)
		assert.NoError(t, assertNoContainer(cli, name), "a failed pull leaves no container")
		trace, err := os.ReadFile(logPath)
		require.NoError(t, err)
		for what, text := range map[string]string{"the apply's output": out, "the trace log": string(trace)} {
			assert.NotContains(t, text, wrong, "the password is not in %s", what)
			assert.NotContains(t, text, base64.StdEncoding.EncodeToString([]byte(reg.username+":"+wrong)), "the encoded password is not in %s", what)
		}
		state, _ := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
		assert.NotContains(t, string(state), wrong, "the password is not in the state")
	})

	t.Run("no credentials name the registry and what to add", func(t *testing.T) {
		isolatedDockerConfig(t)
		removeLocalImage(t, cli, ref)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			Steps: []resource.TestStep{{
				Config:      registryWorker(randomName("reganon"), ref, ""),
				ExpectError: regexp.MustCompile(`(?s)answered\s+401\s+Unauthorized.*no\s+credentials\s+were\s+sent.*add\s+a\s+registry_auth\s+block`),
			}},
		})
	})

	t.Run("a missing tag names the registry's 404", func(t *testing.T) {
		isolatedDockerConfig(t)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			Steps: []resource.TestStep{{
				Config:      reg.providerBlock(reg.password) + registryWorker(randomName("reg404"), reg.addr+"/"+repo+":absent", ""),
				ExpectError: regexp.MustCompile(`(?s)manifest\s+unknown.*404`),
			}},
		})
	})

	t.Run("credentials in DOCKER_CONFIG's config.json pull the image", func(t *testing.T) {
		dir := isolatedDockerConfig(t)
		auth := base64.StdEncoding.EncodeToString([]byte(reg.username + ":" + reg.password))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"),
			[]byte(fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, reg.addr, auth)), 0o600))
		removeLocalImage(t, cli, ref)
		before := reg.manifestFetches(t)
		name := randomName("regcfg")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
			Steps: []resource.TestStep{{
				Config: registryWorker(name, ref, ""),
				Check: func(*terraform.State) error {
					info := inspect(t, cli, name)
					assert.True(t, info.State.Running)
					assert.Equal(t, ref, info.Config.Image)
					assert.Equal(t, before+1, reg.manifestFetches(t), "one pull with the config file's credentials")
					return nil
				},
			}},
		})
	})

	t.Run("image_pull_policy Never refuses a missing image", func(t *testing.T) {
		isolatedDockerConfig(t)
		removeLocalImage(t, cli, ref)
		name := randomName("regnever")
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			Steps: []resource.TestStep{
				{
					Config: reg.providerBlock(reg.password) + registryWorker(name, ref, `image_pull_policy = "Never"`),
					ExpectError: regexp.MustCompile(`(?s)image_pull_policy\s+=\s+"Never":\s+the\s+image\s+"` + regexp.QuoteMeta(ref) +
						`"\s+is\s+not\s+on\s+the\s+Docker\s+engine`),
				},
				{
					PreConfig: func() { assert.NoError(t, assertNoContainer(cli, name)) },
					Config:    `# nothing`,
					PlanOnly:  true,
				},
			},
		})
	})

	t.Run("IfNotPresent uses the local image, Always pulls it again", func(t *testing.T) {
		isolatedDockerConfig(t)
		ctx := context.Background()
		stream, err := cli.ImagePull(ctx, ref, image.PullOptions{RegistryAuth: reg.encodedAuth(t)})
		require.NoError(t, err)
		require.NoError(t, jsonmessage.DisplayJSONMessagesStream(stream, io.Discard, 0, false, nil))
		_ = stream.Close()
		local := reg.manifestFetches(t)
		name := randomName("regalways")
		var firstID string
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			CheckDestroy:             func(*terraform.State) error { return assertNoContainer(cli, name) },
			Steps: []resource.TestStep{
				{
					Config: reg.providerBlock(reg.password) + registryWorker(name, ref, `image_pull_policy = "IfNotPresent"`),
					Check: func(*terraform.State) error {
						firstID = inspect(t, cli, name).ID
						assert.Equal(t, local, reg.manifestFetches(t), "IfNotPresent pulls no local image")
						return nil
					},
				},
				{
					ResourceName:            "hodei_worker.private",
					ImportState:             true,
					ImportStateId:           "docker/" + name,
					ImportStateVerify:       true,
					ImportStateVerifyIgnore: []string{"timeouts"},
				},
				{
					Config: reg.providerBlock(reg.password) + registryWorker(name, ref, `image_pull_policy = "Always"`),
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("hodei_worker.private", plancheck.ResourceActionDestroyBeforeCreate),
					}},
					Check: func(*terraform.State) error {
						info := inspect(t, cli, name)
						assert.NotEqual(t, firstID, info.ID, "the policy change replaced the container")
						assert.True(t, info.State.Running)
						assert.Equal(t, local+1, reg.manifestFetches(t), "Always pulls although the image is local")
						return nil
					},
				},
			},
		})
	})
}

// On Kubernetes the kubelet pulls: the pod carries the pull secrets and the
// policy (the devcluster's simulated nodes pull nothing). Import reproduces
// both, and a change of either replaces the pod.
func TestAccWorkerKubernetes_imagePullSecretsAndPolicy(t *testing.T) {
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	name := randomName("pull")
	config := func(policy string) string {
		return kubeProvider(kubeconfig) + fmt.Sprintf(`
resource "hodei_worker" "pull" {
  name               = %q
  backend            = "kubernetes"
  namespace          = %q
  image              = %q
  image_pull_policy  = %q
  image_pull_secrets = ["regcred", "mirror-cred"]
}
`, name, ns, k8sImage, policy)
	}
	var firstUID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
		Steps: []resource.TestStep{
			{
				Config: config("Always"),
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, name)
					firstUID = string(pod.UID)
					assert.Equal(t, []corev1.LocalObjectReference{{Name: "regcred"}, {Name: "mirror-cred"}}, pod.Spec.ImagePullSecrets)
					assert.Equal(t, corev1.PullAlways, pod.Spec.Containers[0].ImagePullPolicy)
					return nil
				},
			},
			{
				ResourceName:            "hodei_worker.pull",
				ImportState:             true,
				ImportStateId:           "kubernetes/" + ns + "/" + name,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				Config: config("Never"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("hodei_worker.pull", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					pod := getPod(t, cli, ns, name)
					assert.NotEqual(t, firstUID, string(pod.UID), "the policy change replaced the pod")
					assert.Equal(t, corev1.PullNever, pod.Spec.Containers[0].ImagePullPolicy)
					return nil
				},
			},
		},
	})
}
