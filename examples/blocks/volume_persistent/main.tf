# volume_persistent: a persistent volume, mounted read-only.
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
  description = "Where the worker runs: \"docker\" or \"kubernetes\"."
  type        = string
  default     = "docker"
}

variable "image" {
  description = "Image of the worker; any image with a sleep command."
  type        = string
  default     = "hodei-test/busybox:latest"
}

variable "claim_name" {
  description = "On Kubernetes, an existing PersistentVolumeClaim of the worker's namespace; on Docker, a named volume, created when absent."
  type        = string
  default     = "example-datasets"
}

# The volume outlives the worker: destroying the worker keeps the claim (or
# the Docker volume) and its data.
resource "hodei_worker" "this" {
  name    = "example-volume-persistent"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  volume {
    name       = "datasets"
    mount_path = "/data"
    read_only  = true

    persistent {
      claim_name = var.claim_name
    }
  }
}

output "id" {
  value = hodei_worker.this.id
}
