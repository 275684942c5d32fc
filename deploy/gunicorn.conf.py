"""gunicorn's settings for the portal's web process: `make run` (deploy/supervisor/portal.conf)
and production (deploy/systemd/portal-web.service) both start it with this file."""

import os

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WEB_WORKERS", "2"))
threads = int(os.environ.get("PORTAL_WEB_THREADS", "4"))
# Idle connections are kept this long. Scripts poll every 2 s (docs/api.md) and proxies
# keep idle upstream connections for up to a minute (nginx's keepalive_timeout is 60 s by default,
# and its upstream keepalive_timeout should stay below this): the side that closes an idle
# connection must be the client, or a request sent as the server closes it meets a reset.
keepalive = int(os.environ.get("PORTAL_KEEPALIVE_S", "75"))
accesslog = "-"
