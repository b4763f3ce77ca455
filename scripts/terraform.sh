#!/usr/bin/env bash
# Prints the path of a Terraform CLI: the one on PATH, else one built from the
# Go module proxy into bin/ (v1.5.7, the newest tag `go install` can build).
set -euo pipefail
if command -v terraform >/dev/null 2>&1; then
  command -v terraform
  exit 0
fi
bin="$PWD/bin/terraform"
if [ ! -x "$bin" ]; then
  echo "terraform not on PATH: building v1.5.7 into bin/ (about 3 minutes)" >&2
  GOBIN="$PWD/bin" go install github.com/hashicorp/terraform@v1.5.7 >&2
fi
echo "$bin"
