"""Every prod difference is a settings field, so a dev stack file can ask for prod's behaviour
(issue 24 item 1): the program reads the field, never the environment."""

from __future__ import annotations

from typing import Any

from tests.conftest import run_stack, stack_file_config

RELEASE = "kubernetes:helm.sh/v3:Release"


def _dev(**overrides: Any) -> Any:
    config = stack_file_config("dev") | {f"ai-infra:{k}": v for k, v in overrides.items()}
    return run_stack("dev", config)


def test_a_dev_stack_that_retains_data_and_runs_two_controllers_gets_both() -> None:
    run = _dev(
        platform={"retainData": True, "controllerReplicas": 2},
        registry={"enabled": True, "build": [], "customerManagedKey": True},
        cluster={"eks": {"publicLoadBalancers": False, "publicAccessCidrs": ["203.0.113.0/24"]}},
    )
    retained = [r for r in run.registrations if r.type in ("aws:kms/key:Key", "aws:cloudwatch/logGroup:LogGroup")]
    assert retained and all(r.protect and r.retain_on_delete for r in retained)
    repos = [r for r in run.registrations if r.type == "aws:ecr/repository:Repository"]
    assert repos and all(r.inputs["encryptionConfigurations"][0]["encryptionType"] == "KMS" for r in repos)
    assert all(r.inputs["encryptionConfigurations"][0].get("kmsKey") for r in repos)
    (kueue,) = [r for r in run.registrations if r.type == RELEASE and r.inputs["chart"].endswith("kueue")]
    assert kueue.inputs["values"]["controllerManager"]["replicas"] == 2
    public = [r for r in run.registrations if r.type == "aws:ec2/subnet:Subnet" and "public" in r.name]
    assert public and not any("kubernetes.io/role/elb" in (r.inputs.get("tags") or {}) for r in public)


def test_the_dev_preset_deletes_with_the_stack_and_runs_one_controller() -> None:
    run = _dev()
    keys = [r for r in run.registrations if r.type == "aws:kms/key:Key"]
    assert keys and not any(r.retain_on_delete for r in keys)
    (kueue,) = [r for r in run.registrations if r.type == RELEASE and r.inputs["chart"].endswith("kueue")]
    assert kueue.inputs["values"]["controllerManager"]["replicas"] == 1
    public = [r for r in run.registrations if r.type == "aws:ec2/subnet:Subnet" and "public" in r.name]
    assert public and all("kubernetes.io/role/elb" in r.inputs["tags"] for r in public)
