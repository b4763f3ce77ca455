#!/usr/bin/env bash
# make bench: terraform apply, a no-change plan and destroy of N workers on
# each backend against a direct client-go / Docker client baseline (see
# tools/bench/README.md). Starts the Docker daemon and the devcluster when
# they are not running and stops, by pid, what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
N=${N:-100}
PARALLELISM=${PARALLELISM:-10}
BACKENDS=${BACKENDS:-kubernetes,docker}
export DOCKER_DIR=${DOCKER_DIR:-$root/.docker-test}
work=$root/tools/bench/.work

stop_docker=false
stop_cluster=false
cleanup() {
  if $stop_cluster; then make -s devcluster-down || true; fi
  if $stop_docker; then ./scripts/docker-down.sh || true; fi
}
trap cleanup EXIT

make -s build
mkdir -p "$work/plugin"
(cd tools/bench && go build -o "$work/bench" . && go build -o "$work/plugin/terraform-provider-hodei" ./wrapper)
terraform_bin=$(./scripts/terraform.sh)

if [[ ,$BACKENDS, == *,docker,* ]]; then
  if ! { [ -f "$DOCKER_DIR/docker.pid" ] && kill -0 "$(cat "$DOCKER_DIR/docker.pid")" 2>/dev/null; }; then
    stop_docker=true
  fi
  DOCKER_HOST=$(./scripts/docker-up.sh)
  export DOCKER_HOST
fi
if [[ ,$BACKENDS, == *,kubernetes,* ]]; then
  if ! { [ -f .devcluster/pid ] && kill -0 "$(cat .devcluster/pid)" 2>/dev/null; }; then
    stop_cluster=true
  fi
  make -s devcluster-up
fi

"$work/bench" -n "$N" -parallelism "$PARALLELISM" -backends "$BACKENDS" \
  -terraform "$terraform_bin" -provider "$root/bin/terraform-provider-hodei" \
  -wrapper-dir "$work/plugin" -work "$work" \
  -docker-host "${DOCKER_HOST:-}" -kubeconfig "$root/.devcluster/kubeconfig"
