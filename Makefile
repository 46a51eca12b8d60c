# One command to set up and serve, one to set up and test: both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: serve test lint typecheck layers unit bench fuzz browser-test clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/planasonix-mock serve --host $(HOST) --port $(PORT) --seed fixtures/demo.json

lint: $(STAMP)
	$(BIN)/ruff check contracts mockserver tests benchmarks
	$(BIN)/ruff format --check contracts mockserver tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The layers of ARCHITECTURE (pyproject.toml's [tool.importlinter]): no upward import, no loop.
layers: $(STAMP)
	$(BIN)/lint-imports --no-cache

unit: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest -n 2 -q -m "not browser"

# The whole suite: lint, types, then every test under the fixed-seed Hypothesis profile.
test: lint typecheck layers unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Long property runs, never part of `make test`.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -n 2 -m "not browser" \
		tests/contracts/test_registry.py tests/contracts/test_strategies.py \
		tests/mockserver/test_store_stateful.py tests/mockserver/test_pagination.py \
		tests/mockserver/test_control.py
	$(BIN)/planasonix-contract run --target fake --max-examples 300

# Headless Chromium against a running fake, never part of `make test`.
# Installs Debian's chromium when missing and running as root.
browser-test: $(STAMP)
	command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || { echo "browser-test needs chromium (apt-get install chromium)"; exit 2; }
	$(BIN)/pytest -q -p no:xdist -m browser tests/browser

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
