#!/usr/bin/env bash
# `make demo`: builds the provider and the devcluster, starts the devcluster
# with its default GPU topology (and a private Docker engine when one can be
# had), makes the `datasets` claim, applies examples/quickstart through a
# development override of the provider, and prints where each worker landed,
# as the cluster reports it. `make demo-down` destroys the workers and stops
# what it started, by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export DOCKER_DIR=${DOCKER_DIR:-$root/.docker-test}
# The module runs from a copy, so that its state stays out of examples/.
work_dir=$root/.terraform-dev/quickstart
mkdir -p "$work_dir"

terraform_bin=$(./scripts/terraform.sh)
# Builds the provider and writes the dev_overrides CLI configuration.
make -s install >/dev/null
export TF_CLI_CONFIG_FILE=$root/.terraform-dev/terraformrc
export KUBECONFIG=$root/.devcluster/kubeconfig
tf() { "$terraform_bin" -chdir="$work_dir" "$@"; }

docker_running() { [ -f "$DOCKER_DIR/docker.pid" ] && kill -0 "$(cat "$DOCKER_DIR/docker.pid")" 2>/dev/null; }

case "${1:-up}" in
up)
  cp "$root"/examples/quickstart/*.tf "$work_dir"/
  make -s devcluster-up
  docker_available=false
  if DOCKER_HOST=$(./scripts/docker-up.sh); then
    export DOCKER_HOST
    docker_available=true
  else
    echo "demo: no Docker engine could be started; the Docker worker is skipped" >&2
  fi
  bin/devcluster claim --kubeconfig "$KUBECONFIG" --name datasets --size 100Gi
  # The plan checks placement against the cluster before anything is made:
  # an H100 worker gets the preflight warning, and is then left out.
  echo "demo: planning an H100 worker, which this cluster has no node for:"
  tf plan -input=false -no-color -var "docker_available=$docker_available" -var preview_h100=true |
    awk '/^Warning: No node (has|offers) this GPU/{show=1} /^(─|Warning: Provider)/{show=0} show{print}'
  tf apply -auto-approve -input=false -var "docker_available=$docker_available"
  echo
  bin/devcluster workers --kubeconfig "$KUBECONFIG"
  echo
  tf output -raw dra_devices
  echo
  if $docker_available; then
    echo
    tf output -raw docker_workers
    echo
  fi
  ;;
down)
  if [ -f "$work_dir/terraform.tfstate" ] && [ -f .devcluster/pid ] && kill -0 "$(cat .devcluster/pid)" 2>/dev/null; then
    docker_available=false
    if docker_running; then
      export DOCKER_HOST="unix://$DOCKER_DIR/docker.sock"
      docker_available=true
    fi
    tf destroy -auto-approve -input=false -var "docker_available=$docker_available"
  fi
  rm -f "$work_dir/terraform.tfstate" "$work_dir/terraform.tfstate.backup"
  make -s devcluster-down
  ./scripts/docker-down.sh
  ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
