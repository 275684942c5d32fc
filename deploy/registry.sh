#!/usr/bin/env bash
# Starts the platform's image registry on loopback; hosts pull catalog images from it.
source "$(dirname "$0")/lib.sh"
require_root

REGISTRY_ADDR=${PORTAL_REGISTRY:-127.0.0.1:5000}
registry_ready() { curl -fsS "http://$REGISTRY_ADDR/v2/"; }

if ! registry_ready >/dev/null 2>&1; then
    log "starting the image registry on $REGISTRY_ADDR"
    mkdir -p "$STATE_DIR/registry"
    cat >"$STATE_DIR/registry.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
YAML
    # The portal deletes the manifests of old image versions (provisioning/services/image_prune.py);
    # their layers are freed here, while no registry serves this storage: garbage collection
    # beside a running registry could delete the layers of a push in progress (the registry's
    # documentation asks for it to be stopped or read-only), and the portal never stops it.
    if [ -d "$STATE_DIR/registry/docker" ] && ! pgrep -f "docker-registry serve $STATE_DIR/registry.yml" >/dev/null; then
        log "freeing the layers of deleted image versions (registry garbage collection)"
        docker-registry garbage-collect "$STATE_DIR/registry.yml" >>"$LOG_DIR/registry.log" 2>&1 \
            || log "registry garbage collection failed (see $LOG_DIR/registry.log); starting the registry anyway"
    fi
    setsid docker-registry serve "$STATE_DIR/registry.yml" >>"$LOG_DIR/registry.log" 2>&1 < /dev/null &
    wait_for "the image registry" 30 registry_ready
fi
