"""SGLang through the whole program and the prod pack (issue 24 item 3): prod's vLLM fleet
switched to ``engine: sglang`` plans with zero mandatory findings, with SGLang's Deployment,
Service, probes, KEDA trigger, alerts and dashboard."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from planner.engine import ProgramRun
from tests.conftest import ROOT, TEST_DIGEST, run_stack, stack_file_config, stack_secret_keys

SGLANG_IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub/lmsysorg/sglang@{TEST_DIGEST}"
"""Prod runs images it does not build by digest, here through the account's ECR pull-through cache."""


@cache
def _run() -> ProgramRun:
    config = stack_file_config("prod")
    config["ai-infra:models"] = {"coder-32b": {"engine": "sglang"}}
    config["ai-infra:modelImages"] = {"sglang": SGLANG_IMAGE}
    # 2.5 s is a vLLM bucket boundary only; 2 is one of SGLang's (the Ollama fleet has no metrics).
    config["ai-infra:monitoring"] = {**config.get("ai-infra:monitoring", {}), "ttftP95Seconds": 2}
    return run_stack("prod", config, secret_keys=stack_secret_keys("prod"))


def _one(kind: str, name_part: str) -> Any:
    (found,) = [r for r in _run().registrations if r.type == kind and name_part in r.urn]
    return found


def test_prod_with_an_sglang_fleet_has_no_mandatory_finding() -> None:
    from planner.policy_host import analyze_all

    pack = json.loads((ROOT / "policies" / "prod.json").read_text())
    found = analyze_all(ROOT / "policies", pack, _run().registrations)
    assert [f"{v.policy}: {v.message}" for v in found if v.level == "mandatory"] == []


def test_the_sglang_deployment_service_and_autoscaler() -> None:
    deployment = _one("kubernetes:apps/v1:Deployment", "model-coder-32b-deployment")
    assert deployment.inputs["metadata"]["name"] == "sglang-coder-32b"
    (server,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert server["image"] == SGLANG_IMAGE
    assert server["command"] == ["python3", "-m", "sglang.launch_server"]
    args = server["args"]
    assert args[args.index("--tp-size") + 1] == "2" and args[args.index("--context-length") + 1] == "16384"
    assert args[-2:] == ["--api-key", "$(SGLANG_API_KEY)"]  # prod generates a key per fleet
    env = {e["name"]: e for e in server["env"]}
    assert env["SGLANG_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "coder-32b-api-key"
    assert server["readinessProbe"]["httpGet"] == {"path": "/ready", "port": 30000}
    service = _one("kubernetes:core/v1:Service", "coder-32b")
    assert service.inputs["spec"]["ports"][0]["port"] == 30000
    scaled = _one("kubernetes:keda.sh/v1alpha1:ScaledObject", "coder-32b")
    assert "sglang:num_queue_reqs" in json.dumps(scaled.inputs)


def test_the_sglang_alerts_and_dashboard_are_deployed() -> None:
    text = json.dumps([r.inputs for r in _run().registrations if r.type.endswith("PrometheusRule")])
    assert "SglangTimeToFirstTokenSlo" in text and "sglang:time_to_first_token_seconds_bucket" in text
    assert "VllmRequestsWaiting" not in text  # no vLLM fleet here
    boards = [r for r in _run().registrations if r.type == "kubernetes:core/v1:ConfigMap" and "dashboard" in r.urn]
    assert any("model-serving-sglang" in r.urn for r in boards)
