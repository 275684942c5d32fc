#!/usr/bin/env bash
# Another Docker host on this machine: a Docker engine in a network namespace of its own,
# reached by the portal over TCP with TLS client certificates, as a remote host would be.
#
#   deploy/netns_host.sh up NAME INDEX     start (idempotent); prints the host's URL
#   deploy/netns_host.sh down NAME INDEX   stop the engine, remove the namespace (keeps images)
#   deploy/netns_host.sh purge NAME INDEX  down, and remove its data as well
#   deploy/netns_host.sh swarm NAME INDEX [MANAGER_NAME MANAGER_INDEX]
#                                          make the engine a swarm manager, or join it to the
#                                          swarm that MANAGER leads, so sandboxes may span them
#
# INDEX (1-250) picks the point-to-point link 10.231.INDEX.0/30: .1 on this side, .2 in the
# namespace. The engine pulls catalog images from the registry, which listens on loopback only:
# a socat relay in the namespace answers on its 127.0.0.1 and forwards over a unix socket
# (file system, so it crosses namespaces) to the real registry, so nothing opens it wider.
# Client certificates for the portal: $STATE_DIR/hosts/tls/{ca,client-cert,client-key}.pem.
source "$(dirname "$0")/lib.sh"
require_root

action=${1:?usage: netns_host.sh up|down|purge NAME INDEX}
name=${2:?host name}
index=${3:?index 1-250}
[[ $name =~ ^[a-z][a-z0-9]{0,11}$ ]] || { log "name: 1-12 lowercase letters and digits"; exit 2; }
[[ $index =~ ^[0-9]+$ ]] && ((index >= 1 && index <= 250)) || { log "index: 1-250"; exit 2; }

netns=portal-$name
ns_path=/var/run/netns/$netns
veth_host=pvh$index
veth_ns=pvn$index
addr_host=10.231.$index.1
addr_ns=10.231.$index.2
port=2376
data=$STATE_DIR/hosts/$name
run=/run/portal-hosts/$name
tls=$STATE_DIR/hosts/tls
relay_sock=/run/portal-hosts/registry.sock
registry=${PORTAL_REGISTRY:-127.0.0.1:5000}
url=tcp://$addr_ns:$port

