package docker

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

func TestBuildContainerStopTimeoutAndHealthcheck(t *testing.T) {
	s := baseSpec()
	s.TerminationGracePeriod = "45s"
	s.Readiness = &worker.Readiness{Exec: &worker.ExecProbe{Command: []string{"test", "-f", "/tmp/ready"}}, Period: "2s", FailureThreshold: 4, InitialDelay: "1m"}
	built, err := buildContainer(s, worker.DefaultCatalog())
	require.NoError(t, err)
	require.NotNil(t, built.Config.StopTimeout)
	assert.Equal(t, 45, *built.Config.StopTimeout)
	assert.Equal(t, &container.HealthConfig{
		Test: []string{"CMD", "test", "-f", "/tmp/ready"}, Interval: 2 * time.Second, Retries: 4, StartPeriod: time.Minute,
	}, built.Config.Healthcheck)

	s.Readiness = &worker.Readiness{TCPSocket: &worker.TCPSocketProbe{Port: 80}, Period: "2s", FailureThreshold: 1}
	_, err = buildContainer(s, worker.DefaultCatalog())
	assert.ErrorContains(t, err, "exec probe")
}

func TestCheckRefusesNetworkProbes(t *testing.T) {
	s := baseSpec()
	s.Readiness = &worker.Readiness{HTTPGet: &worker.HTTPGetProbe{Path: "/", Port: 80, Scheme: "HTTP"}}
	problems := Check(s, worker.DefaultCatalog())
	require.Len(t, problems, 1)
	assert.Equal(t, "readiness.http_get", problems[0].Path.String())
	assert.False(t, problems[0].Warning)
}

func TestStopTimeoutIsTheGracePeriodWithinHalfTheDeleteTimeLeft(t *testing.T) {
	grace := 30
	assert.Equal(t, 10, *stopTimeout(context.Background(), nil), "unset: Docker's 10 s")
	assert.Equal(t, 30, *stopTimeout(context.Background(), &grace))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	assert.Equal(t, 9, *stopTimeout(ctx, &grace), "half of the 20 s left, rounded down")
}
