# scheduling_toleration: onto nodes tainted dedicated=batch:NoSchedule.
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
  name    = "example-toleration"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  scheduling {
    # The toleration lets the worker onto the tainted nodes; the node
    # selector keeps it there.
    node_selector = { dedicated = "batch" }

    toleration {
      key      = "dedicated"
      operator = "Equal"
      value    = "batch"
      effect   = "NoSchedule"
    }

    # Stay 60 s (instead of Kubernetes' default 300 s) on a node that became
    # unreachable before being evicted.
    toleration {
      key                = "node.kubernetes.io/unreachable"
      operator           = "Exists"
      effect             = "NoExecute"
      toleration_seconds = 60
    }
  }
}

output "node_name" {
  value = hodei_worker.this.node_name
}
