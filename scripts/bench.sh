#!/usr/bin/env bash
# make bench: terraform apply, a no-change plan and destroy of N workers on
# each backend against a direct client-go / Docker client baseline (see
# tools/bench/README.md), and the same of REAL_N workers on the devcluster's
# real nodes (kubernetes-real). Starts the Docker daemon and the devcluster
# when they are not running and stops, by pid, what it started.
#
# The Docker daemon is the bench's own (BENCH_DOCKER_DIR, default
# tools/bench/.work/dockerd), so that containers of other runs on the shared
# daemon do not disturb the measurement; like every daemon docker-up.sh
# starts, it has a bridge of its own. BENCH_DOCKER_DIR=$PWD/.docker-test
# uses the shared one instead (started by scripts/docker-up.sh if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
N=${N:-100}
PARALLELISM=${PARALLELISM:-10}
# The refresh of SCALE×N workers; not at N=1000, whose 3,000 pods would not
# fit the devcluster's CPU nodes (3 × 500 pods).
if [ "$N" -ge 1000 ]; then SCALE=${SCALE:-1}; else SCALE=${SCALE:-3}; fi
# At N=1000 the apply of 100 is timed first, in the same run, to judge the
# apply per worker against it (issue 16: within 1.3 x).
if [ "$N" -ge 1000 ]; then REFERENCE=${REFERENCE:-100}; else REFERENCE=${REFERENCE:-0}; fi
# kubernetes-real: REAL_N workers on the devcluster's real nodes (issue 27),
# after the simulated backends, so that those run as they did before it.
BACKENDS=${BACKENDS:-kubernetes,docker,kubernetes-real}
# Its count: 20 unless N is smaller (make test's N=5 runs 5); 0 is that default.
REAL_N=${REAL_N:-0}
# PREFLIGHT=off measures the provider without its plan-time checks (issue 15).
work=$root/tools/bench/.work
export DOCKER_DIR=${BENCH_DOCKER_DIR:-$work/dockerd}

stop_docker=false
stop_cluster=false
cleanup() {
  if $stop_cluster; then make -s devcluster-down || true; fi
  if $stop_docker; then ./scripts/docker-down.sh || true; fi
}
trap cleanup EXIT

make -s build
mkdir -p "$work/plugin"
mkdir -p "$work/floor-plugin"
# The wrapper twice: as the provider, and as the floor's no-op provider, so
# that both have their CPU and RSS measured the same way.
(cd tools/bench && go build -o "$work/bench" . && go build -o "$work/plugin/terraform-provider-hodei" ./wrapper &&
  go build -o "$work/floor-plugin/terraform-provider-noop" ./wrapper && go build -o "$work/noop" ./noop)
terraform_bin=$(./scripts/terraform.sh)

if [[ ,$BACKENDS, == *,docker,* ]]; then
  if ! { [ -f "$DOCKER_DIR/docker.pid" ] && kill -0 "$(cat "$DOCKER_DIR/docker.pid")" 2>/dev/null; }; then
    stop_docker=true
  fi
  # Starts the daemon when it is not running and imports the busybox test
  # image when missing.
  DOCKER_HOST=$(./scripts/docker-up.sh)
  export DOCKER_HOST
fi
if [[ ,$BACKENDS, == *,kubernetes,* || ,$BACKENDS, == *,kubernetes-real,* ]]; then
  if ! { [ -f .devcluster/pid ] && kill -0 "$(cat .devcluster/pid)" 2>/dev/null; }; then
    stop_cluster=true
  fi
  make -s devcluster-up
fi

"$work/bench" -n "$N" -parallelism "$PARALLELISM" -backends "$BACKENDS" \
  -terraform "$terraform_bin" -provider "$root/bin/terraform-provider-hodei" \
  -wrapper-dir "$work/plugin" -floor "$work/noop" -floor-dir "$work/floor-plugin" -refresh-scale "$SCALE" -scale-reference "$REFERENCE" -preflight "${PREFLIGHT:-}" -real-n "$REAL_N" -work "$work" \
  -docker-host "${DOCKER_HOST:-}" -kubeconfig "$root/.devcluster/kubeconfig"
