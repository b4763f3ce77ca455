#!/usr/bin/env bash
# Every test of the project: unit tests, acceptance tests with the real
# Terraform CLI against a private Docker daemon and the devcluster control
# plane, the devcluster's own tests, and the check that docs/ is current.
# Starts the engines that are not running and stops, by pid, those it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_DIR=${DOCKER_DIR:-$PWD/.docker-test}

stop_docker=false
stop_cluster=false
oldest_pid=
tofu_pid=
bench_pid=
cleanup() {
  if [ -n "$bench_pid" ]; then kill -- "-$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  if [ -n "$oldest_pid" ]; then kill -- "-$oldest_pid" 2>/dev/null || true; fi
  if [ -n "$tofu_pid" ]; then kill -- "-$tofu_pid" 2>/dev/null || true; fi
  if $stop_cluster; then make -s devcluster-down || true; fi
  if $stop_docker; then ./scripts/docker-down.sh || true; fi
}
trap cleanup EXIT

if ! { [ -f "$DOCKER_DIR/docker.pid" ] && kill -0 "$(cat "$DOCKER_DIR/docker.pid")" 2>/dev/null; }; then
  stop_docker=true
fi
DOCKER_HOST=$(./scripts/docker-up.sh)
export DOCKER_HOST

if [ -f tools/devcluster/devcluster.mk ]; then
  if ! { [ -f .devcluster/pid ] && kill -0 "$(cat .devcluster/pid)" 2>/dev/null; }; then
    stop_cluster=true
  fi
  make -s devcluster-up
  export HODEI_TEST_KUBECONFIG=$PWD/.devcluster/kubeconfig
  export HODEI_TEST_RESTRICTED_KUBECONFIG=$PWD/.devcluster/restricted.kubeconfig
  # The private image registry the real nodes pull from (the pull tests).
  export HODEI_TEST_REGISTRY=$PWD/.devcluster/registry.json
fi

TF_ACC_TERRAFORM_PATH=$(./scripts/terraform.sh)
export TF_ACC_TERRAFORM_PATH TF_ACC=1
# The tests use the terraform CLI configuration they write themselves.
unset TF_CLI_CONFIG_FILE

# The oldest supported Terraform, for the compatibility run after the full
# suite. Its first build (about 3 minutes, then cached in bin/) runs at low
# priority while the steps before that run; setsid gives it a process group
# that cleanup can stop.
oldest_out=$(mktemp)
setsid nice -n 19 ./scripts/terraform.sh oldest >"$oldest_out" 2>&1 &
oldest_pid=$!
# OpenTofu likewise (about 6 minutes the first time, then cached in bin/).
tofu_out=$(mktemp)
setsid nice -n 19 ./scripts/tofu.sh >"$tofu_out" 2>&1 &
tofu_pid=$!

go vet ./...
# Lint when golangci-lint can be installed from the module proxy.
if make -s bin/golangci-lint; then
  make -s lint
else
  echo "golangci-lint could not be installed; lint skipped" >&2
fi
go test ./... -count=1 -timeout 60m ${TESTARGS:-}

# The same provider under the oldest supported Terraform (1.5), with a subset
# that goes through every part of the protocol the provider uses: validate,
# plans with unknown values and provider settings, create, in-place update,
# drift, replace, import, destroy, and installation from a filesystem mirror.
# After the full suite rather than beside it: on two cores the tests'
# timeouts are tight enough that running both at once would make them flaky.
oldest_subset='^(TestAccWorker_invalidConfigurationsFailAtValidate|TestAccWorker_invalidConfigurationsFailAtPlan|TestAccWorkerDocker_fullLifecycle|TestAccWorkerDocker_unknownValuesEverywhere|TestAccWorkerKubernetes_unknownValuesAndProviderSettings|TestAccWorkerKubernetes_driftAndUpdates|TestAccWorkerKubernetes_gpuPlacement|TestAccWorkerKubernetes_documentedRole|TestAccProviderInstallsFromFilesystemMirror)$'
if ! wait "$oldest_pid"; then
  oldest_pid=
  cat "$oldest_out" >&2
  echo "terraform 1.5.7 could not be built" >&2
  exit 1
