#!/usr/bin/env bash
# Makes sure a Docker engine answers on the default socket, starting dockerd when none does.
source "$(dirname "$0")/lib.sh"
require_root

engine_ready() { /usr/bin/docker info; }

if ! engine_ready >/dev/null 2>&1; then
    log "starting dockerd"
    setsid dockerd >>"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
    wait_for "the Docker engine" 60 engine_ready
fi
