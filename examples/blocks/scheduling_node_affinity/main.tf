# scheduling_node_affinity: required and preferred node affinity.
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
  name    = "example-node-affinity"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  scheduling {
    # Required: only nodes of these instance types. Required terms are ORed;
    # the match expressions of one term are ANDed.
    node_affinity {
      required = true

      match_expression {
        key      = "node.kubernetes.io/instance-type"
        operator = "In"
        values   = ["standard-16", "standard-32"]
      }
    }

    # Preferred: zone-a when it has room.
    node_affinity {
      weight = 50

      match_expression {
        key      = "topology.kubernetes.io/zone"
        operator = "In"
        values   = ["zone-a"]
      }
    }
  }
}

output "node_name" {
  value = hodei_worker.this.node_name
}
