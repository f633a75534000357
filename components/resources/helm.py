"""Pinned Helm releases: every third-party chart is installed the same way.

A helper rather than a component (like ``irsa``): the release is a child of the component that
needs it. Chart, repository and version come only from the chart lockfile ``policies/charts.json``
(loaded by ``components/core/charts.py``); releases are atomic so a failed install rolls back
instead of leaving a half-installed operator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.core.chart_images import digest_values
from components.core.charts import Chart
from components.core.settings import deep_merge


def pinned_release(
    parent: pulumi.Resource,
    logical_name: str,
    chart: Chart,
    *,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    depends_on: Sequence[pulumi.Resource] = (),
    preinstalled: frozenset[str] = frozenset(),
    image_digests: Mapping[str, str] | None = None,
) -> k8s.helm.v3.Release | None:
    """The release, or None when the cluster already runs the chart (``addons.<chart>.install:
    false``): then the caller's own objects depend on nothing of it (its CRDs are already there).
    ``image_digests`` pins the chart's images (``components/core/chart_images.py``)."""
    if chart.name in preinstalled:
        return None
    if image_digests:
        digests = dict(image_digests)
        values = pulumi.Output.from_input(values).apply(lambda v: deep_merge(v, digest_values(chart.name, digests, v)))
    return k8s.helm.v3.Release(
        logical_name,
        name=chart.name,
        chart=chart.reference,
        version=chart.version,
        # An OCI chart is its full reference and takes no repository (registry.k8s.io needs no
        # credentials either): pulumi-kubernetes tests/sdk/yaml/testdata/oci/Pulumi.yaml @ v4.32.0.
        repository_opts=None if chart.oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        namespace=namespace,
        values=values,
        atomic=True,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )
