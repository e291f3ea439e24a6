# The two quick-start commands: `make demo` and `make test`. Both make their own .venv and
# install the system packages they need (tools/system-packages.sh: apt as root or with sudo).
# The first Python 3.11–3.13 found on PATH (override with PYTHON=…).
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in python3.11 python3.12 python3.13 python3; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null \
	&& { echo $$p; break; }; done)
endif
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOUSEHOLDS ?= 20000
STAMP := $(VENV)/.installed

.PHONY: demo test lint format install messages clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "kaoping needs Python 3.11, 3.12 or 3.13 (e.g. apt-get install python3 python3-venv)"; exit 1; }
	@test -x $(BIN)/python || { echo "kaoping: creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "kaoping: installing the Python packages into $(VENV) (a minute the first time; log in $(VENV)/pip.log)"
	@{ $(BIN)/pip install --disable-pip-version-check --upgrade pip \
	  && $(BIN)/pip install --disable-pip-version-check -e '.[dev]'; } > $(VENV)/pip.log 2>&1 \
	  || { tail -20 $(VENV)/pip.log; echo "kaoping: the Python packages did not install (see $(VENV)/pip.log)"; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@tools/system-packages.sh demo
	@echo "kaoping: preparing the database"
	@$(BIN)/kaoping migrate --noinput -v 0
	@$(BIN)/kaoping demo --households $(HOUSEHOLDS)
	@echo "kaoping: http://127.0.0.1:$(PORT)/"
	@$(BIN)/kaoping runserver --insecure 127.0.0.1:$(PORT)

# SQLite always; PostgreSQL too when DATABASE_URL is set (the tests that reach the database:
# kaoping/conftest.py). One worker process per core
# (pytest-xdist; a test file stays on one worker, so its fixtures are built once; files marked
# `long` are handed out first, kaoping/conftest.py).
TEST_WORKERS ?= auto
test: $(STAMP)
	@tools/system-packages.sh test
	env -u DATABASE_URL $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)
	if [ -n "$$DATABASE_URL" ]; then $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS); fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-extract UI strings into the zh_Hans catalog and compile it (needs GNU gettext).
messages: $(STAMP)
	$(BIN)/kaoping makemessages -l zh_Hans --no-obsolete --no-location -i '.venv/*' -i 'var/*' -i 'bench/*'
	$(BIN)/kaoping compilemessages -l zh_Hans -i '.venv/*'

clean:
	rm -rf $(VENV) var/static
