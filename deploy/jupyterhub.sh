#!/usr/bin/env bash
# Installs configurable-http-proxy (JupyterHub's proxy, from npm) into a prefix of its own,
# pinned, so the notebook gateway never depends on a global npm install. Idempotent: does
# nothing when the pinned version is already there. JupyterHub itself comes with the venv
# (requirements.txt); make run (deploy/supervisor/) runs the proxy (deploy/jupyterhub/proxy.sh) and the Hub
# (deploy/jupyterhub/run.sh) as two processes, so a Hub restart keeps the proxy's routes.
# Node.js and npm come from deploy/packages.sh.
source "$(dirname "$0")/lib.sh"

CHP_VERSION=4.6.3
CHP_PREFIX=${PORTAL_CHP_PREFIX:-/opt/portal/chp}
CHP_BIN=$CHP_PREFIX/node_modules/.bin/configurable-http-proxy

installed_version() {
    node -e "console.log(require('$CHP_PREFIX/node_modules/configurable-http-proxy/package.json').version)" 2>/dev/null
}

if [ -x "$CHP_BIN" ] && [ "$(installed_version)" = "$CHP_VERSION" ]; then
    exit 0
fi
log "installing configurable-http-proxy $CHP_VERSION into $CHP_PREFIX"
mkdir -p "$CHP_PREFIX"
npm install --prefix "$CHP_PREFIX" --no-audit --no-fund --loglevel=error \
    "configurable-http-proxy@$CHP_VERSION" >/dev/null
"$CHP_BIN" --version >/dev/null
