package provider

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/stretchr/testify/assert"
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

// unreachableKubernetes points the provider at an API server address where
// nothing listens, with a recognisable token: a Kubernetes worker that got
// past plan-time validation would show in the request log.
const unreachableKubernetes = `
provider "hodei" {
  host_path_allowlist = ["/srv/hodei"]
  docker { host = "unix:///nonexistent/hodei-test/docker.sock" }
  kubernetes {
    host     = "https://127.0.0.1:1"
    token    = "invalid-case-token"
    insecure = true
  }
}
`

type invalidCase struct {
	name   string
	k8s    bool   // kubernetes backend, against unreachableKubernetes
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
	{name: "wait_for", body: `wait_for = "healthy"`, expect: `(?s)wait_for.*value must be one of`},
	{name: "wait_for ready without readiness", body: `wait_for = "ready"`, expect: `(?s)wait_for.*Nothing to be ready`},
	{name: "grace period not a duration", body: `termination_grace_period = "30"`, expect: `(?s)termination_grace_period.*Invalid duration`},
	{name: "grace period fractional", body: `termination_grace_period = "2.5s"`, expect: `(?s)termination_grace_period.*whole number of seconds`},
	{name: "grace period negative", body: `termination_grace_period = "-5s"`, expect: `(?s)termination_grace_period.*outside`},
	{name: "grace period too long", body: `termination_grace_period = "3h"`, expect: `(?s)termination_grace_period.*outside`},
	{name: "readiness without a probe", body: `
  readiness { period = "5s" }`, expect: `(?s)readiness.*has 0 probes`},
	{name: "readiness with two probes", k8s: true, body: `
  readiness {
    exec { command = ["true"] }
    tcp_socket { port = 80 }
  }`, expect: `(?s)readiness.*has 2 probes`},
	{name: "readiness exec without command", body: `
  readiness {
    exec {}
  }`, expect: `(?s)readiness.exec.command.*Missing command`},
	{name: "readiness period zero", body: `
  readiness {
    exec { command = ["true"] }
    period = "0s"
  }`, expect: `(?s)readiness.period.*outside`},
	{name: "readiness initial delay not a duration", body: `
  readiness {
    exec { command = ["true"] }
    initial_delay = "soon"
  }`, expect: `(?s)readiness.initial_delay.*Invalid duration`},
	{name: "readiness failure threshold zero", body: `
  readiness {
    exec { command = ["true"] }
    failure_threshold = 0
  }`, expect: `(?s)readiness.failure_threshold.*between 1 and`},
	{name: "readiness http path relative", k8s: true, body: `
  readiness {
    http_get {
      path = "healthz"
      port = 8080
    }
  }`, expect: `(?s)readiness.http_get.path.*must start with`},
	{name: "readiness http scheme", k8s: true, body: `
  readiness {
    http_get {
      port   = 8080
      scheme = "FTP"
    }
  }`, expect: `(?s)readiness.http_get.scheme.*value must be one of`},
	{name: "readiness tcp port out of range", k8s: true, body: `
  readiness {
    tcp_socket { port = 70000 }
  }`, expect: `(?s)readiness.tcp_socket.port.*between 1 and 65535`},
	{name: "readiness tcp port missing", k8s: true, body: `
  readiness {
    tcp_socket {}
  }`, expect: `(?s)readiness.tcp_socket.port.*Invalid port`},
	{name: "readiness http_get on docker", body: `
  readiness {
    http_get { port = 8080 }
  }`, expect: `(?s)readiness.http_get.*Probe not available on Docker`},
	{name: "cpu not a quantity", body: `
  resources { cpu = "two" }`, expect: `(?s)resources.cpu.*Invalid quantity`},
	{name: "memory negative", body: `
  resources { memory = "-1Gi" }`, expect: `(?s)resources.memory.*greater than zero`},
	{name: "request above limit", body: `
  resources {
    memory       = "2Gi"
    memory_limit = "1Gi"
  }`, expect: `(?s)resources.memory.*Request above limit`},
	{name: "service account name invalid", body: `service_account_name = "Bad_Account"`, expect: `(?s)service_account_name.*not a DNS-1123 subdomain`},
	{name: "runtime class name invalid", body: `runtime_class_name = "nvidia runtime"`, expect: `(?s)runtime_class_name.*not a DNS-1123 subdomain`},
	{name: "shm size not a quantity", body: `shm_size = "big"`, expect: `(?s)shm_size.*Invalid quantity`},
	{name: "shm size zero", body: `shm_size = "0"`, expect: `(?s)shm_size.*greater than zero`},
	{name: "ephemeral storage not a quantity", body: `
  resources { ephemeral_storage = "lots" }`, expect: `(?s)resources.ephemeral_storage.*Invalid quantity`},
	{name: "ephemeral storage limit negative", body: `
  resources { ephemeral_storage_limit = "-1Gi" }`, expect: `(?s)resources.ephemeral_storage_limit.*greater than zero`},
	{name: "ephemeral storage above limit", body: `
  resources {
    ephemeral_storage       = "2Gi"
    ephemeral_storage_limit = "1Gi"
  }`, expect: `(?s)resources.ephemeral_storage.*Request above limit`},
	{name: "volume named like the shm volume", body: `
  volume {
    name       = "hodei-shm"
    mount_path = "/scratch"
    ephemeral {}
  }`, expect: `(?s)volume\[0\].name.*Reserved volume name`},
	{name: "volume at /dev/shm with shm_size", body: `
  shm_size = "1Gi"
  volume {
    name       = "shm"
    mount_path = "/dev/shm"
    ephemeral { medium = "Memory" }
  }`, expect: `(?s)volume\[0\].mount_path.*Mount path taken by shm_size`},
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
  }`, expect: `(?s)topology_spread\[0\].max_skew.*between 1 and 2147483647`},
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

	// Image pulls.
	{name: "pull policy unknown", body: `image_pull_policy = "Sometimes"`, expect: `(?s)image_pull_policy.*value must be one of`},
	{name: "pull policy lower case", k8s: true, body: `image_pull_policy = "always"`, expect: `(?s)image_pull_policy.*value must be one of`},
	{name: "pull secret not a subdomain", k8s: true, body: `image_pull_secrets = ["Reg_Cred"]`, expect: `(?s)image_pull_secrets\[0\].*not a DNS-1123 subdomain`},
	{name: "pull secret empty", k8s: true, body: `image_pull_secrets = ["regcred", ""]`, expect: `(?s)image_pull_secrets\[1\].*not a DNS-1123 subdomain`},
	{name: "pull secret twice", k8s: true, body: `image_pull_secrets = ["regcred", "regcred"]`, expect: `(?s)image_pull_secrets\[1\].*Duplicate image pull secret`},

	// Names.
	{name: "name with a leading dash", worker: "-trainer", expect: `(?s)name.*not a DNS-1123 label`},
	{name: "name with a dot", worker: "trainer.0", expect: `(?s)name.*not a DNS-1123 label`},
	{name: "image upper case", image: "Busybox:1.36", expect: `(?s)image.*Invalid image reference`},
	{name: "image bad digest", image: "busybox@sha256:xyz", expect: `(?s)image.*Invalid image reference`},
	{name: "env name with equals", body: `env = { "A=B" = "x" }`, expect: `(?s)env.*Invalid environment variable name`},
	{name: "restart policy lower case", body: `restart_policy = "always"`, expect: `(?s)restart_policy.*value must be one of`},

	// Labels and annotations.
	{name: "label key with two slashes", body: `labels = { "a/b/c" = "x" }`, expect: `(?s)labels.*Invalid labels`},
	{name: "label value with a space", body: `labels = { team = "ml team" }`, expect: `(?s)labels.*Invalid labels`},
	{name: "reserved managed-by label", body: `labels = { "app.kubernetes.io/managed-by" = "me" }`, expect: `(?s)labels.*Reserved label`},
	{name: "spec as a label", body: `labels = { "hodei.io/spec" = "x" }`, expect: `(?s)labels.*Reserved label`},
	{name: "provider label unknown", body: `labels = { "hodei.io/provider" = "nomad" }`, expect: `(?s)labels.*Invalid backend label`},
	{name: "reserved spec annotation", k8s: true, body: `annotations = { "hodei.io/spec" = "{}" }`, expect: `(?s)annotations.*Reserved annotation`},
	{name: "annotation name too long", k8s: true, body: fmt.Sprintf(`annotations = { %q = "x" }`, strings.Repeat("a", 64)), expect: `(?s)annotations.*Invalid annotations`},

	// Quantities.
	{name: "cpu limit zero", body: `
  resources { cpu_limit = "0" }`, expect: `(?s)resources.cpu_limit.*greater than zero`},
	{name: "memory limit unit", body: `
  resources { memory_limit = "1Gb" }`, expect: `(?s)resources.memory_limit.*Invalid quantity`},
	{name: "cpu request above limit", k8s: true, body: `
  resources {
    cpu       = "2"
    cpu_limit = "1500m"
  }`, expect: `(?s)resources.cpu.*Request above limit`},
	{name: "size limit negative", k8s: true, body: `
  volume {
    name       = "v"
    mount_path = "/v"
    ephemeral { size_limit = "-5Mi" }
  }`, expect: `(?s)volume\[0\].ephemeral.size_limit.*greater than zero`},

	// GPU types and counts.
	{name: "gpu type not in catalog", k8s: true, body: `
  gpu { type = "rtx4090" }`, expect: `(?s)gpu.type.*not in the catalog`},
	{name: "gpu count negative", body: `
  gpu {
    type  = "a100"
    count = -1
  }`, expect: `(?s)gpu.count.*between 1 and 16`},
	{name: "gpu allocation unknown", k8s: true, body: `
  gpu {
    type       = "a100"
    allocation = "mig"
  }`, expect: `(?s)gpu.allocation.*value must be one of`},
	{name: "gpu min_memory not a quantity", k8s: true, body: `
  gpu {
    type       = "a100"
    min_memory = "40 gigs"
  }`, expect: `(?s)gpu.min_memory.*quantity`},
	{name: "gpu min_memory zero", k8s: true, body: `
  gpu {
    type       = "a100"
    min_memory = "0"
  }`, expect: `(?s)gpu.min_memory.*greater than zero`},
	{name: "gpu product empty", k8s: true, body: `
  gpu {
    type    = "a100"
    product = []
  }`, expect: `(?s)gpu.product.*at least 1`},
	{name: "gpu product with quotes", k8s: true, body: `
  gpu {
    type    = "a100"
    product = ["NVIDIA \"A100\""]
  }`, expect: `(?s)gpu.product\[0\].*Invalid product name`},
	{name: "gpu product duplicate", k8s: true, body: `
  gpu {
    type    = "a100"
    product = ["NVIDIA A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB"]
  }`, expect: `(?s)gpu.product.*duplicate`},
	{name: "gpu product too long", k8s: true, body: fmt.Sprintf(`
  gpu {
    type    = "a100"
    product = [%q]
  }`, strings.Repeat("A", 64)), expect: `(?s)gpu.product.*length`},
	{name: "gpu mig_profile invalid", k8s: true, body: `
  gpu {
    type        = "h100"
    mig_profile = "1g10gb"
  }`, expect: `(?s)gpu.mig_profile.*Invalid MIG profile`},
	{name: "gpu mig_profile on amd", k8s: true, body: `
  gpu {
    type        = "mi100"
    mig_profile = "1g.10gb"
  }`, expect: `(?s)gpu.mig_profile.*MIG needs an NVIDIA GPU`},
	{name: "gpu min_memory on amd with the device plugin", k8s: true, body: `
  gpu {
    type       = "mi200"
    min_memory = "64Gi"
  }`, expect: `(?s)gpu.min_memory.*Needs allocation = "dra"`},
	{name: "gpu allocation dra on docker", body: `
  backend = "docker"
  gpu {
    type       = "a100"
    allocation = "dra"
  }`, expect: `(?s)gpu.allocation.*Kubernetes only`},
	{name: "gpu mig_profile on docker", body: `
  backend = "docker"
  gpu {
    type        = "a100"
    mig_profile = "1g.10gb"
  }`, expect: `(?s)gpu.mig_profile.*Kubernetes only`},
	{name: "gpu product on docker", body: `
  backend = "docker"
  gpu {
    type    = "a100"
    product = ["NVIDIA A100-SXM4-80GB"]
  }`, expect: `(?s)gpu.product.*Kubernetes only`},
	{name: "gpu min_memory on the default docker backend", body: `
  gpu {
    type       = "a100"
    min_memory = "40Gi"
  }`, expect: `(?s)gpu.min_memory.*Kubernetes only`},
	{name: "gpu node selector contradicts type", k8s: true, body: `
  gpu { type = "t4" }
  scheduling {
    node_selector = { accelerator = "nvidia-tesla-a100" }
  }`, expect: `(?s)scheduling.node_selector.*Node selector contradicts the GPU type`},

	// Volumes and host paths.
	{name: "volume name invalid", body: `
  volume {
    name       = "Data_Set"
    mount_path = "/v"
    ephemeral {}
  }`, expect: `(?s)volume\[0\].name.*DNS-1123 label`},
	{name: "mount path not clean", body: `
  volume {
    name       = "v"
    mount_path = "/data/../etc"
    ephemeral {}
  }`, expect: `(?s)volume\[0\].mount_path.*not in clean form`},
	{name: "mount path is the root", body: `
  volume {
    name       = "v"
    mount_path = "/"
    ephemeral {}
  }`, expect: `(?s)volume\[0\].mount_path.*hide the image's root file system`},
	{name: "sub path absolute", k8s: true, body: `
  volume {
    name       = "v"
    mount_path = "/v"
    sub_path   = "/etc"
    persistent { claim_name = "c" }
  }`, expect: `(?s)volume\[0\].sub_path.*without`},
	{name: "sub path climbs out", k8s: true, body: `
  volume {
    name       = "v"
    mount_path = "/v"
    sub_path   = "a/../../b"
    persistent { claim_name = "c" }
  }`, expect: `(?s)volume\[0\].sub_path.*without`},
	{name: "persistent without claim", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    persistent {}
  }`, expect: `(?s)volume\[0\].persistent.claim_name.*Missing claim name`},
	{name: "host path missing", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    host_path {}
  }`, expect: `(?s)volume\[0\].host_path.path.*Missing host path`},
	{name: "host path relative", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    host_path { path = "srv/hodei/x" }
  }`, expect: `(?s)volume\[0\].host_path.path.*absolute path in clean form`},
	{name: "host path climbs out of the allowlist", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    host_path { path = "/srv/hodei/../../etc" }
  }`, expect: `(?s)volume\[0\].host_path.path.*absolute path in clean form`},
	{name: "host path sibling of the allowlist", body: `
  volume {
    name       = "v"
    mount_path = "/v"
    host_path { path = "/srv/hodei-evil" }
  }`, expect: `(?s)volume\[0\].host_path.path.*outside the provider's host_path_allowlist`},
	{name: "host path docker socket on kubernetes", k8s: true, body: `
  volume {
    name       = "docker"
    mount_path = "/var/run/docker.sock"
    host_path {
      path = "/var/run/docker.sock"
      type = "Socket"
    }
  }`, expect: `(?s)volume\[0\].host_path.path.*outside the provider's host_path_allowlist`},

	// Scheduling: operators, weights, effects, spread.
	{name: "In without values", k8s: true, body: `
  scheduling {
    node_affinity {
      required = true
      match_expression {
        key      = "zone"
        operator = "In"
      }
    }
  }`, expect: `(?s)match_expression\[0\].values.*needs at least one value`},
	{name: "Lt with two values", k8s: true, body: `
  scheduling {
    node_affinity {
      required = true
      match_expression {
        key      = "gpu-count"
        operator = "Lt"
        values   = ["1", "2"]
      }
    }
  }`, expect: `(?s)match_expression\[0\].values.*exactly one integer`},
	{name: "match expression key invalid", k8s: true, body: `
  scheduling {
    node_affinity {
      required = true
      match_expression {
        key      = "bad key"
        operator = "Exists"
      }
    }
  }`, expect: `(?s)match_expression\[0\].key.*Invalid label key`},
	{name: "node affinity without expressions", k8s: true, body: `
  scheduling {
    node_affinity { required = true }
  }`, expect: `(?s)node_affinity\[0\].*Empty node affinity`},
	{name: "anti-affinity weight zero", k8s: true, body: `
  scheduling {
    pod_anti_affinity {
      labels = { app = "trainer" }
      weight = 0
    }
  }`, expect: `(?s)pod_anti_affinity\[0\].weight.*between 1 and 100`},
	{name: "pod affinity empty selector", k8s: true, body: `
  scheduling {
    pod_affinity { labels = {} }
  }`, expect: `(?s)pod_affinity\[0\].labels.*Empty label selector`},
	{name: "pod affinity namespace invalid", k8s: true, body: `
  scheduling {
    pod_affinity {
      labels     = { app = "cache" }
      namespaces = ["ML"]
    }
  }`, expect: `(?s)pod_affinity\[0\].namespaces.*DNS-1123 label`},
	{name: "pod affinity topology key invalid", k8s: true, body: `
  scheduling {
    pod_affinity {
      labels       = { app = "cache" }
      topology_key = "bad key!"
    }
  }`, expect: `(?s)pod_affinity\[0\].topology_key.*Invalid topology key`},
	{name: "priority class invalid", k8s: true, body: `
  scheduling { priority_class_name = "High_Priority" }`, expect: `(?s)scheduling.priority_class_name.*DNS-1123 subdomain`},
	{name: "node selector key invalid", k8s: true, body: `
  scheduling {
    node_selector = { "bad key" = "x" }
  }`, expect: `(?s)scheduling.node_selector.*Invalid labels`},
	{name: "toleration operator", k8s: true, body: `
  scheduling {
    toleration {
      key      = "dedicated"
      operator = "Matches"
    }
  }`, expect: `(?s)toleration\[0\].operator.*value must be one of`},
	{name: "toleration Equal without key", k8s: true, body: `
  scheduling {
    toleration {
      value  = "ml"
      effect = "NoSchedule"
    }
  }`, expect: `(?s)toleration\[0\].key.*Missing key`},
	{name: "toleration value invalid", k8s: true, body: `
  scheduling {
    toleration {
      key   = "dedicated"
      value = "m l"
    }
  }`, expect: `(?s)toleration\[0\].value.*Invalid value`},
	{name: "toleration effect lower case", k8s: true, body: `
  scheduling {
    toleration {
      key      = "dedicated"
      operator = "Exists"
      effect   = "noexecute"
    }
  }`, expect: `(?s)toleration\[0\].effect.*value must be one of`},
	{name: "spread topology key invalid", k8s: true, body: `
  scheduling {
    topology_spread { topology_key = "zone/a/b" }
  }`, expect: `(?s)topology_spread\[0\].topology_key.*Invalid topology key`},
	{name: "spread labels invalid", k8s: true, body: `
  scheduling {
    topology_spread {
      topology_key = "topology.kubernetes.io/zone"
      labels       = { app = "a b" }
    }
  }`, expect: `(?s)topology_spread\[0\].labels.*Invalid labels`},
	{name: "spread max skew negative", k8s: true, body: `
  scheduling {
    topology_spread {
      topology_key = "topology.kubernetes.io/zone"
      max_skew     = -3
    }
  }`, expect: `(?s)topology_spread\[0\].max_skew.*between 1 and 2147483647`},

	{name: "spread max skew beyond int32", k8s: true, body: `
  scheduling {
    topology_spread {
      topology_key = "topology.kubernetes.io/zone"
      max_skew     = 4294967297
    }
  }`, expect: `(?s)topology_spread\[0\].max_skew.*between 1 and 2147483647`},

	// Security.
	{name: "run_as_user beyond int32", k8s: true, body: `
  security { run_as_user = 4294967296 }`, expect: `(?s)security.run_as_user.*outside 0..2147483647`},
	{name: "run_as_group beyond int32", body: `
  security {
    run_as_user  = 1000
    run_as_group = 2147483648
  }`, expect: `(?s)security.run_as_group.*outside 0..2147483647`},
	{name: "run_as_user negative", body: `
  security { run_as_user = -1 }`, expect: `(?s)security.run_as_user.*Invalid user`},
	{name: "run_as_group negative", k8s: true, body: `
  security { run_as_group = -5 }`, expect: `(?s)security.run_as_group.*Invalid group`},
	{name: "capability lower case", body: `
  security { add_capabilities = ["net_admin"] }`, expect: `(?s)security.add_capabilities.*Unknown capability`},

	// Namespaces and backend selection.
	{name: "namespace too long", k8s: true, body: fmt.Sprintf(`namespace = %q`, strings.Repeat("n", 64)), expect: `(?s)namespace.*DNS-1123 label`},
	{name: "namespace via the provider label", body: `
  labels    = { "hodei.io/provider" = "kubernetes" }
  namespace = "-ml"`, expect: `(?s)namespace.*DNS-1123 label`},
	{name: "kubernetes backend, docker label", k8s: true, body: `labels = { "hodei.io/provider" = "docker" }`, expect: `(?s)backend.*Conflicting backend selection`},

	// Secret and ConfigMap references, write-only environment.
	{name: "env_from without a source", k8s: true, body: `
  env_from { prefix = "DB_" }`, expect: `(?s)env_from\[0\].*exactly one of secret_ref or config_map_ref`},
	{name: "env_from with both sources", k8s: true, body: `
  env_from {
    secret_ref     = "db"
    config_map_ref = "db"
  }`, expect: `(?s)env_from\[0\].*exactly one of secret_ref or config_map_ref`},
	{name: "env_from secret not a subdomain", k8s: true, body: `
  env_from { secret_ref = "DB_Creds" }`, expect: `(?s)env_from\[0\].secret_ref.*not a DNS-1123 subdomain`},
	{name: "env_from prefix invalid", k8s: true, body: `
  env_from {
    config_map_ref = "settings"
    prefix         = "1X"
  }`, expect: `(?s)env_from\[0\].prefix.*Invalid prefix`},
	{name: "secret_env name invalid", k8s: true, body: `
  secret_env {
    name   = "1PASSWORD"
    secret = "db"
    key    = "password"
  }`, expect: `(?s)secret_env\[0\].name.*Invalid environment variable name`},
	{name: "secret_env secret not a subdomain", k8s: true, body: `
  secret_env {
    name   = "PASSWORD"
    secret = "Db"
    key    = "password"
  }`, expect: `(?s)secret_env\[0\].secret.*not a DNS-1123 subdomain`},
	{name: "secret_env key invalid", k8s: true, body: `
  secret_env {
    name   = "PASSWORD"
    secret = "db"
    key    = "pass/word"
  }`, expect: `(?s)secret_env\[0\].key.*Invalid key`},
	{name: "config_env config map not a subdomain", k8s: true, body: `
  config_env {
    name       = "LEVEL"
    config_map = "settings_"
    key        = "level"
  }`, expect: `(?s)config_env\[0\].config_map.*not a DNS-1123 subdomain`},
	{name: "config_env duplicates env", k8s: true, body: `
  env = { LEVEL = "debug" }
  config_env {
    name       = "LEVEL"
    config_map = "settings"
    key        = "level"
  }`, expect: `(?s)config_env\[0\].name.*Duplicate environment variable`},
	{name: "secret_env_wo name invalid", body: `
  secret_env_wo = { "bad name" = "x" }`, expect: `(?s)secret_env_wo.*Invalid environment variable name`},
	{name: "secret_env_wo duplicates env", body: `
  env           = { TOKEN = "a" }
  secret_env_wo = { TOKEN = "b" }`, expect: `(?s)secret_env_wo.*Duplicate environment variable`},
	{name: "secret volume without name", k8s: true, body: `
  volume {
    name       = "creds"
    mount_path = "/creds"
    secret {}
  }`, expect: `(?s)volume\[0\].secret.name.*Missing name`},
	{name: "secret volume and ephemeral", k8s: true, body: `
  volume {
    name       = "creds"
    mount_path = "/creds"
    secret { name = "db" }
    ephemeral {}
  }`, expect: `(?s)volume\[0\].*has 2 sources`},
	{name: "config_map volume mode above 0777", k8s: true, body: `
  volume {
    name       = "settings"
    mount_path = "/etc/settings"
    config_map {
      name         = "settings"
      default_mode = "01777"
    }
  }`, expect: `(?s)volume\[0\].config_map.default_mode.*above 0777`},
	{name: "secret volume mode not octal", k8s: true, body: `
  volume {
    name       = "creds"
    mount_path = "/creds"
    secret {
      name         = "db"
      default_mode = "0644x"
    }
  }`, expect: `(?s)volume\[0\].secret.default_mode.*not an octal file mode`},
	{name: "secret volume item path with ..", k8s: true, body: `
  volume {
    name       = "creds"
    mount_path = "/creds"
    secret {
      name = "db"
      items {
        key  = "password"
        path = "../password"
      }
    }
  }`, expect: `(?s)volume\[0\].secret.items\[0\].path.*relative path without ".."`},
	{name: "config_map volume item path absolute", k8s: true, body: `
  volume {
    name       = "settings"
    mount_path = "/etc/settings"
    config_map {
      name = "settings"
      items {
        key  = "level"
        path = "/level"
      }
    }
  }`, expect: `(?s)volume\[0\].config_map.items\[0\].path.*relative path without ".."`},
	{name: "secret_env on docker", body: `
  backend = "docker"
  secret_env {
    name   = "PASSWORD"
    secret = "db"
    key    = "password"
  }`, expect: `(?s)secret_env.*Kubernetes only`},
	{name: "config_map volume on docker", body: `
  volume {
    name       = "settings"
    mount_path = "/etc/settings"
    config_map { name = "settings" }
  }`, expect: `(?s)volume\[0\].config_map.*Kubernetes only`},
}

