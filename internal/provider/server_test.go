package provider

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type payloadKey struct{}

// collectedAfter reports whether what a request's context carried is freed
// once the request is over, while the server lives on.
func collectedAfter(t *testing.T, srv tfprotov6.ProviderServer) bool {
	t.Helper()
	payload := new([1 << 16]byte)
	collected := make(chan struct{})
	runtime.AddCleanup(payload, func(ch chan struct{}) { close(ch) }, collected)
	ctx := context.WithValue(context.Background(), payloadKey{}, payload)
	_, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "hodei_worker"})
	require.NoError(t, err)
	defer runtime.KeepAlive(srv)
	for range 20 {
		runtime.GC()
		select {
		case <-collected:
			return true
		case <-time.After(10 * time.Millisecond):
		}
	}
	return false
}

// TestFrameworkKeepsRequestContexts is the reason for NewServer's wrapper:
// the framework's own server keeps every request's context (and what it
// carries) while the server lives. When this fails, the framework no longer
// does: delete the wrapper in server.go and this test.
func TestFrameworkKeepsRequestContexts(t *testing.T) {
	if collectedAfter(t, providerserver.NewProtocol6(New("test")())()) {
		t.Fatal("the framework alone let go of a request's context: it no longer leaks, so NewServer's wrapper (server.go) can go")
	}
}

// TestServerLetsGoOfRequestContexts: through NewServer, what a request's
// context carried is freed when the request ends.
func TestServerLetsGoOfRequestContexts(t *testing.T) {
	assert.True(t, collectedAfter(t, NewServer("test")()), "a request's context outlived the request through NewServer")
}

func TestDetachedContextDuringAndAfterTheCall(t *testing.T) {
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), payloadKey{}, "v"))
	var seen context.Context
	var derived context.Context
	_, err := detached(parent, 0, func(ctx context.Context, _ int) (int, error) {
		seen = ctx
		assert.Equal(t, "v", ctx.Value(payloadKey{}))
		var stop context.CancelFunc
		derived, stop = context.WithCancel(ctx)
		t.Cleanup(stop)
		cancel()
		// The request's cancellation reaches a context derived in the call.
		select {
		case <-derived.Done():
		case <-time.After(time.Second):
			t.Error("cancelling the request did not cancel a context derived from it")
		}
		return 0, nil
	})
	require.NoError(t, err)
	assert.Nil(t, seen.Value(payloadKey{}), "values after the call")
	assert.ErrorIs(t, seen.Err(), context.Canceled)
}
