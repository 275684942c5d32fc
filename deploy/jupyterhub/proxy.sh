#!/usr/bin/env bash
# Starts configurable-http-proxy, the notebook gateway's public side (the `proxy` process
# of deploy/supervisor/portal.conf and deploy/systemd/). It runs apart from the Hub so that restarting the Hub keeps every route, and open
# notebooks work on. The Hub configures its routes through the API on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
env_file=${PORTAL_HUB_ENV_FILE:-var/hub/gateway.env}
# run.sh (or `make setup`) writes the shared token; one writer only, so wait for it here.
for _ in $(seq 1 120); do
    if grep -qs '^PORTAL_HUB_PROXY_AUTH_TOKEN=' "$env_file"; then break; fi
    sleep 1
done
set -a
# shellcheck source=/dev/null
source "$env_file"
set +a
hub_url=${PORTAL_HUB_URL:-http://127.0.0.1:8001}
host_port=${hub_url#*://}
host_port=${host_port%%/*}
hub_api="http://${PORTAL_HUB_API_HOST:-172.17.0.1}:${PORTAL_HUB_API_PORT:-8081}"
export CONFIGPROXY_AUTH_TOKEN=$PORTAL_HUB_PROXY_AUTH_TOKEN
exec "${PORTAL_CHP_BIN:-/opt/portal/chp/node_modules/.bin/configurable-http-proxy}" \
    --ip "${host_port%:*}" --port "${host_port##*:}" \
    --api-ip 127.0.0.1 --api-port "${PORTAL_HUB_PROXY_API_PORT:-8002}" \
    --default-target "$hub_api" --error-target "$hub_api/hub/error"
