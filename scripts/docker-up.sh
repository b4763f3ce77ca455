#!/usr/bin/env bash
# Starts a private Docker daemon under $DOCKER_DIR (default .docker-test) and
# builds the busybox test images the acceptance tests use. Prints the
# DOCKER_HOST to use. Idempotent: a daemon already running there is reused.
# DOCKERD_ARGS are added to the daemon's command line (the bench gives its
# daemon a bridge of its own).
set -euo pipefail
DOCKER_DIR=${DOCKER_DIR:-$PWD/.docker-test}
mkdir -p "$DOCKER_DIR"
export DOCKER_HOST="unix://$DOCKER_DIR/docker.sock"

running() { [ -f "$DOCKER_DIR/docker.pid" ] && kill -0 "$(cat "$DOCKER_DIR/docker.pid")" 2>/dev/null; }

if ! running; then
  if ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null; then
    echo "dockerd or busybox missing: installing Debian's docker.io and busybox-static" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >&2
  fi
  # shellcheck disable=SC2086 # DOCKERD_ARGS is a list of flags
  dockerd --host="$DOCKER_HOST" --data-root="$DOCKER_DIR/data" --exec-root="$DOCKER_DIR/exec" \
    --pidfile="$DOCKER_DIR/docker.pid" ${DOCKERD_ARGS:-} >"$DOCKER_DIR/dockerd.log" 2>&1 </dev/null &
  dockerd_pid=$!
  for _ in $(seq 1 120); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.5
  done
  docker version >/dev/null 2>&1 || { tail -20 "$DOCKER_DIR/dockerd.log" >&2; echo "dockerd did not start" >&2; exit 1; }
fi

# The test image: a root file system of static busybox and its applets.
if ! docker image inspect hodei-test/busybox:latest >/dev/null 2>&1; then
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/data" "$rootfs/etc"
  cp "$(command -v busybox)" "$rootfs/bin/busybox"
  for applet in sh sleep echo cat ls env id true false printf mkdir touch test wc hostname; do
    ln -s busybox "$rootfs/bin/$applet"
  done
  echo "root:x:0:0:root:/root:/bin/sh" > "$rootfs/etc/passwd"
  echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$rootfs/etc/passwd"
  tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' - hodei-test/busybox:latest >/dev/null
  rm -rf "$rootfs"
fi
echo "$DOCKER_HOST"
