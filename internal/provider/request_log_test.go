package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAccRequestLogCountsDockerRequests checks the counting transport the
// benchmarks rely on: a refresh of one worker is one inspect.
func TestAccRequestLogCountsDockerRequests(t *testing.T) {
	dockerTestClient(t)
	log := filepath.Join(t.TempDir(), "requests.log")
	t.Setenv(EnvRequestLog, log)
	name := randomName("count")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{Config: simpleWorker(name, "")},
			{
				PreConfig: func() { require.NoError(t, os.Truncate(log, 0)) },
				Config:    simpleWorker(name, ""),
				PlanOnly:  true,
			},
			{
				PreConfig: func() {
					data, err := os.ReadFile(log)
					require.NoError(t, err)
					var inspects int
					for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
						if strings.HasPrefix(line, "docker GET ") && strings.HasSuffix(line, "/containers/"+name+"/json") {
							inspects++
						}
					}
					assert.Equal(t, 1, inspects, "one inspect per refresh:\n%s", data)
					assert.Equal(t, 1, strings.Count(string(data), "/_ping"), "one ping per provider process:\n%s", data)
				},
				Config:   simpleWorker(name, ""),
				PlanOnly: true,
			},
		},
	})
}
