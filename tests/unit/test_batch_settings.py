"""Batch settings: queues fit their pools, namespaces opt in, jobs fit queue, pool, quota and registry."""

from __future__ import annotations

from typing import Any

import pytest

from components.core.settings import SettingsError, parse_settings
from components.core.settings.batch import cron_problem
from components.specs.addons import system_namespaces
from tests.conftest import settings_for

DIGEST = "ghcr.io/acme/trainer@sha256:" + "ab" * 32
PROD_JOB = {"queue": "train", "image": DIGEST, "command": ["python", "train.py"]}


def _problems(env: str, **overrides: Any) -> str:
    with pytest.raises(SettingsError) as err:
        settings_for(env, **overrides)
    return str(err.value)


def test_presets_queue_on_their_pools() -> None:
    dev, prod = settings_for("dev"), settings_for("prod")
    assert dev.batch_namespaces == prod.batch_namespaces == ["training"]
    # By default a queue gets what the pool's cap leaves once its fleets hold their min replicas.
    assert (dev.node_pools["gpu"].schedulable_gpus, dev.pool_serving_gpus("gpu"), dev.queue_gpus("train")) == (3, 2, 1)
    assert {q: prod.queue_gpus(q) for q in prod.batch.queues} == {"train": 12, "batch-infer": 4}
    assert sum(prod.queue_gpus(q) for q in prod.batch.queues) == prod.node_pools["training"].schedulable_gpus
    assert "kueue-system" in system_namespaces(dev) and "kueue-system" in system_namespaces(prod)
    # Dev carries one small example job, a suspended template; prod carries none.
    example = dev.jobs["finetune-example"]
    assert example.run == "template" and example.workers == 1 and example.gpus_per_worker == 1
    assert dev.job_image_built("finetune-example")
    assert prod.jobs == {}


def test_a_queue_over_its_pools_gpu_cap_is_rejected() -> None:
    text = _problems("prod", batch={"queues": {"train": {"gpus": 17}}})
    assert "ai-infra:batch.queues.train.gpus: pool training holds 16 GPU(s)" in text
    assert "queue train's 17 GPU(s) of quota make 17" in text and "lower the quota to 16 in all" in text
    shared = _problems("prod", batch={"queues": {"train": {"gpus": 14}}})
    assert "ai-infra:batch.queues.train.gpus: pool training holds 16 GPU(s)" in shared
    assert "queues batch-infer 4 + train 14 GPU(s) of quota make 18" in shared
    assert "ai-infra:batch.queues.train.pool: must name a node pool" in _problems(
        "prod", batch={"queues": {"train": {"pool": "nope"}}}
    )


def test_fleets_at_min_and_queue_quotas_must_fit_the_pool_together() -> None:
    """Issue 22 item 7: dev's fleets took the gpu pool's whole cap at min replicas and the train
    queue claimed the cap again, so the README's example job stayed Pending forever."""
    old_preset = _problems("dev", nodePools={"gpu": {"maxSize": 2, "gpuCap": 2}})
    assert (
        "ai-infra:jobs.finetune-example.workers: workers x gpusPerWorker = 1 GPUs exceeds queue train's quota of 0 "
        "(batch.queues.train.gpus is unset: pool gpu's GPU cap of 2 less the 2 its fleets hold at min replicas)"
    ) in old_preset
    explicit = _problems("dev", batch={"queues": {"train": {"gpus": 2}}})
    assert (
        "ai-infra:batch.queues.train.gpus: pool gpu holds 3 GPU(s) (nodePools.gpu.gpuCap / maxSize); its fleets "
        "hold 2 at min replicas (qwen-instruct 1, qwen-small 1) and queue train's 2 GPU(s) of quota make 4"
    ) in explicit
    assert settings_for("dev", batch={"queues": {"train": {"gpus": 1}}}).queue_gpus("train") == 1


def test_namespaces_opt_into_queues_that_exist() -> None:
    text = _problems("prod", namespaces={"models": {"queues": ["nope"]}})
    assert "ai-infra:namespaces.models.queues[0]: must name a batch queue: ['batch-infer', 'train']" in text
    lonely = _problems("prod", batch={"queues": {"spare": {"pool": "serving", "gpus": 2}}})
    assert "ai-infra:batch.queues.spare: no namespace submits to it" in lonely
    off = _problems("dev", batch={"enabled": False}, jobs={"finetune-example": None})
    assert "ai-infra:batch.queues: need enabled: true" in off
    empty = _problems("prod", batch={"queues": None}, namespaces={"training": {"queues": []}})
    assert "ai-infra:batch.queues: list at least one queue" in empty


def test_a_job_in_a_namespace_without_the_queue_is_rejected() -> None:
    text = _problems("prod", jobs={"ft": {**PROD_JOB, "namespace": "models"}})
    assert "ai-infra:jobs.ft.queue: namespace models has no queue train: add it to namespaces.models.queues" in text
    assert "ai-infra:jobs.ft.namespace: must be one of namespaces" in _problems(
        "prod", jobs={"ft": {**PROD_JOB, "namespace": "nowhere"}}
    )


def test_a_job_wider_than_a_node_or_its_queue_is_rejected() -> None:
    text = _problems("prod", jobs={"ft": {**PROD_JOB, "gpusPerWorker": 16}})
    assert "ai-infra:jobs.ft.gpusPerWorker: 16 must fit one node of pool training (8 GPU(s) per node)" in text
    wide = _problems("prod", jobs={"ft": {**PROD_JOB, "queue": "batch-infer", "gpusPerWorker": 8, "workers": 2}})
    assert "ai-infra:jobs.ft.workers: workers x gpusPerWorker = 16 GPUs exceeds queue batch-infer's quota of 4" in wide
    memory = _problems("prod", jobs={"ft": {**PROD_JOB, "memory": "4000Gi"}})
    assert (
        "ai-infra:jobs.ft.memory: a worker needs 4000 GiB but a p4d.24xlarge node of pool training has about" in memory
    )
    quota = _problems("prod", jobs={"ft": {**PROD_JOB, "workers": 41, "gpusPerWorker": 1}})
    assert "ai-infra:jobs.ft.workers: 41 worker(s) need 41 pods but namespaces.training.quota.pods allows 40" in quota


def test_prod_jobs_run_built_images_or_digests() -> None:
    text = _problems("prod", jobs={"ft": {**PROD_JOB, "image": "ghcr.io/acme/trainer:v1"}})
    assert (
        "ai-infra:jobs.ft.image: must be built here (one of infer, model-runner, ollama, train-heavy, train-light)"
        in text
    )
    unbuilt = _problems("prod", jobs={"ft": {**PROD_JOB, "image": "train-light"}})
    assert "ai-infra:jobs.ft.image: train-light is not built here: add it to registry.build" in unbuilt
    built = settings_for(
        "prod",
        registry={"build": ["model-runner", "ollama", "train-light"]},
        jobs={"ft": {**PROD_JOB, "image": "train-light"}},
    )
    assert built.job_image_built("ft")
    small = {**PROD_JOB, "image": "ghcr.io/acme/trainer:v1", "cpu": "1", "memory": "4Gi"}
    assert settings_for("dev", jobs={"ft": small}).jobs["ft"].image.endswith(":v1")  # tags are fine outside prod


def test_scratch_and_cache_need_the_storage_they_name() -> None:
    text = _problems("dev", jobs={"finetune-example": {"scratch": "local-nvme", "modelCache": True}})
    assert "ai-infra:jobs.finetune-example.scratch: local-nvme needs storage.nvme.enabled and pool gpu" in text
    assert "ai-infra:jobs.finetune-example.modelCache: needs namespaces.training.modelCache: true" in text
    ok = settings_for(
        "prod",
        namespaces={"training": {"modelCache": True}},
        models={"qwen-coder": {"namespace": "training"}},
        jobs={"ft": {**PROD_JOB, "scratch": "local-nvme", "modelCache": True}},
    )
    assert ok.jobs["ft"].scratch == "local-nvme"


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"run": "scheduled"}, "schedule: is required when run is scheduled"),
        ({"schedule": "@daily"}, "schedule: applies only when run is scheduled"),
        ({"run": "scheduled", "schedule": "every day"}, "schedule: must be a five-field cron expression"),
        ({"command": []}, "command"),
        ({"gpusPerWorker": 0}, "gpusPerWorker"),
    ],
)
def test_job_fields(job: dict[str, Any], message: str) -> None:
    assert message in _problems("dev", jobs={"finetune-example": job})


def test_a_scheduled_job_is_accepted() -> None:
    s = settings_for("dev", jobs={"finetune-example": {"run": "scheduled", "schedule": "0 3 * * *"}})
    assert s.jobs["finetune-example"].schedule == "0 3 * * *"


def test_the_example_job_follows_the_images_the_stack_builds() -> None:
    # A stack that builds its own list (or has no registry) loses the preset's example, not its plan.
    s = settings_for("dev", registry={"build": ["ollama"]})
    assert s.jobs == {}
    # A job the stack sets itself is validated, not dropped.
    text = _problems("dev", registry={"build": ["ollama"]}, jobs={"finetune-example": {"cpu": "1"}})
    assert "ai-infra:jobs.finetune-example.image: train-light is not built here" in text


def test_a_jobs_token_is_a_referenced_secret() -> None:
    raw = {
        "environment": "dev",
        "cluster": {"eks": {"publicAccessCidrs": ["203.0.113.0/24"]}},
        "jobs": {"finetune-example": {"hfTokenSecret": "trainerToken"}},
    }
    with pytest.raises(SettingsError) as err:
        parse_settings(raw, stack="dev")
    assert "ai-infra:trainerToken: is named in this stack (a model, job" in str(err.value)
    s = parse_settings({**raw, "trainerToken": "[secret]"}, stack="dev", secret_keys=frozenset({"trainerToken"}))
    assert s.job_hf_token_key("finetune-example") == "trainerToken"
    assert settings_for("dev").job_hf_token_key("finetune-example") is None


@pytest.mark.parametrize(
    "schedule",
    ["0 3 * * *", "*/15 * * * *", "5/10 0-6 * * *", "0 0 1-31/2 JAN-mar MON,fri", "0 0 ? * SUN", "@daily", "@midnight"],
)
def test_cron_schedules_kubernetes_accepts(schedule: str) -> None:
    assert cron_problem(schedule) is None
    s = settings_for("dev", jobs={"finetune-example": {"run": "scheduled", "schedule": schedule}})
    assert s.jobs["finetune-example"].schedule == schedule


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("75 26 * * *", "its minute field takes 0-59"),
        ("0 24 * * *", "its hour field takes 0-23"),
        ("0 0 0 * *", "its day-of-month field takes 1-31"),
        ("0 0 * 13 *", "its month field takes 1-12 or JAN-DEC"),
        ("0 0 * * 7", "its day-of-week field takes 0-6 or SUN-SAT"),
        ("0 0 * * FUNDAY", "its day-of-week field takes 0-6"),
        ("*/0 * * * *", "a step (/n) must be a whole number of 1 or more"),
        ("0 0 20-10 * *", "a range a-b must not start after its end"),
        ("0,,5 * * * *", "its minute field takes 0-59"),
        ("0 3 * *", "must be a five-field cron expression"),
        ("@every 1h", "must be a five-field cron expression"),
        ("TZ=UTC 0 3 * * *", "must not set a time zone"),
    ],
)
def test_cron_schedules_out_of_range_are_refused_field_by_field(schedule: str, message: str) -> None:
    problem = cron_problem(schedule)
    assert problem is not None and message in problem
    text = _problems("dev", jobs={"finetune-example": {"run": "scheduled", "schedule": schedule}})
    assert "ai-infra:jobs.finetune-example.schedule" in text and message in text
    assert schedule not in text.replace("TZ=...", "")  # the value is never quoted


