#!/usr/bin/env bash
# Starts the gateway (nginx, in the foreground, unprivileged) for `make run`'s supervisord, the
# systemd unit and the tests: renders nginx.conf.template into $PORTAL_RUN_DIR/gateway/ and execs
# nginx on it. Restarting it loses no notebook: they live in the nodes, and the browser reconnects.
#   PORTAL_GATEWAY_BIND     where browsers reach it (default 127.0.0.1:8002)
#   PORTAL_BIND             where it asks the portal (default 127.0.0.1:8000)
#   PORTAL_HOST             the Host it names when it asks (default PORTAL_BIND)
#   PORTAL_GATEWAY_SECRET   shared with the portal: only the gateway gets the auth answer
#                           (default: the file $PORTAL_GATEWAY_SECRET_FILE, var/gateway_secret)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
run_dir=${PORTAL_RUN_DIR:-$root/var/run}/gateway
bind=${PORTAL_GATEWAY_BIND:-127.0.0.1:8002}
portal=${PORTAL_BIND:-127.0.0.1:8000}
portal_host=${PORTAL_HOST:-$portal}
secret=${PORTAL_GATEWAY_SECRET:-$(cat "${PORTAL_GATEWAY_SECRET_FILE:-$root/var/gateway_secret}")}
nginx=${PORTAL_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

if [[ ! $secret =~ ^[A-Za-z0-9_-]{20,}$ ]]; then
    echo "gateway: PORTAL_GATEWAY_SECRET must be 20 or more letters, digits, - or _" >&2
    exit 64
fi
mkdir -p "$run_dir" "$run_dir/endpoints"
chmod 700 "$run_dir"
# Started as root (`make run`, which runs every process of the portal as root), nginx would run
# its workers as nobody, who cannot reach a run folder under a private checkout or tmp folder:
# they keep the user that started them. Production starts it as the portal's own user.
user_line=""
if [ "$(id -u)" = 0 ]; then
    user_line="user root root;"
fi
conf=$run_dir/nginx.conf
(umask 077 && sed -e "s|@RUN_DIR@|$run_dir|g" -e "s|@BIND@|$bind|g" -e "s|@PORTAL_ADDR@|$portal|g" -e "s|@PORTAL_HOST@|$portal_host|g" \
    -e "s|@SECRET@|$secret|g" -e "s|@USER@|$user_line|g" "$here/nginx.conf.template" > "$conf.new")
mv "$conf.new" "$conf"
# A master killed outright (the OOM killer, SIGKILL) leaves its workers holding the port, and a
# new master could not listen: end the old one's process group first (supervisord starts each
# program in a group of its own, led by the master).
if [ -s "$run_dir/nginx.pid" ]; then
    old=$(cat "$run_dir/nginx.pid")
    if [[ $old =~ ^[0-9]+$ ]] && ! kill -0 "$old" 2>/dev/null; then
        pkill -KILL -g "$old" 2>/dev/null || true
        for _ in $(seq 1 50); do pgrep -g "$old" >/dev/null || break; sleep 0.1; done
    fi
    rm -f "$run_dir/nginx.pid"
fi
exec "$nginx" -p "$run_dir" -c "$conf" -e stderr
