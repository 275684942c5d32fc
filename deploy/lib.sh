# Shared helpers for the deploy scripts; sourced, never run.
set -euo pipefail

log() { printf '[deploy] %s\n' "$*" >&2; }

# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
    local what=$1 seconds=$2
    shift 2
    for _ in $(seq 1 $((seconds * 5))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    log "gave up waiting for $what after ${seconds}s"
    return 1
}

require_root() {
    if [ "$(id -u)" != 0 ]; then
        log "run as root: these scripts install packages and start system services"
        exit 1
    fi
}

STATE_DIR=${PORTAL_STATE_DIR:-/var/lib/portal}
LOG_DIR=${PORTAL_LOG_DIR:-/var/log/portal}
mkdir -p "$STATE_DIR" "$LOG_DIR"
