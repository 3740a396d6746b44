# consult119 — the two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test lint bench i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP)

demo: $(STAMP)  ## build a demo database and serve http://127.0.0.1:8119
	$(BIN)/consult119 demo --port 8119

test: $(DEVSTAMP)  ## run the whole suite (SQLite and PostgreSQL, browser tests)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(DEVSTAMP)  ## run the benchmarks (prints tables)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/reports.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
