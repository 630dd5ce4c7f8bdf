# Stagecraft: `make run` starts the product, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
VENDOR := static/vendor

.PHONY: run test soak fuzz bench lint setup deps frontend chromium postgresql migrate clean

run: setup
	$(FLASK) up

# The whole suite on SQLite (three processes, one file each at a time: the browser and live-server tests mostly
# wait, so a third process fits on two cores), then the money, lifecycle, session and storage-fault tests
# again on a throwaway PostgreSQL (two processes, each with a database of its own).
test: setup chromium postgresql
	$(VENV)/bin/pytest -q -n 3 --dist loadfile --durations=12 $(PYTEST_ARGS)
	tests/with_postgres.sh $(VENV)/bin/pytest -q -n 2 --dist loadfile $(POSTGRES_TESTS)

POSTGRES_TESTS := tests/test_credits.py tests/test_lifecycle.py tests/test_sweeper.py tests/test_generations.py \
	tests/test_worker_death.py tests/test_api_v1.py tests/test_live.py tests/test_admin.py tests/test_redis_outage.py \
	tests/test_ai_generations.py tests/test_webhooks.py tests/test_sessions.py tests/test_storage_faults.py \
	tests/test_page_actions_once.py

# The fault suite (tests/test_fault_suite.py) at length, about 10 minutes: SOAK_GENERATIONS generations (default 200)
# under `flask up` with the AI stand-ins in fault mode, while workers and Redis are killed and the disk fills;
# every one must end, charged once, with its file. It prints the figures for the README's reliability table.
soak: setup
	SOAK_GENERATIONS=$${SOAK_GENERATIONS:-200} $(VENV)/bin/pytest -q -s tests/test_fault_suite.py

# Schemathesis exploring the whole API from a fresh seed, beyond the fixed cases of `make test` (FUZZ_SECONDS, default 20 minutes).
fuzz: setup
	FUZZ_SECONDS=$${FUZZ_SECONDS:-1200} $(VENV)/bin/pytest -q -s tests/test_fuzz_api.py

bench: setup
	$(PY) bench/run.py

setup: deps frontend

deps: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-extras.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-extras.txt || \
	  echo "The photo compliance extras did not install; those checks will report 'not available'."
	touch $@

frontend: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/htmx-ext-sse/dist/sse.min.js $(VENDOR)/htmx-sse.min.js
	cp node_modules/@picocss/pico/css/pico.min.css $(VENDOR)/
	cp node_modules/img-comparison-slider/dist/index.js $(VENDOR)/img-comparison-slider.js
	touch $@

# Browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
chromium:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The money and lifecycle tests run again on a throwaway cluster of Debian's PostgreSQL server.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=$$(command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql >/dev/null; }

migrate: setup
	$(FLASK) db upgrade

lint: setup
	$(VENV)/bin/ruff check --select F,E9 --line-length 120 app jobs tests bench

clean:
	rm -rf $(VENV) node_modules $(VENDOR)
