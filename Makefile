# Two commands for a fresh machine: `make run` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/liftoff serve

test: $(STAMP)
	@# The end-to-end tests drive Debian's Chromium; Playwright never downloads a browser.
	command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji; }
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

bench: $(STAMP)
	$(VENV)/bin/python bench/ack_latency.py

clean:
	rm -rf $(VENV) liftoff.db liftoff.db-shm liftoff.db-wal liftoff-sandbox
