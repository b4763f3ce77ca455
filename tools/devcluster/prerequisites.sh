#!/usr/bin/env bash
# What the devcluster's real nodes need on the machine: containerd, runc and
# ctr (Debian's containerd and runc), the CNI bridge, host-local and loopback
# plugins (containernetworking-plugins), ip (iproute2), the private image
# registry (docker-registry) and a static busybox for the test images
# (busybox-static). Installs Debian's packages for what is missing, as
# scripts/docker-up.sh does for the Docker engine.
set -euo pipefail
missing=()
for tool in containerd:containerd runc:runc ctr:containerd ip:iproute2 docker-registry:docker-registry; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || missing+=(busybox-static)
if [ ${#missing[@]} -gt 0 ]; then
  echo "devcluster: the real nodes need ${missing[*]}: installing Debian's packages" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(printf '%s\n' "${missing[@]}" | sort -u) >&2
fi
