package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

// unreachableDocker points the provider at a socket that does not exist: a
// configuration that got past plan-time validation would fail differently,
// so each matching error proves that nothing reached a daemon.
const unreachableDocker = `
provider "hodei" {
  host_path_allowlist = ["/srv/hodei"]
  docker { host = "unix:///nonexistent/hodei-test/docker.sock" }
}
`

type invalidCase struct {
	name   string
	body   string // inside the resource block, after name and image
	worker string // worker name; default "valid-name"
	image  string
	expect string // regexp: the attribute and what is wrong
}

var invalidCases = []invalidCase{
	{name: "name not DNS-1123", worker: "Bad_Name", expect: `(?s)name.*not a DNS-1123 label`},
	{name: "name too long", worker: "a123456789012345678901234567890123456789012345678901234567890123", expect: `(?s)name.*DNS-1123`},
	{name: "image with spaces", image: "bad image", expect: `(?s)image.*Invalid image reference`},
	{name: "backend unknown", body: `backend = "nomad"`, expect: `(?s)backend.*value must be one of`},
	{name: "backend disagrees with label", body: `
  backend = "docker"
  labels  = { "hodei.io/provider" = "kubernetes" }`, expect: `(?s)backend.*Conflicting backend selection`},
	{name: "label key invalid", body: `labels = { "bad key!" = "x" }`, expect: `(?s)labels.*Invalid labels`},
	{name: "label value too long", body: fmt.Sprintf(`labels = { team = %q }`, strings.Repeat("a", 64)), expect: `(?s)labels.*Invalid labels`},
	{name: "reserved label", body: `labels = { "hodei.io/worker" = "x" }`, expect: `(?s)labels.*Reserved label`},
	{name: "annotation key invalid", body: `annotations = { "-bad" = "x" }`, expect: `(?s)annotations.*Invalid annotations`},
	{name: "env name invalid", body: `env = { "1BAD" = "x" }`, expect: `(?s)env.*Invalid environment variable name`},
	{name: "working dir relative", body: `working_dir = "work"`, expect: `(?s)working_dir.*not an absolute path`},
	{name: "restart policy", body: `restart_policy = "Sometimes"`, expect: `(?s)restart_policy.*value must be one of`},
	{name: "wait_for", body: `wait_for = "ready"`, expect: `(?s)wait_for.*value must be one of`},
	{name: "cpu not a quantity", body: `
  resources { cpu = "two" }`, expect: `(?s)resources.cpu.*Invalid quantity`},
	{name: "memory negative", body: `
  resources { memory = "-1Gi" }`, expect: `(?s)resources.memory.*greater than zero`},
	{name: "request above limit", body: `
  resources {
    memory       = "2Gi"
    memory_limit = "1Gi"
  }`, expect: `(?s)resources.memory.*Request above limit`},
	{name: "gpu type unknown", body: `
  gpu { type = "a10O" }`, expect: `(?s)gpu.type.*did you mean "a100"`},
	{name: "gpu type missing", body: `
  gpu { count = 1 }`, expect: `(?s)gpu.type.*Missing GPU type`},
	{name: "gpu count too high", body: `
  gpu {
    type  = "t4"
    count = 17
  }`, expect: `(?s)gpu.count.*between 1 and 16`},
	{name: "gpu count zero", body: `
  gpu {
    type  = "t4"
    count = 0
  }`, expect: `(?s)gpu.count.*between 1 and 16`},
	{name: "mount path relative", body: `
  volume {
    name       = "v"
    mount_path = "data"
    ephemeral {}
  }`, expect: `(?s)volume\[0\].mount_path.*not an absolute path`},
	{name: "duplicate volume names", body: `
  volume {
    name       = "v"
    mount_path = "/a"
    ephemeral {}
  }
  volume {
    name       = "v"
    mount_path = "/b"
    ephemeral {}
  }`, expect: `(?s)volume\[1\].name.*Duplicate volume name`},
	{name: "duplicate mount paths", body: `
  volume {
    name       = "a"
    mount_path = "/data"
    ephemeral {}
  }
  volume {
    name       = "b"
    mount_path = "/data"
    ephemeral {}
  }`, expect: `(?s)volume\[1\].mount_path.*Duplicate mount path`},
	{name: "two volume sources", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    ephemeral {}
    persistent { claim_name = "c" }
  }`, expect: `(?s)volume\[0\].*has 2 sources`},
	{name: "no volume source", body: `
  volume {
    name       = "v"
    mount_path = "/v"
  }`, expect: `(?s)volume\[0\].*has 0 sources`},
	{name: "ephemeral medium", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    ephemeral { medium = "HugePages" }
  }`, expect: `(?s)volume\[0\].ephemeral.medium.*value must be one of`},
	{name: "size limit not a quantity", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    ephemeral { size_limit = "big" }
  }`, expect: `(?s)volume\[0\].ephemeral.size_limit.*Invalid quantity`},
	{name: "host path outside allowlist", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    host_path { path = "/etc" }
  }`, expect: `(?s)volume\[0\].host_path.path.*outside the provider's host_path_allowlist`},
	{name: "host path type", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    host_path {
      path = "/srv/hodei/x"
      type = "Folder"
    }
  }`, expect: `(?s)volume\[0\].host_path.type.*value must be one of`},
	{name: "claim name invalid", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    persistent { claim_name = "Bad_Claim" }
  }`, expect: `(?s)volume\[0\].persistent.claim_name.*DNS-1123 subdomain`},
	{name: "node affinity operator", body: `
  scheduling {
    node_affinity {
      required = true
      match_expression {
        key      = "zone"
        operator = "Near"
      }
    }
  }`, expect: `(?s)scheduling.node_affinity\[0\].match_expression\[0\].operator.*value must be one of`},
	{name: "Gt needs an integer", body: `
  scheduling {
    node_affinity {
      required = true
      match_expression {
        key      = "gpu-count"
        operator = "Gt"
        values   = ["many"]
      }
    }
  }`, expect: `(?s)match_expression\[0\].values.*needs an integer`},
	{name: "Exists takes no values", body: `
  scheduling {
    node_affinity {
      required = true
      match_expression {
        key      = "gpu"
        operator = "Exists"
        values   = ["x"]
      }
    }
  }`, expect: `(?s)match_expression\[0\].values.*takes no values`},
	{name: "weight out of range", body: `
  scheduling {
    node_affinity {
      weight = 101
      match_expression {
        key      = "zone"
        operator = "Exists"
      }
    }
  }`, expect: `(?s)node_affinity\[0\].weight.*between 1 and 100`},
	{name: "weight on a required term", body: `
  scheduling {
    pod_affinity {
      labels   = { app = "cache" }
      required = true
      weight   = 10
    }
  }`, expect: `(?s)pod_affinity\[0\].weight.*preferred terms only`},
	{name: "toleration effect", body: `
  scheduling {
    toleration {
      key    = "dedicated"
      value  = "ml"
      effect = "NoRun"
    }
  }`, expect: `(?s)toleration\[0\].effect.*value must be one of`},
	{name: "toleration Exists with value", body: `
  scheduling {
    toleration {
      key      = "dedicated"
      operator = "Exists"
      value    = "ml"
    }
  }`, expect: `(?s)toleration\[0\].value.*takes no value`},
	{name: "toleration seconds without NoExecute", body: `
  scheduling {
    toleration {
      key                = "dedicated"
      operator           = "Exists"
      effect             = "NoSchedule"
      toleration_seconds = 30
    }
  }`, expect: `(?s)toleration\[0\].toleration_seconds.*NoExecute`},
	{name: "spread when_unsatisfiable", body: `
  scheduling {
    topology_spread {
      topology_key       = "topology.kubernetes.io/zone"
      when_unsatisfiable = "Ignore"
    }
  }`, expect: `(?s)topology_spread\[0\].when_unsatisfiable.*value must be one of`},
	{name: "spread max skew", body: `
  scheduling {
    topology_spread {
      topology_key = "topology.kubernetes.io/zone"
      max_skew     = 0
    }
  }`, expect: `(?s)topology_spread\[0\].max_skew.*at least 1`},
	{name: "capability unknown", body: `
  security { add_capabilities = ["CAP_NET_ADMIN"] }`, expect: `(?s)security.add_capabilities.*without CAP_`},
	{name: "root with run_as_non_root", body: `
  security {
    run_as_non_root = true
    run_as_user     = 0
  }`, expect: `(?s)security.run_as_user.*run_as_non_root`},
	{name: "namespace invalid", body: `
  backend   = "kubernetes"
  namespace = "ML_Team"`, expect: `(?s)namespace.*DNS-1123 label`},
}

