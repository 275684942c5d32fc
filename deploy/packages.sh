#!/usr/bin/env bash
# Installs the Debian packages the platform runs on; skips apt entirely when all are present
# so that a second run costs milliseconds.
source "$(dirname "$0")/lib.sh"
require_root

# command-or-file-that-proves-it-is-installed:debian-package
wanted=(
    psql:postgresql-client
    pg_ctlcluster:postgresql
    redis-server:redis-server
    dockerd:docker.io
    docker-registry:docker-registry
    debootstrap:debootstrap
    ip:iproute2
    nsenter:util-linux
    mount:mount
    mkfs.ext4:e2fsprogs
    chromium:chromium
    curl:curl
    socat:socat
    node:nodejs
    npm:npm
    # python-ldap (django-auth-ldap) is built from source with these; slapd and ldap-utils run
    # the directory the identity tests sign in against.
    gcc:gcc
    python3-config:python3-dev
    /usr/include/ldap.h:libldap2-dev
    /usr/include/sasl/sasl.h:libsasl2-dev
    /usr/sbin/slapd:slapd
    ldapadd:ldap-utils
    nginx:nginx
)
missing=()
for entry in "${wanted[@]}"; do
    proof=${entry%%:*}
    command -v "$proof" >/dev/null 2>&1 || [ -e "$proof" ] || missing+=("${entry#*:}")
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
