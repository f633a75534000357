"""The plan's readable summary: a component tree with resource counts, totals, violations."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from components.core.charts import ALL_CHARTS
from components.core.cold_start import summary_lines as cold_start_lines
from components.core.labels import MODEL_CLIENT_LABEL
from components.core.settings import StackSettings
from components.core.settings.gateway import fleet_gateway, gateway_summary_lines
from planner.diff import PlanChanges, change_lines
from planner.diff import cold_start_lines as cold_start_changes
from planner.engine import ProgramRun
from planner.mocks import Registration
from planner.policy_host import Violation

DIFF_LINES = 15
"""Changes of each kind the terminal lists; ``build/<stack>/diff.txt`` has them all."""


def _tree(regs: list[Registration]) -> list[str]:
    children: dict[str, list[Registration]] = defaultdict(list)
    for r in regs:
        children[r.parent].append(r)
    roots = sorted({r.parent for r in regs} - {r.urn for r in regs})

    def subtree_size(urn: str) -> int:
        return sum(1 + subtree_size(c.urn) for c in children.get(urn, []))

    lines: list[str] = []

    def walk(urn: str, prefix: str) -> None:
        kids = children.get(urn, [])
        components = sorted((k for k in kids if not k.custom), key=lambda k: k.name)
        leaves = Counter(k.type for k in kids if k.custom)
        items: list[tuple[str, Registration | None]] = [(f"{t} ×{n}", None) for t, n in sorted(leaves.items())] + [
            (f"{c.name}  [{c.type}]  ({subtree_size(c.urn)} resources)", c) for c in components
        ]
        for i, (label, comp) in enumerate(items):
            last = i == len(items) - 1
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{label}")
            if comp is not None:
                walk(comp.urn, prefix + ("   " if last else "│  "))

    for root in roots:
        lines.append(root.rsplit("::", 1)[-1])
        walk(root, "")
    return lines


def cost_lines(cost: Any) -> list[str]:
    """The cost table: per pool idle and at max, the fixed lines, the stack at idle and at max, each
    fleet's share at min and at max replicas; where the prices come from and when."""
    if not isinstance(cost, dict) or (not cost.get("pools") and not cost.get("fixed")):
        return [f"Cost: {cost.get('note')}"] if isinstance(cost, dict) and cost.get("note") else []
    lines = [f"Cost estimate (USD, {cost.get('region', '?')}; build/<stack>/cost.json): {cost.get('pricing', '')}"]
    lines.append(
        "  idle = what must run with no traffic (nodes the fleets' min replicas and the system pods need, "
        "cheapest listed type); max = every pool at its max (dearest listed type)"
    )
    lines.append(f"  {'pool':<14} {'type':<16} {'capacity':<9} {'nodes idle/max':>17} {'$/h idle':>9} {'$/h max':>9}")
    for name, p in sorted(cost["pools"].items()):
        nodes = p["nodes"]
        lines.append(
            f"  {name:<14} {p['instanceTypes'][0]:<16} {p['capacityType'].lower():<9} "
            f"{nodes['idle']:>8}/{nodes['max']:<8} "
            f"{p['usdPerHour']['idle']:>9.2f} {p['usdPerHour']['max']:>9.2f}"
        )
    for name, f in sorted(cost.get("fixed", {}).items()):
        lines.append(f"  {name:<59} {f['idle']:>9.2f} {f['max']:>9.2f}")
    total = cost.get("total") or {}
    if total:
        lines.append(
            f"  {'stack total':<59} {total['idleUsdPerHour']:>9.2f} {total['maxUsdPerHour']:>9.2f}"
            f"   (per month: {total['idleUsdPerMonth']:.0f} idle, {total['maxUsdPerMonth']:.0f} at max)"
        )
    if cost.get("fleets"):
        lines.append(
            f"  {'fleet (GPU share of its pool, cheapest listed type)':<59} {'$/h min':>9} {'$/h max':>9}"
            "   (at min / max replicas)"
        )
    for name, f in sorted(cost.get("fleets", {}).items()):
        gpus = f["gpus"]
        label = f"{name}: GPUs {gpus['minReplicas']}-{gpus['maxReplicas']} on {f['pool']}"
        lines.append(f"  {label:<59} {f['usdPerHour']['minReplicas']:>9.2f} {f['usdPerHour']['maxReplicas']:>9.2f}")
        if floor := f.get("warmFloor"):
            lines.append(
                f"    warm floor: +{floor['extraGpus']} GPU(s) {floor['hoursPerWeek']:g} h/week ({floor['timezone']}): "
                f"{floor['usdPerWeek']:.2f} USD/week, {floor['usdPerMonth']:.2f} USD/month"
            )
    if cost.get("budgetUsdPerHour") is not None:
        lines.append(f"  budget: {cost['budgetUsdPerHour']:.2f} USD/h at max scale (ai-infra:cost.budgetUsdPerHour)")
    return lines


POLICY_KEYS = {
    "eks-control-plane-logging": "ai-infra:cluster.eks.logTypes / logRetentionDays",
    "eks-endpoint-private": "ai-infra:cluster.eks.endpointPublicAccess / publicAccessCidrs",
    "eks-access-entries-least-privilege": "ai-infra:cluster.eks.adminPrincipalArns",
    "eks-supported-version": "ai-infra:cluster.kubernetesVersion",
    "k8s-namespace-quota-limitrange": "ai-infra:namespaces",
    "k8s-namespace-default-deny": "ai-infra:namespaces",
    "monitoring-stack-present": "ai-infra:monitoring.enabled",
    "model-runner-has-servicemonitor": "ai-infra:monitoring.enabled",
    "keda-scaledobject-metrics-source": "ai-infra:monitoring.enabled / prometheusUrl",
    "cost-within-budget": "ai-infra:cost.budgetUsdPerHour / nodePools.<pool>.maxSize, gpuCap",
    "kms-keys-guarded": "ai-infra:cluster.eks.keyAdminPrincipalArns (default: adminPrincipalArns)",
    "data-protected": "ai-infra:environment (prod protects data)",
    "efs-encrypted-cmk": "ai-infra:storage.shared",
    "k8s-image-digest-pinned": "ai-infra:registry.build / modelImages (name@sha256:...)",
    "k8s-image-tag-not-latest": "ai-infra:modelImages",
    "k8s-image-trusted-registry": "ai-infra:registry.build / modelImages",
    "k8s-image-pull-policy": "ai-infra:modelImages",
}
"""The stack key that fixes a policy's violation, where the violation comes from settings."""
GATEWAY_POLICY_KEYS = {
    "k8s-image-digest-pinned": "ai-infra:gateway.pickerDigest",
    "k8s-image-trusted-registry": "ai-infra:gateway.pickerImage",
}
"""The same for the gateway's own resources (``gateway-*``: its endpoint pickers' images)."""


def fix_key(policy: str, subject: str) -> str | None:
    """The stack key that fixes ``policy`` on resource ``subject``, when settings decide it."""
    if subject.startswith("gateway-") and policy in GATEWAY_POLICY_KEYS:
        return GATEWAY_POLICY_KEYS[policy]
    return POLICY_KEYS.get(policy)


def exposure_lines(settings: StackSettings, outputs: dict[str, Any]) -> list[str]:
    """Who can reach what: the API endpoint, and each model's endpoint and its callers."""
    lines = ["Exposure:"]
    eks = settings.cluster.eks if settings.on_aws else None
    if eks is None:
        lines.append("  API endpoint: the existing cluster's (not managed here)")
    elif eks.endpoint_public_access:
        lines.append(f"  API endpoint: public, from {', '.join(eks.public_access_cidrs)}; private in the VPC")
    elif settings.subnet_routes:
        routes = ", ".join(settings.subnet_routes)
        lines.append(f"  API endpoint: private (VPC only); admins reach it over the tailnet (subnet router: {routes})")
    else:
        lines.append("  API endpoint: private (VPC only; from inside the VPC: no subnet router in this stack)")
    raw_models = outputs.get("models")
    raw_tailnet = outputs.get("tailnetEndpoints")
    tailnet: dict[str, Any] = raw_tailnet if isinstance(raw_tailnet, dict) else {}
    models: dict[str, Any] = raw_models if isinstance(raw_models, dict) else {}
    for name, spec in sorted(settings.models.items()):
        behind = fleet_gateway(settings, name)
        callers = (
            ["the gateway's proxies (see Gateway below)"]
            if behind is not None and behind.routed
            else [
                f"pods labelled {MODEL_CLIENT_LABEL}=true in {spec.namespace}",
                *(f"namespace {c}" for c in spec.client_namespaces if c != spec.namespace),
            ]
        )
        if spec.exposure == "tailnet":
            who = ", ".join(settings.tailscale.access.models)
            callers.append(f"the tailnet at {tailnet.get(name, '?')} ({who}, HTTPS via the operator's proxy)")
        if settings.scrape_namespace:
            callers.append(f"Prometheus's pods ({settings.scrape_namespace}, metrics)")
        endpoint = (models.get(name) or {}).get("endpoint", "?")
        lines.append(f"  model {name}: {endpoint} (ClusterIP) — callers: {', '.join(callers)}")
    return lines


def preinstalled_lines(settings: StackSettings) -> list[str]:
    """The operators the stack expects the cluster to run already (``addons.<chart>.install:
    false``): no chart is installed for them, yet the program still creates its objects for them
    (ServiceMonitors, queues, ScaledObjects...), which need the operators' CRDs to be there."""
    if not settings.preinstalled:
        return []
    versions: dict[str, list[str]] = defaultdict(list)
    for chart in ALL_CHARTS:
        versions[chart.name].append(chart.version)
    lines = ["Expected on the cluster already (ai-infra:addons.<chart>.install: false; no chart installed):"]
    for name in sorted(settings.preinstalled):
        pinned = " or ".join(sorted(set(versions.get(name, []))))
        lines.append(f"  {name}" + (f" (the chart we pin: {pinned}; its CRDs must be installed)" if pinned else ""))
    return lines


