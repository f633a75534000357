"""Section A of ``policies/RULES.md``, part two: the objects around a pod (rules 14–17).

The ServiceAccount a pod runs as (14), the namespace it lands in (15), bare Pods (16), the
namespace's own Pod Security labels (17), which are the only guard for Helm-installed pods, and
the default ServiceAccount of every restricted namespace. The pod's own security context (rules
1–13) is ``pod_security.py``'s. The level in code is the dev level; ``policies/prod.json`` raises
it (all of A is mandatory in prod). Every message names the key path to fix and never quotes a value.
"""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, StackValidationArgs

from aiinfra_policies.common import Report, RulePolicy, Subject, get_path, namespace_of, policy
from aiinfra_policies.constants import NAMESPACE, POD, SERVICE_ACCOUNT, WORKLOAD_TYPES

A = EnforcementLevel.ADVISORY

# fmt: off
DEFAULT_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
# Kinds without metadata.namespace: rule 15 does not apply to them.
CLUSTER_SCOPED_KINDS = frozenset({
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
    "RuntimeClass", "CustomResourceDefinition", "CSIDriver", "APIService", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration", "IngressClass", "VolumeSnapshotClass", "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    # Kueue's cluster-scoped kinds (scope: Cluster in config/components/crd/bases @ v0.19.2).
    "ResourceFlavor", "ClusterQueue", "Cohort", "WorkloadPriorityClass",
})
# fmt: on
CLUSTER_SCOPED_CUSTOM_KINDS = frozenset(
    {
        # scope: Cluster in tailscale/tailscale cmd/k8s-operator/deploy/crds/tailscale.com_*.yaml @ v1.102.3
        ("tailscale.com", "Connector"),
        ("tailscale.com", "ProxyClass"),
        ("tailscale.com", "ProxyGroup"),
        ("tailscale.com", "DNSConfig"),
    }
)  # fmt: skip
"""Custom kinds without a namespace, by API group (a kind name alone is not unique across CRDs)."""


# 14 ------------------------------------------------------------------------------------------
def _dedicated_sa(r: Subject, report: Report) -> None:
    if r.type == SERVICE_ACCOUNT:
        # Pods that name no ServiceAccount get "default": it must at least not hand out a token.
        name = (r.props.get("metadata") or {}).get("name")
        if name == "default" and r.props.get("automountServiceAccountToken") is not False:
            report("The default ServiceAccount must set automountServiceAccountToken: false.")
        return
    if r.pod.get("serviceAccountName") in (None, "", "default"):
        report(f"{r.pod_path}.serviceAccountName must name a dedicated ServiceAccount.")


# 15 ------------------------------------------------------------------------------------------
def _k8s_object(token: str) -> bool:
    """Kubernetes objects, not the Helm/YAML wrappers (their namespace is not ``metadata``)."""
    return token.startswith("kubernetes:") and not token.startswith(("kubernetes:helm.sh", "kubernetes:yaml"))


def _explicit_namespace(r: Subject, report: Report) -> None:
    kind = r.props.get("kind")
    if not isinstance(kind, str) or kind in CLUSTER_SCOPED_KINDS or kind.endswith("List"):
        return
    group = str(r.props.get("apiVersion") or "").rpartition("/")[0]
    if (group, kind) in CLUSTER_SCOPED_CUSTOM_KINDS:
        return
    namespace = (r.props.get("metadata") or {}).get("namespace")
    if not namespace:
        report("metadata.namespace must be set explicitly (a literal, so it is known at preview).")
    elif namespace in DEFAULT_NAMESPACES:
        report("metadata.namespace must be a platform namespace, not default, kube-system or kube-public.")


# 16 ------------------------------------------------------------------------------------------
def _bare_pod(_: Subject, report: Report) -> None:
    report("Create pods through a Deployment, StatefulSet, DaemonSet or Job, not as a bare Pod.")


# 17 ------------------------------------------------------------------------------------------
PSS_LABELS = ("enforce", "warn", "audit")
LEVEL_ORDER = {"restricted": 0, "baseline": 1, "privileged": 2}
NAMESPACE_EXCEPTIONS = {
    "exceptions": {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": ["baseline", "privileged"]},
        "default": {},
        "description": "System namespaces allowed a weaker Pod Security level, and the weakest allowed.",
    }
}


