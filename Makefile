# The EPCS token enrollment wizard.
#   make run    set up, then serve the wizard in sandbox mode on http://127.0.0.1:5000/, with
#               the VIP stand-in on https://127.0.0.1:5443/ (make run VIP=off: without it)
#   make test   set up (with Chromium), then ruff, the whole pytest suite and the example suites
#   make cluster  two app nodes on PostgreSQL and Redis behind nginx on http://127.0.0.1:8080/
# Each setup step runs again only when the file it depends on has changed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
VIP ?= on
VIP_PORT ?= 5443
CLUSTER_PORT ?= 8080
PYTEST_ARGS ?=
EXAMPLES ?= 1
# Processes for the tests that need no browser or cluster: one per CPU, at most 4.
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)

VENV := .venv
BIN := $(VENV)/bin
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c constraints.txt

RUNTIME_STAMP := $(VENV)/.stamp-runtime
DEV_STAMP := $(VENV)/.stamp-dev
NPM_STAMP := node_modules/.stamp-npm
EXAMPLES_NPM_STAMP := examples/playwright-ts/node_modules/.stamp-npm
HTMX := static/vendor/htmx.min.js

.PHONY: help setup run test lint format chromium test-services cluster clean constraints

help:
	@echo "make run          set up and serve the wizard in sandbox mode on http://$(HOST):$(PORT)/"
	@echo "                  with the VIP stand-in on port $(VIP_PORT) (VIP=off: the wizard alone)"
	@echo "make test         set up (with Chromium), then ruff check, pytest (unit, web, e2e) and"
	@echo "                  the testing kit's example suites (EXAMPLES=0 skips them)"
	@echo "make cluster      two app nodes, PostgreSQL, Redis and nginx on http://$(HOST):$(CLUSTER_PORT)/ until Ctrl+C"
	@echo "make setup        create .venv with the dev dependencies and copy htmx into static/vendor/"
	@echo "make lint         ruff check ."
	@echo "make format       ruff format . and ruff check --fix ."
	@echo "make chromium     check for Chromium (installs Debian's package when run as root)"
	@echo "make test-services  Chromium, redis-server, PostgreSQL and nginx (installed when run as root)"
	@echo "make constraints  regenerate constraints.txt from a fresh virtual environment"
	@echo "make clean        remove .venv, node_modules, static/vendor and caches (keeps instance/)"

# --- Python -----------------------------------------------------------------

$(BIN)/python:
	@echo "==> Creating the virtual environment $(VENV)/ ($(PYTHON) -m venv)"
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@echo "==> Installing the wizard and its runtime dependencies into $(VENV)/ (pinned by constraints.txt)"
	$(PIP_INSTALL) -e .
	@touch $@

$(DEV_STAMP): pyproject.toml constraints.txt $(RUNTIME_STAMP)
	@echo "==> Installing the development dependencies into $(VENV)/ (pytest, Playwright, ruff, ...)"
	$(PIP_INSTALL) -e '.[dev]'
	@touch $@

# --- Front-end assets -------------------------------------------------------

$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to fetch htmx: install Node.js 20 and npm." >&2; exit 1; }
	@echo "==> Installing the front-end packages from package-lock.json (npm ci)"
	npm ci --no-audit --no-fund
	@touch $@

# @playwright/test for the TypeScript example suite, pinned by its own package-lock.json
# (no browser download: it launches Debian's Chromium).
$(EXAMPLES_NPM_STAMP): examples/playwright-ts/package.json examples/playwright-ts/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the example suites: install Node.js 20 and npm." >&2; exit 1; }
	@echo "==> Installing @playwright/test for examples/playwright-ts (npm ci)"
	cd examples/playwright-ts && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@touch $@

$(HTMX): $(NPM_STAMP)
	@echo "==> Copying htmx into static/vendor/"
	@mkdir -p $(@D)
	cp node_modules/htmx.org/dist/htmx.min.js $@

# --- Tasks ------------------------------------------------------------------

setup: $(DEV_STAMP) $(HTMX)
	@echo "==> Set up: $(VENV)/ and $(HTMX) are current."

run: $(RUNTIME_STAMP) $(HTMX)
	@HOST=$(HOST) PORT=$(PORT) VIP=$(VIP) VIP_PORT=$(VIP_PORT) scripts/run-sandbox

