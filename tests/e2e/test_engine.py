"""The real engine (`make e2e`): `pulumi up` for real onto a local control plane.

The Pulumi CLI, our Python language host and the Kubernetes provider (``make tools``) run the
program against kwok's control plane (tests/e2e/cluster.py) with simulated nodes shaped like the
e2e stack's pools, and the policy pack runs inside the real `pulumi up`. The tests then ask the
real API server and scheduler what happened. They run in order on one cluster (module fixture):
up → placement and readiness → admission → fit → idempotence → update → destroy. The cluster
and every process are stopped at the end, also on failure; every wait is bounded.

Not covered here (the plan's value checks cover them): Helm releases (charts cannot be fetched
offline: every operator is ``addons.<chart>.install: false``, its CRDs stand in), AWS and Docker
resources (their providers cannot be built from the module proxy), the Tailscale mesh, and what
containers do (kwok runs no containers).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.cluster import BIN, ROOT, Cluster, NodeShape, node, stand_in_crds

pytestmark = pytest.mark.e2e

WORK = ROOT / ".cache" / "engine" / "e2e"
STACK = "e2e"
STACK_TEMPLATE = Path(__file__).with_name("Pulumi.e2e.yaml")
K8S_PROVIDER = "4.25.0"
UP_TIMEOUT_S = 420
OUR_NAMESPACES = ("models", "training", "gpu-system", "kueue-system", "gateway")

# What the e2e stack's pools look like as machines: the system pool, and the `gpu` pool's
# machine (Pulumi.e2e.yaml: 2 GPUs, 16 CPUs, 64 GiB) twice.
SHAPES = (NodeShape("system", 1, cpu=8, memory_gib=32), NodeShape("gpu", 2, cpu=16, memory_gib=64, gpus=2))
# The gateway clients' own keys (Pulumi.e2e.yaml `keySecret`), fresh per run, set with
# `pulumi config set --secret` before `up`: client -> (config key, value).
CLIENT_KEYS = {
    "ci": ("gatewayCiKey", secrets.token_hex(24)),
    "notebooks": ("gatewayNotebooksKey", secrets.token_hex(24)),
}


def nodes() -> list[dict[str, Any]]:
    return [node(f"{s.pool}-{i}", s) for s in SHAPES for i in range(s.count)]


@dataclass
class Engine:
    cluster: Cluster
    env: dict[str, str]
    config_file: Path

    def pulumi(
        self, *args: str, timeout: float = UP_TIMEOUT_S, config: bool = True
    ) -> subprocess.CompletedProcess[str]:
        # `stack output` takes no --config-file (the CLI refuses the flag).
        extra = ["--config-file", str(self.config_file)] if config else []
        try:
            return subprocess.run(
                [
                    str(BIN / "pulumi"),
                    *args,
                    "--non-interactive",
                    "--stack",
                    STACK,
                    *extra,
                ],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise AssertionError(
                f"pulumi {args[0]} did not finish in {timeout:.0f} s; pods the scheduler could not place:\n"
                + self.unschedulable()
                + "\n"
                + (e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""))
            ) from None

    def up(self) -> subprocess.CompletedProcess[str]:
        done = self.pulumi(
            "up", "--yes", "--skip-preview", "--policy-pack", "policies", "--policy-pack-config", "policies/dev.json"
        )
        assert done.returncode == 0, f"pulumi up failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}\n" + (
            self.unschedulable()
        )
        return done

    def unschedulable(self) -> str:
        """The scheduler's reasons for every pod of ours it could not place (FailedScheduling)."""
        events = self.cluster.get("events", "-A", "--field-selector", "reason=FailedScheduling")
        return "\n".join(
            f"{e['involvedObject'].get('namespace')}/{e['involvedObject']['name']}: {e['message']}"
            for e in events["items"]
        )

    def write_config(self, **overrides: Any) -> None:
        """The e2e stack file with the kubeconfig filled in, plus ``ai-infra:<key>`` overrides."""
        text = STACK_TEMPLATE.read_text().replace("@KUBECONFIG@", str(self.cluster.kubeconfig))
        doc = yaml.safe_load(text)
        for key, value in overrides.items():
            doc["config"][f"ai-infra:{key}"] = value
        if self.config_file.exists():  # keep the salt `pulumi stack init` wrote (passphrase secrets)
            old = yaml.safe_load(self.config_file.read_text()) or {}
            if old.get("encryptionsalt"):
                doc["encryptionsalt"] = old["encryptionsalt"]
            # ... and the secrets `config set --secret` wrote (ciphertext under that salt).
            for key, value in (old.get("config") or {}).items():
                if isinstance(value, dict) and set(value) == {"secure"} and key not in doc["config"]:
                    doc["config"][key] = value
        self.config_file.write_text(yaml.safe_dump(doc, sort_keys=False))

    def set_secret(self, key: str, value: str) -> None:
        """``pulumi config set --secret ai-infra:<key>`` with the real CLI (the value is never echoed)."""
        done = self.pulumi("config", "set", "--secret", f"ai-infra:{key}", value, timeout=60)
        assert done.returncode == 0, f"config set --secret {key} failed: {done.stderr[-2000:]}"


