"""Section A policies, both ways: a compliant workload passes every rule; each mutation trips its rule.
The rules on the objects around pods (bare Pods, namespaces, the default ServiceAccount) are in
``test_pod_context.py``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from aiinfra_policies import pod_context, pod_security
from aiinfra_policies.common import ResourceRule
from aiinfra_policies.constants import CRONJOB, DEPLOYMENT
from tests.conftest import policy_by_name, violations

Props = dict[str, Any]
SECTION_A = [*pod_security.POLICIES, *pod_context.POLICIES]
"""Rules 14 and 15 (``pod_context``) also judge the pod spec, so the workload mutations cover them."""


def compliant_deployment() -> Props:
    container = {
        "name": "server",
        "image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/ai-infra-prod/server@sha256:" + "a" * 64,
        "ports": [{"containerPort": 8000}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "capabilities": {"drop": ["ALL"]},
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "server",
            "namespace": "models",
            "labels": {
                k: "server"
                for k in ("app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/part-of")
            },
        },
        "spec": {
            "template": {
                "spec": {
                    "serviceAccountName": "server",
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "initContainers": [copy.deepcopy(container) | {"name": "init"}],
                    "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "cache"}}],
                }
            }
        },
    }


def _pod(p: Props) -> Props:
    return p["spec"]["template"]["spec"]


def _ctr(p: Props, i: int = 0) -> Props:
    return _pod(p)["containers"][i]


def _set(path: Callable[[Props], Props], key: str, value: Any) -> Callable[[Props], None]:
    def mutate(p: Props) -> None:
        path(p)[key] = value

    return mutate


def _init_sc(p: Props) -> Props:
    return _pod(p)["initContainers"][0]["securityContext"]


MUTATIONS: list[tuple[str, Callable[[Props], None]]] = [
    ("k8s-no-privileged-containers", _set(lambda p: _ctr(p)["securityContext"], "privileged", True)),
    ("k8s-no-privileged-containers", _set(_init_sc, "privileged", True)),
    ("k8s-no-host-namespaces", _set(_pod, "hostNetwork", True)),
    ("k8s-no-host-namespaces", _set(_pod, "hostPID", True)),
    ("k8s-no-host-namespaces", _set(_pod, "shareProcessNamespace", True)),
    ("k8s-no-host-path-volumes", lambda p: _pod(p)["volumes"].append({"name": "h", "hostPath": {"path": "/var/run"}})),
    ("k8s-no-host-ports", lambda p: _ctr(p)["ports"][0].update(hostPort=8000)),
    ("k8s-capabilities-baseline", lambda p: _ctr(p)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"])),
    ("k8s-capabilities-drop-all", lambda p: _ctr(p)["securityContext"]["capabilities"].update(drop=["NET_RAW"])),
    ("k8s-capabilities-drop-all", lambda p: _ctr(p)["securityContext"]["capabilities"].update(add=["CHOWN"])),
    ("k8s-no-privilege-escalation", lambda p: _ctr(p)["securityContext"].pop("allowPrivilegeEscalation")),
    ("k8s-run-as-non-root", _set(lambda p: _pod(p)["securityContext"], "runAsUser", 0)),
    ("k8s-run-as-non-root", _set(lambda p: _ctr(p)["securityContext"], "runAsNonRoot", False)),
    ("k8s-run-as-non-root", _set(_init_sc, "runAsGroup", 0)),
    (
        "k8s-seccomp-runtime-default",
        _set(lambda p: _pod(p)["securityContext"], "seccompProfile", {"type": "Unconfined"}),
    ),
    ("k8s-seccomp-runtime-default", lambda p: _pod(p)["securityContext"].pop("seccompProfile")),
    ("k8s-read-only-root-fs", _set(lambda p: _ctr(p)["securityContext"], "readOnlyRootFilesystem", False)),
    (
        "k8s-restricted-volume-types",
        lambda p: _pod(p)["volumes"].append({"name": "n", "nfs": {"server": "s", "path": "/"}}),
    ),
    ("k8s-pss-baseline-misc", _set(lambda p: _ctr(p)["securityContext"], "procMount", "Unmasked")),
    (
        "k8s-pss-baseline-misc",
        _set(lambda p: _pod(p)["securityContext"], "sysctls", [{"name": "kernel.msgmax", "value": "1"}]),
    ),
    ("k8s-pss-baseline-misc", _set(lambda p: _ctr(p)["securityContext"], "seLinuxOptions", {"user": "system_u"})),
    ("k8s-pss-baseline-misc", _set(lambda p: _ctr(p)["securityContext"], "appArmorProfile", {"type": "Unconfined"})),
    ("k8s-pss-baseline-misc", lambda p: _ctr(p)["readinessProbe"]["httpGet"].update(host="10.0.0.1")),
    ("k8s-sa-token-not-automounted", lambda p: _pod(p).pop("automountServiceAccountToken")),
    ("k8s-dedicated-service-account", _set(_pod, "serviceAccountName", "default")),
    ("k8s-dedicated-service-account", lambda p: _pod(p).pop("serviceAccountName")),
    ("k8s-explicit-non-default-namespace", lambda p: p["metadata"].pop("namespace")),
    ("k8s-explicit-non-default-namespace", lambda p: p["metadata"].update(namespace="default")),
]


def test_every_rule_has_a_violating_case() -> None:
    workload_rules = {p.name for p in SECTION_A} - {
        "k8s-no-bare-pods",
        "k8s-namespace-pss-labels",
        "k8s-default-sa-no-automount",  # a stack rule over namespaces, tested below
    }
    assert workload_rules == {name for name, _ in MUTATIONS}


@pytest.mark.parametrize("policy", [p for p in SECTION_A if isinstance(p, ResourceRule)], ids=lambda p: p.name)
def test_compliant_workload_passes(policy: Any) -> None:
    assert violations(policy, DEPLOYMENT, compliant_deployment()) == []


@pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MUTATIONS)])
def test_mutation_is_reported_by_its_rule(name: str, mutate: Callable[[Props], None]) -> None:
    props = compliant_deployment()
    mutate(props)
    found = violations(policy_by_name(SECTION_A, name), DEPLOYMENT, props)
    assert found, f"{name} did not report the mutation"
    # Messages name key paths and never quote values (a secret would be plain text here).
    assert all("10.0.0.1" not in m and "system_u" not in m and "kernel.msgmax" not in m for m in found)


def test_cronjob_pod_spec_is_found() -> None:
    deployment = compliant_deployment()
    pod_template = deployment["spec"]["template"]
    pod_template["spec"]["hostNetwork"] = True
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "c", "namespace": "models"},
        "spec": {"jobTemplate": {"spec": {"template": pod_template}}},
    }
    found = violations(policy_by_name(pod_security.POLICIES, "k8s-no-host-namespaces"), CRONJOB, cronjob)
    assert found == ["spec.jobTemplate.spec.template.spec.hostNetwork must be false or unset."]


def test_exclude_namespaces_config_skips_workloads() -> None:
    props = compliant_deployment()
    _pod(props)["hostNetwork"] = True
    policy = policy_by_name(pod_security.POLICIES, "k8s-no-host-namespaces")
    assert violations(policy, DEPLOYMENT, props, {"excludeNamespaces": ["models"]}) == []
    assert violations(policy, DEPLOYMENT, props, {"excludeNamespaces": ["other"]}) != []
