#!/usr/bin/env bash
# Makes sure a Docker engine answers on the default socket, starting dockerd when none does.
source "$(dirname "$0")/lib.sh"
require_root

engine_ready() { /usr/bin/docker info; }

# Every sandbox and every pooled node has a bridge network of its own. Docker's default address
# pools hold about 30 such networks (15 /16s and 16 /20s), so a host would refuse its 31st
# sandbox whatever its CPUs (seen: 16 warm launches beside their 16 refilled pooled nodes);
# /24s from one /14 hold 1,024. The default bridge keeps its usual address (--bip).
ADDRESS_POOL=${PORTAL_DOCKER_ADDRESS_POOL:-base=10.200.0.0/14,size=24}
BRIDGE_IP=${PORTAL_DOCKER_BRIDGE_IP:-172.17.0.1/16}

if ! engine_ready >/dev/null 2>&1; then
    log "starting dockerd (networks from $ADDRESS_POOL)"
    setsid dockerd --default-address-pool "$ADDRESS_POOL" --bip "$BRIDGE_IP" \
        >>"$LOG_DIR/dockerd.log" 2>&1 < /dev/null &
    wait_for "the Docker engine" 60 engine_ready
fi
