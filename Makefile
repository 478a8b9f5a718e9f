# Two entry points for a fresh machine: `make run` (the app) and `make test` (the suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint eval bench browser index clean-index

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py

# Debian's Chromium for the browser tests (never `playwright install`: no downloads here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium chromium-driver)

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

index: $(STAMP)
	$(BIN)/baocao index

eval: $(STAMP)
	$(BIN)/baocao eval --md evals/reports/latest.md --json evals/reports/latest.json

bench: $(STAMP)
	$(BIN)/python bench/index_build.py
	$(BIN)/python bench/latency.py
