"""The policy pack spoken to over the engine's Analyzer gRPC protocol, as ``pulumi preview`` does."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

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


def test_pack_config_properties_are_checked_against_each_schema_like_the_cli(host: PolicyHost) -> None:
    bad = {
        "kms-key-hygiene": {"enforcementLevel": "mandatory", "minDeletionWindowDays": "thirty"},
        "eks-control-plane-logging": {"requiredLogTypes": "audit"},
    }
    with pytest.raises(PolicyHostError) as info:
        host.configure(bad)
    lines = str(info.value).splitlines()
    # gojsonschema's wording, prefixed as the CLI prints it (pack name, version, two spaces).
    assert lines == [
        "validating policy config: ai-infra 0.1.0  eks-control-plane-logging: requiredLogTypes: "
        "Invalid type. Expected: array, given: string",
        "validating policy config: ai-infra 0.1.0  kms-key-hygiene: minDeletionWindowDays: "
        "Invalid type. Expected: integer, given: string",
    ]
    host.configure({"kms-key-hygiene": {"minDeletionWindowDays": 30, "unknownProperty": True}})  # passes, as in the CLI


def test_the_pack_runs_from_its_own_virtualenv(tmp_path: Path) -> None:
    # Like the CLI: <pack>/venv/bin/python; without it the plan says how to create it.
    (tmp_path / "__main__.py").write_text("print('never run')\n")
    with pytest.raises(PolicyHostError, match="make policy-venv"):
        PolicyHost(tmp_path).start()
    assert PolicyHost(PACK).python == str(PACK / "venv" / "bin" / "python")


def test_an_import_missing_from_requirements_fails_like_the_cli(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack, ignore=shutil.ignore_patterns("venv", "__pycache__"), symlinks=True)
    (pack / "venv").symlink_to(PACK / "venv")
    (pack / "__main__.py").write_text("import not_in_requirements  # noqa: F401\n" + (PACK / "__main__.py").read_text())
    with pytest.raises(PolicyHostError, match="not_in_requirements"):
        PolicyHost(pack).start()


def test_a_request_answered_before_is_not_sent_again_but_a_changed_one_is(host: PolicyHost) -> None:
    """The plan's preview-like run asks again only about resources whose inputs changed."""
    host.configure(json.loads((PACK / "prod.json").read_text()))
    privileged = compliant_deployment()
    privileged["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    first = host.analyze(_reg(privileged))
    sent: list[bytes] = []
    original = host._analyze

    class Counting:
        def future(self, body: bytes) -> object:
            sent.append(body)
            return original.future(body)

    host._analyze = Counting()
    try:
        assert host.analyze(_reg(privileged)) == first and sent == []
        assert host.analyze(_reg(compliant_deployment(), "other")) == [] and len(sent) == 1
    finally:
        host._analyze = original
