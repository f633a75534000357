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

A credential also hides inside values whatever their key is called (43c): the password of a URL
(``https://user:password@host/``) in an env value, a container's command or args, a ConfigMap or
Helm values, and the value after ``--api-key``/``--token`` in a command line (``ps`` and the pod
spec show it to everyone who can read the pod). References Kubernetes expands from the pod's own
environment (``$(API_KEY)``) pass. ``kubernetes.io/service-account-token`` Secrets are long-lived
API credentials that never expire and survive the pod (43d): pods get short-lived projected tokens.

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
from aiinfra_policies.constants import CLUSTER, CONFIG_MAP, HELM_RELEASE, K8S_SECRET, WORKLOAD_TYPES

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
SECRET_NAME_KEYS = frozenset({"alertmanager.alertmanagerSpec.configSecret"})
"""Helm keys whose value is the *name* of a Secret, though the key reads like a credential:
kube-prometheus-stack's ``alertmanager.alertmanagerSpec.configSecret`` ("the name of a Secret in
the same namespace" holding alertmanager.yaml: charts/kube-prometheus-stack/values.yaml and
templates/alertmanager/alertmanager.yaml @ kube-prometheus-stack-88.5.3). Matched by full path,
so a ``configSecret`` anywhere else is still a credential."""


def _helm_credentials(values: Any, path: str) -> Iterator[str]:
    if isinstance(values, Mapping):
        for key in values:
            if f"{path}.{key}".removeprefix("values.") in SECRET_NAME_KEYS:
                continue
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


# 43c -----------------------------------------------------------------------------------------
URL_CREDENTIAL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?P<password>[^/\s@]+)@")
"""A URL carrying ``user:password@`` (a user name alone, ``https://git@host``, carries no secret)."""
CREDENTIAL_FLAGS = re.compile(
    r"^--?(api[-_]?key|token|auth[-_]?token|access[-_]?token|hf[-_]?token|password|secret|private[-_]?key)$",
    re.IGNORECASE,
)
_REFERENCE = re.compile(r"^\$(\([A-Za-z_][A-Za-z0-9_]*\)|\{[A-Za-z_][A-Za-z0-9_]*\})$")
"""``$(VAR)`` (Kubernetes expands it from the container's env) or ``${VAR}`` (the shell does)."""


def url_credential(value: Any) -> bool:
    """Whether a string holds a URL with a literal password (a ``$(VAR)`` reference is not one)."""
    if not isinstance(value, str):
        return False
    return any(not _REFERENCE.match(m.group("password")) for m in URL_CREDENTIAL.finditer(value))


_FLAG_NAMES = r"api[-_]?key|token|auth[-_]?token|access[-_]?token|hf[-_]?token|password|secret|private[-_]?key"
_SCRIPT_FLAG = re.compile(rf"(?:^|\s)--?(?:{_FLAG_NAMES})(?:=|\s+)['\"]?(?P<value>[^\s'\"]+)", re.IGNORECASE)


def script_flag_credential(text: Any) -> bool:
    """A shell line (``sh -c "serve --api-key abc"``) passing a literal after a credential flag;
    ``$VAR``/``$(VAR)``/``${VAR}`` and another flag are not literals."""
    if not isinstance(text, str) or not any(c.isspace() for c in text.strip()):
        return False
    return any(not m.group("value").startswith(("$", "-")) for m in _SCRIPT_FLAG.finditer(text))


def _literal_value(value: Any) -> bool:
    return isinstance(value, str) and value != "" and not _REFERENCE.match(value)


def flag_credentials(argv: Any) -> Iterator[int]:
    """Indexes of ``--api-key=<literal>`` / ``--token <literal>`` in a command line."""
    items = list(argv) if isinstance(argv, list | tuple) else []
    for i, arg in enumerate(items):
        if not isinstance(arg, str):
            continue
        flag, eq, value = arg.partition("=")
        if not CREDENTIAL_FLAGS.match(flag):
            continue
        following = items[i + 1] if i + 1 < len(items) else None
        literal_next = _literal_value(following) and not str(following).startswith("-")
        if (eq and _literal_value(value)) or (not eq and literal_next):
            yield i


