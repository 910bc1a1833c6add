# Two commands for a fresh machine: `make run` and `make test`. Both create .venv when needed;
# `run` installs only what the app needs, `test` adds the test tools.
PYTHON ?= python3
VENV := .venv
APP_STAMP := $(VENV)/.app-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e .
	touch $(APP_STAMP)

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(APP_STAMP) $(DEV_STAMP)

run: $(APP_STAMP)
	$(VENV)/bin/liftoff serve

test: $(DEV_STAMP)
	@# The end-to-end tests drive Debian's Chromium; Playwright never downloads a browser.
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji; }
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

bench: $(DEV_STAMP)
	$(VENV)/bin/python bench/ack_latency.py

clean:
	rm -rf $(VENV) liftoff.db liftoff.db-shm liftoff.db-wal liftoff-sandbox