in_ns() { nsenter --net="$ns_path" "$@"; }
engine_ready() { /usr/bin/docker -H "unix://$run/docker.sock" info; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

ensure_tls() {
    mkdir -p "$tls"
    chmod 700 "$tls"
    if [ ! -f "$tls/ca.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=portal-hosts-ca" \
            -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" 2>/dev/null
    fi
    if [ ! -f "$tls/client-cert.pem" ]; then
        openssl req -newkey rsa:2048 -nodes -subj "/CN=portal" \
            -keyout "$tls/client-key.pem" -out "$tls/client.csr" 2>/dev/null
        printf 'extendedKeyUsage=clientAuth\n' >"$tls/client.ext"
        openssl x509 -req -in "$tls/client.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
            -CAcreateserial -days 3650 -extfile "$tls/client.ext" -out "$tls/client-cert.pem" 2>/dev/null
    fi
    if [ ! -f "$data/server-cert.pem" ]; then
        mkdir -p "$data"
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
            -keyout "$data/server-key.pem" -out "$data/server.csr" 2>/dev/null
        printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$addr_ns" >"$data/server.ext"
        openssl x509 -req -in "$data/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
            -CAcreateserial -days 3650 -extfile "$data/server.ext" -out "$data/server-cert.pem" 2>/dev/null
    fi
}

link_ok() {
    ip -o addr show dev "$veth_host" 2>/dev/null | grep -q " $addr_host/" &&
        in_ns ip -o addr show dev "$veth_ns" 2>/dev/null | grep -q " $addr_ns/"
}

ensure_link() {
    [ -e "$ns_path" ] || ip netns add "$netns"
    if ! link_ok; then
        # Half made (or left by a namespace deleted under it): start the pair afresh.
        ip link del "$veth_host" 2>/dev/null || true
        ip link add "$veth_host" type veth peer name "$veth_ns" netns "$netns"
        ip addr add "$addr_host/30" dev "$veth_host"
        in_ns ip addr add "$addr_ns/30" dev "$veth_ns"
    fi
    ip link set "$veth_host" up
    in_ns ip link set lo up
    in_ns ip link set "$veth_ns" up
    # The namespaced engines reach each other through this machine (swarm control, gossip and
    # VXLAN between them); Docker's FORWARD policy would drop that.
    in_ns ip route replace 10.231.0.0/16 via "$addr_host"
    if iptables -L DOCKER-USER -n >/dev/null 2>&1; then
        iptables -C DOCKER-USER -i 'pvh+' -o 'pvh+' -j ACCEPT 2>/dev/null ||
            iptables -I DOCKER-USER -i 'pvh+' -o 'pvh+' -j ACCEPT
    fi
}

swarm() {
    local state
    state=$(/usr/bin/docker -H "unix://$run/docker.sock" info --format '{{.Swarm.LocalNodeState}}')
    [ "$state" = active ] && return 0
    if [ -z "${1:-}" ]; then
        /usr/bin/docker -H "unix://$run/docker.sock" swarm init --advertise-addr "$addr_ns" >/dev/null
        return 0
    fi
    local manager_sock=/run/portal-hosts/$1/docker.sock manager_addr=10.231.$2.2 token
    token=$(/usr/bin/docker -H "unix://$manager_sock" swarm join-token -q worker)
    /usr/bin/docker -H "unix://$run/docker.sock" swarm join --token "$token" \
        --advertise-addr "$addr_ns" "$manager_addr:2377" >/dev/null
}

ensure_registry_relay() {
    mkdir -p "$run"
    if ! alive /run/portal-hosts/registry-relay.pid; then
        rm -f "$relay_sock"
        setsid socat "UNIX-LISTEN:$relay_sock,fork,mode=600" "TCP:$registry" \
            >>"$LOG_DIR/registry-relay.log" 2>&1 </dev/null &
        echo $! >/run/portal-hosts/registry-relay.pid
        wait_for "the registry relay socket" 10 test -S "$relay_sock"
    fi
    if ! alive "$run/relay.pid"; then
        in_ns setsid socat "TCP-LISTEN:${registry##*:},bind=127.0.0.1,fork,reuseaddr" \
            "UNIX-CONNECT:$relay_sock" >>"$LOG_DIR/registry-relay-$name.log" 2>&1 </dev/null &
        echo $! >"$run/relay.pid"
    fi
}

ensure_engine() {
    if engine_ready >/dev/null 2>&1; then return 0; fi
    mkdir -p "$data/docker" "$run"
    printf '{"deprecated-key-path": "%s"}\n' "$data/key.json" > "$data/daemon.json"
    log "starting dockerd for host $name at $url"
    # Its own key file (daemon.json): the engine's ID derives from it, and an ID shared with the machine's
    # engine would make the portal refuse this host as one registered already.
    # nsenter --net, not `ip netns exec`: the latter remounts /sys and hides the cgroup
    # hierarchy, and dockerd then cannot start containers.
    in_ns setsid dockerd \
        --data-root "$data/docker" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
        --config-file "$data/daemon.json" \
        -H "unix://$run/docker.sock" -H "$url" \
        --tlsverify --tlscacert "$tls/ca.pem" \
        --tlscert "$data/server-cert.pem" --tlskey "$data/server-key.pem" \
        >>"$LOG_DIR/dockerd-$name.log" 2>&1 </dev/null &
    wait_for "the Docker engine of host $name" 60 engine_ready
}

down() {
    if alive "$run/dockerd.pid"; then
        kill "$(cat "$run/dockerd.pid")"
        for _ in $(seq 1 100); do alive "$run/dockerd.pid" || break; sleep 0.1; done
    fi
    if alive "$run/relay.pid"; then kill "$(cat "$run/relay.pid")"; fi
    ip link del "$veth_host" 2>/dev/null || true
    [ -e "$ns_path" ] && ip netns del "$netns"
    rm -rf "$run"
}

case $action in
up)
    ensure_tls
    ensure_link
    ensure_registry_relay
    ensure_engine
    # Its nodes reach neither this engine's API nor the platform's services (deploy/firewall.sh).
    bash "$(dirname "$0")/firewall.sh" --netns "$netns"
    echo "$url"
    ;;
swarm) swarm "${4:-}" "${5:-}" ;;
down) down ;;
purge)
    down
    rm -rf "$data"
    ;;
*)
    log "unknown action $action"
    exit 2
    ;;
esac
