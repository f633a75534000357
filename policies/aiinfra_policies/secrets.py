"""Section F of ``policies/RULES.md``: secrets (rules 42, 43, 43b).

A credential belongs in a Kubernetes Secret mounted as a file, readable only by the pod that
mounts it. As an environment variable it leaks into crash dumps, ``/proc/<pid>/environ``, child
processes and debug output (42: advisory, since some runtimes read their token only from the
environment; ``allowedEnvVars`` / ``allowedSecrets`` name the reviewed ones). A credential typed
into a pod spec, a ConfigMap or a Helm release's values is plaintext for everyone who can read that
object (43: mandatory everywhere). Rule 43 knows a credential by its name (``HF_TOKEN``,
``adminPassword``, ``api-key``, ...: the name ends in TOKEN, SECRET, PASSWORD, API_KEY, AUTHKEY,
ACCESS_KEY, PRIVATE_KEY or CREDENTIALS); names ending in ``_PATH``/``_FILE``/``Ref``/``Name`` point
at a mounted file or a Secret and pass, as do Helm's ``existingSecret*`` keys. Messages give key
paths and names, never values: a policy sees secrets in plain text.

What no policy can tell: whether a ``kubernetes:core/v1:Secret``'s ``data``/``stringData`` came
from a Pulumi secret (config ``--secret``) or from a literal in code. pulumi-kubernetes wraps both
maps in ``Output.secret`` whatever they hold (``core/v1/Secret.py`` in 4.34.2), so the engine sends
every Secret's data as a secret, and pulumi-policy 1.21.0 unwraps secrets before ``validate``
(``deserialize_properties(..., proxy_secrets=False)``): a literal and a config secret look the
same. Our components take every Secret value as an ``Output`` from ``--secret`` config.

Kubernetes Secrets live in etcd: envelope encryption with a customer KMS key (43b) means reading
them needs our key, whose use CloudTrail records and which we can rotate or revoke.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel
from pulumi_policy.proxy import UnknownValueError

from aiinfra_policies.common import Report, RulePolicy, Subject, containers, is_set, policy
from aiinfra_policies.constants import CLUSTER, CONFIG_MAP, HELM_RELEASE, WORKLOAD_TYPES

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY

CREDENTIAL = re.compile(
    r"(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|AUTH_?KEY|ACCESS_KEY|SECRET_KEY|PRIVATE_KEY|CREDENTIALS?)$"
)


def normalized(name: str) -> str:
    """``adminPassword`` / ``admin-password`` / ``ADMIN_PASSWORD`` all become ``ADMIN_PASSWORD``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^A-Za-z0-9]+", "_", snake).strip("_").upper()


def credential_name(name: Any) -> bool:
    """Whether a key or variable name says it holds a credential (not a reference to one)."""
    if not isinstance(name, str):
        return False
    key = normalized(name)
    return bool(CREDENTIAL.search(key)) and not key.startswith("EXISTING_")


def literal(mapping: Mapping[str, Any], key: str) -> bool:
    """A non-empty string written into the object; a value known only after apply is computed, not typed in."""
    try:
        value = mapping.get(key)
    except UnknownValueError:
        return False
    return isinstance(value, str) and value != ""


def _env(r: Subject) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for cpath, c in containers(r.pod):
        for j, env in enumerate(c.get("env") or []):
            if isinstance(env, Mapping):
                yield f"{r.pod_path}.{cpath}.env[{j}]", env


# 42 ------------------------------------------------------------------------------------------
def _secrets_as_files(r: Subject, report: Report) -> None:
    allowed_vars = set(r.config.get("allowedEnvVars") or [])
    allowed_secrets = set(r.config.get("allowedSecrets") or [])
    for path, env in _env(r):
        value_from = env.get("valueFrom") or {}
        if "secretKeyRef" in value_from and env.get("name") not in allowed_vars:
            report(f"{path}.valueFrom.secretKeyRef: mount the Secret as a file instead of an environment variable.")
    for cpath, c in containers(r.pod):
        for j, source in enumerate(c.get("envFrom") or []):
            ref = source.get("secretRef") if isinstance(source, Mapping) else None
            if isinstance(ref, Mapping) and ref.get("name") not in allowed_secrets:
                report(f"{r.pod_path}.{cpath}.envFrom[{j}].secretRef: mount the Secret as a file instead.")


