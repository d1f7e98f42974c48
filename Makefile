# Every target installs what it needs by itself: a local virtualenv (.venv) and, for the
# end-to-end tests, Debian's prometheus and prometheus-alertmanager packages.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast lint format bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/spend-monitor demo

# Debian's Prometheus and Alertmanager for the end-to-end tests; installed only when missing.
system-deps:
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null || ! command -v prometheus-alertmanager >/dev/null; then \
		echo "installing Debian packages: prometheus prometheus-alertmanager"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check monitor tests benchmarks
	$(VENV)/bin/ruff format --check monitor tests benchmarks
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format monitor tests benchmarks
	$(VENV)/bin/ruff check --fix monitor tests benchmarks

test: lint system-deps
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -x -q -m "not e2e"

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
