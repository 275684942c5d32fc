#!/usr/bin/env bash
# Keeps code running in sandbox nodes away from the platform's own services and engines.
#
#   deploy/firewall.sh                 this machine's network namespace
#   deploy/firewall.sh --netns NAME    the namespace of an engine deploy/netns_host.sh made
#
# Traffic that enters from a container bridge (docker0, br-*) may not reach, on this machine or
# through it: PostgreSQL, Redis (the Celery broker), the image registry, any Docker engine API
# (2375/2376), nor Docker swarm's control, gossip and VXLAN ports (2377, 7946, 4789), which would
# let a node join or spoof a swarm overlay. The services listen on loopback anyway; this is the
# second wall, and the only one for engines that listen on a TCP address (netns hosts, remote
# hosts routed through this machine). Everything else stays open: nodes install packages. Nodes
# call nothing of the portal: the gateway (deploy/gateway/) comes to them.
#
# Idempotent: the rules live in a chain of their own, PORTAL-NODES, refilled on every run and
# jumped to once from INPUT (to this machine) and DOCKER-USER (through it, before Docker's own
# rules accept container traffic).
source "$(dirname "$0")/lib.sh"
require_root

run=()
if [ "${1:-}" = --netns ]; then
    run=(nsenter "--net=/var/run/netns/${2:?namespace name}")
fi
ipt() { "${run[@]}" iptables -w 10 "$@"; }

TCP_PORTS=${PORTAL_FIREWALL_TCP_PORTS:-5432,6379,5000,2375,2376,2377,7946}
UDP_PORTS=${PORTAL_FIREWALL_UDP_PORTS:-7946,4789}
CHAIN=PORTAL-NODES

ipt -N "$CHAIN" 2>/dev/null || true
ipt -F "$CHAIN"
for bridge in docker0 docker_gwbridge 'br-+'; do
    ipt -A "$CHAIN" -i "$bridge" -p tcp -m multiport --dports "$TCP_PORTS" -j DROP
    ipt -A "$CHAIN" -i "$bridge" -p udp -m multiport --dports "$UDP_PORTS" -j DROP
done
ipt -A "$CHAIN" -j RETURN

ipt -C INPUT -j "$CHAIN" 2>/dev/null || ipt -I INPUT -j "$CHAIN"
# Docker makes DOCKER-USER when it starts and keeps what others put in it.
ipt -N DOCKER-USER 2>/dev/null || true
ipt -C DOCKER-USER -j "$CHAIN" 2>/dev/null || ipt -I DOCKER-USER -j "$CHAIN"
log "node firewall in place${2:+ in namespace $2}: tcp $TCP_PORTS and udp $UDP_PORTS closed to containers"