def _strings_in(values: Any, path: str) -> Iterator[tuple[str, str]]:
    """``(key path, string)`` for every string in nested values (unknown values skipped)."""
    if isinstance(values, str):
        yield path, values
    elif isinstance(values, Mapping):
        for key in values:
            try:
                child = values[key]
            except UnknownValueError:
                continue
            yield from _strings_in(child, f"{path}.{key}")
    elif isinstance(values, list | tuple):
        for i in range(len(values)):
            try:
                child = values[i]
            except UnknownValueError:
                continue
            yield from _strings_in(child, f"{path}[{i}]")


def _lists_in(values: Any, path: str) -> Iterator[tuple[str, list[Any]]]:
    """``(key path, list)`` for every list in nested values (a chart's ``extraArgs`` and the like)."""
    if isinstance(values, Mapping):
        for key in values:
            try:
                child = values[key]
            except UnknownValueError:
                continue
            yield from _lists_in(child, f"{path}.{key}")
    elif isinstance(values, list | tuple):
        known: list[Any] = []
        for i in range(len(values)):
            try:
                known.append(values[i])
            except UnknownValueError:
                known.append(None)
        yield path, known
        for i, child in enumerate(known):
            yield from _lists_in(child, f"{path}[{i}]")


def _credentials_in_values(r: Subject, report: Report) -> None:
    if r.type in WORKLOAD_TYPES:
        for cpath, c in containers(r.pod):
            where = f"{r.pod_path}.{cpath}"
            for field in ("command", "args"):
                argv = c.get(field) or []
                for i in flag_credentials(argv):
                    report(
                        f"{where}.{field}[{i}] passes a credential on the command line; read it from a mounted "
                        "Secret file (or $(VAR) from a Secret)."
                    )
                for path, text in _strings_in(argv, f"{where}.{field}"):
                    if url_credential(text):
                        report(f"{path} holds a URL with a password; keep the password in a Secret.")
                    elif script_flag_credential(text):
                        report(
                            f"{path} passes a credential on a shell command line; read it from a mounted "
                            "Secret file (or $VAR from a Secret)."
                        )
            for j, env in enumerate(c.get("env") or []):
                if isinstance(env, Mapping) and url_credential(env.get("value")):
                    report(f"{where}.env[{j}].value holds a URL with a password; keep the password in a Secret.")
    elif r.type == CONFIG_MAP:
        for path, text in _strings_in(r.props.get("data") or {}, "data"):
            if url_credential(text):
                report(f"{path} holds a URL with a password; a credential does not belong in a ConfigMap.")
    elif r.type == HELM_RELEASE:
        values = r.props.get("values") or {}
        for path, text in _strings_in(values, "values"):
            if url_credential(text):
                report(f"{path} holds a URL with a password; give the chart an existing Secret instead.")
        for path, argv in _lists_in(values, "values"):
            for i in flag_credentials(argv):
                report(f"{path}[{i}] passes a credential on the command line; give the chart an existing Secret.")


# 43d -----------------------------------------------------------------------------------------
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"


def _no_sa_token_secret(r: Subject, report: Report) -> None:
    if r.props.get("type") == SA_TOKEN_TYPE:
        report(
            f"type {SA_TOKEN_TYPE} makes a token that never expires; pods get projected, short-lived tokens "
            "(a TokenRequest for anything outside the cluster)."
        )


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
        "k8s-no-credentials-in-values",
        rule="43c",
        description="No password inside a URL and no literal --api-key/--token in pod specs, ConfigMaps or Helm "
        "values.",
        remediation="Put the credential in a --secret config key and a Secret; pass it as a mounted file or "
        "$(VAR) from a secretKeyRef.",
        level=A,
        severity="critical",
        standard="CIS EKS 4.4.2; Pulumi secrets docs",
        types=WORKLOAD_TYPES | {CONFIG_MAP, HELM_RELEASE},
        exclude_namespaces=True,
        check=_credentials_in_values,
    ),
    policy(
        "k8s-no-sa-token-secrets",
        rule="43d",
        description="No Secret of type kubernetes.io/service-account-token (a long-lived API credential).",
        remediation="Drop the Secret; pods use projected ServiceAccount tokens, outside callers a TokenRequest.",
        level=A,
        severity="high",
        standard="EKS Best Practices (IAM: no long-lived ServiceAccount token Secrets); Kubernetes docs (legacy "
        "service-account-token Secrets)",
        types={K8S_SECRET},
        exclude_namespaces=True,
        check=_no_sa_token_secret,
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