func TestAccWorker_invalidConfigurationsFailAtPlan(t *testing.T) {
	if len(invalidCases) < 25 {
		t.Fatalf("only %d invalid cases", len(invalidCases))
	}
	for _, c := range invalidCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			workerName, image := c.worker, c.image
			if workerName == "" {
				workerName = "valid-name"
			}
			if image == "" {
				image = testImage
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config: unreachableDocker + fmt.Sprintf(`
resource "hodei_worker" "test" {
  name  = %q
  image = %q
  %s
}
`, workerName, image, c.body),
					PlanOnly:    true,
					ExpectError: expectAttributeError(c.expect),
				}},
			})
		})
	}
}

// expectAttributeError matches "(?s)<attribute>.*<message>" in either order,
// since Terraform prints the summary before the detail that names the
// attribute, and across its line wrapping.
func expectAttributeError(expect string) *regexp.Regexp {
	attr, msg, _ := strings.Cut(strings.TrimPrefix(expect, "(?s)"), ".*")
	attr = strings.ReplaceAll(attr, " ", `\s+`)
	msg = strings.ReplaceAll(msg, " ", `\s+`)
	return regexp.MustCompile(fmt.Sprintf(`(?s)(?:%s.*%s|%s.*%s)`, attr, msg, msg, attr))
}
