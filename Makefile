# One command to set up and serve, one to set up and test: both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: serve test lint typecheck unit bench fuzz browser-test clean

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

unit: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest -n 2 -q

# The whole suite: lint, types, then every test under the fixed-seed Hypothesis profile.
test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Long property runs, never part of `make test`.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -m "not slow" tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
