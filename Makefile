# ai-infra developer commands. Each target sets up .venv itself on a fresh machine:
# uv from PATH if present, else uv pip-installed into .venv-bootstrap (only Python 3.11+ needed).
SHELL := /bin/bash
STACK ?= dev
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
UV := $(shell command -v uv 2>/dev/null || echo .venv-bootstrap/bin/uv)
export UV_PYTHON := $(shell command -v $(PYTHON))
# Bytecode is cached: the SDKs in .venv are byte-compiled once at sync time (--compile-bytecode),
# our own modules and pytest's assertion-rewritten test modules on first import, into the
# __pycache__ folders .gitignore leaves out. (With PYTHONDONTWRITEBYTECODE every pytest worker
# re-parsed and rewrote all test modules, ~4 s each, and every plan recompiled our sources.)
unexport PYTHONDONTWRITEBYTECODE

.PHONY: tools e2e help venv policy-venv checkov-venv plan test test-scan lint typecheck check bench scan snapshot clean

help:
	@echo "make plan [STACK=dev]  offline plan: build/<stack>/ + policy report (make exits 2 on any failure;"
	@echo "                       scripts/plan STACK keeps the planner's 0/1/2/3)"
	@echo "make test              unit, component, program and policy tests (pytest)"
	@echo "make test-scan         the outside validators' tests: checkov, kubernetes-validate --strict, yamllint"
	@echo "make policy-venv       policies/venv from policies/requirements.txt (what pulumi runs the pack with)"
	@echo "make check             ruff + mypy"
	@echo "make bench             planning cost for 1, 10, 100 model fleets vs the raw-SDK floor"
	@echo "make scan [STACK=..]   checkov (own venv) on the manifests and images/, hadolint, kubernetes-validate --strict"
	@echo "make snapshot          refresh tests/snapshots/<stack>/ (summary, cost, manifests, Helm values) for every stack"
	@echo "make clean             remove build/ and virtualenvs"

.venv-bootstrap/bin/uv:
	$(PYTHON) -m venv .venv-bootstrap
	.venv-bootstrap/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

venv: $(VENV)/.synced

# The policy pack's own virtualenv, which `pulumi preview --policy-pack policies` runs the pack
# with (PulumiPolicy.yaml: virtualenv: venv) and never creates; the plan uses it the same way.
POLICY_VENV := policies/venv
$(POLICY_VENV)/.installed: policies/requirements.txt | $(UV)
	$(UV) venv --quiet --seed --allow-existing $(POLICY_VENV)
	$(UV) pip install --quiet --compile-bytecode --python $(POLICY_VENV)/bin/python -r policies/requirements.txt
	@touch $@

policy-venv: $(POLICY_VENV)/.installed

plan: venv policy-venv
	$(PY) -m planner --stack $(STACK)

test: venv policy-venv
	@# --dist loadscope with the units tests/conftest.py gives it (pytest_xdist_make_scheduler).
	$(PY) -m pytest -n 2 --dist loadscope

# The outside validators' verdicts as tests (marker `scan`): checkov on the prod manifests and
# images/, kubernetes-validate --strict on every stack's core manifests, yamllint on the
# repository. Each validator's start-up costs seconds, so they are the plan tier's, not `make
# test`'s; CI runs both.
test-scan: venv policy-venv .venv-checkov/bin/checkov
	$(PY) -m pytest -n 2 --dist loadscope -m scan

# The real engine (tools/engine/build.sh): Pulumi CLI, our language host, the Kubernetes provider,
# the control plane and kwok, from Go modules into .cache/engine/bin; skipped when built at the pins.
tools:
	bash tools/engine/build.sh

# `pulumi up` for real onto kwok's control plane on 127.0.0.1 (tests/e2e): scheduling, admission,
# CRDs, idempotence, update, destroy. Needs `make tools`.
e2e: venv policy-venv tools
	$(PY) -m pytest tests/e2e -m e2e -p no:xdist -v

bench: venv
	$(PY) -m benchmarks.fleets

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: venv
	$(PY) -m mypy
	cd policies && ../$(PY) -m mypy --config-file ../pyproject.toml __main__.py

check: lint typecheck

.venv-checkov/bin/checkov:
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet checkov==3.3.30

checkov-venv: .venv-checkov/bin/checkov

scan: plan .venv-checkov/bin/checkov
	@# Second opinions, each from its own virtualenv: checkov (.venv-checkov: its pins clash with
	@# pulumi's) on the rendered manifests and on images/, hadolint and kubernetes-validate (the
	@# project venv) on images/ and the core manifests. A waiver is an annotation on the object
	@# (`checkov.io/skip<n>: CKV_...=reason`, listed in the README), never a CLI skip. CKV_K8S_43
	@# (digests) is fatal in prod, where fleets run build digests; elsewhere tags are allowed (rule
	@# 19 is advisory there), so it is reported only. --skip-download: no network fetch (offline).
	.venv-checkov/bin/checkov --quiet --compact --skip-download --framework kubernetes -d build/$(STACK)/manifests \
		$(if $(filter prod,$(STACK)),,--soft-fail-on CKV_K8S_43)
	.venv-checkov/bin/checkov --quiet --compact --skip-download --framework dockerfile -d images
	for f in images/*/Dockerfile; do $(VENV)/bin/hadolint --failure-threshold warning "$$f" || exit 1; done
	$(PY) -m planner.validate_manifests build/$(STACK)

# Plan snapshots: what reviewers read in a pull request's diff. `make test` fails when a plan
# changes and its snapshot was not refreshed here. The preview-only check (mandatory policies a
# first `pulumi preview` cannot evaluate) is part of prod's snapshot only, as in the tests.
SNAPSHOT_STACKS := dev prod local
snapshot: venv policy-venv
	for stack in $(SNAPSHOT_STACKS); do \
		$(PY) -m planner --stack $$stack $$([ $$stack = prod ] || echo --skip-preview-check) > /dev/null || exit 1; \
		rm -rf tests/snapshots/$$stack && mkdir -p tests/snapshots/$$stack; \
		cp -R build/$$stack/summary.txt build/$$stack/cost.json build/$$stack/manifests build/$$stack/helm \
			tests/snapshots/$$stack/; \
	done

clean:
	rm -rf build .venv .venv-bootstrap .venv-checkov policies/venv .pytest_cache .mypy_cache .ruff_cache
