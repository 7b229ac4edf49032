# Two commands set a fresh machine up: `make demo` (rehearse the sample chat in the terminal,
# SQLite, no tokens) and `make test` (the whole test suite, installing PostgreSQL and Chromium
# from Debian when they are missing). Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench schema manifest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/chathost rehearse chats.yaml --chat tuesday-tea --replies examples/replies.yaml --speed 120 --out out/demo

test: $(STAMP)
	bash scripts/system-packages
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .

schema: $(STAMP)
	$(BIN)/chathost schema > config/chats.schema.json

# The slash commands of the Slack manifest, from the core's command table (a test checks them).
manifest: $(STAMP)
	$(BIN)/python -m bot.adapters.slack.manifest

clean:
	rm -rf $(VENV) out build *.egg-info
