# The two commands of the quickstart: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench schemas clean install browser office terminal

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

demo: $(STAMP)
	REPORTSUM_HOME=$(CURDIR)/.venv/reportsum-home $(BIN)/reportsum summarise examples/ --format md

test: $(STAMP) browser office terminal
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
