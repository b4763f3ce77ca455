package provider

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// NewServer returns the provider's protocol 6 server: the framework's, with
// each per-resource request's context let go of when the request ends.
//
// The framework keeps the cancel function of every context it derives from a
// request until StopProvider, which Terraform sends only on an interrupt
// (registerContext in terraform-plugin-framework v1.19.0's proto6server).
// Through it, every request context stays reachable with what it carries: the
// SDK's per-request loggers, the gRPC stream and its metadata, about 14 KB a
// request. A plan of 300 workers (four requests each) held 16 MB that way by
// its end, and the collector scanned all of it on every cycle. The wrapper
// uses only the framework's public server and tfprotov6's interface.
// TestFrameworkKeepsRequestContexts fails once the framework no longer
// leaks, and then this wrapper can go; TestServerLetsGoOfRequestContexts
// proves the wrapper lets go.
func NewServer(version string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		return &server{ProviderServer: providerserver.NewProtocol6(New(version)())()}
	}
}

// server passes every call to the framework; the calls made once per
// resource instance, which are all but a handful of a run's, get a context
// that forgets the request's when the call returns.
type server struct {
	tfprotov6.ProviderServer
}

func (s *server) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	resp, err := detached(ctx, req, s.ProviderServer.ValidateResourceConfig)
	if resp != nil {
		for _, d := range resp.Diagnostics {
			if d.Summary == writeOnlyNotAllowed {
				d.Detail = strings.TrimSpace(strings.Replace(d.Detail, frameworkWriteOnlyClients, "", 1)) + " " + writeOnlyClients
			}
		}
	}
	return resp, err
}

// The framework refuses a write-only value from a client that does not
// announce write-only support, naming Terraform alone; OpenTofu has them
// from 1.11 too (TestWriteOnlyRefusedForOldTerraform).
const (
	writeOnlyNotAllowed       = "WriteOnly Attribute Not Allowed"
	frameworkWriteOnlyClients = "Write-only attributes are only supported in Terraform 1.11 and later."
	writeOnlyClients          = "Write-only attributes need Terraform 1.11 or later, or OpenTofu 1.11 or later."
)

func (s *server) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return detached(ctx, req, s.ProviderServer.UpgradeResourceState)
}

func (s *server) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return detached(ctx, req, s.ProviderServer.ReadResource)
}

func (s *server) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return detached(ctx, req, s.ProviderServer.PlanResourceChange)
}

func (s *server) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return detached(ctx, req, s.ProviderServer.ApplyResourceChange)
}

func (s *server) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return detached(ctx, req, s.ProviderServer.ImportResourceState)
}

func (s *server) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return detached(ctx, req, s.ProviderServer.ValidateDataResourceConfig)
}

func (s *server) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return detached(ctx, req, s.ProviderServer.ReadDataSource)
}

// detached calls call with a context that is ctx until call returns and a
// cancelled context without values after.
func detached[Req, Resp any](ctx context.Context, req Req, call func(context.Context, Req) (Resp, error)) (Resp, error) {
	rc := &requestContext{}
	rc.current.Store(&boxedContext{ctx})
	defer rc.current.Store(&boxedContext{endedContext})
	return call(rc, req)
}

// endedContext is what a request context becomes when its request ends.
var endedContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

type boxedContext struct{ context.Context }

// requestContext delegates to the context it currently holds. Value passes
// every key through, the context package's own included, so a context
// derived from it joins the request's cancellation tree directly, without a
// goroutine.
type requestContext struct {
	current atomic.Pointer[boxedContext]
}

func (c *requestContext) Deadline() (time.Time, bool) { return c.current.Load().Deadline() }
func (c *requestContext) Done() <-chan struct{}       { return c.current.Load().Done() }
func (c *requestContext) Err() error                  { return c.current.Load().Err() }
func (c *requestContext) Value(key any) any           { return c.current.Load().Value(key) }
