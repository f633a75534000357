"""``HelmAddOn``: one plain Helm add-on (``components/specs/addons``), installed from its record.

The record carries the chart, the values builder and the component's type token and name, so
every plain add-on (KEDA, metrics-server, ...) is this one component; its type token stays the
record's (``ai-infra:k8s:Keda``...), so URNs do not change when an add-on moves onto it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.core.naming import resource_name
from components.resources.helm import pinned_release
from components.specs.addons import AddOn

TYPE = "ai-infra:k8s:HelmAddOn"
"""Never registered: each instance registers its record's ``helm.type_token``."""


@dataclass(frozen=True, kw_only=True)
class HelmAddOnArgs:
    addon: AddOn
    """A record with ``helm`` set (one chart)."""
    namespace: pulumi.Input[str]
    values: dict[str, Any]
    """From the record's values builder."""
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    chart_digests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Chart images by digest, by chart name (``StackSettings.all_chart_digests``; prod requires them)."""


class HelmAddOn(pulumi.ComponentResource):
    """Children: helm.v3.Release ``<name>-release`` of the record's chart."""

    release_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: HelmAddOnArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(args.addon.type_token, name, None, opts)
        (chart,) = args.addon.charts  # a plain Helm add-on has one chart (tests/unit/specs/test_addons.py)
        self.release = pinned_release(
            self,
            resource_name(name, "release"),
            chart,
            namespace=args.namespace,
            values=args.values,
            preinstalled=args.preinstalled,
            image_digests=args.chart_digests.get(chart.name),
        )
        self.release_name = pulumi.Output.from_input(self.release.name if self.release else None)
        self.register_outputs({"release_name": self.release_name})