fi
oldest_pid=
oldest_tf=$(tail -n 1 "$oldest_out")
rm -f "$oldest_out"
if [ "$oldest_tf" != "$TF_ACC_TERRAFORM_PATH" ]; then
  echo "compatibility: $("$oldest_tf" version | head -n 1)" >&2
  TF_ACC_TERRAFORM_PATH=$oldest_tf go test ./internal/provider/ -count=1 -timeout 20m -run "$oldest_subset"
fi
# The module author's subset under OpenTofu: the examples on both backends,
# unknown values (also in the provider's settings, which OpenTofu, having no
# deferred actions, plans as unknown), the Docker lifecycle with import, the
# write-only secret_env_wo, and installation from a filesystem mirror, where
# "hodei-jobs/hodei" is registry.opentofu.org/hodei-jobs/hodei.
tofu_subset='^(TestAccExamplesOnDocker|TestAccExamplesOnKubernetes|TestAccWorkerDocker_fullLifecycle|TestAccWorkerDocker_unknownValuesEverywhere|TestAccWorkerKubernetes_unknownValuesAndProviderSettings|TestAccWorkerDocker_secretEnvWriteOnly|TestAccProviderInstallsFromFilesystemMirror)$'
if ! wait "$tofu_pid"; then
  tofu_pid=
  cat "$tofu_out" >&2
  echo "OpenTofu could not be built" >&2
  exit 1
fi
tofu_pid=
tofu=$(tail -n 1 "$tofu_out")
rm -f "$tofu_out"
echo "compatibility: $("$tofu" version | head -n 1)" >&2
TF_ACC_TERRAFORM_PATH=$tofu TF_ACC_PROVIDER_HOST=registry.opentofu.org \
  go test ./internal/provider/ -count=1 -timeout 20m -run "$tofu_subset"
if [ -f tools/devcluster/devcluster.mk ]; then
  # The devcluster's own tests end by checking that their clusters' real
  # nodes left links, mounts, cgroups, sysctls, iptables rules and the
  # kubelets' fixed paths as they found them, which means something only
  # while no other real node runs: the suite's cluster stops first (the
  # bench below starts one of its own).
  if $stop_cluster; then
    make -s devcluster-down
    stop_cluster=false
  fi
  make -s devcluster-test
fi
# The benchmark at its smallest, so that make bench keeps working: every
# step must succeed and the plan after apply must be empty. Its numbers at
# N=5 mean nothing; README's come from N=100 and N=300. It runs beside the
# fuzzers, which take a fixed time: that keeps make test under 25 minutes
# on two cores. setsid gives it a process group that cleanup can stop (its
# own EXIT trap then stops its daemon and removes its bridge).
(cd tools/bench && go vet . ./noop ./wrapper)
bench_out=$(mktemp)
N=5 setsid ./scripts/bench.sh >"$bench_out" 2>&1 &
bench_pid=$!
# Fuzz the spec validation and the decoding of the canonical spec that
# import reads back from an object: each for 60 s, without a crash. New
# inputs are minimized for at most 5 s, so the minute is spent fuzzing.
for fuzzer in FuzzValidate FuzzDecodeCanonical; do
  go test -run='^$' -fuzz="^${fuzzer}\$" -fuzztime=60s -fuzzminimizetime=5s ./internal/worker/
done
bench_status=0
wait "$bench_pid" || bench_status=$?
bench_pid=
cat "$bench_out"
rm -f "$bench_out"
if [ "$bench_status" -ne 0 ]; then
  echo "make bench N=5 failed (exit $bench_status)" >&2
  exit 1
fi
make -s docs-check