def _namespace_pss(r: Subject, report: Report) -> None:
    metadata = r.props.get("metadata") or {}
    labels = metadata.get("labels") or {}
    name = metadata.get("name")
    exceptions = r.config.get("exceptions") or {}
    allowed = exceptions.get(name, "restricted") if isinstance(name, str) else "restricted"
    for mode in PSS_LABELS:
        key = f"pod-security.kubernetes.io/{mode}"
        level = labels.get(key)
        if level not in LEVEL_ORDER:
            report(f"metadata.labels[{key}] must be set to restricted (or an allowed exception level).")
        elif LEVEL_ORDER[level] > LEVEL_ORDER.get(allowed, 0):
            report(
                f"metadata.labels[{key}] is weaker than this namespace may be; use restricted or add the "
                "namespace to the policy's exceptions with a reason."
            )
    # A privileged namespace still warns and audits at baseline: privileged pods stay visible.
    if labels.get("pod-security.kubernetes.io/enforce") == "privileged":
        for mode in ("warn", "audit"):
            if labels.get(f"pod-security.kubernetes.io/{mode}") not in ("baseline", "restricted"):
                report(
                    f"metadata.labels[pod-security.kubernetes.io/{mode}] must be baseline where enforce is privileged."
                )


# Workload rules (1–13) see every workload kind and honour the excludeNamespaces waiver.
# no number: the default ServiceAccount -----------------------------------------------------------
SA_PATCH = "kubernetes:core/v1:ServiceAccountPatch"


def _default_sa(args: StackValidationArgs, report: Report) -> None:
    """Every restricted namespace this stack creates (tenants, and system namespaces running
    restricted charts) switches off the token of its ``default`` ServiceAccount: a pod naming no
    account must not get API credentials."""
    closed = {
        namespace_of(r.props)
        for r in args.resources
        if r.resource_type in (SA_PATCH, SERVICE_ACCOUNT)
        and get_path(r.props, "metadata.name") == "default"
        and r.props.get("automountServiceAccountToken") is False
    }
    for r in args.resources:
        if r.resource_type != NAMESPACE:
            continue
        labels = get_path(r.props, "metadata.labels") or {}
        restricted = labels.get("pod-security.kubernetes.io/enforce") == "restricted"
        if restricted and get_path(r.props, "metadata.name") not in closed:
            report("Patch the namespace's default ServiceAccount with automountServiceAccountToken: false.", r.urn)


POLICIES: list[RulePolicy] = [
    policy(
        "k8s-dedicated-service-account",
        rule="14",
        description="Workloads must run as a dedicated ServiceAccount.",
        remediation="Create a ServiceAccount per workload and set serviceAccountName.",
        level=A,
        severity="medium",
        standard="CKV_K8S_41/42; CIS EKS 4.1.5",
        types=WORKLOAD_TYPES | {SERVICE_ACCOUNT},
        exclude_namespaces=True,
        check=_dedicated_sa,
    ),
    policy(
        "k8s-explicit-non-default-namespace",
        rule="15",
        description="Namespaced objects must name a platform namespace explicitly.",
        remediation="Set metadata.namespace to one of the platform's namespaces.",
        level=A,
        severity="low",
        standard="CKV_K8S_21; CIS EKS 4.6.3",
        types=_k8s_object,
        exclude_namespaces=True,
        check=_explicit_namespace,
    ),
    policy(
        "k8s-no-bare-pods",
        rule="16",
        description="Pods must be created by a controller.",
        remediation="Wrap the pod in a Deployment, StatefulSet or Job.",
        level=A,
        severity="medium",
        standard="compliance-policies disallow-pod",
        types={POD},
        exclude_namespaces=True,
        check=_bare_pod,
    ),
    # Namespaces are cluster-scoped: their waiver is the per-namespace ``exceptions`` level instead.
    policy(
        "k8s-namespace-pss-labels",
        rule="17",
        description="Namespaces must carry Pod Security labels (restricted unless excepted).",
        remediation="Label the namespace pod-security.kubernetes.io/enforce|warn|audit: restricted.",
        level=A,
        severity="high",
        standard="Pod Security Admission",
        types={NAMESPACE},
        schema=NAMESPACE_EXCEPTIONS,
        check=_namespace_pss,
    ),
    policy(
        "k8s-default-sa-no-automount",
        rule=None,
        section="A",
        description="The default ServiceAccount of every restricted namespace mounts no token.",
        remediation="Create namespaces with components/namespaces.py (it patches the default ServiceAccount).",
        level=A,
        severity="medium",
        standard="CIS EKS 4.1.6 (default ServiceAccount)",
        stack=True,
        check=_default_sa,
    ),
]