// TestAccWorker_invalidConfigurationsFailAtPlan plans each invalid
// configuration and expects a diagnostic naming the attribute. Every
// provider process of the test counts its API requests into one request log
// (HODEI_REQUEST_LOG, set before the parallel subtests start and read after
// they all finish): it must stay empty.
func TestAccWorker_invalidConfigurationsFailAtPlan(t *testing.T) {
	if len(invalidCases) < 60 {
		t.Fatalf("only %d invalid cases", len(invalidCases))
	}
	requestLog := filepath.Join(t.TempDir(), "requests.log")
	t.Setenv(EnvRequestLog, requestLog)
	t.Run("cases", func(t *testing.T) {
		for _, c := range invalidCases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				resource.Test(t, resource.TestCase{
					ProtoV6ProviderFactories: testProviders,
					Steps: []resource.TestStep{{
						Config:      c.config(),
						PlanOnly:    true,
						ExpectError: expectAttributeError(c.expect),
					}},
				})
			})
		}
	})
	data, err := os.ReadFile(requestLog)
	switch {
	case errors.Is(err, fs.ErrNotExist) && os.Getenv("TF_ACC") != "":
		// Each provider opens the log when configured: a missing file
		// would mean the check saw nothing.
		t.Fatalf("no provider opened the request log %s", requestLog)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		t.Fatal(err)
	}
	assert.Empty(t, string(data), "invalid configurations must fail before any API request")
}

// config is the whole configuration of a case.
func (c invalidCase) config() string {
	workerName, image := c.worker, c.image
	if workerName == "" {
		workerName = "valid-name"
	}
	if image == "" {
		image = testImage
	}
	provider, body := unreachableDocker, c.body
	if c.k8s {
		provider = unreachableKubernetes
		body = "backend = \"kubernetes\"\n  " + body
	}
	return provider + fmt.Sprintf(`
resource "hodei_worker" "test" {
  name  = %q
  image = %q
  %s
}
`, workerName, image, body)
}

// TestInvalidCasesCoverBothBackends keeps the table honest without TF_ACC.
func TestInvalidCasesCoverBothBackends(t *testing.T) {
	names := map[string]bool{}
	k8s := 0
	for _, c := range invalidCases {
		assert.False(t, names[c.name], "duplicate case %q", c.name)
		names[c.name] = true
		if c.k8s || strings.Contains(c.body, `"kubernetes"`) {
			k8s++
		}
		assert.NotPanics(t, func() { expectAttributeError(c.expect) }, c.name)
	}
	assert.GreaterOrEqual(t, len(invalidCases), 60)
	assert.GreaterOrEqual(t, k8s, 20, "kubernetes-backend cases")
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
