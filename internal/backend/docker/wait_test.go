package docker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hodei-jobs/terraform-provider-hodei/internal/worker"
)

// fakeDaemon answers the three calls of startAndWait: an event stream that
// stays quiet, a start, and an inspect of a running container, which it
// counts.
func fakeDaemon(t *testing.T) (*Driver, *atomic.Int32) {
	t.Helper()
	var inspects atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/events"):
			w.WriteHeader(http.StatusOK)
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			<-r.Context().Done()
		case strings.HasSuffix(r.URL.Path, "/start"):
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.URL.Path, "/json"):
			inspects.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"Id":"c1","State":{"Status":"running","Running":true}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	cli, err := client.NewClientWithOpts(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithVersion("1.41"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	return NewDriver(cli, worker.DefaultCatalog(), nil), &inspects
}

// An empty wait_for means the default, running, as on Kubernetes: the
// container is watched through the startup window and inspected after it.
// none and scheduled return once the container is started.
func TestStartAndWaitReadsEmptyWaitForAsRunning(t *testing.T) {
	for _, tc := range []struct {
		waitFor worker.WaitFor
		watches bool
	}{
		{"", true},
		{worker.WaitRunning, true},
		{worker.WaitScheduled, false},
		{worker.WaitNone, false},
	} {
		name := string(tc.waitFor)
		if name == "" {
			name = "unset"
		}
		t.Run(name, func(t *testing.T) {
			d, inspects := fakeDaemon(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			info, err := d.startAndWait(ctx, "c1", tc.waitFor)
			require.NoError(t, err)
			assert.Equal(t, tc.watches, info != nil, "inspect returned")
			assert.Equal(t, tc.watches, inspects.Load() > 0, "inspected after the startup window")
		})
	}
}

func TestStartupWindowFollowsTheStart(t *testing.T) {
	assert.Equal(t, minStartupWindow, startupWindow(time.Millisecond), "a fast start still waits for an immediate exit's event")
	assert.Equal(t, 300*time.Millisecond, startupWindow(1200*time.Millisecond))
	assert.Equal(t, maxStartupWindow, startupWindow(10*time.Second), "a slow daemon waits no longer than the old fixed window")
}
