"""Section F policies (secrets: as files, no plaintext, etcd encryption) both ways."""

from __future__ import annotations

from typing import Any

import pytest

from aiinfra_policies import secrets
from aiinfra_policies.constants import (
    CLUSTER,
    CONFIG_MAP,
    CRONJOB,
    DEPLOYMENT,
    HELM_RELEASE,
    K8S_SECRET,
    POD,
    WORKLOAD_TYPES,
)
from tests.conftest import policy_by_name, violations
from tests.policies.test_eks_policies import cluster

CASES: list[tuple[str, str, Any, Any]] = [
    # (policy, type token, compliant props factory, mutation)
    ("eks-secrets-envelope-encryption-cmk", CLUSTER, cluster, lambda p: p.pop("encryptionConfig")),
]


@pytest.mark.parametrize(
    ("name", "token", "factory", "mutate"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_policy_both_ways(name: str, token: str, factory: Any, mutate: Any) -> None:
    policy = policy_by_name(secrets.POLICIES, name)
    assert violations(policy, token, factory()) == []
    props = factory()
    mutate(props)
    assert violations(policy, token, props), f"{name} missed the mutation"


# 42, 43: secrets in workloads, ConfigMaps and Helm values ---------------------------------------
def pod(*env: dict[str, Any], env_from: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A fleet Deployment reading its token from a mounted Secret file (what our components do)."""
    container: dict[str, Any] = {
        "name": "server",
        "image": "vllm/vllm-openai:v0.11.0",
        "env": [{"name": "HF_TOKEN_PATH", "value": "/var/run/secrets/huggingface/token"}, *env],
        "volumeMounts": [{"name": "hf-token", "mountPath": "/var/run/secrets/huggingface", "readOnly": True}],
    }
    if env_from is not None:
        container["envFrom"] = env_from
    volumes = [{"name": "hf-token", "secret": {"secretName": "hf-token"}}]
    return {
        "metadata": {"name": "vllm", "namespace": "models"},
        "spec": {"template": {"spec": {"containers": [container], "volumes": volumes}}},
    }


def _f(name: str, token: str, props: dict[str, Any], config: dict[str, Any] | None = None) -> list[str]:
    return violations(policy_by_name(secrets.POLICIES, name), token, props, config)


SECRET_REF = {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}


@pytest.mark.parametrize("token", sorted(WORKLOAD_TYPES - {CRONJOB, POD}))
def test_secrets_as_files_both_ways(token: str) -> None:
    assert _f("k8s-secrets-as-files", token, pod()) == []
    assert _f("k8s-secrets-as-files", token, pod(SECRET_REF)) == [
        "spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef: "
        "mount the Secret as a file instead of an environment variable."
    ]
    env_from = [{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "keys"}}]
    assert _f("k8s-secrets-as-files", token, pod(env_from=env_from[:1])) == []
    assert _f("k8s-secrets-as-files", token, pod(env_from=env_from)) == [
        "spec.template.spec.containers[0].envFrom[1].secretRef: mount the Secret as a file instead."
    ]


def test_secrets_as_files_allowlists_are_by_name() -> None:
    assert _f("k8s-secrets-as-files", DEPLOYMENT, pod(SECRET_REF), {"allowedEnvVars": ["HF_TOKEN"]}) == []
    assert _f("k8s-secrets-as-files", DEPLOYMENT, pod(SECRET_REF), {"allowedEnvVars": ["OTHER"]})
    keys = pod(env_from=[{"secretRef": {"name": "keys"}}])
    assert _f("k8s-secrets-as-files", DEPLOYMENT, keys, {"allowedSecrets": ["keys"]}) == []


@pytest.mark.parametrize(
    ("name", "credential"),
    [
        ("HF_TOKEN", True),
        ("adminPassword", True),
        ("admin-password", True),
        ("OPENAI_API_KEY", True),
        ("apiKey", True),
        ("TS_AUTHKEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("client_secret", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("HF_TOKEN_PATH", False),
        ("API_KEY_FILE", False),
        ("tokenSecretRef", False),
        ("secretName", False),
        ("existingSecret", False),
        ("AWS_ACCESS_KEY_ID", False),
        ("TOKENIZERS_PARALLELISM", False),
        (3, False),
    ],
)
def test_credential_names(name: Any, credential: bool) -> None:
    assert secrets.credential_name(name) is credential


def test_plaintext_env_literals_both_ways() -> None:
    literal = {"name": "HF_TOKEN", "value": "hf_not_a_real_token"}
    found = _f("k8s-no-plaintext-secrets", DEPLOYMENT, pod(literal))
    assert found == [
        "spec.template.spec.containers[0].env[1].value: a credential-named variable holds a literal; "
        "mount it from a Secret as a file."
    ]
    assert "hf_not_a_real_token" not in found[0]  # names, never values
    # Referencing a Secret is rule 42's business, an empty value is no credential.
    assert _f("k8s-no-plaintext-secrets", DEPLOYMENT, pod(SECRET_REF, {"name": "API_KEY", "value": ""})) == []
    job = {"spec": {"jobTemplate": {"spec": pod(literal)["spec"]}}}
    assert _f("k8s-no-plaintext-secrets", CRONJOB, job)


def test_plaintext_skips_values_known_only_after_apply() -> None:
    from pulumi.runtime import rpc
    from pulumi_policy.proxy import unknown_checking_proxy

    props = unknown_checking_proxy(pod({"name": "HF_TOKEN", "value": rpc.UNKNOWN}))
    assert _f("k8s-no-plaintext-secrets", DEPLOYMENT, props) == []


def test_plaintext_in_config_maps_both_ways() -> None:
    dashboards = {"metadata": {"name": "dashboards", "namespace": "monitoring"}, "data": {"cost.json": "{}"}}
    assert _f("k8s-no-plaintext-secrets", CONFIG_MAP, dashboards) == []
    leaked = {**dashboards, "data": {"cost.json": "{}", "db-password": "hunter2"}}
    assert _f("k8s-no-plaintext-secrets", CONFIG_MAP, leaked) == [
        "data.db-password: a credential does not belong in a ConfigMap; put it in a Secret."
    ]
    binary = {**dashboards, "binaryData": {"tls-private-key": "AAAA"}}
    assert _f("k8s-no-plaintext-secrets", CONFIG_MAP, binary)


def test_plaintext_in_helm_values_both_ways() -> None:
    release = {
        "chart": "kube-prometheus-stack",
        "namespace": "monitoring",
        "values": {
            "grafana": {"admin": {"existingSecret": "grafana-admin", "passwordKey": "admin-password"}},
            "keda": {"permissions": {"operator": {"restrict": {"secret": True}}}},
            "alertmanager": {"config": {"receivers": [{"name": "null"}]}},
        },
    }
    assert _f("k8s-no-plaintext-secrets", HELM_RELEASE, release) == []
    release["values"]["grafana"]["adminPassword"] = "prom-operator"
    release["values"]["alertmanager"]["config"]["receivers"].append({"slack_configs": [{"api_key": "x"}]})
    assert _f("k8s-no-plaintext-secrets", HELM_RELEASE, release) == [
        "values.grafana.adminPassword: a credential typed into Helm values; give the chart an existing Secret instead.",
        "values.alertmanager.config.receivers[1].slack_configs[0].api_key: a credential typed into Helm values; "
        "give the chart an existing Secret instead.",
    ]


def test_helm_keys_that_name_a_secret_are_no_credential() -> None:
    # kube-prometheus-stack reads alertmanager.yaml from the Secret this key names (alert receivers).
    named = {"alertmanager": {"alertmanagerSpec": {"useExistingSecret": True, "configSecret": "alertmanager-cfg"}}}
    release = {"chart": "kube-prometheus-stack", "namespace": "monitoring", "values": named}
    assert _f("k8s-no-plaintext-secrets", HELM_RELEASE, release) == []
    # The same key anywhere else is still a credential typed into values.
    release["values"] = {"webhook": {"configSecret": "hunter2"}}
    assert _f("k8s-no-plaintext-secrets", HELM_RELEASE, release) == [
        "values.webhook.configSecret: a credential typed into Helm values; give the chart an existing Secret instead."
    ]


def test_plaintext_rule_leaves_secrets_alone() -> None:
    """A Secret holds credentials by design; whether its data was a literal is not visible (module docstring)."""
    secret = {"metadata": {"name": "hf-token", "namespace": "models"}, "stringData": {"token": "hf_x"}}
    assert _f("k8s-no-plaintext-secrets", "kubernetes:core/v1:Secret", secret) == []


# 43c: credentials inside values ------------------------------------------------------------------
PASSWORD = "hunter2-s3cr3t"
"""A fake credential: no message may quote it."""


def _with(container: dict[str, Any]) -> dict[str, Any]:
    props = pod()
    props["spec"]["template"]["spec"]["containers"][0].update(container)
    return props


def test_credentials_inside_values_both_ways() -> None:
    name = "k8s-no-credentials-in-values"
    assert _f(name, DEPLOYMENT, pod()) == []
    fine = _with(
        {
            "args": ["--api-key", "$(VLLM_API_KEY)", "--model", "/models/m", "--token-file=/run/token"],
            "command": ["sh", "-c", 'exec serve --api-key "$API_KEY" --token=$(cat /run/token) --model m'],
            "env": [
                {"name": "REPO", "value": "https://git@github.com/org/repo"},
                {"name": "MIRROR", "value": "https://user:$(MIRROR_PASSWORD)@mirror.example/"},
                {"name": "PLAIN", "value": "https://huggingface.co/Qwen"},
            ],
        }
    )
    assert _f(name, DEPLOYMENT, fine) == []
    cases = [
        ({"env": [{"name": "PIP_INDEX_URL", "value": f"https://bot:{PASSWORD}@pypi.example/simple"}]}, "env[0].value"),
        ({"args": ["--api-key", PASSWORD]}, "args[0]"),
        ({"args": [f"--token={PASSWORD}"]}, "args[0]"),
        ({"command": ["serve", "--hf-token", PASSWORD]}, "command[1]"),
        ({"args": ["--proxy", f"http://u:{PASSWORD}@proxy:3128"]}, "args[1]"),
        ({"command": ["sh", "-c", f"exec serve --api-key {PASSWORD} --port 8000"]}, "command[2]"),
        ({"command": ["sh", "-c", f"exec serve --token='{PASSWORD}'"]}, "command[2]"),
    ]
    for container, where in cases:
        found = _f(name, DEPLOYMENT, _with(container))
        assert len(found) == 1 and where in found[0], container
        assert PASSWORD not in found[0]
    config_map = {"data": {"endpoint": f"postgres://app:{PASSWORD}@db:5432/app"}}
    assert _f(name, CONFIG_MAP, config_map) and _f(name, CONFIG_MAP, {"data": {"endpoint": "postgres://db"}}) == []
    values = {"values": {"grafana": {"datasources": [{"url": f"https://reader:{PASSWORD}@prom:9090"}]}}}
    found = _f(name, HELM_RELEASE, values)
    assert found == [
        "values.grafana.datasources[0].url holds a URL with a password; give the chart an existing Secret instead."
    ]
    assert _f(name, HELM_RELEASE, {"values": {"url": "https://prom:9090"}}) == []
    extra_args = {"values": {"controller": {"extraArgs": ["--v=2", "--token", PASSWORD]}}}
    found = _f(name, HELM_RELEASE, extra_args)
    assert len(found) == 1 and found[0].startswith("values.controller.extraArgs[1]") and PASSWORD not in found[0]
    assert _f(name, HELM_RELEASE, {"values": {"controller": {"extraArgs": ["--v=2"]}}}) == []
    assert _f(name, DEPLOYMENT, _with(cases[0][0]), {"excludeNamespaces": ["models"]}) == []


# 43d: ServiceAccount token Secrets ---------------------------------------------------------------
def test_no_service_account_token_secrets() -> None:
    name = "k8s-no-sa-token-secrets"
    meta = {"name": "ci", "namespace": "models"}
    assert _f(name, K8S_SECRET, {"metadata": meta, "type": "Opaque"}) == []
    assert _f(name, K8S_SECRET, {"metadata": meta}) == []
    legacy: dict[str, Any] = {
        "metadata": {**meta, "annotations": {"kubernetes.io/service-account.name": "ci"}},
        "type": "kubernetes.io/service-account-token",
    }
    assert len(_f(name, K8S_SECRET, legacy)) == 1
    assert _f(name, K8S_SECRET, legacy, {"excludeNamespaces": ["models"]}) == []
