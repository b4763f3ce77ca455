package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// readyAfter is how long each probed process takes before it serves: the
// probes must fail until then.
const readyAfter = 3 * time.Second

// probedRealWorker is a worker on a real node that runs script and waits
// to be ready by the readiness probe probe (an HCL block), probed every
// second; extra is more of the resource block.
func probedRealWorker(name, namespace, script, probe, extra string) string {
	return fmt.Sprintf(`
resource "hodei_worker" %[1]q {
  name      = %[1]q
  backend   = "kubernetes"
  namespace = %[2]q
  image     = %[3]q
  command   = ["sh", "-c", %[4]s]
  wait_for  = "ready"
  readiness {
    %[5]s
    period            = "1s"
    failure_threshold = 1
  }
  %[6]s
  %[7]s
}
`, name, namespace, realNodeImage, hclString(script), probe, realNodeScheduling, extra)
}

// The servers of the probes: each starts serving readyAfter after the
// process, and its log shows each probe it answered (the exec probe
// writes to the log of the container's main process itself). Each runs
// beside a shell that exits on SIGTERM, as thenIdle does.
var (
	execServer = serving("touch /tmp/ready; sleep 3600")
	httpServer = serving("mkdir /www && echo ok > /www/healthz && httpd -f -vv -p 8080 -h /www")
	tcpServer  = serving(`printf '#!/bin/sh\necho tcp-probed >&2\n' > /tmp/probed && chmod +x /tmp/probed && nc -ll -p 9000 -e /tmp/probed`)
)

func serving(server string) string {
	return fmt.Sprintf("trap 'exit 0' TERM; sleep %d; %s & wait", int(readyAfter.Seconds()), server)
}

// TestAccRealNode_readinessProbesPass: with wait_for = "ready", create
// returns once the kubelet's probe of each kind (exec, http_get,
// tcp_socket) has reached the process: no sooner than the process
// serves, and the process saw the probe.
func TestAccRealNode_readinessProbesPass(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ns := testNamespace(t, cli, nil)
	probes := []struct{ name, script, probe, seen string }{
		{"exec", execServer, `exec { command = ["sh", "-c", "echo exec-probed > /proc/1/fd/1; test -f /tmp/ready"] }`, "exec-probed"},
		{"http", httpServer, `http_get {
      path = "/healthz"
      port = 8080
    }`, "url:/healthz"},
		{"tcp", tcpServer, `tcp_socket { port = 9000 }`, "tcp-probed"},
	}
	config := kubeProvider(kubeconfig)
	for _, p := range probes {
		config += probedRealWorker(p.name, ns, p.script, p.probe, "")
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			return errorsJoin(assertNoPod(cli, ns, "exec"), assertNoPod(cli, ns, "http"), assertNoPod(cli, ns, "tcp"))
		},
		Steps: []resource.TestStep{{
			Config: config,
			Check: func(*terraform.State) error {
				for _, p := range probes {
					pod := requireOnRealNode(t, cli, ns, p.name)
					ready := podCondition(pod, corev1.PodReady)
					require.NotNil(t, ready, p.name)
					assert.Equal(t, corev1.ConditionTrue, ready.Status, "%s: create returned with the pod Ready", p.name)
					status := pod.Status.ContainerStatuses[0]
					require.NotNil(t, status.State.Running, p.name)
					// Times have second resolution.
					assert.GreaterOrEqual(t, ready.LastTransitionTime.Sub(status.State.Running.StartedAt.Time), readyAfter-time.Second,
						"%s: ready only once the process serves", p.name)
					log := waitForLog(t, cli, ns, p.name, p.seen)
					if p.name == "http" {
						assert.Contains(t, log, "response:200", "the probe got the page")
					}
				}
				return nil
			},
		}},
	})
}

// TestAccRealNode_readinessProbesFail: a probe of each kind that the
// process never passes (a failing command, a missing page, a closed port)
// keeps the pod unready: the create fails at its timeout with the
// kubelet's own probe message, and leaves no pod.
func TestAccRealNode_readinessProbesFail(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ns := testNamespace(t, cli, nil)
	for _, p := range []struct{ name, script, probe, message string }{
		{"exec", execServer, `exec { command = ["sh", "-c", "echo not serving yet; exit 1"] }`, "Readiness probe failed: not serving yet"},
		{"http", httpServer, `http_get {
      path = "/missing"
      port = 8080
    }`, "Readiness probe failed: HTTP probe failed with statuscode: 404"},
		{"tcp", tcpServer, `tcp_socket { port = 9001 }`, "Readiness probe failed: dial tcp"},
	} {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{
					{
						Config:      kubeProvider(kubeconfig) + probedRealWorker(p.name, ns, p.script, p.probe, `timeouts { create = "20s" }`),
						ExpectError: words("pod "+ns+"/"+p.name+" was not ready within the create timeout", "container worker running but not ready", "Unhealthy: "+p.message),
					},
					{
						PreConfig: func() { assert.NoError(t, assertNoPod(cli, ns, p.name), "the unready pod is removed") },
						Config:    `# nothing`,
						PlanOnly:  true,
					},
				},
			})
		})
	}
}
