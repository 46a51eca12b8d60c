# One command to set up and serve, one to set up and test: both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SERVE_STAMP := $(VENV)/.installed-serve
# `make serve` settings (see README, "Settings you can change").
HOST ?= 127.0.0.1
PORT ?= 8080
SEED ?= demo
# With PLANASONIX_STATE_KEY set and no STATE_FILE, state goes to planasonix.state.json.
STATE_FILE ?= $(if $(PLANASONIX_STATE_KEY),planasonix.state.json,)

.PHONY: serve test lint typecheck layers docs unit bench fuzz kit-soak profiles browser-test install-check ecosystem-check clean

# Everything: the fake, the kit ([kit]), httpx support, test and bench tools.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[kit,httpx,test,docs,bench]'
	touch $(STAMP) $(SERVE_STAMP)

# Serving needs the base install only: the fake and its server.
$(SERVE_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(SERVE_STAMP)

serve: $(SERVE_STAMP)
	$(BIN)/planasonix-mock serve --host $(HOST) --port $(PORT) --seed $(SEED) \
		$(if $(STATE_FILE),--state-file $(STATE_FILE),)

lint: $(STAMP)
	$(BIN)/ruff check contracts mockserver tests benchmarks tools
	$(BIN)/ruff format --check contracts mockserver tests benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

# The layers of ARCHITECTURE (pyproject.toml's [tool.importlinter]): no upward import, no loop.
layers: $(STAMP)
	$(BIN)/lint-imports --no-cache

# The documentation site (docs/, mkdocs.yml) into site/, git-ignored; any warning fails.
# NO_MKDOCS_2_WARNING: Material's notice about MkDocs 2.0 is for the maintainers, not a build problem.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

unit: $(STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest -n 2 -q -m "not browser"

# The whole suite: lint, types, layers, the docs build, then every test under the
# fixed-seed Hypothesis profile.
test: lint typecheck layers docs unit

# bench_http.py loads the server with wrk: installed from Debian's packages when
# missing and running as root; elsewhere it falls back to a Python load generator.
bench: $(STAMP)
	command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1; } || \
		echo "wrk not installed: bench_http.py uses its Python load generator"
	$(BIN)/python benchmarks/run_all.py

# The contract kit against our fake and every valid variant, ten seeds each: no
# false alarm, whatever the seed (tests/kit/test_soak.py). Never part of `make test`.
kit-soak: $(STAMP)
	KIT_SOAK=1 HYPOTHESIS_PROFILE=ci $(BIN)/pytest -q -n 2 -p no:cacheprovider tests/kit/test_soak.py

# Long property runs, never part of `make test`.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -n 2 -m "not browser" \
		tests/contracts/test_registry.py tests/contracts/test_strategies.py \
		tests/mockserver/test_store_stateful.py tests/mockserver/test_pagination.py \
		tests/standalone/test_control.py
	$(BIN)/planasonix-contract run --target fake --max-examples 300

# The kit against the fake under a pairwise sweep of profile settings (a few minutes),
# never part of `make test` (which runs each setting alone).
profiles: $(STAMP)
	PLANASONIX_PAIRWISE=1 HYPOTHESIS_PROFILE=ci $(BIN)/pytest -q -n 2 tests/kit/test_profiles.py

# Headless Chromium against a running fake, never part of `make test`.
# Installs Debian's chromium when missing and running as root.
browser-test: $(STAMP)
	command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } || { echo "browser-test needs chromium (apt-get install chromium)"; exit 2; }
	$(BIN)/pytest -q -p no:xdist -m browser tests/browser

# Fresh venvs, a real `pip install` of this checkout: the base install gives the
# fixtures and `planasonix-mock serve --seed demo`, `[kit]` adds planasonix-contract.
# Needs the package index (slow), so never part of `make test`.
install-check:
	$(PYTHON) tests/testing/install_check.py

# The served OpenAPI document as the ecosystem's tools read it (tools/ecosystem_check.py):
# Spectral, `prism mock`, and the kit through a Prism validating proxy in front of the fake;
# then the kit against the Express deployment (Node) and its one-bug copies.
# Installs the Node tools with npm into .ecosystem/ (and Express from its lock file);
# never part of `make test`.
ECOSYSTEM := .ecosystem
EXPRESS := tests/kit/deployments/express
ecosystem-check: $(STAMP)
	test -x $(ECOSYSTEM)/node_modules/.bin/prism -a -x $(ECOSYSTEM)/node_modules/.bin/spectral || \
		npm install --prefix $(ECOSYSTEM) --no-audit --no-fund --loglevel=error \
			@stoplight/prism-cli@5 @stoplight/spectral-cli@6
	test -d $(EXPRESS)/node_modules/express || \
		npm ci --prefix $(EXPRESS) --no-audit --no-fund --loglevel=error
	$(BIN)/python tools/ecosystem_check.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis site
