# Two entry points for a fresh machine: `make demo` and `make test`. Everything else is a step
# they depend on; each step is skipped when already done (stamp files under .venv/).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed-$(shell cat requirements.lock requirements.in 2>/dev/null | sha1sum | cut -c1-12)
SANDBOX   := .sandbox
# The Azure CLI lives in its own venv: its pinned azure-mgmt-* versions conflict with
# azure.azcollection's. Only the sandbox's az tests use it.
AZ_VENV   := .venv-az
AZ_STAMP  := $(AZ_VENV)/.installed-$(shell sha1sum requirements-az.lock 2>/dev/null | cut -c1-12)
# Azurite (the sandbox's blob service) from the npm registry, pinned by its package-lock.json.
AZURITE   := sandbox/azurite
AZURITE_STAMP := $(AZURITE)/node_modules/.installed-$(shell sha1sum $(AZURITE)/package-lock.json 2>/dev/null | cut -c1-12)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/collections

.PHONY: help setup debian-packages az-cli az-cli-lock demo test lint unit integration sandbox sandbox-stop bench lock clean

help:
	@echo "make demo     set up, start the sandbox and run a full golden-image build on it"
	@echo "make test     set up and run every check (lint, unit, integration)"
	@echo "make sandbox  start the sandbox in the background (writes $(SANDBOX)/env); make sandbox-stop"
	@echo "make bench    run the benchmark scripts under bench/"

# --- set-up ---------------------------------------------------------------------------------
setup: $(STAMP) $(SANDBOX)/pki/ca.pem $(AZURITE_STAMP) debian-packages

# Debian packages the tests build real installers with: wixl and msiinfo/msiextract (MSI databases,
# also read by the sandbox), osslsigncode (Authenticode), binutils-mingw-w64 (a PE with a version
# resource), gcab (the real CAB files of the language tests). Installed with apt-get when one is missing (CI runs as root on Debian bookworm).
DEBIAN_PACKAGES := msitools wixl osslsigncode binutils-mingw-w64-x86-64 gcab
debian-packages:
	@missing="$$(for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done)"; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# uv installs the locked set in seconds where pip takes minutes (downloads in parallel, no resolver
# run); uv itself is pinned here and comes from PyPI through pip.
UV_VERSION := 0.13.8

# --compile-bytecode: every azure_rm module run imports the whole Azure SDK; without cached .pyc
# files (PYTHONDONTWRITEBYTECODE=1 is common on CI images) each import recompiles it, ~10 s
# instead of ~2 s per module run.
$(STAMP): requirements.lock requirements.in
	@scripts/find-python.sh > /dev/null
	@test -x $(PY) || "$$(scripts/find-python.sh)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $@

az-cli: $(AZ_STAMP)

# uv (the pinned UV_VERSION above) installs azure-cli and its ~150 dependencies in ~20 s where
# pip takes ~2 min.
$(AZ_STAMP): requirements-az.lock
	@test -x $(AZ_VENV)/bin/python || "$$(scripts/find-python.sh)" -m venv $(AZ_VENV)
	$(AZ_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(AZ_VENV)/bin/uv pip install --quiet --compile-bytecode --python $(AZ_VENV)/bin/python -r requirements-az.lock
	@rm -f $(AZ_VENV)/.installed-*
	@touch $@

# Node.js and npm from Debian when the machine has none (Azurite's dependencies need Node.js 20+);
# npm ci installs exactly the lock (no install scripts; --prefer-offline uses the npm cache).
$(AZURITE_STAMP): $(AZURITE)/package-lock.json $(AZURITE)/package.json
	@command -v npm > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm > /dev/null; }
	@node -e 'process.exit(parseInt(process.versions.node, 10) < 20 ? 1 : 0)' || { echo "Azurite's dependencies need Node.js 20 or newer, found $$(node --version)" >&2; exit 1; }
	npm ci --prefix $(AZURITE) --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error
	@rm -f $(AZURITE)/node_modules/.installed-*
	@touch $@

$(SANDBOX)/pki/ca.pem: $(STAMP)
	$(PY) -m sandbox pki --dir $(SANDBOX)/pki

# The Azure CLI's lock: the azure-cli that AZ_CLI names, with everything it pulls in, pinned.
AZ_CLI ?= azure-cli==2.91.0
az-cli-lock: az-cli
	$(AZ_VENV)/bin/uv pip install --quiet --python $(AZ_VENV)/bin/python "$(AZ_CLI)"
	{ head -n 2 requirements-az.lock; $(AZ_VENV)/bin/uv pip freeze --python $(AZ_VENV)/bin/python | grep -v '^uv=='; } > requirements-az.lock.new
	mv requirements-az.lock.new requirements-az.lock

lock:
	$(PY) -m pip install --quiet -r requirements.in
	$(PY) -m pip install --quiet -r $(VENV)/lib/python3.12/site-packages/ansible_collections/azure/azcollection/requirements.txt
	$(PY) -m pip install --quiet -r requirements.in
	$(PY) -m pip freeze --exclude-editable > requirements.lock

# --- sandbox --------------------------------------------------------------------------------
sandbox: setup
	$(PY) -m sandbox start --state-dir $(SANDBOX)
	@echo "Sandbox up. Point a shell at it with: source $(SANDBOX)/env"

sandbox-stop:
	@test ! -x $(PY) || $(PY) -m sandbox stop --state-dir $(SANDBOX)

# --- the two entry points -------------------------------------------------------------------
demo: sandbox
	source $(SANDBOX)/env && ansible-playbook build-golden.yml
	@echo "Build report: $$(ls -t artifacts/*/report.json | head -n 1)"

test: setup az-cli lint unit integration

lint: setup
	yamllint --strict .
	ruff check .
	ruff format --check .
	ansible-lint
	$(PY) -m tests.support.pscheck

# The test tree: tests/unit (the product's plugins, roles and content, no sandbox), tests/sandbox
# (the sandbox's own tests), tests/integration (real playbooks against the sandbox), tests/support
# (helpers, no tests). Tests marked `integration` run ansible-playbook, wherever they live; the
# rest are fast. A test file stays on one worker so its module-scoped build runs once.
unit: setup az-cli
	pytest -q -n 2 -m "not integration" tests/unit tests/sandbox

integration: setup
	pytest -q -n 2 --dist loadfile --durations=40 -m integration tests

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean: sandbox-stop
	rm -rf $(SANDBOX) artifacts
