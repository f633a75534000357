"""The e2e control plane: kwokctl's binary runtime on 127.0.0.1, simulated nodes, stand-in CRDs.

Pure builders (the kwokctl configuration, the Node objects shaped like a stack's pools, the
CustomResourceDefinitions made from the pinned schemas in tests/data/crds) and a ``Cluster``
that starts and always stops the processes. Every component kwokctl starts (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok-controller) binds to 127.0.0.1 (``bindAddress``);
nothing here installs a webhook or an APIService, so the API server never dials a pod or Service.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.core.labels import POOL_LABEL

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("ENGINE_BIN", ROOT / ".cache" / "engine" / "bin"))
CRD_DIR = ROOT / "tests" / "data" / "crds"
CLUSTER = "ai-infra-e2e"
KUBE_VERSION = "v1.34.4"
GPU_RESOURCE = "nvidia.com/gpu"

# Cluster-scoped kinds among the stand-in CRDs (the rest are namespaced).
CLUSTER_SCOPED = frozenset({"ClusterQueue", "ResourceFlavor", "ProxyClass", "Connector"})


def kwokctl_config(bin_dir: Path = BIN) -> dict[str, Any]:
    """KwokctlConfiguration (config.kwok.x-k8s.io/v1alpha1, sigs.k8s.io/kwok v0.8.0
    pkg/apis/config/v1alpha1/kwokctl_configuration_types.go): binary runtime with our builds,
    everything on 127.0.0.1 (the default bindAddress is 0.0.0.0), authorization (RBAC) and
    admission on, so quotas, LimitRanges, Pod Security and admission policies are enforced."""
    return {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokctlConfiguration",
        "options": {
            "runtime": "binary",
            "bindAddress": "127.0.0.1",
            "kubeVersion": KUBE_VERSION,
            "securePort": True,
            "kubeAuthorization": True,
            "kubeAdmission": True,
            "kubeApiserverBinary": str(bin_dir / "kube-apiserver"),
            "kubeControllerManagerBinary": str(bin_dir / "kube-controller-manager"),
            "kubeSchedulerBinary": str(bin_dir / "kube-scheduler"),
            "kubectlBinary": str(bin_dir / "kubectl"),
            "kwokControllerBinary": str(bin_dir / "kwok"),
            "etcdBinary": str(bin_dir / "etcd"),
        },
    }


@dataclass(frozen=True)
class NodeShape:
    pool: str
    count: int
    cpu: int
    memory_gib: int
    gpus: int = 0


def node(name: str, shape: NodeShape) -> dict[str, Any]:
    """A kwok-managed Node (annotation kwok.x-k8s.io/node: fake, which kwokctl's controller
    manages) labelled and tainted as the program expects of a pool (GPU nodes: the NVIDIA taint
    and nvidia.com/gpu capacity, as the device plugin would advertise)."""
    labels = {
        "type": "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        POOL_LABEL: shape.pool,
    }
    resources = {"cpu": str(shape.cpu), "memory": f"{shape.memory_gib}Gi", "pods": "110"}
    spec: dict[str, Any] = {}
    if shape.gpus:
        labels["nvidia.com/gpu.present"] = "true"
        resources[GPU_RESOURCE] = str(shape.gpus)
        spec["taints"] = [{"key": GPU_RESOURCE, "value": "true", "effect": "NoSchedule"}]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {"kwok.x-k8s.io/node": "fake"}},
        "spec": spec,
        "status": {"allocatable": resources, "capacity": dict(resources)},
    }


# Groups under k8s.io are protected: the API server refuses their CRDs without the approval
# annotation, so the stand-ins carry the upstream CRDs' values.
API_APPROVED = {
    # kubernetes-sigs/gateway-api config/crd/standard/*.yaml @ v1.6.1
    "gateway.networking.k8s.io": "https://github.com/kubernetes-sigs/gateway-api/pull/4530",
    # kubernetes-sigs/gateway-api-inference-extension
    # config/crd/bases/inference.networking.k8s.io_inferencepools.yaml @ v1.5.0
    "inference.networking.k8s.io": "https://github.com/kubernetes-sigs/gateway-api-inference-extension/pull/1173",
}
# Upstream plurals the English rule below does not give.
PLURALS = {"AgentgatewayParameters": "agentgatewayparameters"}


def _plural(kind: str) -> str:
    """The upstream CRD's plural (kubectl's discovery cache remembers it per API server address)."""
    if kind in PLURALS:
        return PLURALS[kind]
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + ("es" if lower.endswith("s") else "s")


def _structural(schema: Any) -> Any:
    """Our pinned subset schemas are JSON Schema with ``additionalProperties: false`` beside
    ``properties`` (to reject unknown fields in tests); a CRD's structural schema may not have
    both, and the API server rejects unknown fields by itself under strict field validation."""
    if isinstance(schema, dict):
        out = {k: _structural(v) for k, v in schema.items() if k != "$comment"}
        if "properties" in out and out.get("additionalProperties") is False:
            del out["additionalProperties"]
        # Quantities: upstream's CRDs mark integer-or-string with x-kubernetes-int-or-string,
        # which the JSON-Schema subset spells as anyOf.
        if "type" not in out and out.get("anyOf") == [{"type": "integer"}, {"type": "string"}]:
            del out["anyOf"]
            out["x-kubernetes-int-or-string"] = True
        return out
    if isinstance(schema, list):
        return [_structural(v) for v in schema]
    return schema


def crd(path: Path) -> dict[str, Any]:
    """A CustomResourceDefinition from ``tests/data/crds/<group>-<version>-<Kind>.json``."""
    stem = path.stem
    kind = stem.rsplit("-", 1)[1]
    group, version = stem[: -len(kind) - 1].rsplit("-", 1)
    schema = _structural(json.loads(path.read_text()))
    plural = _plural(kind)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            **({"annotations": {"api-approved.kubernetes.io": API_APPROVED[group]}} if group in API_APPROVED else {}),
        },
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()},
            "scope": "Cluster" if kind in CLUSTER_SCOPED else "Namespaced",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def stand_in_crds() -> list[dict[str, Any]]:
    return [crd(p) for p in sorted(CRD_DIR.glob("*.json"))]


class Cluster:
    """kwokctl's cluster in ``workdir``; ``stop()`` deletes it (and its processes) in every case."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.kubeconfig = workdir / "kubeconfig"
        self.env = {**os.environ, "KWOK_WORKDIR": str(workdir / "kwok")}

    def kwokctl(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "kwokctl"), "--name", CLUSTER, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.stop()  # a cluster left by an interrupted run
        config = self.workdir / "kwokctl.yaml"
        config.write_text(json.dumps(kwokctl_config()))
        done = self.kwokctl(
            "create", "cluster", "--config", str(config), "--kubeconfig", str(self.kubeconfig), "--wait", "2m"
        )
        if done.returncode != 0:
            raise RuntimeError(f"kwokctl create cluster failed:\n{done.stdout}\n{done.stderr}")

    def stop(self) -> None:
        self.kwokctl("delete", "cluster", "--kubeconfig", str(self.kubeconfig), timeout=120)

    def kubectl(self, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "kubectl"), "--kubeconfig", str(self.kubeconfig), "--request-timeout=30s", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def apply(self, objects: list[dict[str, Any]]) -> None:
        doc = json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
        done = self.kubectl("apply", "--server-side", "-f", "-", stdin=doc)
        if done.returncode != 0:
            raise RuntimeError(f"kubectl apply failed:\n{done.stderr}")

    def get(self, *args: str) -> Any:
        done = self.kubectl("get", *args, "-o", "json")
        if done.returncode != 0:
            raise RuntimeError(f"kubectl get {' '.join(args)} failed:\n{done.stderr}")
        return json.loads(done.stdout)

    def wait_for(self, what: str, predicate: Any, timeout: float = 120, interval: float = 2) -> Any:
        """Poll ``predicate()`` until it returns a truthy value; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
