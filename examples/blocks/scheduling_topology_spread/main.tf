# scheduling_topology_spread: two workers spread over zones.
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
  count = 2

  name    = "example-spread-${count.index}"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]
  labels  = { app = "example-spread" }

  scheduling {
    # At most one more app=example-spread pod in one zone than in another.
    topology_spread {
      max_skew           = 1
      topology_key       = "topology.kubernetes.io/zone"
      when_unsatisfiable = "DoNotSchedule"
      labels             = { app = "example-spread" } # default: the worker's own labels
    }

    # And, if possible, not two on one node.
    topology_spread {
      topology_key       = "kubernetes.io/hostname"
      when_unsatisfiable = "ScheduleAnyway"
    }
  }
}

output "node_names" {
  value = hodei_worker.this[*].node_name
}
