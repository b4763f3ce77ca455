# secret_references: environment and files from Kubernetes Secrets and
# ConfigMaps (Kubernetes only: on a Docker worker these are a plan error).
#
# A complete root module: apply it with `terraform apply -var backend=kubernetes`
# (KUBECONFIG names the cluster). The Secret and ConfigMap must exist in the
# worker's namespace, e.g.
#   kubectl create secret generic example-db --from-literal=user=app --from-literal=password=s3cret
#   kubectl create configmap example-settings --from-literal=level=debug
terraform {
  required_providers {
    hodei = {
      source = "hodei-jobs/hodei"
    }
  }
}

variable "backend" {
  description = "Where the worker runs: \"kubernetes\" (Secrets and ConfigMaps exist there only)."
  type        = string
  default     = "kubernetes"
}

variable "image" {
  description = "Image of the worker; any image with a sleep command."
  type        = string
  default     = "hodei-test/busybox:latest"
}

resource "hodei_worker" "this" {
  name    = "example-secret-references"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  # Every key of the Secret, as DB_user and DB_password.
  env_from {
    secret_ref = "example-db"
    prefix     = "DB_"
  }
  # Every key of the ConfigMap; the pod starts even without it.
  env_from {
    config_map_ref = "example-settings"
    optional       = true
  }

  # One key each.
  secret_env {
    name   = "PASSWORD"
    secret = "example-db"
    key    = "password"
  }
  config_env {
    name       = "LOG_LEVEL"
    config_map = "example-settings"
    key        = "level"
  }

  # The password as the file /creds/db/password, readable by its owner and group.
  volume {
    name       = "creds"
    mount_path = "/creds"
    read_only  = true
    secret {
      name         = "example-db"
      default_mode = "0440"
      items {
        key  = "password"
        path = "db/password"
      }
    }
  }
  # Every key of the ConfigMap as a file under /etc/settings.
  volume {
    name       = "settings"
    mount_path = "/etc/settings"
    config_map {
      name = "example-settings"
    }
  }
}

output "id" {
  value = hodei_worker.this.id
}
