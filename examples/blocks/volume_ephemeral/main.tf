# volume_ephemeral: scratch space that lives and dies with the worker.
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

resource "hodei_worker" "this" {
  name    = "example-volume-ephemeral"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  # In memory: an emptyDir with medium Memory on Kubernetes, a tmpfs of
  # 64 MiB on Docker.
  volume {
    name       = "scratch"
    mount_path = "/scratch"

    ephemeral {
      medium     = "Memory"
      size_limit = "64Mi"
    }
  }

  # On disk: an emptyDir on Kubernetes, an anonymous volume on Docker that is
  # removed with the container. (A size_limit here is enforced on Kubernetes
  # only; Docker warns that it cannot.)
  volume {
    name       = "cache"
    mount_path = "/cache"

    ephemeral {}
  }
}

output "id" {
  value = hodei_worker.this.id
}
