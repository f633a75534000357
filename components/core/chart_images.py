"""The images third-party charts run, and how a stack pins them by digest.

Charts run their images by tag, and a tag can be moved. Prod pins each image below by the digest
the stack supplies (``addons.<chart>.imageDigests.<image>: sha256:...``); nothing here can look a
digest up (no registry is reachable offline), so the settings require them in prod and the plan
warns about the all-zero placeholders ``Pulumi.prod.yaml`` carries until they are replaced
(``crane digest <repository>:<tag>`` prints one). How a chart takes a digest differs: some have a
``digest`` key (rendered ``repository@digest``), others render ``repository:tag``, where a tag of
``<tag>@sha256:...`` makes the reference digest-pinned (the runtime pulls by the digest).

Each row was read from the chart's ``values.yaml`` and templates at the pinned version; a test
keeps the repositories and tags equal to these defaults (or to the newer patch we pin, for the
autoscaler). Charts not listed here (kube-prometheus-stack, gpu-operator, nvidia-device-plugin,
dcgm-exporter, keda, opencost, local-static-provisioner, csi-driver-nfs) still run by tag: README,
"Knowingly left".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64


@dataclass(frozen=True)
class ChartImage:
    name: str
    """The key under ``addons.<chart>.imageDigests``."""
    repository: str
    """The chart's default repository (what the digest must be of)."""
    path: tuple[str, ...]
    """Where the chart's image block sits in its values."""
    style: Literal["digest", "tag"]
    """``digest``: the block has a ``digest`` key; ``tag``: the chart renders ``repository:tag``."""
    default_tag: str | None = None
    """The tag the chart runs when the stack sets none (its appVersion, or a values default)."""


CHART_IMAGES: Mapping[str, tuple[ChartImage, ...]] = {
    # kubernetes/autoscaler charts/cluster-autoscaler values.yaml `image.repository` and
    # templates/deployment.yaml `image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"`
    # @ cluster-autoscaler-chart-9.46.6/9.51.0/9.53.0/9.59.0; the tag is the line's (charts.py).
    "cluster-autoscaler": (
        ChartImage("cluster-autoscaler", "registry.k8s.io/autoscaling/cluster-autoscaler", ("image",), "tag"),
    ),
    # kubernetes-sigs/kueue charts/kueue templates/manager/manager.yaml renders
    # `repository:tag`; hack/helm-chart-package.sh @ v0.19.2 publishes the chart with
    # registry.k8s.io/kueue/kueue and the release tag (KueueViz is off: no other image).
    "kueue": (
        ChartImage(
            "manager", "registry.k8s.io/kueue/kueue", ("controllerManager", "manager", "image"), "tag", "v0.19.2"
        ),
    ),
    # tailscale/tailscale cmd/k8s-operator/deploy/chart values.yaml `operatorConfig.image` and
    # `proxyConfig.image` {repository, tag: "", digest: ""} ("Digest will be prioritized over
    # tag"; templates/deployment.yaml) @ v1.102.3: tag "" means the chart's appVersion.
    "tailscale-operator": (
        ChartImage("operator", "tailscale/k8s-operator", ("operatorConfig", "image"), "digest", "v1.102.3"),
        ChartImage("proxy", "tailscale/tailscale", ("proxyConfig", "image"), "digest", "v1.102.3"),
    ),
}


def _at(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(values, Mapping):
            return None
        values = values.get(key)  # type: ignore[assignment]
    return values


def digest_values(chart: str, digests: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that pin ``chart``'s images to ``digests`` (merged over ``values``, whose tag
    a ``tag``-style image keeps in front of its digest)."""
    out: dict[str, Any] = {}
    for image in CHART_IMAGES.get(chart, ()):
        digest = digests.get(image.name)
        if digest is None:
            continue
        block = out
        for key in image.path:
            block = block.setdefault(key, {})
        if image.style == "digest":
            block["digest"] = digest
        else:
            tag = (_at(values, image.path) or {}).get("tag") or image.default_tag
            block["tag"] = f"{tag}@{digest}"
    return out
