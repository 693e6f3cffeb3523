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

.PHONY: install sam run openapi readme replay-ahead screenshots browser build bench test lint typecheck unit integration coverage fuzz clean

install: $(STAMP)

$(STAMP): requirements-dev.txt constraints.txt layers/smtp_preflight/requirements.txt layers/legacy_envelopes/requirements.txt layers/detailed_tracing/requirements.txt pyproject.toml
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
	$(BIN)/python -m local

# Regenerate the committed OpenAPI document (a test fails while it is stale).
openapi: install
	$(BIN)/python -m tools.openapi

# Rewrite the console sessions of README.md and docs/*.md that no longer match a real run (a test fails
# while one differs).
readme: install
	README_UPDATE=1 $(BIN)/pytest tests/integration/test_readme.py -q

# The sessions of README.md and docs/*.md replayed with the wall clock a year ahead (libfaketime, see
# tests/support/clock_ahead.py): nothing they compare may depend on the date. CI runs it after `make test`.
replay-ahead: install
	$(BIN)/python -m tests.support.clock_ahead 365 $(BIN)/pytest -p no:cacheprovider -q tests/integration/test_readme.py

# Retake the settings page's screenshots in docs/ (docs/page.md) with the browser test.
screenshots: install browser
	SCREENSHOTS_UPDATE=1 $(BIN)/pytest tests/integration/browser -q

# Debian's chromium and chromium-driver for the browser test, installed where missing (as root, with
# apt-get); silent when they are there. Where they cannot be installed, the browser test is skipped.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make browser: installing Debian's chromium and chromium-driver for the browser test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends chromium chromium-driver >/dev/null; } \
		|| echo "make browser: could not install them: the browser test will be skipped" >&2; \
	else echo "make browser: no chromium, and no apt-get as root: the browser test will be skipped" >&2; fi

# Build the layer and function for Lambda (python3.13, arm64) without Docker and without a local
# Python 3.13: both use `BuildMethod: makefile` (layers/smtp_preflight/Makefile asks pip for the arm64
# cp313 wheels and prunes botocore to the services used; functions/Makefile copies the handlers). Where a
# Python 3.13 is found, both also ship its bytecode. Not part of `make test`.
build: install sam
	PIP_PYTHON="$(abspath $(BIN)/python)" $(SAM) build --template template.yaml
	$(BIN)/python -m tools.build_check

# Speed and size against baselines run side by side (docs/performance.md); not part of `make test`,
# which runs each benchmark once in tests/integration/test_benchmarks.py. swaks is a baseline when
# installed (apt-get install swaks); without it those rows are skipped and the table says so.
bench: install
	$(BIN)/python -m benchmarks

lint: install sam
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --region us-east-1 --template template.yaml

typecheck: install
	$(BIN)/mypy layers/smtp_preflight/smtp_preflight functions tests local tools fixtures benchmarks

# Pure domain tests: no AWS, no network beyond loopback servers. Branch coverage starts afresh here.
unit: install
	$(BIN)/pytest --durations=5 tests/unit --cov --cov-report=

# Handlers under moto, the handshake against real loopback SMTP servers, the local server, and the
# settings page in headless chromium. Each file on one of two workers (module-scoped servers stay in
# their file's worker); the slowest tests are printed so every change sees its share of the time.
integration: install browser
	$(BIN)/pytest -n 2 --dist loadfile --durations=15 --cov --cov-append --cov-report= tests/integration

# The branch coverage of both suites (pyproject.toml [tool.coverage.*]; files at 100% are not listed),
# and the layer's floor: what today's suite reaches, raised as the suite grows.
LAYER_COVERAGE_FLOOR := 94
coverage: install
	$(BIN)/coverage report
	@echo "Layer (floor $(LAYER_COVERAGE_FLOOR)%):"
	$(BIN)/coverage report --include='layers/smtp_preflight/smtp_preflight/*' --format=total \
		--fail-under=$(LAYER_COVERAGE_FLOOR)

test: lint typecheck unit integration coverage

# Longer runs of the bounded fuzz and load tests in `make test` (not part of it): schemathesis with
# FUZZ_EXAMPLES examples per operation, the load test with LOAD_REQUESTS requests, the redaction properties.
FUZZ_EXAMPLES ?= 500
LOAD_REQUESTS ?= 1000
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) LOAD_REQUESTS=$(LOAD_REQUESTS) $(BIN)/pytest -p no:cacheprovider \
		tests/integration/api/test_openapi_fuzz.py tests/integration/api/test_load.py \
		tests/integration/api/test_canaries.py tests/integration/api/test_canaries_transforms.py \
		tests/integration/events/test_worker_canaries.py tests/unit/handshake/test_redaction.py \
		tests/unit/handshake/test_echo_transforms.py

clean:
	rm -rf $(VENV) .aws-sam .mypy_cache .pytest_cache .ruff_cache .hypothesis .coverage .coverage.*