def _tools_built() -> bool:
    return all(
        (BIN / t).exists() for t in ("pulumi", "pulumi-language-python", "pulumi-resource-kubernetes", "kwokctl")
    )


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    if not _tools_built():
        pytest.fail("the engine is not built: run make tools")
    WORK.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(WORK)
    home, state = WORK / "pulumi-home", WORK / "state"
    for d in (home, state):
        subprocess.run(["rm", "-rf", str(d)], check=True)
        d.mkdir(parents=True)
    uv_dir = ROOT / ".venv-bootstrap" / "bin"
    env = {
        **os.environ,
        # Our builds first (the language host is found on PATH), then uv for the program's toolchain.
        "PATH": os.pathsep.join([str(BIN), str(uv_dir), os.environ.get("PATH", "")]),
        "PULUMI_HOME": str(home),
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": "e2e-only",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        # uv sync before each run (the uv toolchain does it) must not touch the network.
        "UV_OFFLINE": "1",
    }
    e = Engine(cluster, env, WORK / f"Pulumi.{STACK}.yaml")
    try:
        cluster.start()
        cluster.apply(stand_in_crds())
        cluster.apply(nodes())
        cluster.wait_for(
            "the simulated nodes to be Ready",
            lambda: (
                all(
                    any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
                    for n in cluster.get("nodes")["items"]
                )
                and len(cluster.get("nodes")["items"]) == sum(s.count for s in SHAPES)
            ),
        )
        plugin = subprocess.run(
            [str(BIN / "pulumi"), "plugin", "install", "resource", "kubernetes", K8S_PROVIDER, "--file",
             str(BIN / "pulumi-resource-kubernetes")],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert plugin.returncode == 0, plugin.stderr
        # `stack init` has no --config-file: it writes the passphrase salt to Pulumi.e2e.yaml in
        # the project, which we move into the work folder's stack file (the project keeps none).
        root_file = ROOT / f"Pulumi.{STACK}.yaml"
        root_file.unlink(missing_ok=True)
        e.config_file.unlink(missing_ok=True)
        init = subprocess.run(
            [str(BIN / "pulumi"), "stack", "init", STACK, "--non-interactive"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert init.returncode == 0, init.stderr
        if root_file.exists():
            e.config_file.write_text(root_file.read_text())
            root_file.unlink()
        e.write_config()
        for key, value in CLIENT_KEYS.values():
            e.set_secret(key, value)
        yield e
    finally:
        cluster.stop()


def pods(cluster: Cluster, namespace: str, selector: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cluster.get("pods", "-n", namespace, "-l", selector)["items"]
    return items


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def pool_of(cluster: Cluster, node_name: str) -> str:
    labels: dict[str, str] = cluster.get("node", node_name)["metadata"]["labels"]
    return labels["ai-infra.io/pool"]


def test_up_applies_the_program_with_the_pack_and_no_mandatory_violation(engine: Engine) -> None:
    done = engine.up()
    assert "mandatory" not in done.stdout.lower(), done.stdout[-4000:]
    outputs = json.loads(engine.pulumi("stack", "output", "--json", config=False).stdout)
    assert set(outputs["models"]) == {"qwen-small", "qwen-instruct", "qwen-sglang"}
    assert outputs["gateway"] == "http://ai.gateway.svc.cluster.local/v1"


def fleet_ready(c: Cluster, fleet: str, timeout: float = 120) -> list[dict[str, Any]]:
    """The fleet's Ready pods (they carry app.kubernetes.io/instance=<fleet>, specs/model_runner.py);
    on timeout the failure says why, in the scheduler's words, for every pod it could not place."""
    selector = f"app.kubernetes.io/instance={fleet}"
    try:
        found: list[dict[str, Any]] = c.wait_for(
            f"{fleet} Ready", lambda: [p for p in pods(c, "models", selector) if ready(p)], timeout=timeout
        )
    except AssertionError as e:
        reasons = [
            f"{p['metadata']['name']}: {cond.get('reason')}: {cond.get('message')}"
            for p in pods(c, "models", selector)
            for cond in p["status"].get("conditions", [])
            if cond["type"] == "PodScheduled" and cond["status"] == "False"
        ]
        raise AssertionError(f"{e}; the scheduler: {reasons or 'no verdict'}") from None
    return found


def test_fleets_and_jobs_are_placed_by_the_real_scheduler_on_their_pool(engine: Engine) -> None:
    c = engine.cluster
    for fleet in ("qwen-small", "qwen-instruct", "qwen-sglang"):
        for p in fleet_ready(c, fleet):
            assert pool_of(c, p["spec"]["nodeName"]) == "gpu", p["metadata"]["name"]
    # `run: now` Jobs complete (kwok completes Job pods); pulumi up already waited for it.
    job = c.get("job", "-n", "training", "smoke")
    assert job["status"].get("succeeded") == 1
    (pod,) = pods(c, "training", "job-name=smoke")
    assert pool_of(c, pod["spec"]["nodeName"]) == "gpu"
    # Pods never raced their ServiceAccount (a Deployment ordered before it fails its first pods).
    failed = c.get("events", "-A", "--field-selector", "reason=FailedCreate")["items"]
    assert not failed, [e["message"] for e in failed]


def test_custom_resources_were_accepted_against_their_crds(engine: Engine) -> None:
    c = engine.cluster
    assert [q["metadata"]["name"] for q in c.get("clusterqueues")["items"]] == ["train"]
    assert [q["metadata"]["name"] for q in c.get("localqueues", "-n", "training")["items"]] == ["train"]
    assert c.get("resourceflavors")["items"]


def test_the_gateway_objects_were_accepted_and_the_picker_admitted(engine: Engine) -> None:
    """The API server accepts every gateway object against the pinned schemas (stand-ins), and
    Pod Security (restricted) and our image admission admit the endpoint picker's pod with its
    projected token. Not proven here: that agentgateway programs a proxy from them, routes by
    ``model``, checks keys or limits, or that the picker picks and holds (no controller, proxy or
    engine runs; docs/architecture.md, "The inference gateway")."""
    c = engine.cluster
    (gateway,) = c.get("gateways", "-n", "gateway")["items"]
    assert gateway["metadata"]["name"] == "ai" and gateway["spec"]["gatewayClassName"] == "agentgateway"
    assert [p["metadata"]["name"] for p in c.get("agentgatewayparameters", "-n", "gateway")["items"]] == ["ai-gateway"]
    routes = {r["metadata"]["name"] for r in c.get("httproutes", "-n", "gateway")["items"]}
    assert routes == {"models-list", "model-qwen-small", "model-qwen-instruct", "model-qwen-sglang"}
    policies = {p["metadata"]["name"] for p in c.get("agentgatewaypolicies", "-n", "gateway")["items"]}
    assert {"ai-pre-routing", "ai-clients", "models-list", "model-qwen-instruct"} <= policies
    assert [g["metadata"]["name"] for g in c.get("referencegrants", "-n", "models")["items"]] == ["gateway-routes"]
    # Only the vLLM fleet has a pool; its picker's pod passes admission and runs (kwok).
    (pool,) = c.get("inferencepools", "-n", "models")["items"]
    assert pool["metadata"]["name"] == "vllm-qwen-instruct"
    assert pool["spec"]["endpointPickerRef"]["name"] == "vllm-qwen-instruct-epp"
    picker = c.wait_for(
        "the endpoint picker Ready",
        lambda: [p for p in pods(c, "models", "app.kubernetes.io/instance=vllm-qwen-instruct-epp") if ready(p)],
    )
    assert picker[0]["spec"]["automountServiceAccountToken"] is False
    # Fleets behind the gateway admit its proxies, not the namespace's labelled clients.
    netpol = c.get("networkpolicy", "-n", "models", "vllm-qwen-instruct")
    peers = netpol["spec"]["ingress"][0]["from"]
    assert {"gateway.networking.k8s.io/gateway-name": "ai"} in [
        p.get("podSelector", {}).get("matchLabels") for p in peers
    ]
    assert not [p for p in peers if p.get("podSelector", {}).get("matchLabels") == {"ai-infra.io/model-client": "true"}]


def test_the_gateway_clients_keys_and_limits_were_accepted_with_the_key_only_secret(engine: Engine) -> None:
    """Both clients bring their key from secret config (``keySecret``): the API server accepts the
    per-client rate limits, the routes' client lists and the key Secret with both entries, whose
    values are exactly the secrets we set; the CLI shows the export only as ``[secret]`` and no
    file of the state or the stack holds a key in plain text."""
    c = engine.cluster
    policies = {p["metadata"]["name"]: p["spec"] for p in c.get("agentgatewaypolicies", "-n", "gateway")["items"]}
    allowed = {
        name: policies[name]["traffic"]["authorization"]["policy"]["matchExpressions"]
        for name in ("model-qwen-small", "model-qwen-instruct", "model-qwen-sglang")
    }
    assert allowed == {
        "model-qwen-small": ["apiKey.client in ['ci', 'notebooks']"],
        "model-qwen-instruct": ["apiKey.client in ['notebooks']"],
        "model-qwen-sglang": ["apiKey.client in []"],
    }
    limits = policies["ai-clients"]["traffic"]["rateLimit"]["conditional"]
    assert [(x["condition"], x["policy"]["local"]) for x in limits] == [
        ("apiKey.client == 'ci'", [{"requests": 120, "unit": "Minutes"}]),
        (
            "apiKey.client == 'notebooks'",
            [{"requests": 60, "unit": "Minutes"}, {"tokens": 5000, "unit": "Minutes"}],
        ),
    ]
    secret = c.get("secret", "-n", "gateway", "ai-gateway-keys")
    assert sorted(secret["data"]) == ["ci", "notebooks"]
    for client, (_, value) in CLIENT_KEYS.items():
        entry = json.loads(base64.b64decode(secret["data"][client]))
        same = entry == {"key": value, "metadata": {"client": client}}
        assert same, f"the key Secret's {client} entry is not the key set with config set --secret"
    outputs = json.loads(engine.pulumi("stack", "output", "--json", config=False).stdout)
    assert outputs["gatewayClientKeys"] == "[secret]"
    plain = [
        str(f.relative_to(WORK))
        for f in [*(WORK / "state").rglob("*"), engine.config_file]
        if f.is_file() and any(v.encode() in f.read_bytes() for _, v in CLIENT_KEYS.values())
    ]
    assert not plain, f"a client key in plain text in {plain}"


def _restricted_pod(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    container = {
        "name": "c",
        # A digest from a registry the e2e stack's jobs use: ai-infra-image-registries admits it.
        "image": "reg.internal/train@sha256:" + "0" * 64,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": spec.pop(
            "resources", {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "64Mi"}}
        ),
    }
    container["securityContext"].update(spec.pop("security", {}))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [container], **spec},
    }


def _refused(c: Cluster, pod: dict[str, Any]) -> str:
    done = c.kubectl("create", "-f", "-", stdin=json.dumps(pod))
    assert done.returncode != 0, f"{pod['metadata']['name']} was admitted"
    return done.stderr


def test_the_api_server_enforces_our_guardrails(engine: Engine) -> None:
    c = engine.cluster
    # Pod Security `restricted` on workload namespaces.
    privileged = _restricted_pod(
        "privileged", "models", security={"privileged": True, "allowPrivilegeEscalation": True}
    )
    assert "violates PodSecurity" in _refused(c, privileged)
    # The ValidatingAdmissionPolicy: a tenant (non-serving) namespace cannot take gpu-serving.
    wrong_class = _restricted_pod("wrong-class", "training", priorityClassName="gpu-serving")
    assert "ai-infra-priority-classes" in _refused(c, wrong_class)
    # The ResourceQuota: the fleets already hold the models namespace's GPUs.
    gpu = {
        "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
        "limits": {"memory": "1Gi", "nvidia.com/gpu": "1"},
    }
    over_quota = _restricted_pod("over-quota", "models", resources=gpu)
    assert "exceeded quota" in _refused(c, over_quota)


def test_the_api_server_refuses_images_from_untrusted_registries(engine: Engine) -> None:
    """Issue 23 §2: what `kubectl run` could start past Pulumi is checked in the cluster too."""
    c = engine.cluster
    for namespace in ("models", "training"):
        untrusted = _restricted_pod("untrusted", namespace)
        untrusted["spec"]["containers"][0]["image"] = "evil.example.com/x@sha256:" + "a" * 64
        assert "ai-infra-image-registries" in _refused(c, untrusted)
    # An init container is checked the same way.
    sneaky = _restricted_pod("sneaky", "models")
    sneaky["spec"]["initContainers"] = [{**sneaky["spec"]["containers"][0], "name": "init"}]
    sneaky["spec"]["initContainers"][0]["image"] = "evil.example.com/init@sha256:" + "b" * 64
    assert "ai-infra-image-registries" in _refused(c, sneaky)
    # A tag from a trusted registry: dev warns (ai-infra-image-digests), prod refuses.
    tagged = _restricted_pod("tagged", "training")
    tagged["spec"]["containers"][0]["image"] = "reg.internal/train:latest"
    done = c.kubectl("create", "--dry-run=server", "-f", "-", stdin=json.dumps(tagged))
    assert done.returncode == 0, done.stderr
    assert "ai-infra-image-digests" in done.stderr, done.stderr


def test_a_pod_larger_than_any_node_stays_pending_for_the_scheduler(engine: Engine) -> None:
    """The capacity model refuses a GPU pod larger than every node; so must the real scheduler."""
    c = engine.cluster
    c.kubectl("create", "namespace", "e2e-fit")
    try:
        big = {
            "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "4"},
            "limits": {"memory": "1Gi", "nvidia.com/gpu": "4"},
        }
        pod = _restricted_pod(
            "too-big", "e2e-fit", resources=big,
            tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        )  # fmt: skip
        done = c.kubectl("create", "-f", "-", stdin=json.dumps(pod))
        assert done.returncode == 0, done.stderr
        reason = c.wait_for(
            "the scheduler's verdict on too-big",
            lambda: [
                cond
                for cond in c.get("pod", "-n", "e2e-fit", "too-big")["status"].get("conditions", [])
                if cond["type"] == "PodScheduled" and cond["status"] == "False"
            ],
            timeout=60,
        )[0]
        assert reason["reason"] == "Unschedulable"
        assert "Insufficient nvidia.com/gpu" in reason["message"]
    finally:
        c.kubectl("delete", "namespace", "e2e-fit", "--wait=false")


def test_a_fleet_placed_on_no_pool_fails_with_the_schedulers_reason(engine: Engine) -> None:
    """A deliberately broken program: a fleet's Deployment exactly as ours built it, but whose
    nodeSelector names no pool. The fleet check above must fail, and say the scheduler's reason
    (not merely time out), so such a regression fails `make e2e` with the cause in its output."""
    c = engine.cluster
    built = c.get("deployment", "-n", "models", "ollama-qwen-small")
    labels = {**built["spec"]["template"]["metadata"]["labels"], "app.kubernetes.io/instance": "broken-fleet"}
    template = built["spec"]["template"]
    template["metadata"] = {"labels": labels, "annotations": template["metadata"].get("annotations", {})}
    template["spec"]["nodeSelector"] = {**template["spec"].get("nodeSelector", {}), "ai-infra.io/pool": "no-pool"}
    for container in template["spec"]["containers"]:
        # The fleets hold the namespace's GPU quota; without GPUs the quota admits the pod and
        # only placement can fail.
        for part in ("requests", "limits"):
            container.get("resources", {}).get(part, {}).pop("nvidia.com/gpu", None)
    broken = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "broken-fleet", "namespace": "models", "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": template},
    }
    done = c.kubectl("create", "-f", "-", stdin=json.dumps(broken))
    assert done.returncode == 0, done.stderr
    try:
        with pytest.raises(AssertionError) as failure:
            fleet_ready(c, "broken-fleet", timeout=30)
        assert "didn't match Pod's node affinity/selector" in str(failure.value), str(failure.value)
    finally:
        c.kubectl("delete", "deployment", "-n", "models", "broken-fleet", "--wait=false")


