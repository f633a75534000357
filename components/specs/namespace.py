"""Pure builders for a platform namespace and its guardrails.

A workload namespace gets Pod Security ``restricted`` labels, a default-deny NetworkPolicy
(ingress and egress; fleets add narrow allows), a ResourceQuota whose GPU line caps spend, and
a LimitRange so containers without requests still get sane defaults. System namespaces (GPU
drivers, storage provisioners, monitoring agents) get an explicit, weaker Pod Security level
because their DaemonSets need host access (each add-on's record says which:
``components/specs/addons``); the policy pack lists the same exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pulumi_kubernetes as k8s

from components.core.settings import NamespaceSettings
from components.specs.scheduling import SERVING_PRIORITY

SYSTEM_PRIORITY_CLASSES = ("system-cluster-critical", "system-node-critical")
"""Kubernetes' own classes: any namespace may use them (since 1.17) unless a quota says no."""

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]
PSS_VERSION = "latest"


def pod_security_labels(level: PodSecurityLevel) -> dict[str, str]:
    """enforce at ``level``; warn and audit at the same level, except that a privileged namespace
    warns and audits at baseline, so what its privileged pods do beyond baseline is logged in the
    API server's audit log and shown to whoever applies them."""
    watch = "baseline" if level == "privileged" else level
    labels: dict[str, str] = {}
    for mode, mode_level in (("enforce", level), ("warn", watch), ("audit", watch)):
        labels[f"pod-security.kubernetes.io/{mode}"] = mode_level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = PSS_VERSION
    return labels


def namespace_args(name: str, level: PodSecurityLevel, labels: Mapping[str, str]) -> k8s.core.v1.NamespaceInitArgs:
    return k8s.core.v1.NamespaceInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels={**labels, **pod_security_labels(level)}),
    )


def default_service_account_patch_args(namespace: str) -> k8s.core.v1.ServiceAccountPatchArgs:
    """The ``default`` ServiceAccount Kubernetes creates in every namespace stops mounting its
    token into pods that name no account (CIS EKS 4.1.6). A patch (server-side apply), so the
    account stays Kubernetes' and only this one field is ours."""
    return k8s.core.v1.ServiceAccountPatchArgs(
        metadata=k8s.meta.v1.ObjectMetaPatchArgs(name="default", namespace=namespace),
        automount_service_account_token=False,
    )


def default_deny_args(namespace: str, labels: Mapping[str, str]) -> k8s.networking.v1.NetworkPolicyInitArgs:
    """Deny all ingress and egress for every pod in the namespace (rule 31)."""
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name="default-deny", namespace=namespace, labels=dict(labels)),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(),
            policy_types=["Ingress", "Egress"],
        ),
    )


def allow_dns_args(namespace: str, labels: Mapping[str, str]) -> k8s.networking.v1.NetworkPolicyInitArgs:
    """Every pod may resolve names through the cluster DNS in kube-system (and nothing else)."""
    dns_port = [
        k8s.networking.v1.NetworkPolicyPortArgs(protocol="UDP", port=53),
        k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=53),
    ]
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-dns", namespace=namespace, labels=dict(labels)),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(),
            policy_types=["Egress"],
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[
                        k8s.networking.v1.NetworkPolicyPeerArgs(
                            namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                match_labels={"kubernetes.io/metadata.name": "kube-system"}
                            ),
                            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
                        )
                    ],
                    ports=dns_port,
                )
            ],
        ),
    )


def resource_quota_args(
    namespace: str, settings: NamespaceSettings, labels: Mapping[str, str]
) -> k8s.core.v1.ResourceQuotaInitArgs:
    """Caps what the namespace may request, GPUs included (the per-namespace cost guardrail)."""
    q = settings.quota
    return k8s.core.v1.ResourceQuotaInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name="compute", namespace=namespace, labels=dict(labels)),
        spec=k8s.core.v1.ResourceQuotaSpecArgs(
            hard={
                "requests.cpu": q.cpu,
                "requests.memory": q.memory,
                "limits.memory": q.memory,
                "requests.nvidia.com/gpu": str(q.gpus),
                "pods": str(q.pods),
                "persistentvolumeclaims": str(q.pvcs),
                "requests.storage": q.storage,
                # Nothing in a tenant namespace is exposed by a cloud or node port (rule 85 area):
                # model endpoints are ClusterIP, reached in-cluster or over the tailnet.
                "services.loadbalancers": "0",
                "services.nodeports": "0",
            }
        ),
    )


