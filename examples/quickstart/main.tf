# The quickstart: a small GPU platform declared with hodei_worker.
#
# `make demo` starts the bundled devcluster (a real Kubernetes control plane
# with simulated A100, T4, MI200 and Intel Xe nodes and two real CPU nodes in
# two zones), makes the `datasets` claim, and applies this module through a
# development override of the provider. KUBECONFIG and DOCKER_HOST come from the environment.
terraform {
  required_providers {
    hodei = { source = "hodei-jobs/hodei" }
  }
}

variable "docker_available" {
  description = "Add a worker on the local Docker engine too (make demo sets it when a daemon answers)."
  type        = bool
  default     = false
}

variable "docker_image" {
  description = "Image of the Docker worker; make demo imports a busybox image under this name."
  type        = string
  default     = "hodei-test/busybox:latest"
}

# The provider reads KUBECONFIG and DOCKER_HOST from the environment; the
# workers name their backend, so the module needs no provider block.
locals {
  cluster = "kubernetes"
}

# Training: two workers with two A100s each, reading a shared dataset and
# writing to a memory-backed scratch volume.
resource "hodei_worker" "trainer" {
  count   = 2
  name    = "trainer-${count.index}"
  backend = local.cluster
  image   = "registry.example/hodei/trainer:1.4"
  command = ["python", "train.py"]
  args    = ["--epochs", "10", "--shard", tostring(count.index)]
  env     = { EPOCHS = "10" }
  labels  = { app = "trainer", "hodei.io/pool" = "training" }

  resources {
    cpu          = "4"
    memory       = "16Gi"
    memory_limit = "32Gi"
  }

  gpu {
    type  = "a100"
    count = 2
  }

  volume {
    name       = "datasets"
    mount_path = "/data"
    read_only  = true
    persistent { claim_name = "datasets" }
  }

  volume {
    name       = "scratch"
    mount_path = "/scratch"
    ephemeral {
      medium     = "Memory"
      size_limit = "8Gi"
    }
  }
}

# Inference: a T4 pair that never shares a node, so one node failing leaves
# one replica serving.
resource "hodei_worker" "inference" {
  count   = 2
  name    = "inference-${count.index}"
  backend = local.cluster
  image   = "registry.example/hodei/inference:2.0"
  labels  = { app = "inference", "hodei.io/pool" = "inference" }

  gpu { type = "t4" }

  scheduling {
    pod_anti_affinity {
      labels   = { app = "inference" }
      required = true
    }
  }
}

# CPU pool: four workers spread evenly over the two zones, on the cluster's
# real nodes (a real kubelet and containerd each), where they run a process:
# each prints a line, which `devcluster workers` shows from its log, and
# stops at once on SIGTERM. The real nodes are tainted so that only workers
# that tolerate it land there.
resource "hodei_worker" "cpu" {
  count   = 4
  name    = "cpu-${count.index}"
  backend = local.cluster
  image   = "devcluster.local/busybox:1.36"
  command = ["sh", "-c", "echo \"cpu-${count.index} up: uid $(id -u), $(nproc) CPUs, kernel $(uname -r)\"; trap 'exit 0' TERM; while true; do sleep 1; done"]
  labels  = { app = "cpu-pool", "hodei.io/pool" = "cpu" }

  resources {
    cpu    = "100m"
    memory = "64Mi"
  }

  scheduling {
    node_selector = { "devcluster.hodei.io/real" = "true" }
    toleration {
      key      = "devcluster.hodei.io/real"
      operator = "Exists"
      effect   = "NoSchedule"
    }
    topology_spread {
      max_skew     = 1
      topology_key = "topology.kubernetes.io/zone"
    }
  }
}

# Fine-tuning with Dynamic Resource Allocation: one GPU of at least 60 GiB,
# claimed by attribute; the scheduler's allocator picks the device, and so
# the node (the cluster's A100 80GB DRA node).
resource "hodei_worker" "finetune" {
  name    = "finetune-0"
  backend = local.cluster
  image   = "registry.example/hodei/trainer:1.4"
  labels  = { app = "finetune", "hodei.io/pool" = "finetune" }

  gpu {
    type       = "a100"
    allocation = "dra"
    min_memory = "60Gi"
  }
}

# A worker for a GPU the cluster does not have: the plan's preflight warns
# with what the nodes offer (make demo plans it once, then applies without).
variable "preview_h100" {
  description = "Add an H100 worker, which no node of the bundled cluster can run."
  type        = bool
  default     = false
}

resource "hodei_worker" "h100_preview" {
  count   = var.preview_h100 ? 1 : 0
  name    = "h100-preview"
  backend = local.cluster
  image   = "registry.example/hodei/trainer:1.4"
  gpu { type = "h100" }
}

# The same resource on a laptop's Docker engine: only the backend changes.
resource "hodei_worker" "laptop" {
  count   = var.docker_available ? 1 : 0
  name    = "laptop-0"
  backend = "docker"
  image   = var.docker_image
  command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
  labels  = { "hodei.io/pool" = "laptop" }

  resources {
    cpu_limit    = "0.5"
    memory_limit = "64Mi"
  }
}

output "dra_devices" {
  description = "The devices the DRA worker's claim was allocated, a line each."
  value       = join("\n", [for d in hodei_worker.finetune.gpu.devices : "dra: ${hodei_worker.finetune.name} on ${d.pool}: ${d.driver} ${d.device}"])
}

output "docker_workers" {
  description = "The Docker worker, if any: name, engine host, IP and status, a line each."
  value       = join("\n", [for w in hodei_worker.laptop : "docker: ${w.name} on ${w.node_name} (${w.ip}) ${w.status}"])
}
