package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// envTestRegistry names the JSON file that describes the devcluster's
// private registry (make test sets it): TLS from the cluster CA, which the
// real nodes' containerd trusts, and basic auth.
const envTestRegistry = "HODEI_TEST_REGISTRY"

// testRegistry is what these tests read of that file. Image, of the
// registry at Host, is in no node's containerd: a pod of it must pull.
type testRegistry struct {
	Host     string `json:"host"`
	Username string `json:"username"`
	Password string `json:"password"`
	Image    string `json:"image"`
}

func requireTestRegistry(t *testing.T) testRegistry {
	t.Helper()
	path := os.Getenv(envTestRegistry)
	if path == "" {
		t.Skipf("needs the devcluster's private registry: %s names the JSON file that describes it (make test sets it)", envTestRegistry)
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var r testRegistry
	require.NoError(t, json.Unmarshal(data, &r), "%s: %s", envTestRegistry, path)
	require.True(t, r.Host != "" && r.Username != "" && r.Password != "", "%s: %s lacks host, username or password", envTestRegistry, path)
	require.True(t, strings.HasPrefix(r.Image, r.Host+"/"), "%s: %s: image %q is not of the registry %s", envTestRegistry, path, r.Image, r.Host)
	return r
}

// TestAccRealNode_privateRegistry: the kubelet pulls a private image with
// the credentials of image_pull_secrets (a kubernetes.io/dockerconfigjson
// Secret) and the process runs; without them the registry's 401 fails the
// create at once, saying that the worker has no image_pull_secrets, and
// leaves no pod. image_pull_policy = "Always" makes each create pull, even
// on a node that an earlier run left the image on.
func TestAccRealNode_privateRegistry(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	reg := requireTestRegistry(t)
	ns := testNamespace(t, cli, nil)
	auth := base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))
	dockerConfig, err := json.Marshal(map[string]any{"auths": map[string]any{
		reg.Host: map[string]string{"username": reg.Username, "password": reg.Password, "auth": auth},
	}})
	require.NoError(t, err)
	_, err = cli.CoreV1().Secrets(ns).Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "regcred"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: dockerConfig},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	t.Run("image_pull_secrets pull the image", func(t *testing.T) {
		const name = "private"
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			CheckDestroy:             func(*terraform.State) error { return assertNoPod(cli, ns, name) },
			Steps: []resource.TestStep{{
				Config: kubeProvider(kubeconfig) + registryRealWorker(name, ns, reg.Image, `image_pull_secrets = ["regcred"]`),
				Check: func(*terraform.State) error {
					waitForLog(t, cli, ns, name, "pulled-and-running")
					pod := requireOnRealNode(t, cli, ns, name)
					require.Len(t, pod.Status.ContainerStatuses, 1)
					repository, _, _ := strings.Cut(strings.TrimPrefix(reg.Image, reg.Host+"/"), ":")
					assert.Contains(t, pod.Status.ContainerStatuses[0].ImageID, reg.Host+"/"+repository+"@sha256:",
						"the kubelet reports the image it pulled from the registry")
					return nil
				},
			}},
		})
	})

	t.Run("without them the 401 fails the create at once", func(t *testing.T) {
		const name = "anonymous"
		var started time.Time
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			Steps: []resource.TestStep{
				{
					PreConfig: func() { started = time.Now() },
					Config:    kubeProvider(kubeconfig) + registryRealWorker(name, ns, reg.Image, ""),
					ExpectError: words("container worker of pod "+ns+"/"+name+" cannot run:", "401 Unauthorized",
						"the registry refused the pull, and the worker has no image_pull_secrets: add a Secret of type kubernetes.io/dockerconfigjson with credentials for "+reg.Host),
				},
				{
					PreConfig: func() {
						assert.Less(t, time.Since(started), 30*time.Second, "the registry's answer fails the create, not a timeout")
						assert.NoError(t, assertNoPod(cli, ns, name), "the failed create leaves no pod")
					},
					Config:   `# nothing`,
					PlanOnly: true,
				},
			},
		})
	})
}

// registryRealWorker is a worker on a real node of the private registry's
// image, pulled at each create; extra is more of the resource block.
func registryRealWorker(name, namespace, image, extra string) string {
	return realNodeResource(name, namespace, image, fmt.Sprintf("image_pull_policy = \"Always\"\n  command = [\"sh\", \"-c\", %s]\n  %s",
		hclString("echo pulled-and-running"+thenIdle), extra))
}
