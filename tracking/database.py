"""The backend store of each tracking server: a PostgreSQL role and a database of its own on the
platform's cluster, owned by that role. The portal's role may create roles (deploy/postgres.sh);
each tracking role joins `portal_tracking`, which pg_hba lets in through the socket only, and
only into the database named like the role.

CREATE/DROP DATABASE cannot run in a transaction: these use a connection of their own, in
autocommit, with the portal's credentials."""

import psycopg2
from django.db import connections
from psycopg2 import sql

#: The group every tracking role joins (made by deploy/postgres.sh).
TRACKING_GROUP = "portal_tracking"


class DatabaseUnavailable(Exception):
    """PostgreSQL refused or failed; the message is fit for a user."""


def _connect():
    settings = connections["default"].settings_dict
    try:
        connection = psycopg2.connect(
            dbname=settings["NAME"],
            user=settings["USER"],
            password=settings["PASSWORD"],
            host=settings["HOST"],
            port=settings["PORT"],
        )
    except psycopg2.Error as exc:
        raise DatabaseUnavailable(f"PostgreSQL did not answer: {exc}") from exc
    connection.autocommit = True
    return connection


def tracking_database_ensure(*, name: str, password: str) -> None:
    """Make the role `name` (login, this password) and the database `name` it owns, unless they
    exist; an existing role gets this password again (idempotent, adoptable)."""
    connection = _connect()
    try:
        with connection.cursor() as cursor:
            role = sql.Identifier(name)
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                        role, sql.Literal(password), sql.Identifier(TRACKING_GROUP)
                    )
                )
            else:
                cursor.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password)))
            # Creating a database owned by a role needs membership in it.
            cursor.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), role))
            # Nobody else connects to it (PUBLIC may connect to a new database by default).
            cursor.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    except psycopg2.Error as exc:
        raise DatabaseUnavailable(f"Could not make the tracking database {name}: {exc}") from exc
    finally:
        connection.close()


def tracking_database_drop(*, name: str) -> None:
    """Drop the database and the role; absent is fine."""
    connection = _connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    except psycopg2.Error as exc:
        raise DatabaseUnavailable(f"Could not drop the tracking database {name}: {exc}") from exc
    finally:
        connection.close()


def tracking_database_exists(*, name: str) -> bool:
    connection = _connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM pg_database WHERE datname = %s)"
                " + (SELECT count(*) FROM pg_roles WHERE rolname = %s)",
                [name, name],
            )
            return cursor.fetchone()[0] > 0
    finally:
        connection.close()