def test_a_jobs_model_cache_must_have_something_that_fills_it() -> None:
    """Issue 22 item 11: only fleets' staging Jobs write a namespace's cache; training runs none."""
    text = _problems(
        "prod", namespaces={"training": {"modelCache": True}}, jobs={"ft": {**PROD_JOB, "modelCache": True}}
    )
    assert "ai-infra:jobs.ft.modelCache: namespace training's model cache is never filled" in text
    assert "existingModelsPath" in text


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"run": "scheduled", "schedule": "0 3 * * *", "timeZone": "Mars/Olympus"}, "timeZone: must be an IANA"),
        ({"timeZone": "UTC"}, "timeZone: applies only when run is scheduled"),
        ({"output": {}}, "output.volume: give exactly one of volume"),
        ({"output": {"volume": {}, "s3": {"bucket": "acme-ml", "prefix": "p"}}}, "give exactly one"),
        ({"output": {"s3": {"bucket": "Acme_ML", "prefix": "p"}}}, "output.s3.bucket"),
        ({"output": {"s3": {"bucket": "acme-ml", "prefix": "/p/"}}}, "output.s3.prefix"),
    ],
)
def test_output_and_time_zone_fields(job: dict[str, Any], message: str) -> None:
    assert message in _problems("prod", jobs={"ft": {**PROD_JOB, **job}})


def test_a_scheduled_job_takes_an_iana_time_zone() -> None:
    job = {**PROD_JOB, "run": "scheduled", "schedule": "0 3 * * *", "timeZone": "America/New_York"}
    assert settings_for("prod", jobs={"ft": job}).jobs["ft"].time_zone == "America/New_York"


def test_an_output_needs_storage_that_can_hold_it() -> None:
    volume = {"output": {"volume": {"size": "100Gi"}}}
    no_shared = _problems("dev", storage={"shared": {"backend": "none"}}, namespaces={"models": {"modelCache": False}},
                          models={"qwen-small": {"cache": "ephemeral"}, "qwen-instruct": {"cache": "ephemeral"}},
                          jobs={"finetune-example": volume})  # fmt: skip
    assert "ai-infra:jobs.finetune-example.output.volume: needs a ReadWriteMany class" in no_shared
    assert "quota.pvcs" not in no_shared
    over = _problems("dev", jobs={"finetune-example": {"output": {"volume": {"size": "8Ti"}}}})
    assert "needs more storage than namespaces.training.quota.storage" in over
    existing = {
        "environment": "dev",
        "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k"}},
        "nodePools": {
            "gpu": {"instanceTypes": None, "machine": {"gpus": 2, "gpuModel": "L4", "cpu": 16, "memoryGib": 64}}
        },
        "storage": {"shared": {"backend": "nfs", "nfs": {"server": "nfs.lab", "share": "/x"}}},
        "jobs": {"finetune-example": {"image": DIGEST, "output": {"s3": {"bucket": "acme-ml", "prefix": "p"}}}},
    }
    with pytest.raises(SettingsError) as err:
        parse_settings(existing, stack="local")
    assert "jobs.finetune-example.output.s3: needs cluster.mode aws-eks" in str(err.value)


def test_a_model_cache_nothing_fills_is_a_warning_naming_the_key() -> None:
    s = settings_for("prod", namespaces={"training": {"modelCache": True}})
    (message,) = [m for k, m in s.warnings if k == "namespaces.training.modelCache"]
    assert "nothing fills this cache" in message
    assert not [k for k, _ in settings_for("prod").warnings if k.endswith(".modelCache")]


def test_a_queue_left_no_gpus_by_the_fleets_is_a_warning_naming_its_key() -> None:
    third = {"engine": "ollama", "model": "qwen2.5:0.5b", "pool": "gpu", "cpu": "2", "memory": "8Gi"}
    s = settings_for(
        "dev", models={"third": third}, namespaces={"models": {"quota": {"gpus": 3}}}, jobs={"finetune-example": None}
    )
    warnings = dict(s.warnings)
    assert warnings["batch.queues.train.gpus"].startswith("is 0: pool gpu's fleets hold its whole GPU cap (3)")
    assert "batch.queues.train.gpus" not in dict(settings_for("dev").warnings)
