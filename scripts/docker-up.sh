#!/usr/bin/env bash
# Starts a private Docker daemon under $DOCKER_DIR (default .docker-test) and
# builds the busybox test images the acceptance tests use. Prints the
# DOCKER_HOST to use. Idempotent: a daemon already running there is reused.
# DOCKERD_ARGS are added to the daemon's command line.
#
# The daemon gets a bridge of its own (never docker0, which belongs to the
# machine's own Docker engine) on a /22 in 10.200.0.0-10.249.255.0 derived
# from DOCKER_DIR, so that two checkouts, the bench and the fault tests'
# daemons do not share addresses; it changes no iptables rules. A /22 holds
# 1,022 containers: make bench's refresh of 3 x 100 (a /24 left the 254th
# container without an address). The bridge's name is kept in
# $DOCKER_DIR/bridge; docker-down.sh removes it.
# (Not --bridge=none: a dockerd without a bridge deletes docker0.)
set -euo pipefail
DOCKER_DIR=${DOCKER_DIR:-$PWD/.docker-test}
mkdir -p "$DOCKER_DIR"
export DOCKER_HOST="unix://$DOCKER_DIR/docker.sock"

# make_bridge prints the name of this daemon's bridge, made when missing:
# "hodei" and 8 hex digits of DOCKER_DIR's checksum (Linux allows 15
# characters), on the first /22 from the checksum none of whose four /24s an
# interface or route has.
make_bridge() {
  local sum name n prefix third k used free
  sum=$(printf %s "$DOCKER_DIR" | cksum | cut -d' ' -f1)
  name=$(printf 'hodei%08x' "$sum")
  if ! ip link show "$name" >/dev/null 2>&1; then
    used=$({ ip -br addr; ip route; } | sed 's/^/ /')
    for n in $(seq 0 3099); do
      n=$(((sum + n) % 3100))
      prefix="10.$((200 + n / 62))"
      third=$(((n % 62) * 4))
      free=true
      for k in 0 1 2 3; do
        if grep -qF " $prefix.$((third + k))." <<<"$used"; then free=false; fi
      done
      if $free; then
        ip link add "$name" type bridge
        # Named at once, so that docker-down.sh removes it whatever fails next.
        echo "$name" >"$DOCKER_DIR/bridge"
        ip addr add "$prefix.$third.1/22" dev "$name"
        ip link set "$name" up
        break
      fi
    done
  fi
  ip link show "$name" >/dev/null 2>&1 || { echo "no free 10.2xx.x.0/22 for the daemon's bridge" >&2; return 1; }
  echo "$name" >"$DOCKER_DIR/bridge"
  echo "$name"
}

running() { [ -f "$DOCKER_DIR/docker.pid" ] && kill -0 "$(cat "$DOCKER_DIR/docker.pid")" 2>/dev/null; }

if ! running; then
  if ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null || ! command -v ip >/dev/null; then
    echo "dockerd, busybox or ip missing: installing Debian's docker.io, busybox-static and iproute2" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static iproute2 >&2
  fi
  bridge=$(make_bridge)
  # shellcheck disable=SC2086 # DOCKERD_ARGS is a list of flags
  dockerd --host="$DOCKER_HOST" --data-root="$DOCKER_DIR/data" --exec-root="$DOCKER_DIR/exec" \
    --pidfile="$DOCKER_DIR/docker.pid" --bridge="$bridge" --iptables=false --ip-masq=false \
    ${DOCKERD_ARGS:-} >"$DOCKER_DIR/dockerd.log" 2>&1 </dev/null &
  dockerd_pid=$!
  for _ in $(seq 1 120); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.5
  done
  if ! docker version >/dev/null 2>&1; then
    tail -20 "$DOCKER_DIR/dockerd.log" >&2
    echo "dockerd did not start" >&2
    kill -0 "$dockerd_pid" 2>/dev/null || ip link del "$bridge" 2>/dev/null || true
    exit 1
  fi
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