def test_a_second_preview_finds_nothing_to_change(engine: Engine) -> None:
    done = engine.pulumi("preview", "--expect-no-changes")
    assert done.returncode == 0, done.stdout[-4000:]


def test_a_settings_change_updates_in_place(engine: Engine) -> None:
    c = engine.cluster
    # qwen-small autoscales now: Ollama has no queue metric, so its HPA scales on CPU, which
    # needs metrics-server (preinstalled here: its APIService would make the API server dial a pod).
    autoscaled = {"cache": "ephemeral", "cpu": "1", "replicas": {"min": 1, "max": 2}}
    engine.write_config(
        models={"qwen-small": autoscaled, "qwen-instruct": {"cache": "ephemeral"}},
        namespaces={"models": {"modelCache": False, "quota": {"gpus": 3}}},
    )
    engine.up()
    deployment = c.get("deployment", "-n", "models", "ollama-qwen-small")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"]["cpu"] == "1"
    (hpa,) = [
        h
        for h in c.get("hpa", "-n", "models")["items"]
        if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ollama-qwen-small"}
    ]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 2)
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    # qwen-sglang left the settings: its Deployment is deleted by the same update.
    gone = c.get("deployments", "-n", "models", "-l", "app.kubernetes.io/instance=qwen-sglang")["items"]
    assert not gone, [d["metadata"]["name"] for d in gone]
    c.wait_for(
        "the updated ollama-qwen-small rollout",
        lambda: c.get("deployment", "-n", "models", "ollama-qwen-small")["status"].get("updatedReplicas") == 1,
    )


def test_destroy_leaves_no_namespace_of_ours(engine: Engine) -> None:
    done = engine.pulumi("destroy", "--yes", "--skip-preview")
    assert done.returncode == 0, done.stdout[-4000:]
    c = engine.cluster

    def gone() -> bool:
        names = {n["metadata"]["name"] for n in c.get("namespaces")["items"]}
        return not names & set(OUR_NAMESPACES)

    c.wait_for("our namespaces to be deleted", gone, timeout=120)
