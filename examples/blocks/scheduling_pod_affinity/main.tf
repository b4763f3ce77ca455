# scheduling_pod_affinity: near the pods of a cache, away from its own kind.
#
# A complete root module: apply it with `terraform apply` on Docker (the
# default) or with `-var backend=kubernetes`. The provider takes its settings
# from the environment (DOCKER_HOST, KUBECONFIG, HODEI_DEFAULT_BACKEND).
terraform {
  required_providers {
    hodei = {
      source = "hodei-jobs/hodei"
    }
  }
}

variable "backend" {
  description = "Where the worker runs: \"docker\" or \"kubernetes\". Docker has one host: it ignores scheduling, with a plan warning that names each setting."
  type        = string
  default     = "docker"
}

variable "image" {
  description = "Image of the worker; any image with a sleep command."
  type        = string
  default     = "hodei-test/busybox:latest"
}

resource "hodei_worker" "this" {
  name    = "example-pod-affinity"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]
  labels  = { app = "example-inference" }

  scheduling {
    # Preferred: the same zone as the pods labelled app=cache.
    pod_affinity {
      labels       = { app = "cache" }
      topology_key = "topology.kubernetes.io/zone"
      weight       = 100
    }

    # Required: never on a node (the default topology key,
    # kubernetes.io/hostname) that already runs another app=example-inference pod.
    pod_anti_affinity {
      labels   = { app = "example-inference" }
      required = true
    }
  }
}

output "node_name" {
  value = hodei_worker.this.node_name
}
