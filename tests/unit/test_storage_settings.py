"""Storage and namespace settings (``settings/storage.py``) and the storage rules across sections
(``settings/rules/storage.py``)."""

from __future__ import annotations

from tests.conftest import DEV_CIDRS, settings_for
from tests.unit.settings_problems import machine_stack
from tests.unit.settings_problems import stack_problems as _problems


def test_storage_rules() -> None:
    nfs_without_server = {"environment": "dev", **DEV_CIDRS, "storage": {"shared": {"backend": "nfs"}}}
    assert "server and share" in _problems(nfs_without_server)["ai-infra:storage.shared.nfs"]
    nvme_without_pool = {"environment": "dev", **DEV_CIDRS, "storage": {"nvme": {"enabled": True}}}
    assert "local-pv" in _problems(nvme_without_pool)["ai-infra:storage.nvme.enabled"]
    unknown_class = {"environment": "dev", **DEV_CIDRS, "storage": {"modelCacheClass": "fast-ssd"}}
    assert "shared-models" in _problems(unknown_class)["ai-infra:storage.modelCacheClass"]
    no_shared = {"environment": "dev", **DEV_CIDRS, "storage": {"shared": {"backend": "none"}}}
    assert "ai-infra:storage.modelCacheClass" in _problems(no_shared)
    no_nvme_disks = {
        "environment": "dev",
        **DEV_CIDRS,
        "nodePools": {"gpu": {"instanceTypes": ["p5.48xlarge"], "nvme": "raid0", "gpuCap": 8}, "x": None},
    }
    settings_for("dev", nodePools=no_nvme_disks["nodePools"])


def test_replicated_fleets_need_a_read_write_many_cache() -> None:
    rwo = {
        "environment": "dev",
        **DEV_CIDRS,
        "storage": {"modelCacheClass": "gp3"},
        "models": {
            "qwen": {
                "engine": "vllm",
                "model": "Qwen/Qwen2.5-0.5B-Instruct",
                "pool": "gpu",
                "replicas": {"min": 1, "max": 3},
            }
        },
    }
    assert "ReadWriteOnce" in _problems(rwo)["ai-infra:storage.modelCacheClass"]


def test_an_existing_models_path_needs_the_nfs_backend_and_the_shared_class() -> None:
    nfs = {"server": "nfs.lab", "share": "/exports/ai", "existingModelsPath": "/exports/weights"}
    efs = {"environment": "dev", **DEV_CIDRS, "storage": {"shared": {"backend": "efs", "nfs": nfs}}}
    assert "backend is nfs" in _problems(efs)["ai-infra:storage.shared.nfs.existingModelsPath"]
    raw = machine_stack(gpuModel="L4") | {
        "storage": {
            "shared": {"backend": "nfs", "nfs": nfs},
            "modelCacheClass": "local-nvme",
            "nvme": {"enabled": True},
        },
        "namespaces": {"models": {"modelCache": True}},
    }
    problems = _problems(raw)
    assert "must be shared-models" in problems["ai-infra:storage.shared.nfs.existingModelsPath"]
    bad = machine_stack(gpuModel="L4") | {
        "storage": {"shared": {"backend": "nfs", "nfs": nfs | {"existingModelsPath": "w"}}}
    }
    assert "ai-infra:storage.shared.nfs.existingModelsPath" in _problems(bad)
