"""Pinned third-party Helm charts: the only place chart repos and versions live.

Third-party operators are installed from their official charts with ``helm.v3.Release``
(``v4.Chart`` would need the chart and a reachable cluster at preview). The policy pack's
``helm-release-allowlisted`` rule checks releases against the same table, so bumping a version
is one reviewed change here (and in ``policies/*.json``'s allowlist via the test that compares them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    name: str
    repo: str
    version: str


CLUSTER_AUTOSCALER = Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.46.6")
NVIDIA_DEVICE_PLUGIN = Chart("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.17.2")
GPU_OPERATOR = Chart("gpu-operator", "https://helm.ngc.nvidia.com/nvidia", "v25.3.2")

LOCAL_STATIC_PROVISIONER = Chart(
    "local-static-provisioner", "https://kubernetes-sigs.github.io/sig-storage-local-static-provisioner", "2.9.0"
)
CSI_DRIVER_NFS = Chart(
    "csi-driver-nfs", "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts", "4.13.4"
)
KEDA = Chart("keda", "https://kedacore.github.io/charts", "2.17.2")

ALL_CHARTS: tuple[Chart, ...] = (
    CLUSTER_AUTOSCALER,
    NVIDIA_DEVICE_PLUGIN,
    GPU_OPERATOR,
    LOCAL_STATIC_PROVISIONER,
    CSI_DRIVER_NFS,
    KEDA,
)

CLUSTER_AUTOSCALER_IMAGE_TAGS = {"1.32": "v1.32.1", "1.33": "v1.33.0", "1.34": "v1.34.0", "1.35": "v1.35.0"}
"""The autoscaler's minor version must match the cluster's; the chart's default image may lag."""
