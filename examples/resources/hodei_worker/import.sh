# A Kubernetes worker: kubernetes/<namespace>/<name> (or just <namespace>/<name>).
terraform import hodei_worker.trainer kubernetes/ml/trainer-0

# A Docker worker: docker/<name>.
terraform import hodei_worker.builder docker/builder-0
