# Every target installs what it needs by itself: a local virtualenv (.venv) and, for the
# end-to-end tests, Debian's prometheus and prometheus-alertmanager packages.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-fast test-floors lint format bench system-deps clean chaos soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The daemon as the Docker image runs it: the runtime dependencies only, no dev or plot extras (so
# no numpy, which sqlite-utils imports whenever it is installed). `make soak` runs the daemon here,
# from the source tree (the harness itself runs in .venv).
RUN_VENV := .venv-run
RUN_STAMP := $(RUN_VENV)/.installed-stamp
$(RUN_STAMP): pyproject.toml
	rm -rf $(RUN_VENV)
	$(PYTHON) -m venv $(RUN_VENV)
	$(RUN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
		> $(RUN_VENV)/requirements.txt
	$(RUN_VENV)/bin/python -m pip install --quiet -r $(RUN_VENV)/requirements.txt
	touch $(RUN_STAMP)

run: $(STAMP)
	$(VENV)/bin/spend-monitor demo

# Debian packages the end-to-end tests run for real: Prometheus (with promtool), Alertmanager and
# Chromium (the status page in a headless browser). Installed only when missing.
SYSTEM_TOOLS := prometheus promtool prometheus-alertmanager chromium
system-deps:
	@missing=""; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages for:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			prometheus prometheus-alertmanager chromium >/dev/null; \
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

# The dependency floors: every dependency at the lowest version pyproject.toml declares (.ci/floors.py
# turns each >=X into ==X), in a virtualenv of its own, running the unit tests (not the e2e ones).
FLOORS_VENV := .venv-floors
test-floors:
	rm -rf $(FLOORS_VENV)
	$(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS_VENV)/bin/python -m pip install --quiet $$($(PYTHON) .ci/floors.py dev)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --no-deps -e .
	$(FLOORS_VENV)/bin/python -m pip list --format=freeze | grep -iE '^(prometheus.client|apscheduler|httpx|pyyaml|sqlite.utils|apprise|bcrypt|pytest|hypothesis|matplotlib)=='
	$(FLOORS_VENV)/bin/python -m pytest -q -m "not e2e" -p no:cacheprovider

test-fast: $(STAMP)
	$(PY) -m pytest -x -q -m "not e2e"

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# Proof under fault and load (docs/RELIABILITY.md); each bounded to about 10 minutes on 2 cores.
chaos: $(STAMP)
	$(PY) benchmarks/chaos.py

soak: $(STAMP) $(RUN_STAMP)
	$(PY) benchmarks/soak.py --python $(RUN_VENV)/bin/python

clean:
	rm -rf $(VENV) $(FLOORS_VENV) $(RUN_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
