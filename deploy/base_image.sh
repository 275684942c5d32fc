#!/usr/bin/env bash
# Builds the base image every catalog image is FROM: no public registry can be reached, so a
# minimal Debian is debootstrapped and imported. Skipped when the image exists.
source "$(dirname "$0")/lib.sh"
require_root

BASE_IMAGE=${PORTAL_BASE_IMAGE:-portal/base:bookworm}
MIRROR=${PORTAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if /usr/bin/docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    exit 0
fi
log "building $BASE_IMAGE with debootstrap (about a minute)"
rootfs=$(mktemp -d "$STATE_DIR/rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$LOG_DIR/debootstrap.log" 2>&1 \
    || { log "debootstrap failed, see $LOG_DIR/debootstrap.log"; exit 1; }
# Keep the image small: package lists and caches come back with the first apt-get update.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | /usr/bin/docker import \
    --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$BASE_IMAGE" >/dev/null
log "built $BASE_IMAGE"
