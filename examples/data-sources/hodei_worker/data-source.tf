# A worker made by another configuration: where it runs and how to reach it,
# without owning it. The id is kubernetes/<namespace>/<name> (or
# <namespace>/<name>) or docker/<name>.
data "hodei_worker" "cache" {
  id = "kubernetes/ml/cache-0"
}

# Run next to the cache: on the same node, found by the cache's labels.
resource "hodei_worker" "trainer" {
  name      = "trainer-1"
  backend   = "kubernetes"
  namespace = "ml" # pod affinity looks in the worker's own namespace
  image     = "registry.example.com/trainer:1.4"
  env       = { CACHE_ADDRESS = "${data.hodei_worker.cache.ip}:6379" }

  scheduling {
    pod_affinity {
      labels   = data.hodei_worker.cache.labels
      required = true
    }
  }
}

output "cache_node" {
  value = data.hodei_worker.cache.node_name
}
