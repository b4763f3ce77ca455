#!/usr/bin/env bash
# Stops the private Docker daemon started by docker-up.sh, by its pid, then
# removes the bridge docker-up.sh made for it.
set -euo pipefail
DOCKER_DIR=${DOCKER_DIR:-$PWD/.docker-test}
pidfile="$DOCKER_DIR/docker.pid"
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  if kill -0 "$pid" 2>/dev/null; then
    echo "dockerd (pid $pid) did not stop within 30 s; its bridge is left" >&2
    exit 1
  fi
  rm -f "$pidfile"
fi
if [ -f "$DOCKER_DIR/bridge" ]; then
  bridge=$(cat "$DOCKER_DIR/bridge")
  if ip link show "$bridge" >/dev/null 2>&1; then
    ip link del "$bridge"
  fi
  rm -f "$DOCKER_DIR/bridge"
fi
