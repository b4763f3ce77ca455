package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fault 5: terraform is interrupted (SIGINT, as Ctrl-C sends) while it
// creates 20 workers. Terraform passes the interrupt to the provider, whose
// creates in flight are cancelled and remove their pods; the next apply
// must converge to exactly 20 workers, none orphaned, counted by the
// ownership label. terraform-plugin-testing cannot interrupt, so this test
// runs the CLI itself.
func TestAccFaults_sigintDuringTwentyCreates(t *testing.T) {
	t.Parallel()
	cli, kubeconfig := kubeTestClient(t)
	ns := testNamespace(t, cli, nil)
	const workers = 20
	config := kubeProvider(kubeconfig) + fmt.Sprintf(`
resource "hodei_worker" "w" {
  count     = %d
  name      = "sigint-${count.index}"
  backend   = "kubernetes"
  namespace = %q
  image     = %q
  command   = ["sleep", "3600"]
}
`, workers, ns, k8sImage)
	w := newWorkspace(t, config)
	w.destroyOnCleanup()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := w.command(ctx, "apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=4")
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	// With four creates at a time, ten pods mean that some creates have
	// finished and others are in flight.
	waitUntil(t, 90*time.Second, "ten pods appear", func() bool {
		return countPods(t, cli, ns, "") >= 10
	})
	interrupted := time.Now()
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	t.Logf("terraform exited %.1fs after SIGINT (%v):\n%s", time.Since(interrupted).Seconds(), err, tail(out.String(), 25))
	require.Error(t, err, "an interrupted apply does not succeed")
	assert.Contains(t, out.String(), "Interrupt received")

	state, _ := w.run(time.Minute, "state", "list")
	inState := strings.Count(state, "hodei_worker.w[")
	pods := countPods(t, cli, ns, "")
	t.Logf("after the interrupt: %d workers in state, %d pods with the ownership label", inState, pods)
	assert.Less(t, inState, workers, "the interrupt came before every create finished")
	assert.Positive(t, inState, "creates that finished before the interrupt are in the state")
	// The cancelled creates removed their pods before terraform exited.
	assert.Equal(t, inState, pods, "no pod outside the state even before the next apply")

	w.mustApply(3 * time.Minute)
	assert.Equal(t, workers, countPods(t, cli, ns, ""), "exactly the 20 workers' pods, no orphan")
	for i := range workers {
		name := fmt.Sprintf("sigint-%d", i)
		assert.Equal(t, 1, countPods(t, cli, ns, name), "one pod of %s", name)
	}
	state, err = w.run(time.Minute, "state", "list")
	require.NoError(t, err)
	assert.Equal(t, workers, strings.Count(state, "hodei_worker.w["))
	changes, planOut := w.planChanges()
	assert.False(t, changes, "plan after the converging apply is empty:\n%s", planOut)
}
