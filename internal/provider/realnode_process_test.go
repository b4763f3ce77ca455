package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/stretchr/testify/assert"
)

// TestAccRealNode_exitAndOOMFailFast: a process that exits with code 3, one
// killed for going over its 8Mi memory limit, and one that the runtime
// cannot start fail their creates at once (the kubelet would retry them),
// each error saying what happened to the process, and none leaves a pod.
func TestAccRealNode_exitAndOOMFailFast(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ns := testNamespace(t, cli, nil)
	for _, tc := range []struct {
		name, extra string
		expect      []string
	}{
		{"exit", `command = ["sh", "-c", "echo giving up; exit 3"]`, []string{"container worker of pod " + ns + "/exit", "exited with code 3 (Error)"}},
		{
			// exec: dd itself is the container's process, so the kill
			// ends the container (a child killed alone leaves sh running).
			"oom", `command = ["sh", "-c", "exec dd if=/dev/zero of=/dev/null bs=64M"]
  resources { memory_limit = "8Mi" }`,
			[]string{"container worker of pod " + ns + "/oom", "exited with code 137 (OOMKilled: the process used more than the container's memory limit of 8Mi; raise resources.memory_limit)"},
		},
		{
			// runc cannot make a working directory under /proc: the
			// kubelet's RunContainerError (or the StartError exit it
			// follows), with the runtime's reason, whichever is seen first.
			"unstartable", `working_dir = "/proc/self/nonexistent"`,
			[]string{"container worker of pod " + ns + "/unstartable", "mkdir /proc/self/nonexistent: no such file or directory"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var started time.Time
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{
					{
						PreConfig:   func() { started = time.Now() },
						Config:      kubeProvider(kubeconfig) + realNodeResource(tc.name, ns, realNodeImage, tc.extra),
						ExpectError: words(tc.expect...),
					},
					{
						PreConfig: func() {
							assert.Less(t, time.Since(started), 30*time.Second, "the exit fails the create at once")
							assert.NoError(t, assertNoPod(cli, ns, tc.name), "the failed create leaves no pod")
						},
						Config:   `# nothing`,
						PlanOnly: true,
					},
				},
			})
		})
	}
}

// TestAccRealNode_commandArgsWorkingDirShm: command replaces the image's
// ENTRYPOINT and args its CMD, in that order (the image's CMD ["sh"] is not
// passed when only command is set); working_dir is the process's working
// directory; shm_size is the size of its /dev/shm.
func TestAccRealNode_commandArgsWorkingDirShm(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := requireRealNodes(t)
	ns := testNamespace(t, cli, nil)
	// argv is the process's own command line (the shell is PID 1), one
	// argument a line: its $0 cannot tell "sh -c script" from
	// "sh -c script sh".
	const argv = `tr '\0' '\n' < /proc/1/cmdline | awk '{print "argv[" NR-1 "]=" $0}'`
	const both = `echo "dollar0=$0 dollar1=$1"; pwd; df -k /dev/shm | awk 'NR==2 {print "shm-kib " $2}'; ` +
		`grep ' /dev/shm ' /proc/mounts | awk '{print "shm " $3}'`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(*terraform.State) error {
			return errorsJoin(assertNoPod(cli, ns, "both"), assertNoPod(cli, ns, "args-only"), assertNoPod(cli, ns, "command-only"))
		},
		Steps: []resource.TestStep{{
			Config: kubeProvider(kubeconfig) +
				realNodeResource("both", ns, realNodeImage, fmt.Sprintf(`command     = ["sh", "-c"]
  args        = [%s, "first", "second"]
  working_dir = "/var/hodei-work"
  shm_size    = "32Mi"`, hclString(both+thenIdle))) +
				realNodeResource("args-only", ns, realNodeImage, fmt.Sprintf(`args = ["sh", "-c", %s]`, hclString("echo args-only; "+argv+thenIdle))) +
				realNodeResource("command-only", ns, realNodeImage, fmt.Sprintf(`command = ["sh", "-c", %s]`, hclString("echo command-only; "+argv+thenIdle))),
			Check: func(*terraform.State) error {
				lines := outputLines(processOutput(t, cli, ns, "both"))
				for _, want := range []string{"dollar0=first dollar1=second", "/var/hodei-work", "shm-kib 32768", "shm tmpfs"} {
					assert.Contains(t, lines, want)
				}
				for _, name := range []string{"args-only", "command-only"} {
					lines := outputLines(processOutput(t, cli, ns, name))
					assert.Contains(t, lines, name, "the configured program ran")
					var args []string
					for _, line := range lines {
						if strings.HasPrefix(line, "argv[") {
							args = append(args, line)
						}
					}
					assert.Len(t, args, 3, "%s: sh -c <script> and nothing more: %v", name, args)
					if len(args) > 1 {
						assert.Equal(t, []string{"argv[0]=sh", "argv[1]=-c"}, args[:2], name)
					}
				}
				return nil
			},
		}},
	})
}

// realNodeResource is a worker of image on a real node; extra is more of
// the resource block.
func realNodeResource(name, namespace, image, extra string) string {
	return fmt.Sprintf(`
resource "hodei_worker" %[1]q {
  name      = %[1]q
  backend   = "kubernetes"
  namespace = %[2]q
  image     = %[3]q
  %[4]s
  %[5]s
}
`, name, namespace, image, extra, realNodeScheduling)
}
