"""The policy pack spoken to over the engine's Analyzer gRPC protocol, as ``pulumi preview`` does."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from planner.mocks import SECRET_SIG, SECRET_SIG_VALUE, Registration
from planner.policy_host import PolicyHost, PolicyHostError, analyze_all
from tests.conftest import ROOT
from tests.policies.test_pod_security import compliant_deployment

PACK = ROOT / "policies"


def _reg(props: dict, name: str = "server", typ: str = "kubernetes:apps/v1:Deployment") -> Registration:
    return Registration(
        urn=f"urn:pulumi:t::ai-infra::{typ}::{name}", type=typ, name=name, parent="", custom=True, inputs=props
    )


@pytest.fixture(scope="module")
def host() -> Iterator[PolicyHost]:
    with PolicyHost(PACK) as h:
        yield h


def test_analyzer_info_lists_the_pack(host: PolicyHost) -> None:
    assert host.info.name == "ai-infra"
    assert "k8s-no-privileged-containers" in host.policy_names()


def test_violating_resource_comes_back_through_grpc(host: PolicyHost) -> None:
    host.configure(json.loads((PACK / "prod.json").read_text()))
    props = compliant_deployment()
    props["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    found = host.analyze(_reg(props))
    assert [(v.policy, v.level) for v in found] == [("k8s-no-privileged-containers", "mandatory")]
    assert host.analyze(_reg(compliant_deployment())) == []


def test_levels_follow_the_env_config(host: PolicyHost) -> None:
    props = compliant_deployment()
    props["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    host.configure(json.loads((PACK / "dev.json").read_text()))
    assert {v.level for v in host.analyze(_reg(props))} == {"advisory"}
    host.configure({"all": "mandatory"})
    assert {v.level for v in host.analyze(_reg(props))} == {"mandatory"}


def test_secret_values_reach_policies_but_not_messages(host: PolicyHost) -> None:
    host.configure({"all": "mandatory"})
    props = compliant_deployment()
    container = props["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "HF_TOKEN", "value": {SECRET_SIG: SECRET_SIG_VALUE, "value": "hf_topsecret"}}]
    container["securityContext"]["privileged"] = True
    found = host.analyze(_reg(props))
    assert found and all("hf_topsecret" not in v.message for v in found)


def test_unknown_policy_in_config_is_rejected(host: PolicyHost) -> None:
    with pytest.raises(PolicyHostError, match="unknown policies"):
        host.configure({"no-such-policy": "mandatory"})


def test_analyze_all_runs_resource_and_stack_policies() -> None:
    props = compliant_deployment()
    props["spec"]["template"]["spec"]["hostPID"] = True
    found = analyze_all(PACK, {"all": "mandatory"}, [_reg(props), _reg(compliant_deployment(), "ok")])
    assert {v.policy for v in found} >= {"k8s-no-host-namespaces"}
    assert all(v.urn.endswith("::server") for v in found if v.policy == "k8s-no-host-namespaces")