def denied_priority_classes(*, serving: bool) -> list[str]:
    """Classes a workload namespace may not use: Kubernetes' system classes always, and the
    serving class unless the namespace runs model fleets (so a batch job cannot preempt vLLM)."""
    return sorted({*SYSTEM_PRIORITY_CLASSES, *([] if serving else [SERVING_PRIORITY])})


PRIORITY_ADMISSION_POLICY = "ai-infra-priority-classes"


def _cel_list(values: Sequence[str]) -> str:
    # Kubernetes names are DNS labels: no quote or backslash to escape.
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def priority_admission_policy_args(
    tenants: Mapping[str, bool], labels: Mapping[str, str]
) -> tuple[
    k8s.admissionregistration.v1.ValidatingAdmissionPolicyInitArgs,
    k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingInitArgs,
]:
    """A ValidatingAdmissionPolicy (and its Deny binding) holding pods to the PriorityClasses
    their namespace may use, in the API server itself (so ``kubectl``-created pods are held too).

    ``tenants`` maps each workload namespace to whether it serves models. Two rules: a tenant
    namespace uses none of its ``denied_priority_classes``, and the serving class is used only in
    serving namespaces (a namespace someone adds by hand cannot preempt vLLM either). The
    priority-guard quotas say the same for our namespaces; this adds the message and covers
    namespaces we do not create. CEL and fields: admissionregistration.k8s.io/v1 (GA in 1.30).
    """
    denied = {ns: denied_priority_classes(serving=serving) for ns, serving in sorted(tenants.items())}
    denied_map = "{" + ", ".join(f"'{ns}': {_cel_list(classes)}" for ns, classes in denied.items()) + "}"
    serving = sorted(ns for ns, is_serving in tenants.items() if is_serving)
    has_class = "has(object.spec.priorityClassName)"
    meta = k8s.meta.v1.ObjectMetaArgs(name=PRIORITY_ADMISSION_POLICY, labels=dict(labels))
    policy = k8s.admissionregistration.v1.ValidatingAdmissionPolicyInitArgs(
        metadata=meta,
        spec=k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs(
            failure_policy="Fail",
            match_constraints=k8s.admissionregistration.v1.MatchResourcesArgs(
                resource_rules=[
                    k8s.admissionregistration.v1.NamedRuleWithOperationsArgs(
                        # priorityClassName is immutable: creation is the only moment to check.
                        api_groups=[""],
                        api_versions=["v1"],
                        operations=["CREATE"],
                        resources=["pods"],
                    )
                ]
            ),
            variables=[k8s.admissionregistration.v1.VariableArgs(name="denied", expression=denied_map)],
            validations=[
                k8s.admissionregistration.v1.ValidationArgs(
                    expression=(
                        f"!{has_class} || !(request.namespace in variables.denied) || "
                        "!(object.spec.priorityClassName in variables.denied[request.namespace])"
                    ),
                    message_expression=(
                        "'PriorityClass ' + object.spec.priorityClassName + ' is not allowed in namespace ' + "
                        "request.namespace + ' (ai-infra priority guard)'"
                    ),
                    reason="Forbidden",
                ),
                k8s.admissionregistration.v1.ValidationArgs(
                    expression=(
                        f"!{has_class} || object.spec.priorityClassName != '{SERVING_PRIORITY}' || "
                        f"request.namespace in {_cel_list(serving)}"
                    ),
                    message=f"PriorityClass {SERVING_PRIORITY} is for model-serving namespaces only",
                    reason="Forbidden",
                ),
            ],
        ),
    )
    binding = k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingInitArgs(
        metadata=meta,
        spec=k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecArgs(
            policy_name=PRIORITY_ADMISSION_POLICY, validation_actions=["Deny"]
        ),
    )
    return policy, binding


def priority_guard_quota_args(
    namespace: str, denied: list[str], labels: Mapping[str, str]
) -> k8s.core.v1.ResourceQuotaInitArgs:
    """Zero pods at the denied PriorityClasses: quota admission rejects such a pod however it is
    created (kubectl included), which a deploy-time policy alone could not (rule 85)."""
    return k8s.core.v1.ResourceQuotaInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name="priority-guard", namespace=namespace, labels=dict(labels)),
        spec=k8s.core.v1.ResourceQuotaSpecArgs(
            hard={"pods": "0"},
            scope_selector=k8s.core.v1.ScopeSelectorArgs(
                match_expressions=[
                    k8s.core.v1.ScopedResourceSelectorRequirementArgs(
                        scope_name="PriorityClass", operator="In", values=list(denied)
                    )
                ]
            ),
        ),
    )


