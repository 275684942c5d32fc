# The two commands of the README: `make run` and `make test`. Both start from nothing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORTAL_BIND ?= 127.0.0.1:8000
export PORTAL_BIND
# Debug is off unless PORTAL_DEBUG turns it on, and then Django needs a secret key: the one the
# environment gives, or one generated once into var/secret_key. Read each time a recipe runs, so
# the first run sees the file it made.
export PORTAL_SECRET_KEY ?= $(shell cat var/secret_key 2>/dev/null)
# supervisord's socket and logs (`PORTAL_RUN_DIR=$$PWD/var/run $(VENV)/bin/supervisorctl -c deploy/supervisor/portal.conf status`).
export PORTAL_RUN_DIR ?= $(CURDIR)/var/run
export PORTAL_GATEWAY_SECRET ?= $(shell cat var/gateway_secret 2>/dev/null)

.PHONY: run test setup services venv lint bench

# The processes under supervisord: one that ends is started again alone, the others keep serving.
# `setup` (portal_bootstrap) has asked for the shipped images: the worker of the `long` queue
# builds those missing from the registry, or changed, in the background; the App Store shows them.
run: setup
	@$(PY) manage.py collectstatic --noinput -v 0
	@mkdir -p $(PORTAL_RUN_DIR)
	@echo "AI Sandbox Portal: http://$(PORTAL_BIND)/  (API docs at /api/docs/, health at /healthz; gateway to nodes on $${PORTAL_GATEWAY_BIND:-127.0.0.1:8002})"
	$(VENV)/bin/supervisord -c deploy/supervisor/portal.conf

# The tests make their own database, Redis databases and Docker site: they need the services
# and the packages, never the running portal's set-up (migrate, bootstrap, the gateway's secret).
test: services venv
	@mkdir -p var
	$(VENV)/bin/pytest

setup: services venv var/secret_key var/gateway_secret
	@mkdir -p var/static
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py portal_bootstrap

var/secret_key:
	@mkdir -p var
	@umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(50))' > $@

# Shared by the portal and the gateway (deploy/gateway/run.sh reads the file): only the gateway
# gets the answers of /gateway/auth, which name nodes' addresses and tokens.
var/gateway_secret:
	@mkdir -p var
	@umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(32), end="")' > $@

services:
	@bash deploy/setup.sh

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)
	@touch $@

# Issue 16's launch path side by side in one run (bench/test_launch_path.py): raw `docker run`,
# JupyterHub + DockerSpawner (in its own virtualenv, var/bench-venv, made on the first run) and
# the portal (gunicorn and its Celery workers as `make run` starts them), 1, 8 and 16 at once and in Chromium;
# prints the table, writes var/bench/. About 10 minutes on 2 cores; BENCH_ROUNDS, BENCH_ROUNDS_16
# and BENCH_COUNTS make it shorter.
bench: setup var/chp/node_modules/.bin/configurable-http-proxy
	PORTAL_CHP_BIN=$(CURDIR)/var/chp/node_modules/.bin/configurable-http-proxy $(VENV)/bin/pytest bench -s -q

# The peer JupyterHub's proxy, for the bench only (the portal itself no longer uses it).
var/chp/node_modules/.bin/configurable-http-proxy:
	@mkdir -p var/chp
	npm install --silent --prefix var/chp configurable-http-proxy@4

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
