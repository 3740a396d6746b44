# consult119 — the two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test test-fast lint bench i18n clean

I18N_DIR      := src/consult119/i18n
I18N_POT      := $(I18N_DIR)/locale/messages.pot
I18N_KEYWORDS := -k lazy_gettext -k lazy_ngettext:1,2 -k _l
I18N_LOCALES  := ko en

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

# The suite spreads over worker processes, one test file to a worker (so a file's shared live
# server stays one); every worker has its own databases and ports. WORKERS=0 runs it in one.
WORKERS ?= 3
XDIST   := $(if $(filter 0,$(WORKERS)),-p no:xdist,-n $(WORKERS) --dist loadfile)

test: $(DEVSTAMP)  ## run the whole suite (SQLite and PostgreSQL, browser tests)
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: $(DEVSTAMP)  ## the inner loop: SQLite only, no browser, no API fuzzing
	$(BIN)/ruff check src tests bench
	CONSULT119_TEST_BACKENDS=sqlite $(BIN)/python -m pytest $(XDIST) \
		-m "not browser and not fuzz" $(PYTEST_ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(DEVSTAMP)  ## run the benchmarks (prints tables)
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/intake_core.py
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/attachments.py

i18n: $(STAMP)  ## extract every wrapped string, update the ko/en catalogs, compile them
	$(BIN)/pybabel extract -F $(I18N_DIR)/babel.cfg $(I18N_KEYWORDS) --add-location=file \
		--sort-output --no-wrap --project=consult119 --copyright-holder=consult119 \
		-o $(I18N_POT) src/consult119
	for lang in $(I18N_LOCALES); do \
		test -f $(I18N_DIR)/locale/$$lang/LC_MESSAGES/messages.po || \
		$(BIN)/pybabel init -i $(I18N_POT) -d $(I18N_DIR)/locale -D messages -l $$lang --no-wrap; \
	done
	$(BIN)/pybabel update -i $(I18N_POT) -d $(I18N_DIR)/locale -D messages --no-wrap \
		--ignore-obsolete
	$(BIN)/pybabel compile -d $(I18N_DIR)/locale -D messages --statistics

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
