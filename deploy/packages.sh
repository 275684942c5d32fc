#!/usr/bin/env bash
# Installs the Debian packages the platform runs on; skips apt entirely when all are present
# so that a second run costs milliseconds.
source "$(dirname "$0")/lib.sh"
require_root

# command-that-proves-it-is-installed:debian-package
wanted=(
    psql:postgresql-client
    pg_ctlcluster:postgresql
    redis-server:redis-server
    dockerd:docker.io
    docker-registry:docker-registry
    debootstrap:debootstrap
    ip:iproute2
    nsenter:util-linux
    chromium:chromium
    curl:curl
    socat:socat
    node:nodejs
    npm:npm
    nginx:nginx
)
missing=()
for entry in "${wanted[@]}"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
