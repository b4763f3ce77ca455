#!/usr/bin/env bash
# Prints the path of an OpenTofu CLI, v1.12.6, built from the Go module proxy
# into bin/tofu-1.12.6 the first time (about 6 minutes on 2 cores) and reused
# after. `go install` cannot build OpenTofu (its go.mod has replace
# directives), so the module is downloaded and built inside its own directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=1.12.6
tofu="$root/bin/tofu-$version"

if [ ! -x "$tofu" ]; then
  echo "building OpenTofu v$version into $tofu (about 6 minutes)" >&2
  dir=$(cd "$root" && go mod download -json "github.com/opentofu/opentofu@v$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  if [ -z "$dir" ]; then
    echo "go mod download did not report a directory for opentofu v$version" >&2
    exit 1
  fi
  # Built aside and moved in whole, so that an interrupted build leaves no
  # binary that the next run would take for a finished one.
  mkdir -p "$root/bin"
  staging=$(mktemp "$root/bin/.tofu-build.XXXXXX")
  trap 'rm -f "$staging"' EXIT
  # version.dev=no, as OpenTofu's release build sets it: the CLI then
  # reports 1.12.6 rather than 1.12.6-dev.
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "-X github.com/opentofu/opentofu/version.dev=no" -o "$staging" ./cmd/tofu) >&2
  mv "$staging" "$tofu"
fi
echo "$tofu"
