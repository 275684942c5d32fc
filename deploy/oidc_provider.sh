#!/usr/bin/env bash
# Installs the OpenID provider the test suite signs in against (npm `oidc-provider`, a certified
# implementation) into a prefix of its own, pinned, like configurable-http-proxy in jupyterhub.sh.
# Only the tests run it (tests/identity/oidc_provider.mjs); a site points the portal at its own
# provider. Idempotent: does nothing when the pinned version is already there.
# Node.js and npm come from deploy/packages.sh.
source "$(dirname "$0")/lib.sh"

OIDC_PROVIDER_VERSION=9.13.3
OIDC_PROVIDER_PREFIX=${PORTAL_OIDC_PROVIDER_PREFIX:-/opt/portal/oidc-provider}

installed_version() {
    node -e "console.log(require('$OIDC_PROVIDER_PREFIX/node_modules/oidc-provider/package.json').version)" 2>/dev/null
}

if [ "$(installed_version)" = "$OIDC_PROVIDER_VERSION" ]; then
    exit 0
fi
log "installing oidc-provider $OIDC_PROVIDER_VERSION into $OIDC_PROVIDER_PREFIX"
mkdir -p "$OIDC_PROVIDER_PREFIX"
npm install --prefix "$OIDC_PROVIDER_PREFIX" --no-audit --no-fund --loglevel=error \
    "oidc-provider@$OIDC_PROVIDER_VERSION" >/dev/null
[ "$(installed_version)" = "$OIDC_PROVIDER_VERSION" ]
