# The two commands of the README: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-requirements
ASSETS := static/vendor/htmx.min.js

.PHONY: install demo test screenshots lint format clean

install: $(INSTALLED) $(ASSETS)

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

## Run web, worker, scheduler (and embedded PostgreSQL, Redis and the 1NCE simulator as needed).
demo: install
	$(BIN)/python -m devtools.demo

## Run the test suite against real PostgreSQL and Redis (configured or embedded).
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

## Regenerate docs/screenshots/*.png from a real stack (the browser tests, in Chromium).
screenshots: install
	SIMFLEET_SCREENSHOTS=1 $(BIN)/pytest -m browser $(PYTEST_ARGS)

## Lint and format-check with ruff, type-check with mypy (as CI and the pre-commit hooks do).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache .mypy_cache
