"""Pure builders every platform pod shares (``specs/pod.py``): the restricted security context,
GPU placement, the token volume, the pull Secret and the plan's labels and metadata. Each field
is asserted, so a builder that drops one fails here before any pack or cluster sees the pod."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_kubernetes as k8s
import pytest

from components.core.engines import HF_TOKEN_FILE
from components.core.labels import POOL_LABEL
from components.core.settings import JobSpec
from components.specs import pod
from components.specs.batch import JobPlan
from components.specs.batch import pod_template as job_pod_template
from components.specs.model_runner import FleetSpec
from components.specs.model_workloads import pod_template as fleet_pod_template
from components.specs.node_pool import GPU_TAINT_KEY
from components.specs.storage import MODEL_UID
from tests.conftest import settings_for

DIGEST = "ghcr.io/acme/trainer@sha256:" + "ab" * 32


@dataclass(frozen=True, kw_only=True)
class _Plan(pod.WorkloadPlan[JobSpec]):
    """The smallest concrete plan: what the base derives, with nothing of a fleet's or a job's."""

    @property
    def resource_name(self) -> str:
        return f"{self.name}-x"

    @property
    def app(self) -> str:
        return "app"

    @property
    def component(self) -> str:
        return "part"

    @property
    def pool_name(self) -> str:
        return "training"


def _job_spec() -> JobSpec:
    small = {"queue": "train", "command": ["python", "train.py"], "cpu": "8", "memory": "64Gi", "image": DIGEST}
    return settings_for("prod", jobs={"ft": small}).jobs["ft"]


def _plan(pull_secret: str | None = None) -> _Plan:
    return _Plan(name="p", spec=_job_spec(), image=DIGEST, env="prod", team="ml", pull_secret=pull_secret)


def test_the_container_context_is_restricted() -> None:
    sc = pod.container_security_context()
    assert sc.allow_privilege_escalation is False and sc.read_only_root_filesystem is True
    assert sc.run_as_non_root is True and (sc.run_as_user, sc.run_as_group) == (MODEL_UID, MODEL_UID)
    assert sc.capabilities is not None and sc.capabilities.drop == ["ALL"] and sc.capabilities.add is None
    assert sc.privileged is None


def test_the_pod_context_is_restricted() -> None:
    sc = pod.pod_security_context()
    assert sc.run_as_non_root is True and (sc.run_as_user, sc.run_as_group, sc.fs_group) == (MODEL_UID,) * 3
    assert sc.fs_group_change_policy == "OnRootMismatch"
    assert sc.seccomp_profile is not None and sc.seccomp_profile.type == "RuntimeDefault"


def test_a_pod_spec_mounts_no_token_injects_no_links_and_runs_restricted() -> None:
    container = k8s.core.v1.ContainerArgs(name="c", image=DIGEST)
    spec = pod.pod_spec(_plan(), service_account="sa", containers=[container], volumes=[], restart_policy="Never")
    assert spec.service_account_name == "sa" and spec.automount_service_account_token is False
    assert spec.enable_service_links is False and spec.restart_policy == "Never"
    assert spec.security_context is not None and spec.security_context.seccomp_profile.type == "RuntimeDefault"
    assert spec.image_pull_secrets is None
    assert (spec.node_selector, spec.tolerations, spec.runtime_class_name) == (None, None, None)


def test_the_pull_secret_is_named_when_the_plan_has_one() -> None:
    spec = pod.pod_spec(_plan(pull_secret="registry-pull"), service_account="sa", containers=[], volumes=[])
    assert spec.image_pull_secrets is not None and [s.name for s in spec.image_pull_secrets] == ["registry-pull"]
    assert pod.image_pull_secrets(None) is None


@pytest.mark.parametrize("runtime_class", [None, "nvidia"])
def test_gpu_placement_selects_the_pool_tolerates_the_taint_and_names_the_runtime(runtime_class: str | None) -> None:
    placement = pod.gpu_placement("training", runtime_class)
    assert placement.node_selector == {POOL_LABEL: "training"}
    assert placement.tolerations is not None and len(placement.tolerations) == 1
    (toleration,) = placement.tolerations
    assert (toleration.key, toleration.operator, toleration.effect) == (GPU_TAINT_KEY, "Exists", "NoSchedule")
    assert placement.runtime_class_name == runtime_class
    spec = pod.pod_spec(_plan(), service_account="sa", containers=[], volumes=[], placement=placement)
    assert spec.node_selector == {POOL_LABEL: "training"} and spec.tolerations == placement.tolerations
    assert spec.runtime_class_name == runtime_class


def test_the_token_is_a_read_only_file_never_an_env_var() -> None:
    volume = pod.hf_token_volume("p-hf-token")
    assert volume.secret is not None and volume.secret.secret_name == "p-hf-token"
    assert volume.secret.default_mode == 0o440
    assert [(i.key, i.path) for i in volume.secret.items] == [("token", "token")]
    mount = pod.hf_token_mount()
    assert mount.name == volume.name and mount.read_only is True
    assert f"{mount.mount_path}/token" == HF_TOKEN_FILE


def test_tagged_images_are_re_pulled_digests_are_not() -> None:
    assert pod.pull_policy("docker.io/vllm/vllm-openai:v0.11.0") == "Always"
    assert pod.pull_policy("r.example/vllm@sha256:" + "a" * 64) == "IfNotPresent"


def test_a_plan_labels_its_pool_and_selects_on_the_immutable_subset() -> None:
    p = _plan()
    assert p.labels[POOL_LABEL] == "training" and p.labels["app.kubernetes.io/component"] == "part"
    assert p.selector == {"app.kubernetes.io/instance": "p", "app.kubernetes.io/name": "app"}
    assert set(p.selector.items()) <= set(p.labels.items())
    assert p.namespace == p.spec.namespace
    meta = pod.meta(p, annotations={"a": "b"})
    assert (meta.name, meta.namespace, meta.labels, meta.annotations) == ("p-x", p.namespace, p.labels, {"a": "b"})
    assert pod.meta(p, "other").name == "other"


def test_fleets_and_jobs_get_the_same_restricted_pod_and_gpu_placement() -> None:
    s = settings_for("prod")
    fleet = FleetSpec(
        name="coder-32b", spec=s.models["coder-32b"], image="i", env="prod", team="ml", runtime_class="nvidia"
    )
    job = JobPlan(
        name="ft", spec=_job_spec(), pool="training", image=DIGEST, env="prod", team="ml", runtime_class="nvidia"
    )
    for spec, pool in (
        (fleet_pod_template(fleet, "sa").spec, fleet.spec.pool),
        (job_pod_template(job).spec, "training"),
    ):
        assert spec.security_context == pod.pod_security_context()
        assert spec.automount_service_account_token is False and spec.enable_service_links is False
        assert spec.node_selector == {POOL_LABEL: pool} and spec.runtime_class_name == "nvidia"
        assert spec.tolerations == [pod.gpu_toleration()]
        assert all(c.security_context == pod.container_security_context() for c in spec.containers)
