# autoport.zos: the two commands of the README are `make demo` and `make test`.
# Both create (or reuse) .venv from the pinned files in requirements/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
REQUIREMENTS := requirements/test.in requirements/constraints.txt requirements/ops.in requirements/ops-constraints.txt
STAMP := $(VENV)/.requirements-$(shell cat $(REQUIREMENTS) | sha256sum | cut -c1-16)
COLLECTIONS := $(CURDIR)/.cache/collections
STANDIN := $(CURDIR)/tests/collections
SANITY_ROOT := $(CURDIR)/.cache/sanity/ansible_collections/autoport/zos
SHARED ?= $(abspath $(CURDIR)/../shared)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)

.PHONY: venv demo test unit lint sanity integration e2e build changelog clean

$(STAMP): $(REQUIREMENTS)
	@echo "== virtual environment $(VENV) from requirements/ (pinned)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements/test.in -c requirements/constraints.txt
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements/ops.in -c requirements/constraints.txt -c requirements/ops-constraints.txt
	@bash tests/system-packages.sh
	@rm -f $(VENV)/.requirements-* && touch $@

venv: $(STAMP)
	@mkdir -p $(COLLECTIONS)/ansible_collections/autoport
	@ln -sfn $(CURDIR) $(COLLECTIONS)/ansible_collections/autoport/zos

demo: venv
	@$(BIN)/ansible-playbook -i inventory/local playbooks/site.yml
	@echo "Results: $$(cd output 2>/dev/null && pwd || echo output/)"

unit: venv
	@echo "== unit tests"
	@$(BIN)/pytest -q -p no:cacheprovider tests/unit

lint: venv
	@echo "== ansible-lint (production profile, offline)"
	@$(BIN)/antsibull-changelog lint
	@ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS):$(STANDIN) $(BIN)/ansible-lint --offline --profile production

sanity: venv
	@echo "== ansible-test sanity"
	@bash tests/sanity/run.sh "$(SANITY_ROOT)" "$(SHARED)"

integration: venv
	@echo "== integration tests (ansible-runner against localhost)"
	@ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS):$(STANDIN) $(BIN)/pytest -q -p no:cacheprovider tests/integration -m "not e2e"

e2e: venv
	@echo "== end to end (InstructLab included)"
	@$(BIN)/pytest -q -p no:cacheprovider tests/integration -m e2e

test: unit lint sanity integration e2e
	@echo "== all checks passed"

build: venv
	@$(BIN)/ansible-galaxy collection build --force --output-path .cache/build .

changelog: venv
	@$(BIN)/antsibull-changelog lint && $(BIN)/antsibull-changelog release --is-collection yes

clean:
	rm -rf .cache .venv tests/output output
