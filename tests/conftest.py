"""Shared fixtures: settings factories, a recording mock engine, program runs, policy calls."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)

from components.core.chart_images import CHART_IMAGES
from components.core.settings import StackSettings, deep_merge, parse_settings
from planner.engine import ProgramRun, run_program, start_mocks
from planner.gc_tuning import tune as tune_gc
from planner.mocks import RecordingMonitor
from planner.stack_config import project_name
from tests.shared_runs import run_key, share_between_workers, shared

ROOT = Path(__file__).resolve().parent.parent
DEV_CIDRS = {"cluster": {"eks": {"publicAccessCidrs": ["203.0.113.0/24"]}}}
TEST_DIGEST = "sha256:" + "ab" * 32
PROD_ADMINS = {
    "cluster": {"eks": {"adminPrincipalArns": ["arn:aws:iam::123456789012:role/deployer"]}},
    # Prod runs chart images by digest (components/core/chart_images.py).
    "addons": {
        chart: {"imageDigests": {image.name: TEST_DIGEST for image in images}}
        for chart, images in CHART_IMAGES.items()
        if chart != "tailscale-operator"
    },
}


# Modules whose module-scoped fixtures are expensive (three plans; a policy host process): each
# runs whole on one worker. Every other test is its own unit, so the two workers stay balanced.
WHOLE_MODULES = frozenset(
    {"tests/planner/test_plan_cli.py", "tests/planner/test_policy_host.py", "tests/test_workflows.py"}
)


@pytest.hookimpl(optionalhook=True)  # make e2e runs with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``make test``'s scheduler: loadscope with :data:`WHOLE_MODULES` as the only multi-test units.

    ``--dist loadgroup`` with ``xdist_group`` marks would say the same, but pytest 9.2 drops the
    group from the node id xdist reads (pytest-dev/pytest-xdist#1386, open for xdist 3.8.0), so
    the three plans were computed on both workers. Loadscope orders the units by size, so the
    plans start first instead of becoming the run's tail."""
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class WholeModules(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in WHOLE_MODULES else nodeid

    return WholeModules(config, log)


def pytest_configure(config: pytest.Config) -> None:
    share_between_workers(config.option.basetemp, is_worker=hasattr(config, "workerinput"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported (the SDKs, components, policies) stays to the end: freeze it, so
    the collector stops walking it on every full collection (planner/gc_tuning.py)."""
    tune_gc()


def stack_file_config(stack: str) -> dict[str, Any]:
    """The ``config:`` block of ``Pulumi.<stack>.yaml``; ``secure:`` values become placeholder
    strings (pass ``stack_secret_keys(stack)`` along so they count as secrets)."""
    config = dict(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"])
    return {k: f"plan-placeholder-{k}" if _is_secure(v) else v for k, v in config.items()}


def stack_secret_keys(stack: str) -> list[str]:
    """The stack file's ``secure:`` keys (full ``ai-infra:<key>`` names)."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return sorted(k for k, v in config.items() if _is_secure(v))


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


E2E_STACK_FILE = ROOT / "tests" / "e2e" / "Pulumi.e2e.yaml"


def e2e_stack_config() -> tuple[dict[str, Any], list[str]]:
    """The e2e stack file's ``config:`` as offline tests run it, and its secret keys: the keys its
    gateway clients name (``keySecret``), which ``make e2e`` sets with ``config set --secret``
    before ``up``, as placeholder secrets."""
    config = dict(yaml.safe_load(E2E_STACK_FILE.read_text())["config"])
    clients = (config.get("ai-infra:gateway") or {}).get("clients") or {}
    secret = sorted(f"ai-infra:{c['keySecret']}" for c in clients.values() if c.get("keySecret"))
    return config | {k: f"plan-placeholder-{k}" for k in secret}, secret


def settings_for(env: str, **overrides: Any) -> StackSettings:
    """Validated settings for ``env`` plus camelCase ``overrides`` (dev gets a CIDR allowlist)."""
    raw: dict[str, Any] = {"environment": env}
    base = DEV_CIDRS if env == "dev" else PROD_ADMINS
    return parse_settings(deep_merge(deep_merge(raw, base), overrides), stack=env)


MESH: dict[str, Any] = {
    "tailscale": {
        "enabled": True,
        "tailnet": "tail1234.ts.net",
        "groups": {
            "group:admins": ["admin@example.com"],
            "group:ml": ["ml@example.com"],
            "group:sre": ["sre@example.com"],
        },
        "access": {"admins": ["group:admins"], "models": ["group:ml"], "monitoring": ["group:sre"]},
        "operator": {"imageDigests": {"operator": TEST_DIGEST, "proxy": TEST_DIGEST}},
    }
}
"""The Tailscale mesh switched on with a tailnet, groups and access (its OAuth keys: ``MESH_SECRETS``)."""
MESH_SECRETS = frozenset({"tailscaleOauthClientId", "tailscaleOauthClientSecret"})


def mesh_settings(env: str, **overrides: Any) -> StackSettings:
    """``settings_for`` with the mesh on (and its OAuth keys given as secrets), plus ``overrides``."""
    raw: dict[str, Any] = {"environment": env}
    base = DEV_CIDRS if env == "dev" else PROD_ADMINS
    document = deep_merge(deep_merge(deep_merge(raw, base), MESH), overrides)
    return parse_settings(document, stack=env, secret_keys=MESH_SECRETS)


def encode_config(config: Mapping[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def run_stack(stack: str, config: Mapping[str, Any] | None = None, secret_keys: list[str] | None = None) -> ProgramRun:
    """Run the whole program under mocks with ``config`` (default: the stack file's, its
    ``secure:`` values as placeholder secrets)."""
    if config is None:
        config, secret_keys = stack_file_config(stack), stack_secret_keys(stack)
    return run_program(ROOT, stack, encode_config(dict(config)), secret_keys or [])


@cache
def stack_run(stack: str) -> ProgramRun:
    """One shared run of the stack file's own config per test session (do not mutate it):
    ``Pulumi.<stack>.yaml``'s, or for ``e2e`` tests/e2e/Pulumi.e2e.yaml's (:func:`e2e_stack_config`).
    Both xdist workers read the same run (tests/shared_runs.py)."""
    config, secret_keys = e2e_stack_config() if stack == "e2e" else (stack_file_config(stack), stack_secret_keys(stack))
    return shared(run_key(stack, config, secret_keys), lambda: run_stack(stack, config, secret_keys))


# -- policies -------------------------------------------------------------------------------

_OPTS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def violations(
    policy: Any, resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None
) -> list[str]:
    """Messages a resource policy reports for one resource (called like the SDK does)."""
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type, props, f"urn:pulumi:t::p::{resource_type}::r", "r", _OPTS, None, config or {}
    )
    policy.validate(args, lambda message, urn=None: found.append(message))
    return found


def stack_violations(
    policy: Any, resources: list[tuple[str, Mapping[str, Any]]], config: Mapping[str, Any] | None = None
) -> list[str]:
    """Messages a stack policy reports over ``(type, props)`` resources."""
    found: list[str] = []
    prs = [
        PolicyResource(t, p, f"urn:pulumi:t::p::{t}::r{i}", f"r{i}", _OPTS, None, None, [], {})
        for i, (t, p) in enumerate(resources)
    ]
    policy.validate(StackValidationArgs(prs, config or {}), lambda message, urn=None: found.append(message))
    return found


def policy_by_name(policies: list[Any], name: str) -> Any:
    for p in policies:
        if p.name == name:
            return p
    raise KeyError(name)


def build_under_mocks(build: Callable[[], object], stack: str = "test") -> RecordingMonitor:
    """Construct components inside a mocked run and wait for every registration to finish."""
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    monitor = start_mocks(project_name(ROOT), stack, {"ai-infra:environment": "dev"}, [])
    _sync_await(run_pulumi_func(lambda: _discard(build())))
    return monitor


def _discard(_: object) -> None:
    """run_pulumi_func awaits what the function returns; components are not awaitable."""
