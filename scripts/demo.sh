#!/usr/bin/env bash
# `make demo`: builds the provider, starts a private Docker engine, applies
# examples/quickstart through a development override and prints the workers.
# `make demo-down` destroys them and stops the engine by its pid.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export DOCKER_DIR=${DOCKER_DIR:-$root/.docker-test}
state_dir=$root/.terraform-dev/quickstart
mkdir -p "$state_dir"

terraform_bin=$(./scripts/terraform.sh)
make -s build
printf 'provider_installation {\n  dev_overrides {\n    "hodei-jobs/hodei" = "%s"\n  }\n  direct {}\n}\n' "$root/bin" > "$root/.terraform-dev/terraformrc"
export TF_CLI_CONFIG_FILE=$root/.terraform-dev/terraformrc
tf() { "$terraform_bin" -chdir="$root/examples/quickstart" "$1" -state="$state_dir/terraform.tfstate" "${@:2}"; }

case "${1:-up}" in
up)
  DOCKER_HOST=$(./scripts/docker-up.sh)
  export DOCKER_HOST
  tf apply -auto-approve -input=false
  echo
  tf output -raw workers_table; echo
  ;;
down)
  if [ -f "$DOCKER_DIR/docker.pid" ] && kill -0 "$(cat "$DOCKER_DIR/docker.pid")" 2>/dev/null; then
    DOCKER_HOST="unix://$DOCKER_DIR/docker.sock" tf destroy -auto-approve -input=false
  fi
  ./scripts/docker-down.sh
  ;;
*)
  echo "usage: $0 up|down" >&2
  exit 2
  ;;
esac
