# timeouts: how long create, update and delete may take, and what create waits for.
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
  name           = "example-timeouts"
  backend        = var.backend
  image          = var.image
  command        = ["sleep", "3600"]
  restart_policy = "OnFailure"

  # Pull the image only when the engine or node lacks it (the Docker default;
  # Kubernetes's default for a tag other than :latest). "Always" pulls before
  # every create, "Never" requires a local image. Changing it replaces the worker.
  image_pull_policy = "IfNotPresent"

  # Create returns once the worker runs (on Docker: has stayed up for 1 s).
  # "scheduled" returns once the pod is bound to a node; "none" at once.
  wait_for = "running"

  # A worker found Succeeded or Failed on refresh is planned for replacement.
  recreate_on_exit = true

  # These three are kept in state only: changing them changes no worker.
  timeouts {
    create = "2m" # a pod still unschedulable then fails with the scheduler's message
    update = "2m"
    delete = "1m"
  }
}

output "status" {
  value = hodei_worker.this.status
}
