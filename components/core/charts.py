"""Pinned third-party Helm charts: the only place chart repos and versions live.

Third-party operators are installed from their official charts with ``helm.v3.Release``
(``v4.Chart`` would need the chart and a reachable cluster at preview). The policy pack's
``helm-release-allowlisted`` rule checks releases against the same table, so bumping a version
is one reviewed change here (and in ``policies/*.json``'s allowlist via the test that compares them).
"""

from __future__ import annotations

from dataclasses import dataclass

OCI = "oci://"


@dataclass(frozen=True)
class Chart:
    name: str
    repo: str
    """An index repository URL, or an OCI registry path (``oci://host/path``) the chart is pushed under."""
    version: str

    @property
    def oci(self) -> bool:
        return self.repo.startswith(OCI)

    @property
    def reference(self) -> str:
        """What ``helm.v3.Release`` takes as ``chart``: the chart's name in an index repository, the
        full ``oci://`` reference for an OCI chart (the provider resolves an OCI name itself and
        ignores ``repositoryOpts.repo``: pulumi-kubernetes provider/pkg/provider/helm_release.go
        ``resolveChartName`` @ v4.32.0)."""
        return f"{self.repo}/{self.name}" if self.oci else self.name


AUTOSCALER_REPO = "https://kubernetes.github.io/autoscaler"
CLUSTER_AUTOSCALER_LINES: dict[str, tuple[Chart, str]] = {
    # Kubernetes minor -> (the chart whose appVersion is that minor, the newest image patch of it).
    # appVersion by chart version from Chart.yaml at each cluster-autoscaler-chart-* tag; image tags
    # from the cluster-autoscaler-<version> release tags (kubernetes/autoscaler).
    "1.32": (Chart("cluster-autoscaler", AUTOSCALER_REPO, "9.46.6"), "v1.32.7"),
    "1.33": (Chart("cluster-autoscaler", AUTOSCALER_REPO, "9.51.0"), "v1.33.6"),
    "1.34": (Chart("cluster-autoscaler", AUTOSCALER_REPO, "9.53.0"), "v1.34.5"),
    "1.35": (Chart("cluster-autoscaler", AUTOSCALER_REPO, "9.59.0"), "v1.35.2"),
}
"""The autoscaler's minor version must match the cluster's: each minor gets its own chart line."""
NVIDIA_DEVICE_PLUGIN = Chart("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.17.2")
GPU_OPERATOR = Chart("gpu-operator", "https://helm.ngc.nvidia.com/nvidia", "v25.3.2")

LOCAL_STATIC_PROVISIONER = Chart(
    "local-static-provisioner", "https://kubernetes-sigs.github.io/sig-storage-local-static-provisioner", "2.9.0"
)
CSI_DRIVER_NFS = Chart(
    "csi-driver-nfs", "https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts", "4.13.4"
)
KEDA = Chart("keda", "https://kedacore.github.io/charts", "2.17.2")
METRICS_SERVER = Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server", "3.13.1")
"""metrics-server v0.8.1 (Kubernetes 1.31+): the resource metrics a CPU HorizontalPodAutoscaler reads;
EKS does not install it (kubernetes-sigs/metrics-server charts/metrics-server/Chart.yaml and the
repository README's chart repo and compatibility matrix @ metrics-server-helm-chart-3.13.1)."""

KUBE_PROMETHEUS_STACK = Chart("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "88.5.3")
"""Prometheus Operator v0.93.1, Prometheus v3.14, Alertmanager v0.34, Grafana chart 12.11.1."""
DCGM_EXPORTER = Chart("dcgm-exporter", "https://nvidia.github.io/dcgm-exporter/helm-charts", "4.8.2")
OPENCOST = Chart("opencost", "https://opencost.github.io/opencost-helm-chart", "2.5.14")
"""2.5.14: the newest version in the chart repository's index when pinned (tags reach 2.5.17)."""
TAILSCALE_OPERATOR = Chart("tailscale-operator", "https://pkgs.tailscale.com/helmcharts", "1.102.3")
"""Operator v1.102.3: the chart version is the git tag without ``v`` (tailscale/tailscale
.github/workflows/kubemanifests.yaml packages it with --version=${VERSION_SHORT} @ v1.102.3)."""

KUEUE = Chart("kueue", "oci://registry.k8s.io/kueue/charts", "0.19.2")
"""Kueue v0.19.2, published only as an OCI artifact; the chart version drops the tag's ``v``
(kubernetes-sigs/kueue charts/kueue/README.md, hack/helm-chart-package.sh @ v0.19.2)."""

GATEWAY_API_CRDS = Chart("gateway-crds-helm", "oci://docker.io/envoyproxy", "v1.9.0")
"""The Gateway API CRDs v1.6.1 (standard channel) and their safe-upgrades ValidatingAdmissionPolicy:
gateway-api publishes no chart, Envoy Gateway's CRD-only chart bundles exactly that release
(envoyproxy/gateway charts/gateway-crds-helm values.yaml and templates/standard-gatewayapi-crds.yaml;
registry and version from tools/make/helm.mk ``OCI_REGISTRY``/``CHART_VERSION`` @ v1.9.0, the
version keeps its ``v``). Only the Gateway API CRDs are enabled (specs/gateway.py)."""
AGENTGATEWAY_CRDS = Chart("agentgateway-crds", "oci://ghcr.io/agentgateway/charts", "v1.4.1")
"""agentgateway's own CRDs (AgentgatewayPolicy, AgentgatewayParameters, ...): agentgateway/agentgateway
.github/workflows/release.yml and controller/Makefile ``release-charts`` @ v1.4.1 push every chart to
ghcr.io/agentgateway/charts as ``1.4.1`` and ``v1.4.1`` (Chart.yaml in git says 0.0.2)."""
AGENTGATEWAY = Chart("agentgateway", "oci://ghcr.io/agentgateway/charts", "v1.4.1")
"""The agentgateway controller v1.4.1 (Gateway API + InferencePool): it creates the ``agentgateway``
GatewayClass and, per Gateway, the proxy Deployment and Service."""

ALL_CHARTS: tuple[Chart, ...] = (
    *(chart for chart, _ in CLUSTER_AUTOSCALER_LINES.values()),
    NVIDIA_DEVICE_PLUGIN,
    GPU_OPERATOR,
    LOCAL_STATIC_PROVISIONER,
    CSI_DRIVER_NFS,
    KEDA,
    METRICS_SERVER,
    KUBE_PROMETHEUS_STACK,
    DCGM_EXPORTER,
    OPENCOST,
    KUEUE,
    TAILSCALE_OPERATOR,
    GATEWAY_API_CRDS,
    AGENTGATEWAY_CRDS,
    AGENTGATEWAY,
)


# Every chart the program may install, by chart name: the keys of the `addons` setting, with
# which a stack says the cluster already runs one (`addons.<name>.install: false`).
ADDON_CHARTS: tuple[str, ...] = (
    "cluster-autoscaler",
    NVIDIA_DEVICE_PLUGIN.name,
    GPU_OPERATOR.name,
    LOCAL_STATIC_PROVISIONER.name,
    CSI_DRIVER_NFS.name,
    KEDA.name,
    METRICS_SERVER.name,
    KUBE_PROMETHEUS_STACK.name,
    DCGM_EXPORTER.name,
    OPENCOST.name,
    KUEUE.name,
    GATEWAY_API_CRDS.name,
    AGENTGATEWAY_CRDS.name,
    AGENTGATEWAY.name,
)
