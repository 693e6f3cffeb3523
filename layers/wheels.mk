# What every layer's Makefile shares (each includes this file, found from its own path: `sam build` runs a
# layer's Makefile in a scratch copy of its folder but passes the Makefile's own path). A layer is built
# for Lambda (python3.13, arm64) by asking pip for that platform's wheels, so no Python 3.13 and no Docker
# is needed here: any pip on PATH will do (`make build` passes the dev venv's). A dependency without an
# arm64 cp313 wheel fails here, loudly, instead of being compiled for the wrong machine.
PIP_PYTHON ?= python3
# The runtime's Python, only for bytecode: Lambda cannot write it next to the read-only layer, so a layer
# without it compiles every module it imports at every cold start (~0.7 s for the API). Optional.
PY313 ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do "$$p" -c pass 2>/dev/null && { command -v "$$p"; break; }; done)
LAYERS_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PRUNE := $(LAYERS_DIR)/smtp_preflight/prune.py
LAMBDA_PYTHON_VERSION := 3.13
LAMBDA_PLATFORM := manylinux2014_aarch64

# $(call install_wheels,<more pip options>): requirements.txt's wheels into the layer's python/
define install_wheels
	$(PIP_PYTHON) -m pip --disable-pip-version-check install --quiet --no-compile $(1) \
		--platform $(LAMBDA_PLATFORM) --python-version $(LAMBDA_PYTHON_VERSION) --implementation cp \
		--only-binary=:all: --target "$(ARTIFACTS_DIR)/python" -r requirements.txt
endef

# $(call prune_and_compile,<the warning when no Python 3.13 is found>): what Lambda never reads dropped
# (prune.py), then the bytecode written where a Python 3.13 is found
define prune_and_compile
	$(PIP_PYTHON) "$(PRUNE)" "$(ARTIFACTS_DIR)/python"
	@if [ -n "$(PY313)" ]; then \
		"$(PY313)" -m compileall -q -j0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)/python" >/dev/null; \
	else echo "warning: no Python 3.13 here: $(1)" >&2; fi
endef
