#!/usr/bin/env bash
# Stops the private Docker daemon started by docker-up.sh, by its pid.
set -euo pipefail
DOCKER_DIR=${DOCKER_DIR:-$PWD/.docker-test}
pidfile="$DOCKER_DIR/docker.pid"
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
fi
rm -f "$pidfile"
