# secret_env_wo: a secret environment variable that Terraform never stores.
#
# A complete root module: apply it with `terraform apply` on Docker (the
# default) or with `-var backend=kubernetes`. The provider takes its settings
# from the environment (DOCKER_HOST, KUBECONFIG, HODEI_DEFAULT_BACKEND).
# Write-only attributes need Terraform 1.11 or later.
terraform {
  required_version = ">= 1.11"
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

# Ephemeral: the value is in no plan file and no state. Give it with
# TF_VAR_api_token (or from an ephemeral resource); the default only lets the
# example apply as it is.
variable "api_token" {
  description = "The token the worker reads as API_TOKEN."
  type        = string
  sensitive   = true
  ephemeral   = true
  default     = "example-token"
}

variable "api_token_version" {
  description = "Change it to deliver a new api_token: the worker is replaced."
  type        = number
  default     = 1
}

resource "hodei_worker" "this" {
  name    = "example-secret-env-wo"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  # Values shown as (sensitive value) in plans; they are kept in state.
  env = { LOG_LEVEL = "info" }

  # On Kubernetes: the Secret example-secret-env-wo-hodei-env, owned by the
  # pod; on Docker: the container's environment.
  secret_env_wo         = { API_TOKEN = var.api_token }
  secret_env_wo_version = var.api_token_version
}

output "id" {
  value = hodei_worker.this.id
}
