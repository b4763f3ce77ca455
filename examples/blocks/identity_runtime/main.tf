# identity_runtime: the service account, its API token, the container
# runtime and the size of /dev/shm.
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

variable "runtime_class" {
  description = "A RuntimeClass of the cluster (or a runtime of the Docker daemon), e.g. \"nvidia\"; null for the default runtime."
  type        = string
  default     = null
}

resource "hodei_worker" "this" {
  name    = "example-identity"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  # Kubernetes only: the pod's ServiceAccount. Workers get no API token
  # unless they ask (a plain pod gets one unless it says otherwise).
  service_account_name            = "default"
  automount_service_account_token = false

  # The pod's runtimeClassName, or the Docker daemon's runtime.
  runtime_class_name = var.runtime_class

  # /dev/shm for PyTorch data loaders and NCCL: Docker's ShmSize, a memory
  # emptyDir on Kubernetes (counted against the memory limit).
  shm_size = "256Mi"

  resources {
    memory_limit = "512Mi"
  }
}

output "id" {
  value = hodei_worker.this.id
}
