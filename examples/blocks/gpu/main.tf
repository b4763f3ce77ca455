# gpu: two A100 GPUs from the built-in catalog.
#
# A complete root module: apply it with `terraform apply` on Kubernetes (the
# default) or with `-var backend=docker`. The provider takes its settings
# from the environment (DOCKER_HOST, KUBECONFIG, HODEI_DEFAULT_BACKEND).
terraform {
  required_providers {
    hodei = {
      source = "hodei-jobs/hodei"
    }
  }
}

variable "backend" {
  description = "Where the worker runs: \"docker\" or \"kubernetes\". A GPU worker needs a GPU node; on a Docker engine without an NVIDIA runtime it fails to start."
  type        = string
  default     = "kubernetes"
}

variable "image" {
  description = "Image of the worker; any image with a sleep command."
  type        = string
  default     = "hodei-test/busybox:latest"
}

# On Kubernetes the pod requests and limits 2 nvidia.com/gpu, selects nodes
# labelled accelerator=nvidia-tesla-a100 and tolerates the nvidia.com/gpu
# taint. On Docker it gets an NVIDIA device request for 2 GPUs.
resource "hodei_worker" "this" {
  name    = "example-gpu"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  gpu {
    count = 2
    type  = "A100" # any case: the same as "a100"
  }
}

output "gpu_vendor" {
  value = hodei_worker.this.gpu.vendor # "nvidia"
}

output "gpu_resource_name" {
  value = hodei_worker.this.gpu.resource_name # "nvidia.com/gpu"
}

output "node_name" {
  value = hodei_worker.this.node_name
}
