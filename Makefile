# The PRM's commands. `make run` and `make test` do all set-up themselves on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/prm
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: compile-messages chromium run test test-postgres contract-test lint format messages check-deploy clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Compiled translations are build output: made from locale/*.po, never committed.
compile-messages: $(STAMP)
	$(BIN)/python manage.py compile_translations -v 0

# Debian's Chromium and a CJK font for the browser tests (tests/e2e); apt-get only if missing.
chromium:
	bin/ensure-chromium

## Set up and run the app with demo data: web on http://127.0.0.1:8000, a Celery worker and beat.
run: compile-messages
	bin/run-dev

## Set up and run every test (SQLite and a file-system broker unless DATABASE_URL/REDIS_URL are set).
test: compile-messages chromium
	PRM_DATA_DIR=$(CURDIR)/.run/test $(BIN)/pytest $(PYTEST_ARGS)

## The same suite on PostgreSQL with the Celery test task going through Redis.
test-postgres: compile-messages chromium
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) PRM_DATA_DIR=$(CURDIR)/.run/test-pg $(BIN)/pytest $(PYTEST_ARGS)

## The API against its OpenAPI schema: schemathesis fuzzes the live app with a read-only, a
## partner-bound and a read-write API key (PostgreSQL when DATABASE_URL is set; reports in .run/contract).
contract-test: compile-messages
	bin/contract-test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh locale/zh_Hans/LC_MESSAGES/django.po from the code and templates.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --no-obsolete

## Production settings must pass Django's deployment checklist with no warnings.
check-deploy: $(STAMP)
	PRM_ENV=production SECRET_KEY=ci-$$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9') \
	ALLOWED_HOSTS=prm.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf .run staticfiles