def limit_range_args(
    namespace: str, settings: NamespaceSettings, labels: Mapping[str, str]
) -> k8s.core.v1.LimitRangeInitArgs:
    lim = settings.limits
    return k8s.core.v1.LimitRangeInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name="defaults", namespace=namespace, labels=dict(labels)),
        spec=k8s.core.v1.LimitRangeSpecArgs(
            limits=[
                k8s.core.v1.LimitRangeItemArgs(
                    type="Container",
                    default_request={"cpu": lim.default_cpu_request, "memory": lim.default_memory_request},
                    default={"memory": lim.default_memory_limit},
                    max={"memory": lim.max_memory},
                )
            ]
        ),
    )


OPERATOR_GROUP = "ai-infra:operators"
"""The Kubernetes group operators' EKS access entries carry (``kubernetesGroups``; EKS refuses
names starting ``system:``, ``eks:``, ``aws:``, ``amazon:`` or ``iam:``). On an existing cluster,
map your operators to this group in your authenticator."""
OPERATOR_ROLE = "ai-infra-operator"
_READ = ["get", "list", "watch"]


def operator_rules(*, batch: bool) -> list[k8s.rbac.v1.PolicyRuleArgs]:
    """What an operator may do in a workload namespace: read the workloads, their pods, logs and
    events, restart a replica (delete a pod), scale a fleet; in a batch namespace also submit and
    delete Jobs (``kubectl create job --from=cronjob/...``). Never read Secrets, and never exec,
    attach or port-forward into a pod (each would hand out the HF token or API keys a pod holds,
    or reach a model server past its NetworkPolicy); never change a pod template (a patched
    Deployment could mount any Secret). Rule 40 of the pack holds this role to that."""
    rule = k8s.rbac.v1.PolicyRuleArgs
    rules = [
        rule(
            api_groups=[""],
            resources=[
                "pods",
                "pods/log",
                "services",
                "endpoints",
                "configmaps",
                "persistentvolumeclaims",
                "events",
                "serviceaccounts",
                "resourcequotas",
                "limitranges",
            ],
            verbs=_READ,
        ),
        rule(api_groups=[""], resources=["pods"], verbs=["delete"]),
        rule(api_groups=["events.k8s.io"], resources=["events"], verbs=_READ),
        rule(
            api_groups=["apps"],
            resources=["deployments", "statefulsets", "replicasets", "controllerrevisions"],
            verbs=_READ,
        ),
        rule(
            api_groups=["apps"], resources=["deployments/scale", "statefulsets/scale"], verbs=["get", "update", "patch"]
        ),
        rule(api_groups=["batch"], resources=["jobs", "cronjobs"], verbs=_READ),
        rule(api_groups=["autoscaling"], resources=["horizontalpodautoscalers"], verbs=_READ),
        rule(api_groups=["policy"], resources=["poddisruptionbudgets"], verbs=_READ),
        rule(api_groups=["networking.k8s.io"], resources=["networkpolicies", "ingresses"], verbs=_READ),
        rule(api_groups=["keda.sh"], resources=["scaledobjects"], verbs=_READ),
        rule(api_groups=["kueue.x-k8s.io"], resources=["workloads", "localqueues"], verbs=_READ),
    ]
    if batch:
        rules.append(rule(api_groups=["batch"], resources=["jobs"], verbs=["create", "delete"]))
    return rules


def operator_role_args(
    namespace: str, labels: Mapping[str, str], *, batch: bool
) -> tuple[k8s.rbac.v1.RoleInitArgs, k8s.rbac.v1.RoleBindingInitArgs]:
    """The operators' Role in ``namespace`` and its binding to ``OPERATOR_GROUP``."""
    meta = k8s.meta.v1.ObjectMetaArgs(name=OPERATOR_ROLE, namespace=namespace, labels=dict(labels))
    role = k8s.rbac.v1.RoleInitArgs(metadata=meta, rules=operator_rules(batch=batch))
    binding = k8s.rbac.v1.RoleBindingInitArgs(
        metadata=meta,
        role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=OPERATOR_ROLE),
        subjects=[k8s.rbac.v1.SubjectArgs(api_group="rbac.authorization.k8s.io", kind="Group", name=OPERATOR_GROUP)],
    )
    return role, binding
