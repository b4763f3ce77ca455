# gpu with Dynamic Resource Allocation: two GPUs of at least 60 GiB each,
# claimed by attribute, and the devices the scheduler allocated.
#
# A complete root module for a Kubernetes cluster with a DRA GPU driver
# (NVIDIA's k8s-dra-driver-gpu, or the devcluster's simulation of it). The
# provider takes its settings from the environment (KUBECONFIG).
terraform {
  required_providers {
    hodei = {
      source = "hodei-jobs/hodei"
    }
  }
}

variable "backend" {
  description = "Must be \"kubernetes\": DRA is a Kubernetes API; on Docker, allocation = \"dra\" is a validate-time error."
  type        = string
  default     = "kubernetes"
}

variable "image" {
  description = "Image of the worker; any image with a sleep command."
  type        = string
  default     = "hodei-test/busybox:latest"
}

# The provider makes a ResourceClaimTemplate "example-gpu-dra" that requests
# exactly 2 devices of the DeviceClass gpu.nvidia.com with the CEL selectors
#   device.attributes["gpu.nvidia.com"].productName in ["NVIDIA A100-SXM4-40GB", ...]  (the type's products)
#   device.capacity["gpu.nvidia.com"].memory.compareTo(quantity("60Gi")) >= 0
# and a pod that claims it. No extended resource, no node selector: the
# scheduler picks the node whose devices match (an A100 80GB node here).
resource "hodei_worker" "this" {
  name    = "example-gpu-dra"
  backend = var.backend
  image   = var.image
  command = ["sleep", "3600"]

  gpu {
    type       = "a100"
    count      = 2
    allocation = "dra" # or gpu_allocation = "dra" in the provider
    min_memory = "60Gi"
  }
}

# [{ driver = "gpu.nvidia.com", pool = "<node>", device = "gpu-0" }, ...]
output "devices" {
  value = hodei_worker.this.gpu.devices
}

output "node_name" {
  value = hodei_worker.this.node_name
}
