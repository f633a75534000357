"""A CPU-autoscaled fleet gets the resource metrics API it reads (issue 21, item 7)."""

from __future__ import annotations

import json
from typing import Any

from planner.policy_host import analyze_all
from tests.conftest import ROOT, e2e_stack_config, run_stack, stack_file_config, stack_run

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
AUTOSCALED_OLLAMA = {"qwen-small": {"replicas": {"min": 1, "max": 2}}, "qwen-instruct": None}


ONLY_OLLAMA_CLIENT = {"enabled": True, "clients": {"ci": {"models": ["qwen2.5:0.5b"], "requestsPerMinute": 120}}}
"""Without qwen-instruct, dev's gateway clients may name only the Ollama model."""


def _dev(**overrides: Any) -> Any:
    overrides.setdefault("gateway", ONLY_OLLAMA_CLIENT)
    config = stack_file_config("dev") | {f"ai-infra:{k}": v for k, v in overrides.items()}
    return run_stack("dev", config)


def _charts(run: Any) -> dict[str, dict[str, Any]]:
    return {r.inputs["chart"]: r.inputs for r in run.registrations if r.type == RELEASE}


def test_a_cpu_autoscaled_fleet_brings_metrics_server_in_a_restricted_namespace() -> None:
    run = _dev(models=AUTOSCALED_OLLAMA)
    assert [r.inputs["spec"]["metrics"][0]["resource"]["name"] for r in run.registrations if r.type == HPA] == ["cpu"]
    release = _charts(run)["metrics-server"]
    assert release["namespace"] == "metrics-server" and release["version"] == "3.13.1"
    assert release["repositoryOpts"]["repo"] == "https://kubernetes-sigs.github.io/metrics-server"
    assert release["values"]["nodeSelector"] == {"ai-infra.io/pool": "system"}
    (ns,) = [
        r.inputs for r in run.registrations if r.type == NAMESPACE and r.inputs["metadata"]["name"] == "metrics-server"
    ]
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    policies = {
        r.inputs["metadata"]["name"]
        for r in run.registrations
        if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"
        and r.inputs["metadata"]["namespace"] == "metrics-server"
    }
    assert policies == {"default-deny", "allow-dns", "allow-apiserver", "metrics-server"}
    # The pack (prod's config, every rule mandatory) finds nothing on the add-on or its namespace.
    pack = json.loads((ROOT / "policies" / "prod.json").read_text())
    ours = {r.urn for r in run.registrations if "metrics-server" in r.urn}
    assert ours
    assert [
        f"{v.policy}: {v.message}" for v in analyze_all(ROOT / "policies", pack, run.registrations) if v.urn in ours
    ] == []


def test_no_metrics_server_without_a_cpu_hpa_or_when_the_cluster_runs_one() -> None:
    assert "metrics-server" not in _charts(stack_run("dev")) and "metrics-server" not in _charts(stack_run("prod"))
    run = _dev(models=AUTOSCALED_OLLAMA, addons={"metrics-server": {"install": False}})
    assert "metrics-server" not in _charts(run)
    assert any(r.type == HPA for r in run.registrations)


def test_the_e2e_stack_installs_no_chart_even_with_a_cpu_autoscaled_fleet() -> None:
    """The real-engine stack (tests/e2e) cannot fetch charts, and metrics-server's APIService would
    make kwok's API server dial a pod that never runs: every chart it could plan is preinstalled."""
    config, secret_keys = e2e_stack_config()
    assert _charts(stack_run("e2e")) == {}
    autoscaled = {"qwen-small": {"cache": "ephemeral", "replicas": {"min": 1, "max": 2}}, "qwen-instruct": None}
    # qwen-instruct leaves the stack: the gateway's clients then call only the Ollama fleet.
    gateway = config["ai-infra:gateway"]
    clients = {n: {**c, "models": ["qwen2.5:0.5b"]} for n, c in gateway["clients"].items()}
    changed = {"ai-infra:models": autoscaled, "ai-infra:gateway": {**gateway, "clients": clients}}
    run = run_stack("e2e", config | changed, secret_keys)
    assert any(r.type == HPA for r in run.registrations)
    assert _charts(run) == {}
