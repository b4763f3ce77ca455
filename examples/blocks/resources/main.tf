# resources: CPU, memory and ephemeral storage requests and limits.
#
# A complete root module: apply it with `terraform apply` on Docker (the
# default) or with `-var backend=kubernetes`. The provider takes its
# settings from the environment (DOCKER_HOST, KUBECONFIG, HODEI_DEFAULT_BACKEND).
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

resource "hodei_worker" "this" {
  name    = "example-resources"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  resources {
    cpu          = "250m"  # request: CPU shares on Docker
    memory       = "64Mi"  # request: memory reservation on Docker
    cpu_limit    = "0.5"   # same as "500m"
    memory_limit = "128Mi" # hard limit, no swap

    # Node disk for the container's writable layer, logs and emptyDirs:
    # Kubernetes only (on Docker a plan warning says it is not honoured).
    ephemeral_storage       = "1Gi"
    ephemeral_storage_limit = "2Gi" # the kubelet evicts a pod that writes more
  }
}

output "id" {
  value = hodei_worker.this.id
}

output "status" {
  value = hodei_worker.this.status
}
