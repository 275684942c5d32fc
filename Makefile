# The two commands of the README: `make run` and `make test`. Both start from nothing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORTAL_BIND ?= 127.0.0.1:8000
export PORTAL_BIND

.PHONY: run test setup services venv lint bench

run: setup
	@$(PY) manage.py collectstatic --noinput -v 0
	@mkdir -p var
	@echo "AI Sandbox Portal: http://$(PORTAL_BIND)/  (API docs at /api/docs/, health at /healthz)"
	$(VENV)/bin/honcho start

test: setup
	$(VENV)/bin/pytest

setup: services venv
	@mkdir -p var/static
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py portal_bootstrap
	@$(PY) manage.py notebook_gateway_setup

services:
	@bash deploy/setup.sh

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)
	@touch $@

# Measures, side by side with raw `docker run`; prints ratios and writes var/bench/.
bench: setup
	$(VENV)/bin/pytest bench -s -q

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
