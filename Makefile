# smtp-preflight: `make run` starts the service locally, `make test` runs every check CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.installed
# aws-sam-cli lives in its own venv: its pins clash with the dev tools'.
SAM_VENV  := .tools/sam
SAM       := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
# `sam build` needs the Lambda runtime's interpreter (python3.13) on PATH; pyenv provides it here.
PY313_BIN ?= $(shell pyenv prefix 3.13.0 2>/dev/null)/bin

.PHONY: install sam run openapi build test lint typecheck unit integration clean

install: $(STAMP)

$(STAMP): requirements-dev.txt constraints.txt layers/smtp_preflight/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements-dev.txt -c constraints.txt
	$(PIP) install --no-deps -e .
	touch $@

$(SAM_STAMP): requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements-sam.txt
	touch $@

sam: $(SAM_STAMP)

# The whole service on this machine: API on 127.0.0.1:$${PORT:-3000}, moto DynamoDB, a demo SMTP server.
run: install
	$(BIN)/python -m local.server

# Regenerate the committed OpenAPI document (a test fails while it is stale).
openapi: install
	$(BIN)/python -m local.openapi

# Build the layer and function for Lambda (python3.13, arm64) without Docker; not part of `make test`.
build: sam
	PATH="$(PY313_BIN):$$PATH" $(SAM) build --template template.yaml

lint: install sam
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --region us-east-1 --template template.yaml

typecheck: install
	$(BIN)/mypy layers/smtp_preflight/smtp_preflight functions tests local

# Pure domain tests: no AWS, no network beyond loopback servers.
unit: install
	$(BIN)/pytest tests/unit

# Handlers under moto, the handshake against real loopback SMTP servers, and the local server.
integration: install
	$(BIN)/pytest tests/integration

test: lint typecheck unit integration

clean:
	rm -rf $(VENV) .aws-sam .mypy_cache .pytest_cache .ruff_cache .hypothesis
