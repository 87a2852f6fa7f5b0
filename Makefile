# The two commands of the README: `make run` (the demo) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run test install install-test chromium bench translations assets

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test chromium

# Browser tests drive Debian's Chromium; Playwright's own browser download cannot work here.
chromium:
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

run: install
	AANSLUITEN_DEMO=true $(BIN)/flask --app app init-db
	@echo "Aansluiten (demo) on http://$(HOST):$(PORT)/"
	AANSLUITEN_DEMO=true $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - "app:create_app()"

test: install-test
	$(BIN)/python -m pytest

# wrk measures throughput without taking the CPU from the server under test.
# The app's requirements and locust (requirements-bench.txt); the benchmarks import nothing from tests/.
bench: install
	$(BIN)/python -m pip install -q -r requirements-bench.txt
	@command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	$(BIN)/python bench/run.py

# After changing static/app.js or static/app.css: the minified copies that pages load.
assets: install-test
	$(BIN)/python -c 'import os, app; [open(os.path.join("static", name), "w", encoding="utf-8").write(text) for name, text in app.minified_assets().items()]'

# After changing user-facing text: collect the strings, merge them into the English
# catalogue (translate what is new in translations/en/LC_MESSAGES/messages.po), compile.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i translations/messages.pot -d translations
	$(BIN)/pybabel compile -d translations
