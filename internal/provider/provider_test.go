package provider

import (
	"context"
	"os"
	"testing"

	"github.com/docker/docker/client"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/stretchr/testify/require"
)

// testProviders serves the provider in process to the real Terraform CLI.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"hodei": func() (tfprotov6.ProviderServer, error) { return NewServer("test")(), nil },
}

// testImage is the busybox image that scripts/docker-up.sh imports.
const testImage = "hodei-test/busybox:latest"

// dockerTestClient talks to the daemon the acceptance tests use, to assert
// on what Docker really did.
func dockerTestClient(t *testing.T) *client.Client {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	require.NoError(t, err)
	_, err = cli.Ping(context.Background())
	require.NoError(t, err, "the acceptance tests need a Docker daemon at DOCKER_HOST (make test starts one)")
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}
