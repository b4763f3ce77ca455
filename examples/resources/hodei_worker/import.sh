# A Kubernetes worker: kubernetes/<namespace>/<name> (or just <namespace>/<name>).
terraform import hodei_worker.trainer kubernetes/ml/trainer-0

# In a namespace named docker or kubernetes, only the full form: docker/<name>
# is always a Docker worker.
terraform import hodei_worker.agent kubernetes/docker/agent-0

# A Docker worker: docker/<name>.
terraform import hodei_worker.builder docker/builder-0
