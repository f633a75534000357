"""Custom resources (Kueue queues, KEDA ScaledObjects, ServiceMonitors, PrometheusRules, Tailscale
ProxyClasses…) from the plain documents ``components/specs`` builds.

A helper rather than a component: the resource is a child of the component that calls it
(``opts`` carries ``parent``). It is a typed ``CustomResource`` rather than a YAML blob so the
policy pack and the planner see its ``apiVersion``, ``kind``, metadata and spec like any other
resource's inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def custom_resource(
    name: str, doc: Mapping[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """The custom resource ``doc`` (``apiVersion``, ``kind``, ``metadata``, ``spec``) as resource ``name``."""
    return k8s.apiextensions.CustomResource(
        name, api_version=doc["apiVersion"], kind=doc["kind"], metadata=doc["metadata"], spec=doc["spec"], opts=opts
    )
