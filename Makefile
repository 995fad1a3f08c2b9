# Two commands do all the set-up on a fresh machine (Python >= 3.11 and make):
#   make demo   the whole reconcile loop on an embedded local AWS emulator (no AWS account)
#   make test   the test suite (moto only, never real AWS), plus lint and type checks
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint emulator clean

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

# Both cores: the end-to-end tests wait on the emulator more than they compute.
test: $(BIN)/.installed lint
	$(BIN)/pytest -n 2

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
