# Two commands do all the set-up on a fresh machine (Python >= 3.11 and make):
#   make demo   the whole reconcile loop on an embedded local AWS emulator (no AWS account)
#   make test   the test suite (moto only, never real AWS), plus lint and type checks
# Recipes run under bash: typer's `--show-completion` names the shell it finds among its parent
# processes, and the test suite checks the bash script (under /bin/sh it would find sh).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-quick lint emulator clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/pacs-reconcile demo

emulator: $(BIN)/.installed
	$(BIN)/pacs-reconcile emulator

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests
	$(BIN)/mypy

# Both cores: the end-to-end tests wait on the emulator more than they compute. Work stealing
# keeps both workers busy to the end (the slowest cases are long). pytest exits 5 when it ran
# no test at all: that is a failure here, never a silent pass.
PYTEST_RUN = $(BIN)/pytest -n 2 --dist worksteal --durations=15
test: $(BIN)/.installed lint
	@$(PYTEST_RUN); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; failing" >&2; exit 1; fi; \
	exit $$status

# The quick loop while editing: everything but the cases marked slow (make test runs them all).
test-quick: $(BIN)/.installed
	@$(PYTEST_RUN) -m "not slow"; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test-quick: pytest collected no tests; failing" >&2; exit 1; fi; \
	exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
