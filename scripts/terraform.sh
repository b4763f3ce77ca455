#!/usr/bin/env bash
# Prints the path of a Terraform CLI.
#   scripts/terraform.sh         the one on PATH, else the oldest supported one
#   scripts/terraform.sh oldest  the oldest supported one, v1.5.7
# The oldest is built from the Go module proxy into bin/terraform-1.5.7/ the
# first time (about 3 minutes; v1.5.7 is also the newest tag `go install` can
# build) and reused after.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
oldest_version=1.5.7
oldest="$root/bin/terraform-$oldest_version/terraform"

build_oldest() {
  if [ ! -x "$oldest" ]; then
    echo "building terraform v$oldest_version into $(dirname "$oldest") (about 3 minutes)" >&2
    # Built aside and moved in whole, so that an interrupted build leaves no
    # binary that the next run would take for a finished one.
    mkdir -p "$root/bin"
    staging=$(mktemp -d "$root/bin/.terraform-build.XXXXXX")
    trap 'rm -rf "$staging"' EXIT
    GOBIN="$staging" go install "github.com/hashicorp/terraform@v$oldest_version" >&2
    mkdir -p "$(dirname "$oldest")"
    mv "$staging/terraform" "$oldest"
  fi
  echo "$oldest"
}

case "${1:-}" in
  oldest) build_oldest ;;
  "")
    if command -v terraform >/dev/null 2>&1; then
      command -v terraform
    else
      build_oldest
    fi
    ;;
  *)
    echo "usage: $0 [oldest]" >&2
    exit 2
    ;;
esac
