# The quickstart: a small pool of Hodei workers on the local Docker engine.
# `make demo` applies it through a development override of the provider.
terraform {
  required_providers {
    hodei = { source = "hodei-jobs/hodei" }
  }
}

variable "image" {
  description = "Worker image; make demo imports a busybox image under this name."
  type        = string
  default     = "hodei-test/busybox:latest"
}

variable "pool_size" {
  type    = number
  default = 3
}

provider "hodei" {
  default_backend = "docker"
}

resource "hodei_worker" "cpu" {
  count   = var.pool_size
  name    = "quickstart-cpu-${count.index}"
  image   = var.image
  command = ["sh", "-c"]
  args    = ["trap 'exit 0' TERM; while true; do sleep 1; done"]
  env     = { HODEI_POOL = "cpu", WORKER_INDEX = tostring(count.index) }
  labels  = { "hodei.io/pool" = "cpu" }

  resources {
    cpu          = "250m"
    cpu_limit    = "0.5"
    memory       = "32Mi"
    memory_limit = "64Mi"
  }

  volume {
    name       = "scratch"
    mount_path = "/scratch"
    ephemeral {
      medium     = "Memory"
      size_limit = "16Mi"
    }
  }
}

locals {
  table_row = "%-22s %-10s %-16s %-15s %-6s %s"
}

output "workers_table" {
  description = "One line per worker: where it runs and its status."
  value = join("\n", concat(
    [format(local.table_row, "WORKER", "BACKEND", "NODE", "IP", "GPU", "STATUS")],
    [for w in hodei_worker.cpu : format(local.table_row, w.name, w.backend, w.node_name, w.ip, "-", w.status)],
  ))
}
