package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fault 2: the Docker daemon is restarted during an apply of six workers,
// two at a time, each create waiting for its health check (2 s), so that
// creates are in flight whatever the machine's speed. A private dockerd (its
// own data root, exec root, pid file and socket, no bridge, no iptables) is
// stopped by its pid as soon as the first container exists, and started
// again two seconds after it exited.
// The workers exit on SIGTERM, so the daemon's shutdown is quick and the
// later creates certainly meet a stopped daemon (a dockerd that is shutting
// down still serves the connections it has while it stops containers, 10 s
// each for a process that ignores SIGTERM). The apply ends, failing on the
// creates that lost their daemon (each with the address it tried, or the
// reason the stopping daemon answered with), and the next apply converges:
// exactly one container per worker, counted by the ownership labels, and an
// empty plan.
func TestAccFaults_dockerDaemonRestartDuringApply(t *testing.T) {
	t.Parallel()
	d := startPrivateDocker(t)
	cli := d.Client()
	defer cli.Close()
	const workers = 6
	config := fmt.Sprintf(`
provider "hodei" {
  docker { host = %q }
}
resource "hodei_worker" "d" {
  count   = %d
  name    = "fault-dk-${count.index}"
  backend = "docker"
  image   = %q
  command = ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ready; while true; do sleep 1; done"]
  wait_for = "ready"
  readiness {
    exec { command = ["test", "-f", "/tmp/ready"] }
    period = "2s"
  }
}
`, d.Host, workers, testImage)
	w := newWorkspace(t, config)
	w.destroyOnCleanup()

	result := applyInBackground(w, 3*time.Minute, "-parallelism=2")
	waitUntil(t, 90*time.Second, "the first container appears", func() bool {
		return countContainers(t, cli, "") >= 1
	})
	stopped := time.Now()
	d.Stop()
	t.Logf("dockerd stopped in %.1fs", time.Since(stopped).Seconds())
	time.Sleep(2 * time.Second)
	d.Start()
	t.Logf("dockerd back %.1fs after the stop began", time.Since(stopped).Seconds())

	var first applyResult
	select {
	case first = <-result:
	case <-time.After(3 * time.Minute):
		t.Fatal("the apply did not end")
	}
	if first.err != nil {
		// A create that found no daemon names the address it tried; one
		// that the stopping daemon still answered gives the daemon's reason.
		named := strings.Contains(first.out, d.Host) || strings.Contains(first.out, "Error response from daemon")
		assert.True(t, named, "a failure names the daemon's address or gives its answer:\n%s", first.out)
		t.Logf("first apply failed after %.1fs, naming the daemon", first.elapsed.Seconds())
	} else {
		t.Logf("first apply completed after %.1fs", first.elapsed.Seconds())
	}
	// A create cut off by the stop removes its container once the daemon is
	// back (it retries for up to a minute), so containers and state agree.
	listed, _ := w.run(time.Minute, "state", "list")
	inState, containers := strings.Count(listed, "hodei_worker.d["), countContainers(t, cli, "")
	t.Logf("after the restart: %d containers, %d workers in state, of %d", containers, inState, workers)
	assert.Equal(t, inState, containers, "no container outside the state even before the next apply")

	w.mustApply(2 * time.Minute)
	for i := range workers {
		name := fmt.Sprintf("fault-dk-%d", i)
		assert.Equal(t, 1, countContainers(t, cli, name), "one container of %s", name)
	}
	assert.Equal(t, workers, countContainers(t, cli, ""), "no container beyond the workers")
	changes, out := w.planChanges()
	assert.False(t, changes, "plan after the converging apply is empty:\n%s", out)
	state, err := w.run(time.Minute, "state", "list")
	require.NoError(t, err)
	assert.Equal(t, workers, strings.Count(state, "hodei_worker.d["))
}
