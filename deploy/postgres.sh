#!/usr/bin/env bash
# Starts the local PostgreSQL cluster and makes the portal's role and database.
source "$(dirname "$0")/lib.sh"
require_root

DB_NAME=${PORTAL_DB_NAME:-portal}
DB_USER=${PORTAL_DB_USER:-portal}
DB_PASSWORD=${PORTAL_DB_PASSWORD:-portal}
DB_PORT=${PORTAL_DB_PORT:-5432}

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$DB_PORT"; }

if ! pg_ready; then
    cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
    if [ -z "$cluster" ]; then
        version=$(ls /usr/lib/postgresql | sort -n | tail -1)
        pg_createcluster "$version" main --port "$DB_PORT" >/dev/null
        cluster="$version main"
    fi
    # Loopback only, whatever the package's default: nodes and neighbours never reach it.
    # shellcheck disable=SC2086
    pg_conftool $cluster set listen_addresses localhost
    log "starting PostgreSQL $cluster"
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start
    wait_for PostgreSQL 30 pg_ready
fi

as_postgres() { (cd / && runuser -u postgres -- psql -p "$DB_PORT" -qAtX "$@"); }

if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != 1 ]; then
    log "creating role $DB_USER"
    # CREATEDB: the test runner makes and drops its own test database.
    as_postgres -c "CREATE ROLE \"$DB_USER\" LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
fi
if [ "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]; then
    log "creating database $DB_NAME"
    as_postgres -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\""
fi

# Experiment tracking (tracking/): the portal makes a role and a database per tenant's MLflow
# server, so it may create roles; each such role is a member of portal_tracking. An MLflow
# container reaches PostgreSQL only through this cluster's socket folder, mounted read-only into
# it (TCP 5432 stays closed to containers: deploy/firewall.sh), and only into the database named
# like its role, with its password.
TRACKING_GROUP=portal_tracking
if [ "$(as_postgres -c "SELECT rolcreaterole FROM pg_roles WHERE rolname = '$DB_USER'")" != t ]; then
    as_postgres -c "ALTER ROLE \"$DB_USER\" CREATEROLE"
fi
if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$TRACKING_GROUP'")" != 1 ]; then
    as_postgres -c "CREATE ROLE $TRACKING_GROUP NOLOGIN"
fi
hba=$(as_postgres -c "SHOW hba_file")
rule="local sameuser +$TRACKING_GROUP scram-sha-256"
if ! grep -qxF "$rule" "$hba"; then
    # Before the first `local` rule, which is peer authentication in Debian's file.
    awk -v rule="$rule" '!done && /^local[[:space:]]/ {print "# portal: MLflow tracking servers (deploy/postgres.sh)"; print rule; done=1} {print}' \
        "$hba" > "$hba.new"
    chown postgres:postgres "$hba.new"
    chmod 640 "$hba.new"
    mv "$hba.new" "$hba"
    as_postgres -c "SELECT pg_reload_conf()" >/dev/null
    log "PostgreSQL: MLflow tracking roles may log in through the socket to their own database"
fi
