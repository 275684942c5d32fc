#!/usr/bin/env bash
# Starts Redis on loopback only: it is the Celery broker and must not face the network.
source "$(dirname "$0")/lib.sh"
require_root

REDIS_PORT=${PORTAL_REDIS_PORT:-6379}
redis_ready() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

if ! redis_ready; then
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    mkdir -p "$STATE_DIR/redis"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
        --dir "$STATE_DIR/redis" --daemonize yes --logfile "$LOG_DIR/redis.log"
    wait_for Redis 15 redis_ready
fi
