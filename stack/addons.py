"""The Helm add-ons layer: one generic ``HelmAddOn`` per plain Helm add-on the stack runs
(``components/specs/addons``: KEDA when a fleet scales on queue depth, metrics-server when one
scales on CPU, ...), each after the monitoring stack so its ServiceMonitors find their CRD."""

from __future__ import annotations

import pulumi

from components.helm_addon import HelmAddOn, HelmAddOnArgs
from components.monitoring_stack import MonitoringStack
from components.specs.addons import HELM_ADDONS, ValuesInputs
from stack.context import StackContext
from stack.namespaces import Namespaces


def helm_addons_layer(ctx: StackContext, ns: Namespaces, monitoring: MonitoringStack | None) -> dict[str, HelmAddOn]:
    """The installed add-ons by namespace."""
    s = ctx.settings
    inputs = ValuesInputs(
        settings=s, service_monitor=monitoring is not None, system_node_selector=ctx.system_node_selector
    )
    made = {}
    for addon in HELM_ADDONS:
        if not addon.enabled(s):
            continue
        assert addon.helm is not None
        after = [monitoring] if monitoring is not None and addon.helm.after_monitoring else []
        made[addon.namespace] = HelmAddOn(
            addon.helm.name,
            HelmAddOnArgs(
                addon=addon,
                namespace=ns.system[addon.namespace].namespace_name,
                values=addon.helm.values(inputs),
                preinstalled=s.preinstalled,
                chart_digests=s.all_chart_digests,
            ),
            opts=pulumi.ResourceOptions(provider=ctx.target.k8s_provider, depends_on=after),
        )
    return made