# 43 ------------------------------------------------------------------------------------------
def _helm_credentials(values: Any, path: str) -> Iterator[str]:
    if isinstance(values, Mapping):
        for key in values:
            if credential_name(key) and literal(values, key):
                yield f"{path}.{key}"
            else:
                try:
                    child = values[key]
                except UnknownValueError:
                    continue
                yield from _helm_credentials(child, f"{path}.{key}")
    elif isinstance(values, list):
        for i in range(len(values)):
            try:
                child = values[i]
            except UnknownValueError:
                continue
            yield from _helm_credentials(child, f"{path}[{i}]")


def _no_plaintext(r: Subject, report: Report) -> None:
    if r.type in WORKLOAD_TYPES:
        for path, env in _env(r):
            if credential_name(env.get("name")) and literal(env, "value"):
                report(f"{path}.value: a credential-named variable holds a literal; mount it from a Secret as a file.")
    elif r.type == CONFIG_MAP:
        for field in ("data", "binaryData"):
            data = r.props.get(field) or {}
            for key in data if isinstance(data, Mapping) else []:
                if credential_name(key):
                    report(f"{field}.{key}: a credential does not belong in a ConfigMap; put it in a Secret.")
    elif r.type == HELM_RELEASE:
        for path in _helm_credentials(r.props.get("values") or {}, "values"):
            report(f"{path}: a credential typed into Helm values; give the chart an existing Secret instead.")


# 43b -----------------------------------------------------------------------------------------
def _secrets_encryption(r: Subject, report: Report) -> None:
    enc = r.props.get("encryptionConfig") or {}
    if "secrets" not in (enc.get("resources") or []) or not is_set(enc.get("provider"), "keyArn"):
        report("encryptionConfig must encrypt resources [secrets] with a customer KMS key (provider.keyArn).")


def _names(key: str, what: str) -> dict[str, dict[str, Any]]:
    return {key: {"type": "array", "items": {"type": "string"}, "default": [], "description": what}}


POLICIES: list[RulePolicy] = [
    policy(
        "k8s-secrets-as-files",
        rule="42",
        description="Containers read Secrets from mounted files, not environment variables.",
        remediation="Mount the Secret as a volume (and point the app at the file, e.g. HF_TOKEN_PATH).",
        level=A,
        severity="medium",
        standard="CKV_K8S_35; CIS EKS 4.4.1; Pulumi CIS-K8s k8s-secrets-as-files-not-env-vars",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        schema={
            **_names("allowedEnvVars", "Environment variables a runtime reads only from the environment (reviewed)."),
            **_names("allowedSecrets", "Secrets a container may load whole with envFrom (reviewed)."),
        },
        check=_secrets_as_files,
    ),
    policy(
        "k8s-no-plaintext-secrets",
        rule="43",
        description="No credential is typed into an env value, a ConfigMap or Helm values.",
        remediation="Keep the credential in a --secret config key, a Kubernetes Secret, and mount it as a file.",
        level=M,
        severity="critical",
        standard="CIS EKS 4.4.2; Pulumi secrets docs",
        types=WORKLOAD_TYPES | {CONFIG_MAP, HELM_RELEASE},
        exclude_namespaces=True,
        check=_no_plaintext,
    ),
    policy(
        "eks-secrets-envelope-encryption-cmk",
        rule="43b",
        description="Kubernetes secrets must be envelope-encrypted with a customer KMS key.",
        remediation="Set encryptionConfig with the platform KMS key.",
        level=A,
        severity="high",
        standard="CKV_AWS_58; Security Hub EKS.3; CIS EKS 5.3.1",
        types={CLUSTER},
        check=_secrets_encryption,
    ),
]
