# 信访事项处理平台 — the two commands a newcomer needs: `make run` and `make test`.
.EXPORT_ALL_VARIABLES:
-include .env

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run lint test test-unit test-integration test-e2e bench services lock clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "Python 3.11 is required (nameko 2.14 / eventlet)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## make run: the whole platform on the embedded default (SQLite stores, SecantusDB read models).
run: install
	$(BIN)/python -m deploy.local.run

## make lint: ruff, as configured in pyproject.toml (make test runs it first).
lint: install
	$(BIN)/ruff check .

## make test: installs, lints, makes sure PostgreSQL and RabbitMQ are up, runs unit, integration and end-to-end tests.
test: install lint services
	$(BIN)/python -m pytest tests

test-unit: install
	$(BIN)/python -m pytest tests/unit
test-integration: install services
	$(BIN)/python -m pytest tests/integration
test-e2e: install services
	$(BIN)/python -m pytest tests/e2e

## make bench: throughput and latency on PostgreSQL, and the read side at 200,000 cases (figures and ratios to a baseline).
bench: install services
	$(BIN)/python -m bench

services:
	deploy/local/ensure-services.sh

## make lock: re-pin the whole dependency tree after changing pyproject.toml.
lock:
	$(BIN)/pip freeze > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache
