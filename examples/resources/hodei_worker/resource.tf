# A training worker on Kubernetes: two A100 GPUs, a read-only dataset, memory
# scratch space, the models folder of the node, placed away from other
# trainers and spread over zones.
resource "hodei_worker" "trainer" {
  name           = "trainer-0"
  backend        = "kubernetes"
  namespace      = "ml"
  image          = "registry.example.com/trainer:1.4"
  command        = ["python", "train.py"]
  args           = ["--epochs", "10"]
  env            = { EPOCHS = "10" }
  working_dir    = "/work"
  labels         = { app = "trainer", team = "ml" }
  annotations    = { owner = "ml-platform" }
  restart_policy = "Always"

  resources {
    cpu          = "2"
    memory       = "4Gi"
    cpu_limit    = "4"
    memory_limit = "8Gi"
  }

  gpu {
    count = 2
    type  = "a100"
  }

  volume {
    name       = "datasets"
    mount_path = "/data"
    read_only  = true
    sub_path   = "v3"

    persistent {
      claim_name = "datasets"
    }
  }

  volume {
    name       = "scratch"
    mount_path = "/scratch"

    ephemeral {
      size_limit = "10Gi"
      medium     = "Memory"
    }
  }

  volume {
    name       = "models"
    mount_path = "/models"
    read_only  = true

    host_path {
      path = "/mnt/models"
      type = "Directory"
    }
  }

  scheduling {
    priority_class_name = "batch-high"

    node_affinity {
      weight = 50

      match_expression {
        key      = "topology.kubernetes.io/zone"
        operator = "In"
        values   = ["zone-a"]
      }
    }

    pod_anti_affinity {
      labels = { app = "trainer" }
      weight = 100
    }

    toleration {
      key      = "dedicated"
      operator = "Equal"
      value    = "ml"
      effect   = "NoSchedule"
    }

    topology_spread {
      max_skew           = 1
      topology_key       = "topology.kubernetes.io/zone"
      when_unsatisfiable = "ScheduleAnyway"
    }
  }

  security {
    run_as_user               = 1000
    run_as_group              = 1000
    run_as_non_root           = true
    read_only_root_filesystem = true
  }

  wait_for         = "running"
  recreate_on_exit = true

  timeouts {
    create = "10m"
    delete = "2m"
  }
}

# A build worker on the Docker engine of the same configuration.
resource "hodei_worker" "builder" {
  name    = "builder-0"
  backend = "docker"
  image   = "registry.example.com/builder:2.1"
  command = ["/usr/local/bin/hodei-agent"]
  args    = ["--queue", "builds"]
  env     = { HODEI_QUEUE = "builds" }

  resources {
    cpu_limit    = "2"
    memory_limit = "2Gi"
  }

  volume {
    name       = "cache"
    mount_path = "/cache"

    persistent {
      claim_name = "build-cache"
    }
  }
}
