package provider

import (
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
)

// securityScript prints the identity and the privileges of the process
// (the kernel's view: /proc/self/status of a child of the worker's shell,
// which inherits them) and what a write to its root file system meets.
const securityScript = `echo "uid=$(id -u) gid=$(id -g)"; ` +
	`grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; ` +
	`err=$(touch /root-write-probe 2>&1) && echo root-write=ok || echo "root-write=refused: $err"`

// TestAccRealNode_securityContext: what the kernel enforces on the process.
// Every worker has no capability left (effective and bounding sets empty),
// no_new_privs set and a seccomp filter (RuntimeDefault, mode 2); the
// security block sets its uid and gid and makes the root file system
// read-only; add_capabilities is the one capability it keeps.
func TestAccRealNode_securityContext(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ns := testNamespace(t, cli, nil)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			return errorsJoin(assertNoPod(cli, ns, "plain"), assertNoPod(cli, ns, "hardened"), assertNoPod(cli, ns, "capable"))
		},
		Steps: []resource.TestStep{{
			Config: kubeProvider(kubeconfig) +
				realWorker("plain", ns, securityScript, "") +
				realWorker("hardened", ns, securityScript, `
  security {
    run_as_user               = 1000
    run_as_group              = 2000
    run_as_non_root           = true
    read_only_root_filesystem = true
  }`) +
				realWorker("capable", ns, securityScript, `
  security { add_capabilities = ["NET_BIND_SERVICE"] }`),
			Check: func(*terraform.State) error {
				const none, netBindService = "0000000000000000", "0000000000000400" // bit 10
				for name, want := range map[string][]string{
					"plain":    {"uid=0 gid=0", "CapEff: " + none, "CapBnd: " + none, "root-write=ok"},
					"hardened": {"uid=1000 gid=2000", "CapEff: " + none, "CapBnd: " + none, "root-write=refused: touch: /root-write-probe: Read-only file system"},
					"capable":  {"uid=0 gid=0", "CapEff: " + netBindService, "CapBnd: " + netBindService, "root-write=ok"},
				} {
					lines := outputLines(processOutput(t, cli, ns, name))
					for _, line := range append(want, "NoNewPrivs: 1", "Seccomp: 2") {
						assert.Contains(t, lines, line, name)
					}
				}
				return nil
			},
		}},
	})
}

// TestAccRealNode_runAsNonRootOnARootImage: run_as_non_root without a
// run_as_user on an image that runs as root is refused by the kubelet,
// which alone knows the image's user: the create fails at once with its
// CreateContainerConfigError and leaves no pod.
func TestAccRealNode_runAsNonRootOnARootImage(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ns := testNamespace(t, cli, nil)
	const name = "non-root"
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				PreConfig: func() { started = time.Now() },
				Config: kubeProvider(kubeconfig) + realWorker(name, ns, "id", `
  security { run_as_non_root = true }`),
				ExpectError: words("container worker of pod "+ns+"/"+name+" cannot run: CreateContainerConfigError:",
					"container has runAsNonRoot and image will run as root"),
			},
			{
				PreConfig: func() {
					assert.Less(t, time.Since(started), 30*time.Second, "the kubelet's refusal fails the create at once")
					assert.NoError(t, assertNoPod(cli, ns, name), "the failed create leaves no pod")
				},
				Config:   `# nothing`,
				PlanOnly: true,
			},
		},
	})
}
