#!/usr/bin/env bash
# Starts the notebook gateway: JupyterHub, which starts configurable-http-proxy (deploy/
# jupyterhub.sh installs it). The `hub` process of deploy/supervisor/ and deploy/systemd/. Settings come from the environment
# (see jupyterhub_config.py); the OAuth2 client and the service token are made or checked by
# `manage.py notebook_gateway_setup` first, so the Hub always starts with working credentials.
set -euo pipefail
cd "$(dirname "$0")/../.."
env_file=${PORTAL_HUB_ENV_FILE:-var/hub/gateway.env}
.venv/bin/python manage.py notebook_gateway_setup --env-file "$env_file" >&2
set -a
# shellcheck source=/dev/null
source "$env_file"
set +a
export PORTAL_URL=${PORTAL_URL:-http://${PORTAL_BIND:-127.0.0.1:8000}}
exec .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
