#!/usr/bin/env bash
# make bench: terraform apply, a no-change plan and destroy of N workers on
# each backend against a direct client-go / Docker client baseline (see
# tools/bench/README.md). Starts the Docker daemon and the devcluster when
# they are not running and stops, by pid, what it started.
#
# The Docker daemon is the bench's own (BENCH_DOCKER_DIR, default
# tools/bench/.work/dockerd) on a bridge of its own (BENCH_BRIDGE), so that
# containers of other runs on the shared daemon and other daemons' use of
# docker0 do not disturb the measurement. BENCH_DOCKER_DIR=$PWD/.docker-test
# uses the shared one instead (started by scripts/docker-up.sh if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
N=${N:-100}
PARALLELISM=${PARALLELISM:-10}
# The refresh of SCALE×N workers; not at N=1000, whose 3,000 pods would not
# fit the devcluster's CPU nodes (3 × 500 pods).
if [ "$N" -ge 1000 ]; then SCALE=${SCALE:-1}; else SCALE=${SCALE:-3}; fi
BACKENDS=${BACKENDS:-kubernetes,docker}
work=$root/tools/bench/.work
export DOCKER_DIR=${BENCH_DOCKER_DIR:-$work/dockerd}
BENCH_BRIDGE=${BENCH_BRIDGE:-hodeibench0}
BENCH_BRIDGE_CIDR=${BENCH_BRIDGE_CIDR:-10.213.0.1/20}

stop_docker=false
stop_cluster=false
made_bridge=false
cleanup() {
  if $stop_cluster; then make -s devcluster-down || true; fi
  if $stop_docker; then ./scripts/docker-down.sh || true; fi
  if $made_bridge; then ip link del "$BENCH_BRIDGE" 2>/dev/null || true; fi
}
trap cleanup EXIT

make -s build
mkdir -p "$work/plugin"
mkdir -p "$work/noop"
(cd tools/bench && go build -o "$work/bench" . && go build -o "$work/plugin/terraform-provider-hodei" ./wrapper &&
  go build -o "$work/noop/terraform-provider-noop" ./noop)
terraform_bin=$(./scripts/terraform.sh)

if [[ ,$BACKENDS, == *,docker,* ]]; then
  if ! { [ -f "$DOCKER_DIR/docker.pid" ] && kill -0 "$(cat "$DOCKER_DIR/docker.pid")" 2>/dev/null; }; then
    stop_docker=true
    if [ "$DOCKER_DIR" != "$root/.docker-test" ]; then
      # The bench's own daemon, on its own bridge, without iptables rules.
      if ! ip link show "$BENCH_BRIDGE" >/dev/null 2>&1; then
        ip link add "$BENCH_BRIDGE" type bridge
        ip addr add "$BENCH_BRIDGE_CIDR" dev "$BENCH_BRIDGE"
        ip link set "$BENCH_BRIDGE" up
        made_bridge=true
      fi
      export DOCKERD_ARGS="--bridge=$BENCH_BRIDGE --iptables=false --ip-masq=false"
    fi
  fi
  # Starts the daemon when it is not running and imports the busybox test
  # image when missing.
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
  -wrapper-dir "$work/plugin" -floor-dir "$work/noop" -refresh-scale "$SCALE" -work "$work" \
  -docker-host "${DOCKER_HOST:-}" -kubeconfig "$root/.devcluster/kubeconfig"
