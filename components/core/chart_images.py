"""The images third-party charts run, and how a stack pins them by digest.

Charts run their images by tag, and a tag can be moved. Prod pins each image below by the digest
the stack supplies (``addons.<chart>.imageDigests.<image>: sha256:...``); nothing here can look a
digest up (no registry is reachable offline), so the settings require them in prod and the plan
warns about the all-zero placeholders ``Pulumi.prod.yaml`` carries until they are replaced
(``crane digest <repository>:<tag>`` prints one). How a chart takes a digest differs (``style``):
a ``digest`` key (the whole ``sha256:...``), a ``sha`` key holding only the hex (rendered
``:tag@sha256:<hex>``), a tag rendered ``repository:tag`` where a tag of ``<tag>@sha256:...``
makes the reference digest-pinned (the runtime pulls by the digest), or one value that is the
whole image reference.

Each row was read from the chart's ``values.yaml`` and templates at the pinned version; a test
keeps the repositories and tags equal to these defaults (or to the newer patch we pin, for the
autoscaler). ``CHART_PINNED`` lists images whose chart already runs them by digest; images a
chart can run that are not in either table are the README's exceptions ("Chart images by digest").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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
    style: Literal["digest", "sha", "tag", "reference"]
    """``digest``: a key taking ``sha256:<hex>``; ``sha``: a key taking the hex alone; ``tag``: the
    chart renders ``repository:tag``; ``reference``: ``path`` is one value, the whole reference."""
    default_tag: str | None = None
    """The tag the chart runs when the stack sets none (its appVersion, or a values default)."""
    key: str | None = None
    """The key under ``path`` the digest goes to, when not the style's own name (``digest``,
    ``sha``, ``tag``)."""
    runs: Callable[[Any], bool] | None = None
    """Whether a stack's settings run this image (None: whenever the chart is installed); prod
    requires digests only for the images that run."""

    @property
    def leaf(self) -> tuple[str, ...]:
        """The full values path the digest is written to."""
        return self.path if self.style == "reference" else (*self.path, self.key or self.style)


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
    # prometheus-community/helm-charts charts/kube-prometheus-stack values.yaml @ kube-prometheus-stack-88.5.3:
    # each image block has `sha` (hex only): templates/prometheus-operator/deployment.yaml,
    # prometheus/prometheus.yaml, alertmanager/alertmanager.yaml and
    # prometheus-operator/admission-webhooks/job-patch/job-*.yaml render `registry/repository:tag@sha256:<sha>`;
    # tag "" = appVersion v0.93.1 (Chart.yaml). Its sub-charts at the versions Chart.yaml pins:
    # grafana-community/helm-charts charts/grafana @ grafana-12.11.1 (values.yaml `image`, `sidecar.image`
    # with `sha`, templates/_pod.tpl `:tag@sha256:<sha>`; tag "" = appVersion 13.2.0),
    # prometheus-community/helm-charts charts/kube-state-metrics @ kube-state-metrics-8.4.0 (`image.sha`
    # printed as `:tag@<sha>`, so the whole sha256:...; templates/_helpers.tpl; tag "" = v2.20.0) and
    # charts/prometheus-node-exporter @ prometheus-node-exporter-4.56.1 (`image.digest`, `:tag-distroless@digest`,
    # templates/_helpers.tpl; kube-prometheus-stack sets `image.distroless: true`; tag "" = v1.12.1).
    "kube-prometheus-stack": (
        ChartImage(
            "prometheus-operator",
            "quay.io/prometheus-operator/prometheus-operator",
            ("prometheusOperator", "image"),
            "sha",
            "v0.93.1",
        ),
        ChartImage(
            "config-reloader",
            "quay.io/prometheus-operator/prometheus-config-reloader",
            ("prometheusOperator", "prometheusConfigReloader", "image"),
            "sha",
            "v0.93.1",
        ),
        ChartImage(
            "webhook-certgen",
            "ghcr.io/jkroepke/kube-webhook-certgen",
            ("prometheusOperator", "admissionWebhooks", "patch", "image"),
            "sha",
            "1.8.7",
        ),
        ChartImage(
            "prometheus",
            "quay.io/prometheus/prometheus",
            ("prometheus", "prometheusSpec", "image"),
            "sha",
            "v3.14.0-distroless",
        ),
        ChartImage(
            "alertmanager",
            "quay.io/prometheus/alertmanager",
            ("alertmanager", "alertmanagerSpec", "image"),
            "sha",
            "v0.34.0",
        ),
        ChartImage("grafana", "docker.io/grafana/grafana", ("grafana", "image"), "sha", "13.2.0"),
        ChartImage("grafana-sidecar", "quay.io/kiwigrid/k8s-sidecar", ("grafana", "sidecar", "image"), "sha", "2.10.1"),
        ChartImage(
            "kube-state-metrics",
            "registry.k8s.io/kube-state-metrics/kube-state-metrics",
            ("kube-state-metrics", "image"),
            "digest",
            "v2.20.0",
            key="sha",
        ),
        ChartImage(
            "node-exporter",
            "quay.io/prometheus/node-exporter",
            ("prometheus-node-exporter", "image"),
            "digest",
            "v1.12.1-distroless",
        ),
    ),
    # NVIDIA/k8s-device-plugin deployments/helm/nvidia-device-plugin values.yaml `image` and
    # templates/_helpers.tpl `nvidia-device-plugin.fullimage` (`repository:tag`, tag "" = v + appVersion)
    # @ v0.17.2; the MPS control daemon runs the same image (GFD is off).
    "nvidia-device-plugin": (
        ChartImage("device-plugin", "nvcr.io/nvidia/k8s-device-plugin", ("image",), "tag", "v0.17.2"),
    ),
    # NVIDIA/dcgm-exporter deployment/values.yaml `image` {repository, tag} and templates/daemonset.yaml
    # `repository:tag` @ 4.5.3-4.8.2 (chart 4.8.2).
    "dcgm-exporter": (
        ChartImage("dcgm-exporter", "nvcr.io/nvidia/k8s/dcgm-exporter", ("image",), "tag", "4.5.3-4.8.2-distroless"),
    ),
    # NVIDIA/gpu-operator deployments/gpu-operator/values.yaml @ v25.3.2: each operand is
    # {repository, image, version} and templates/clusterpolicy.yaml passes them to the ClusterPolicy;
    # api/nvidia/v1/clusterpolicy_types.go `imagePath` builds `repository/image:version`, so a version of
    # `<tag>@sha256:...` is pulled by its digest (for the driver, controllers/object_controls.go skips
    # the OS suffix once the reference holds a digest: that digest is of the OS-specific image).
    # templates/_helpers.tpl `gpu-operator.fullimage` renders the operator the same way. The operator's
    # and validator's version default to the published chart's appVersion, which the git tree does not
    # hold (`devel-ubi8`); helm_values.gpu_operator_values sets both to the release tag, which
    # versions.mk (`VERSION ?= v25.3.2`) and the Makefile (`IMAGE_TAG ?= $(VERSION)`) give at that tag.
    # NFD is the vendored sub-chart deployments/gpu-operator/charts/node-feature-discovery (appVersion
    # v0.17.3; templates/master.yaml `repository:tag | default .Chart.AppVersion`). Which operands run
    # follows our values: driver, its manager and the toolkit only off the EKS accelerated AMIs,
    # MIG manager only with a MIG pool, DCGM exporter only when monitored.
    "gpu-operator": (
        ChartImage("operator", "nvcr.io/nvidia/gpu-operator", ("operator",), "tag", "v25.3.2", key="version"),
        ChartImage(
            "validator",
            "nvcr.io/nvidia/cloud-native/gpu-operator-validator",
            ("validator",),
            "tag",
            "v25.3.2",
            key="version",
        ),
        ChartImage("init", "nvcr.io/nvidia/cuda", ("operator", "initContainer"), "tag", "12.8.1-base-ubi9", "version"),
        ChartImage("device-plugin", "nvcr.io/nvidia/k8s-device-plugin", ("devicePlugin",), "tag", "v0.17.3", "version"),
        ChartImage("gfd", "nvcr.io/nvidia/k8s-device-plugin", ("gfd",), "tag", "v0.17.3", "version"),
        ChartImage(
            "nfd", "registry.k8s.io/nfd/node-feature-discovery", ("node-feature-discovery", "image"), "tag", "v0.17.3"
        ),
        ChartImage(
            "dcgm-exporter",
            "nvcr.io/nvidia/k8s/dcgm-exporter",
            ("dcgmExporter",),
            "tag",
            "4.2.3-4.1.3-ubuntu22.04",
            "version",
            runs=lambda s: s.monitoring.enabled and s.monitoring.dcgm,
        ),
        ChartImage(
            "mig-manager",
            "nvcr.io/nvidia/cloud-native/k8s-mig-manager",
            ("migManager",),
            "tag",
            "v0.12.2-ubuntu20.04",
            "version",
            runs=lambda s: any(p.sharing.mode == "mig" for p in s.node_pools.values()),
        ),
        ChartImage(
            "driver",
            "nvcr.io/nvidia/driver",
            ("driver",),
            "tag",
            "570.148.08",
            "version",
            runs=lambda s: not s.gpu_driver_on_nodes,
        ),
        ChartImage(
            "driver-manager",
            "nvcr.io/nvidia/cloud-native/k8s-driver-manager",
            ("driver", "manager"),
            "tag",
            "v0.8.0",
            "version",
            runs=lambda s: not s.gpu_driver_on_nodes,
        ),
        ChartImage(
            "toolkit",
            "nvcr.io/nvidia/k8s/container-toolkit",
            ("toolkit",),
            "tag",
            "v1.17.8-ubuntu20.04",
            "version",
            runs=lambda s: not s.gpu_driver_on_nodes,
        ),
    ),
    # kedacore/charts keda/values.yaml `image.{keda,metricsApiServer,webhooks}` {registry, repository, tag}
    # and templates/{manager,metrics-server,webhooks}/deployment.yaml `registry/repository:tag`
    # (tag "" = appVersion 2.17.2) @ v2.17.2.
    "keda": (
        ChartImage("operator", "ghcr.io/kedacore/keda", ("image", "keda"), "tag", "2.17.2"),
        ChartImage(
            "metrics-apiserver",
            "ghcr.io/kedacore/keda-metrics-apiserver",
            ("image", "metricsApiServer"),
            "tag",
            "2.17.2",
        ),
        ChartImage("webhooks", "ghcr.io/kedacore/keda-admission-webhooks", ("image", "webhooks"), "tag", "2.17.2"),
    ),
    # kubernetes-sigs/sig-storage-local-static-provisioner helm/provisioner/values.yaml `image` (one string,
    # `registry.k8s.io/sig-storage/local-volume-provisioner:v{{ .Chart.AppVersion }}`, rendered through `tpl`
    # by templates/daemonset_linux.yaml) @ local-static-provisioner-2.9.0: no digest key, so the whole reference.
    "local-static-provisioner": (
        ChartImage(
            "provisioner", "registry.k8s.io/sig-storage/local-volume-provisioner", ("image",), "reference", "v2.9.0"
        ),
    ),
    # kubernetes-csi/csi-driver-nfs charts/v4.13.4/csi-driver-nfs/values.yaml `image.*` {repository, tag}
    # and templates/csi-nfs-{controller,node}.yaml `baseRepo + repository:tag` @ v4.13.4 (the
    # snapshotter sidecar runs: controller.enableSnapshotter defaults true; the snapshot controller
    # does not: externalSnapshotter.enabled false, components/specs/storage.py).
    "csi-driver-nfs": (
        ChartImage("nfs", "registry.k8s.io/sig-storage/nfsplugin", ("image", "nfs"), "tag", "v4.13.4"),
        ChartImage(
            "csi-provisioner",
            "registry.k8s.io/sig-storage/csi-provisioner",
            ("image", "csiProvisioner"),
            "tag",
            "v6.3.0",
        ),
        ChartImage("csi-resizer", "registry.k8s.io/sig-storage/csi-resizer", ("image", "csiResizer"), "tag", "v2.2.0"),
        ChartImage(
            "csi-snapshotter",
            "registry.k8s.io/sig-storage/csi-snapshotter",
            ("image", "csiSnapshotter"),
            "tag",
            "v8.6.0",
        ),
        ChartImage(
            "livenessprobe", "registry.k8s.io/sig-storage/livenessprobe", ("image", "livenessProbe"), "tag", "v2.19.0"
        ),
        ChartImage(
            "node-driver-registrar",
            "registry.k8s.io/sig-storage/csi-node-driver-registrar",
            ("image", "nodeDriverRegistrar"),
            "tag",
            "v2.17.0",
        ),
    ),
    # agentgateway/agentgateway controller/install/helm/agentgateway templates/deployment.yaml renders
    # `{registry}/{controller.image.repository}:{tag}` (registry cr.agentgateway.dev, tag "" = the
    # v-prefixed appVersion injected at release) @ v1.4.1; a tag starting with `v` passes the
    # `agentgateway.imageTag` helper unchanged, so `v1.4.1@sha256:...` pins it. The proxy image is
    # the controller's to render: pinned through AgentgatewayParameters (gateway.proxyDigest).
    "agentgateway": (
        ChartImage("controller", "cr.agentgateway.dev/controller", ("controller", "image"), "tag", "v1.4.1"),
    ),
    # kubernetes-sigs/metrics-server charts/metrics-server/values.yaml `image` and templates/_helpers.tpl
    # `metrics-server.image` (`repository:tag`, tag "" = v + appVersion 0.8.1) @ metrics-server-helm-chart-3.13.1
    # (the addon resizer is off).
    "metrics-server": (
        ChartImage("metrics-server", "registry.k8s.io/metrics-server/metrics-server", ("image",), "tag", "v0.8.1"),
    ),
}

CHART_PINNED: Mapping[str, Mapping[str, str]] = {
    # opencost/opencost-helm-chart charts/opencost/values.yaml `opencost.exporter.image.tag` @ opencost-2.5.14:
    # the chart's own default is already `<tag>@sha256:...` (templates/_helpers.tpl `repository:tag`);
    # the UI (also digest-pinned there) is off (components/specs/monitoring.py).
    "opencost": {
        "exporter": "ghcr.io/opencost/opencost:1.120.0"
        "@sha256:c4fbe5f8fad2bc54872350460e705bf9ab43c90efa784a0cdf3a2a39a66b3b82",
    },
}
"""Images whose chart default is already a digest: nothing for the stack to supply."""


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
        *parents, leaf = image.leaf
        block = out
        for key in parents:
            block = block.setdefault(key, {})
        if image.style == "digest":
            block[leaf] = digest
        elif image.style == "sha":
            block[leaf] = digest.removeprefix("sha256:")
        elif image.style == "reference":
            block[leaf] = f"{image.repository}:{image.default_tag}@{digest}"
        else:
            tag = (_at(values, image.path) or {}).get(leaf) or image.default_tag
            block[leaf] = f"{tag}@{digest}"
    return out
