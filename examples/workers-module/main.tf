# A reusable pool of Hodei workers. The same module runs on a laptop's Docker
# engine and on a Kubernetes cluster: only `backend` changes.
#
#   module "builders" {
#     source       = "./workers-module"
#     backend      = "kubernetes"
#     name_prefix  = "builder"
#     worker_count = 3
#   }
#
# It is also a complete root module: `terraform apply` makes two workers on
# Docker with the defaults below.
terraform {
  required_providers {
    hodei = {
      source = "hodei-jobs/hodei"
    }
  }
}

variable "backend" {
  description = "Where the workers run: \"docker\" or \"kubernetes\"."
  type        = string
  default     = "docker"
}

variable "image" {
  description = "Image of the workers."
  type        = string
  default     = "hodei-test/busybox:latest"
}

variable "name_prefix" {
  description = "Workers are named <name_prefix>-0, <name_prefix>-1, ..."
  type        = string
  default     = "pool"
}

# `count` is a name Terraform reserves for its own meta-argument, so the
# number of workers is `worker_count`.
variable "worker_count" {
  description = "How many workers."
  type        = number
  default     = 2
}

resource "hodei_worker" "this" {
  count = var.worker_count

  name    = "${var.name_prefix}-${count.index}"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]
  labels  = { app = var.name_prefix }

  resources {
    cpu          = "100m"
    memory       = "32Mi"
    memory_limit = "64Mi"
  }

  volume {
    name       = "scratch"
    mount_path = "/scratch"

    ephemeral {
      medium     = "Memory"
      size_limit = "32Mi"
    }
  }

  # Ignored on Docker (with a warning); on Kubernetes, at most one worker of
  # the pool per node when the cluster has room.
  dynamic "scheduling" {
    for_each = var.backend == "kubernetes" ? [1] : []
    content {
      pod_anti_affinity {
        labels = { app = var.name_prefix }
        weight = 100
      }
    }
  }
}

output "ids" {
  description = "The workers' ids: docker/<name> or kubernetes/<namespace>/<name>."
  value       = hodei_worker.this[*].id
}

output "nodes" {
  description = "Where each worker runs."
  value       = { for w in hodei_worker.this : w.name => w.node_name }
}
