# The effective GPU catalog: the built-in types plus the provider's gpu_type
# blocks, for modules that offer a choice of GPU types or check one.
data "hodei_gpu_types" "all" {}

locals {
  nvidia_types = [for t in data.hodei_gpu_types.all.types : t.name if t.vendor == "nvidia"]
}

output "nvidia_gpu_types" {
  value = local.nvidia_types # ["a100", "h100", "t4", "v100", ...]
}

output "a100_node_label" {
  value = one([for t in data.hodei_gpu_types.all.types : t.node_label if t.name == "a100"]) # "nvidia-tesla-a100"
}
