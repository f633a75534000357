"""``GpuSoftware``: what makes GPUs schedulable — the NVIDIA device plugin or GPU operator.

Both come from NVIDIA's official charts into the ``gpu-system`` namespace, tolerate the GPU
taint and carry the per-pool sharing config (time-slicing or MIG) selected by the node label
``nvidia.com/device-plugin.config`` that each pool sets. On EKS accelerated AMIs the driver
and container toolkit are pre-installed, so the operator runs with both disabled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi

from components.core.charts import GPU_OPERATOR, NVIDIA_DEVICE_PLUGIN
from components.core.naming import resource_name
from components.core.settings import NodePoolSettings
from components.resources.helm import pinned_release
from components.specs.helm_values import device_plugin_values, gpu_operator_values

TYPE = "ai-infra:k8s:GpuSoftware"


@dataclass(frozen=True, kw_only=True)
class GpuSoftwareArgs:
    stack: Literal["device-plugin", "gpu-operator"]
    namespace: pulumi.Input[str]
    pools: dict[str, NodePoolSettings]
    accelerated_ami: bool
    """True on EKS NVIDIA AMIs (driver + toolkit pre-installed)."""
    runtime_class: str | None = None
    """RuntimeClass the device plugin runs with, where the stack creates one."""
    dcgm_service_monitor: bool = False
    """gpu-operator: run its DCGM exporter with a ServiceMonitor (the monitoring stack exists)."""
    preinstalled: frozenset[str] = frozenset()
    """Charts the cluster already runs (``addons``): their releases are not created."""
    chart_digests: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Chart images by digest, by chart name (``StackSettings.all_chart_digests``; prod requires them)."""


class GpuSoftware(pulumi.ComponentResource):
    """Children: helm.v3.Release ``nvidia-device-plugin`` or ``gpu-operator``."""

    release_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: GpuSoftwareArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        if args.stack == "device-plugin":
            chart, values = NVIDIA_DEVICE_PLUGIN, device_plugin_values(args.pools, runtime_class=args.runtime_class)
        else:
            chart, values = (
                GPU_OPERATOR,
                gpu_operator_values(
                    args.pools, accelerated_ami=args.accelerated_ami, dcgm_service_monitor=args.dcgm_service_monitor
                ),
            )
        self.release = pinned_release(
            self,
            resource_name(name, "release"),
            chart,
            namespace=args.namespace,
            values=values,
            preinstalled=args.preinstalled,
            image_digests=args.chart_digests.get(chart.name),
        )
        self.release_name = pulumi.Output.from_input(self.release.name if self.release else None)
        self.register_outputs({"release_name": self.release_name})
