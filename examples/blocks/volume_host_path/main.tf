# volume_host_path: a folder of the host, mounted read-only.
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

variable "host_dir" {
  description = "Folder of the host (the Kubernetes node, or the machine of the Docker engine) to mount. It must lie under the provider's host_path_allowlist when one is set."
  type        = string
  default     = "/tmp"
}

resource "hodei_worker" "this" {
  name    = "example-volume-host-path"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  # A hostPath volume on Kubernetes, a bind mount on Docker.
  volume {
    name       = "models"
    mount_path = "/models"
    read_only  = true

    host_path {
      path = var.host_dir
      type = "Directory" # the folder must exist; "DirectoryOrCreate" makes it
    }
  }
}

output "id" {
  value = hodei_worker.this.id
}
