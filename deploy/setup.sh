#!/usr/bin/env bash
# Installs and starts everything the portal needs on this machine, idempotently.
source "$(dirname "$0")/lib.sh"
require_root
here=$(dirname "$0")
for step in packages postgres redis docker firewall registry base_image oidc_provider; do
    bash "$here/$step.sh"
done
