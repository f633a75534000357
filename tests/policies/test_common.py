"""The one declaration helper: what ``policy(...)`` builds, filters and records."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from aiinfra_policies.common import Report, ResourceRule, StackRule, Subject, policy, section_of
from aiinfra_policies.constants import CRONJOB, DEPLOYMENT, SERVICE
from tests.conftest import stack_violations, violations

META: dict[str, Any] = {"severity": "low", "standard": "CKV_K8S_1"}

A = EnforcementLevel.ADVISORY


def _report_pod_path(r: Subject, report: Report) -> None:
    report(f"{r.type} {r.pod_path} {sorted(r.pod)} {dict(r.config)}")


def _resource(**kwargs: Any) -> Any:
    return policy(
        "test-policy", rule="7", description="d.", remediation="r", level=A, **META, check=_report_pod_path, **kwargs
    )


def test_resource_policy_filters_types_and_records_its_rule() -> None:
    made = _resource(types={DEPLOYMENT})
    assert isinstance(made, ResourceRule)
    assert (made.rule, made.section) == ("7", "A")
    assert made.config_schema is None  # level-only policies get no schema at all
    assert violations(made, SERVICE, {}) == []
    pod = {"spec": {"template": {"spec": {"hostPID": True}}}}
    assert violations(made, DEPLOYMENT, pod) == [f"{DEPLOYMENT} spec.template.spec ['hostPID'] {{}}"]


def test_workload_pod_spec_and_path_follow_the_kind() -> None:
    made = _resource(types=lambda token: token.startswith("kubernetes:"))
    cronjob = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostIPC": True}}}}}}
    assert violations(made, CRONJOB, cronjob) == [f"{CRONJOB} spec.jobTemplate.spec.template.spec ['hostIPC'] {{}}"]
    assert violations(made, SERVICE, {"spec": {"type": "ClusterIP"}}) == [f"{SERVICE}  [] {{}}"]


def test_exclude_namespaces_adds_the_shared_schema_and_skips() -> None:
    made = _resource(types={SERVICE}, exclude_namespaces=True, schema={"x": {"type": "boolean", "default": True}})
    assert made.config_schema is not None
    assert set(made.config_schema.properties) == {"excludeNamespaces", "x"}
    svc = {"metadata": {"namespace": "kube-system"}}
    assert violations(made, SERVICE, svc, {"excludeNamespaces": ["kube-system"]}) == []
    assert violations(made, SERVICE, svc, {"excludeNamespaces": ["other"]})
    assert violations(made, SERVICE, svc)


def test_stack_policy_and_urn_optional_report() -> None:
    def check(args: Any, report: Report) -> None:
        report(f"{len(args.resources)} resources")

    made = policy("test-stack", rule="43b", description="d.", remediation="r", level=A, **META, stack=True, check=check)
    assert isinstance(made, StackRule)
    assert (made.rule, made.section) == ("43b", "F")
    assert stack_violations(made, [(SERVICE, {})]) == ["1 resources"]


def test_pack_rule_without_number_names_its_section() -> None:
    made = policy(
        "test-x", rule=None, section="G", description="d.", remediation="r", level=A, **META, stack=True, check=print
    )
    assert (made.rule, made.section) == (None, "G")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rule": "7", "section": "B", "types": {SERVICE}},  # section contradicts the number
        {"rule": None, "types": {SERVICE}},  # no number and no section
        {"rule": "7", "types": {SERVICE}, "stack": True},  # both kinds
        {"rule": "7"},  # neither kind
        {"rule": "7", "stack": True, "exclude_namespaces": True},  # waiver on a stack policy
        {"rule": "99", "types": {SERVICE}},  # not in the table
    ],
)
def test_invalid_declarations_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        policy("bad", description="d.", remediation="r", level=A, **META, check=print, **kwargs)


def test_sections_of_rule_numbers() -> None:
    assert [section_of(n) for n in ("1", "17", "24", "33", "41", "43b", "52", "61", "77")] == list("AACDEFGHK")


def test_is_set_counts_a_value_known_only_after_apply() -> None:
    from pulumi.runtime import rpc
    from pulumi_policy.proxy import unknown_checking_proxy

    from aiinfra_policies.common import is_set

    props = unknown_checking_proxy({"kmsKeyId": rpc.UNKNOWN, "empty": "", "set": "arn:aws:kms:x"})
    assert is_set(props, "kmsKeyId") and is_set(props, "set")
    assert not is_set(props, "empty") and not is_set(props, "missing") and not is_set(None, "x")