def storage_lines(settings: StackSettings) -> list[str]:
    """Where claims on an NFS server of yours live and what deleting one does: csi-driver-nfs makes a
    directory per claim and, unless told to retain, removes it with its contents when the claim
    goes (kubernetes-csi/csi-driver-nfs docs/driver-parameters.md, pkg/nfs/controllerserver.go
    ``DeleteVolume`` @ v4.13.4)."""
    shared = settings.storage.shared
    keep = settings.platform.retain_data
    if shared.backend != "nfs" or shared.nfs is None:
        return []
    nfs = shared.nfs
    base = nfs.share.rstrip("/") + ("/" + nfs.sub_dir.strip("/") if nfs.sub_dir else "")
    fate = (
        "kept when its claim is deleted (reclaim Retain, onDelete retain)"
        if keep
        else "deleted with its contents when the claim is deleted (reclaim Delete, onDelete delete)"
    )
    lines = [
        f"Storage: shared-models on NFS {nfs.server}: each claim gets its own directory {base}/<namespace>/<claim>,"
    ]
    lines[0] += f" {fate}"
    if nfs.existing_models_path and settings.cache_namespaces:
        where = f"{nfs.server}:{nfs.existing_models_path}"
        namespaces = ", ".join(settings.cache_namespaces)
        lines.append(f"  model-cache of {namespaces}: the existing {where} (a static volume, never deleted)")
    return lines


def summarize(
    stack: str,
    run: ProgramRun,
    counts: dict[str, int],
    violations: list[Violation],
    unknown_at_preview: list[Violation],
    out_dir: Path,
    *,
    settings: StackSettings | None = None,
    changes: PlanChanges | None = None,
    config_warnings: list[str] | None = None,
) -> str:
    regs = run.registrations
    custom = [r for r in regs if r.custom]
    by_provider = Counter(r.type.split(":", 1)[0] for r in custom)
    lines = [f"Plan for stack {stack} → {out_dir}/", ""]
    lines += _tree(regs)
    lines += [
        "",
        "Totals: "
        + f"{len(regs)} resources ({len(custom)} custom, {len(regs) - len(custom)} components); "
        + ", ".join(f"{n} {p}" for p, n in sorted(by_provider.items()))
        + f"; {counts['manifests']} Kubernetes manifests, {counts['helmReleases']} Helm releases",
    ]
    lines += cost_lines(run.outputs.get("costEstimate"))
    if settings is not None:
        lines += exposure_lines(settings, run.outputs)
        lines += gateway_summary_lines(settings, run.outputs)
        lines += preinstalled_lines(settings)
        lines += storage_lines(settings)
        lines += cold_start_lines(settings)
        for key, change in settings.clamps:
            lines.append(f"Changed from the settings: ai-infra:{key} {change}")
    for warning in [*(config_warnings or []), *run.warnings]:
        lines.append(f"Warning: {warning}")
    if changes is not None and changes.previous:
        delta = ", ".join(f"{k.removesuffix('UsdPerHour')} {v:+.2f} USD/h" for k, v in changes.cost_delta.items())
        lines.append(
            f"Since the previous plan: {len(changes.added)} added, {len(changes.changed)} changed, "
            f"{len(changes.removed)} removed" + (f"; cost {delta}" if delta else "")
        )
        lines += [f"  {line}" for line in cold_start_changes(changes)]
        lines += change_lines(changes, limit=DIFF_LINES)
        if max(len(changes.added), len(changes.changed), len(changes.removed)) > DIFF_LINES:
            lines.append(f"  (every change, with its fields: {out_dir}/diff.txt)")
    levels = Counter(v.level for v in violations)
    lines.append(f"Policy violations: {levels.get('mandatory', 0)} mandatory, {levels.get('advisory', 0)} advisory")
    for v in violations:
        mark = "✗" if v.level == "mandatory" else "!"
        # Stack policies (the budget, monitoring present) report on the stack, not a resource.
        subject = v.urn.rsplit("::", 1)[-1] or f"stack {stack}"
        fix_with = fix_key(v.policy, subject)
        fix = f" (fix: {fix_with})" if fix_with else ""
        lines.append(f"  {mark} [{v.level}] {v.policy}: {subject} — {v.message.splitlines()[-1]}{fix}")
    if unknown_at_preview:
        lines.append(
            "Mandatory policies `pulumi preview` cannot evaluate on a new stack (values known only after apply; "
            "checked here with the planned values):"
        )
        for policy, n in sorted(Counter(v.policy for v in unknown_at_preview).items()):
            lines.append(f"  ? {policy} ×{n}")
    return "\n".join(lines)
