# security: a non-root worker with a read-only root file system.
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

# Every worker runs without privilege escalation, with every capability
# dropped and RuntimeDefault seccomp. This one also runs as 1000:1000, refuses
# root and cannot write its root file system: on Kubernetes it satisfies the
# "restricted" Pod Security Standard.
resource "hodei_worker" "this" {
  name    = "example-security"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  security {
    run_as_user               = 1000
    run_as_group              = 1000
    run_as_non_root           = true
    read_only_root_filesystem = true
    add_capabilities          = ["NET_BIND_SERVICE"] # the only one "restricted" allows
  }

  # A writable folder despite the read-only root file system.
  volume {
    name       = "tmp"
    mount_path = "/tmp"

    ephemeral {
      medium     = "Memory"
      size_limit = "16Mi"
    }
  }
}

output "id" {
  value = hodei_worker.this.id
}
