# Same commands for people and CI. Needs: python3 (3.11+) with pip; everything else is installed here.
PYTHON ?= python3
VENV   := .venv
UV     := $(VENV)/bin/uv
BIN    := $(VENV)/bin

.PHONY: run test bench accuracy lint install install-test clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

# The locked environment (uv.lock), project installed in editable mode.
install: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --quiet --compile-bytecode

install-test: $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --quiet --compile-bytecode --extra test

# Ingest the bundled sample into data/warehouse.duckdb, validate it, print the summary.
run: install
	$(BIN)/infobox run

# Every test, on two processes (pytest-xdist; tests/conftest.py keeps each file, and all the
# MediaWiki tests, on one of them). The mediawiki/browser tests need Debian packages (see README, .ci/run).
test: install-test
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --no-loadscope-reorder

bench: install-test
	$(BIN)/python -m benchmarks.run

# The parser on real wikitext: recall, typed recall, precision per language; writes docs/ACCURACY.md.
accuracy: install-test
	$(BIN)/python -m benchmarks.accuracy --write docs/ACCURACY.md

lint: install-test
	$(BIN)/ruff check flows tasks expectations warehouse tests benchmarks

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/warehouse.texts.duckdb data/warehouse.texts.duckdb.wal data/gx data/reports data/charts data/logs data/prefect-server.json