chromium:
	@scripts/ensure-chromium

test-services:
	@scripts/ensure-test-services

# The shape a health system runs, on this machine (docs/DEPLOYMENT.md): sandbox data included.
cluster: $(DEV_STAMP) $(HTMX)
	@scripts/ensure-test-services cluster
	@PYTHONPATH=scripts $(BIN)/python -m cluster --port $(CLUSTER_PORT)

lint: $(DEV_STAMP)
	@echo "==> ruff check ."
	$(BIN)/ruff check .

format: $(DEV_STAMP)
	@echo "==> ruff format . and ruff check --fix ."
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Runs pytest even when ruff finds problems, so one run reports both; fails if either failed.
# The example suites spend much of their time waiting for a token's next 30-second code, so in
# the full run they go alongside the tests that need no browser (their output follows those
# tests'); with PYTEST_ARGS they run after it. The cluster tests run last, alone on the machine.
test: setup test-services $(if $(filter 1,$(EXAMPLES)),$(EXAMPLES_NPM_STAMP))
	@status=0; \
	echo "==> ruff check ."; \
	$(BIN)/ruff check . || status=1; \
	export PATH="$(CURDIR)/$(BIN):$$PATH"; \
	examples_log=$$(mktemp); examples=; \
	trap 'rm -f "$$examples_log"' EXIT; \
	if [ -n "$(strip $(PYTEST_ARGS))" ]; then \
	  echo "==> pytest $(PYTEST_ARGS)"; \
	  $(BIN)/python -m pytest $(PYTEST_ARGS) || status=1; \
	else \
	  if [ "$(EXAMPLES)" = 1 ]; then \
	    echo "==> The testing kit's example suites (scripts/test-examples), alongside the next run"; \
	    scripts/test-examples >"$$examples_log" 2>&1 & examples=$$!; \
	  fi; \
	  echo "==> pytest in $(JOBS) processes: tests/unit, tests/web and tests/faults (on SQLite and PostgreSQL)"; \
	  $(BIN)/python -m pytest -n $(JOBS) tests/unit tests/web tests/faults || status=1; \
	  if [ -n "$$examples" ]; then \
	    echo "==> The testing kit's example suites' output"; \
	    wait $$examples || { status=1; echo "==> The example suites failed." >&2; }; \
	    cat "$$examples_log"; \
	  fi; \
	  echo "==> pytest in $(JOBS) processes, a file to each: tests/e2e (Chromium) and tests/testing"; \
	  $(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests/e2e tests/testing || status=1; \
	  echo "==> pytest: tests/cluster (nginx, two app nodes, PostgreSQL, Redis), alone on the machine"; \
	  $(BIN)/python -m pytest tests/cluster || status=1; \
	fi; \
	if [ "$(EXAMPLES)" = 1 ] && [ -n "$(strip $(PYTEST_ARGS))" ]; then \
	  echo "==> The testing kit's example suites (scripts/test-examples)"; \
	  scripts/test-examples || status=1; \
	fi; \
	if [ $$status -ne 0 ]; then echo "==> make test failed (see the ruff, pytest or example output above)." >&2; fi; \
	exit $$status

constraints:
	@echo "==> Regenerating constraints.txt: fresh venv, pip install -e '.[dev,postgres]', pip freeze"
	@tmp=$$(mktemp -d); \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet -e '.[dev,postgres]'; \
	{ echo "# Pinned versions for reproducible installs: pip install -c constraints.txt -e '.[dev]'"; \
	  echo "# Regenerate with \`make constraints\` after changing dependencies in pyproject.toml."; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable; } > constraints.txt; \
	rm -rf "$$tmp"
	@echo "==> constraints.txt rewritten; the next make run or make test reinstalls from it."

clean:
	@echo "==> Removing $(VENV)/, node_modules/, static/vendor/, test-results/ and caches (instance/ is kept)"
	rm -rf $(VENV) node_modules static/vendor test-results .pytest_cache .ruff_cache .hypothesis *.egg-info
	rm -rf examples/playwright-ts/node_modules examples/*/test-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Speed against a bare Flask app under the same gunicorn settings (about 3.5 minutes); the
# latest figures and what they mean are in docs/PERFORMANCE.md.
.PHONY: bench
bench: $(DEV_STAMP) $(HTMX)
	$(BIN)/python -m bench
