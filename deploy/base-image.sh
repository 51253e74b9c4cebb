#!/usr/bin/env bash
# Builds the local Debian base image the test stack uses instead of registry images
# (no container registry is reachable on the CI machines): debootstrap a minimal bookworm
# with Python, then `docker import` it. Cached: does nothing when the image already exists.
#
#   deploy/base-image.sh [IMAGE]      default local/debian-python:bookworm
#   FORCE=1 deploy/base-image.sh      rebuild even if the image exists
set -euo pipefail

IMAGE="${1:-local/debian-python:bookworm}"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [[ -z "${FORCE:-}" ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE exists (FORCE=1 to rebuild)"
  exit 0
fi

command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

ROOTFS="$(mktemp -d /var/tmp/lishui-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT

start=$(date +%s)
# python3-venv: the images install into a virtualenv (Debian's system Python refuses pip installs).
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || { tail -20 "$ROOTFS.log" >&2; exit 1; }
rm -f "$ROOTFS.log"

# Security updates too, so images built FROM it get them with `apt-get install`.
cat >"$ROOTFS/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
EOF
# Smaller image: no package lists, caches or docs (images run `apt-get update` themselves).
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/usr/share/doc/* \
  "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*

tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$IMAGE" >/dev/null
echo "base image $IMAGE built in $(($(date +%s) - start)) s"
