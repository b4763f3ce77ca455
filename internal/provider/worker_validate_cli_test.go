package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// planOnlyCases are the invalid cases whose rule needs the provider's
// configuration or the resolved backend, so that `terraform validate`
// cannot know them: the GPU catalog (gpu_type adds to it), the host path
// allowlist, and what the chosen backend can honour.
var planOnlyCases = map[string]string{
	"gpu type unknown":                             "the provider's gpu_type blocks add to the catalog",
	"gpu type not in catalog":                      "the provider's gpu_type blocks add to the catalog",
	"gpu node selector contradicts type":           "the node label comes from the catalog and gpu_node_label_key",
	"gpu mig_profile on amd":                       "the vendor of a type comes from the catalog, which gpu_type adds to",
	"gpu min_memory on amd with the device plugin": "the vendor comes from the catalog, and the allocation from the provider's gpu_allocation",
	"gpu min_memory on the default docker backend": "the backend is resolved at plan (attribute, label, or the provider's default_backend)",
	"host path outside allowlist":                  "host_path_allowlist is a provider setting",
	"host path sibling of the allowlist":           "host_path_allowlist is a provider setting",
	"host path docker socket on kubernetes":        "host_path_allowlist is a provider setting",
	"secret_env on docker":                         "Kubernetes-only settings are refused for the resolved backend, known at plan",
	"config_map volume on docker":                  "Kubernetes-only settings are refused for the resolved backend, known at plan",
	"readiness http_get on docker":                 "the backend is resolved at plan (attribute, label, or the provider's default_backend)",
}

// TestAccWorker_invalidConfigurationsFailAtValidate runs `terraform validate`
// over every invalid case at once, with no provider block and no engine
// address in the environment, as CI does before it has credentials: each
// case that needs only its configuration must be reported, naming its
// attribute.
func TestAccWorker_invalidConfigurationsFailAtValidate(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	dir := t.TempDir()
	var module strings.Builder
	module.WriteString(requiredProvider)
	for i, c := range invalidCases {
		workerName, image := c.worker, c.image
		if workerName == "" {
			workerName = "valid-name"
		}
		if image == "" {
			image = testImage
		}
		body := c.body
		if c.k8s {
			body = "backend = \"kubernetes\"\n  " + body
		}
		fmt.Fprintf(&module, "\nresource \"hodei_worker\" \"case_%d\" {\n  name  = %q\n  image = %q\n  %s\n}\n", i, workerName, image, body)
	}
	// Values validate cannot know (another resource's output) hide only the
	// problems they may cause: a bad key beside an unknown value in a map is
	// still reported, an unknown capability is not guessed at.
	fmt.Fprintf(&module, `
resource "terraform_data" "later" { input = "NET_ADMIN" }
resource "hodei_worker" "unknowns" {
  name  = "valid-name"
  image = %q
  env   = { URL = terraform_data.later.output, "1BAD" = "x" }
  security { add_capabilities = [terraform_data.later.output] }
}
`, testImage)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(module.String()), 0o600))
	env := cliEnv(t, "DOCKER_HOST=unix:///nonexistent/docker.sock", "KUBECONFIG=/nonexistent/kubeconfig")
	out, err := runTerraformCLI(dir, env, "validate", "-no-color")
	require.Error(t, err, "validate must fail:\n%s", out)

	// Each diagnostic says which resource it is about ("with hodei_worker.case_N").
	byCase := map[string]string{}
	with := regexp.MustCompile(`with hodei_worker\.(case_\d+|unknowns)`)
	for _, block := range strings.Split(out, "Error: ")[1:] {
		if m := with.FindStringSubmatch(block); m != nil {
			byCase[m[1]] += block
		}
	}
	var reported int
	var missed []string
	for i, c := range invalidCases {
		text := byCase[fmt.Sprintf("case_%d", i)]
		if expectAttributeError(c.expect).MatchString(text) {
			reported++
			assert.NotContains(t, planOnlyCases, c.name, "reported at validate: drop it from planOnlyCases")
			continue
		}
		if _, planOnly := planOnlyCases[c.name]; !planOnly {
			missed = append(missed, fmt.Sprintf("%s (got: %q)", c.name, strings.TrimSpace(text)))
		}
	}
	assert.Regexp(t, expectAttributeError(`(?s)env.*Invalid environment variable name`), byCase["unknowns"])
	assert.NotContains(t, byCase["unknowns"], "capability")
	sort.Strings(missed)
	assert.Empty(t, missed, "cases that need only the configuration but validate did not report")
	assert.GreaterOrEqual(t, reported, 30)
	t.Logf("terraform validate reported %d of %d invalid configurations; %d need the provider's configuration", reported, len(invalidCases), len(planOnlyCases))
}
