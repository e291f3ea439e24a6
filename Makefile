# The two quick-start commands: `make demo` and `make test`. Both make their own .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOUSEHOLDS ?= 20000
STAMP := $(VENV)/.installed

.PHONY: demo test lint format install messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kaoping migrate --noinput
	$(BIN)/kaoping demo --households $(HOUSEHOLDS)
	@echo "kaoping: http://127.0.0.1:$(PORT)/"
	$(BIN)/kaoping runserver --insecure 127.0.0.1:$(PORT)

# SQLite always; PostgreSQL too when DATABASE_URL is set.
test: $(STAMP)
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)
	if [ -n "$$DATABASE_URL" ]; then $(BIN)/pytest $(PYTEST_ARGS); fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-extract UI strings into the zh_Hans catalog and compile it (needs GNU gettext).
messages: $(STAMP)
	$(BIN)/kaoping makemessages -l zh_Hans --no-obsolete --no-location -i '.venv/*' -i 'var/*' -i 'bench/*'
	$(BIN)/kaoping compilemessages -l zh_Hans -i '.venv/*'

clean:
	rm -rf $(VENV) var/static
