# readiness: a readiness probe, create waiting for it, and the grace period
# a stopping worker gets.
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
  description = "Image of the worker; any image with sh, touch, test and sleep."
  type        = string
  default     = "hodei-test/busybox:latest"
}

resource "hodei_worker" "this" {
  name    = "example-readiness"
  backend = var.backend
  image   = var.image
  # The worker says it is ready by creating a file.
  command = ["sh", "-c", "touch /tmp/ready; exec sleep 3600"]

  # Create returns once the probe passes: the pod's Ready condition on
  # Kubernetes, health status "healthy" on Docker. A worker that is not
  # ready within timeouts.create (or turns unhealthy on Docker) fails the
  # create with the probe's last message and is removed.
  wait_for = "ready"

  # The container's readinessProbe on Kubernetes, its HEALTHCHECK on
  # Docker. exec works on both backends; http_get and tcp_socket on
  # Kubernetes only. Changing the block replaces the worker.
  readiness {
    exec {
      command = ["test", "-f", "/tmp/ready"]
    }
    period            = "2s" # default "10s"
    failure_threshold = 3    # default 3
    initial_delay     = "0s" # default "0s"
  }

  # SIGTERM, then this long before SIGKILL: terminationGracePeriodSeconds
  # on Kubernetes, the container's StopTimeout on Docker. Delete stops
  # within timeouts.delete; on Docker the stop gets at most half of the
  # time left. Changing it replaces the worker.
  termination_grace_period = "10s"

  timeouts {
    create = "2m"
    delete = "1m" # more than the grace period, so that a stop can use it all
  }
}

output "status" {
  value = hodei_worker.this.status
}
