"""The plan says where claims on an NFS server live and whether deleting one deletes the data (issue 22 item 12)."""

from __future__ import annotations

from typing import Any

from components.core.settings import parse_settings
from planner.summary import storage_lines

NFS = {"server": "nfs.lab", "share": "/exports/ai", "subDir": "platform"}


def _settings(retain: bool, **nfs: Any) -> Any:
    raw = {
        "environment": "dev",
        # What prod's field default is (the dev preset turns it off): the NFS claims' fate follows it.
        "platform": {"retainData": retain},
        "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k"}},
        "nodePools": {
            "gpu": {"instanceTypes": None, "machine": {"gpus": 2, "gpuModel": "L4", "cpu": 32, "memoryGib": 256}}
        },
        "storage": {"shared": {"backend": "nfs", "nfs": NFS | nfs}},
    }
    return parse_settings(raw, stack="local")


def test_dev_says_each_claim_gets_a_directory_that_goes_with_it() -> None:
    (line,) = storage_lines(_settings(retain=False))
    assert "nfs.lab" in line and "/exports/ai/platform/<namespace>/<claim>" in line
    assert "deleted with its contents" in line


def test_retained_data_says_the_directories_are_kept_and_an_existing_path_is_named() -> None:
    lines = storage_lines(_settings(retain=True, existingModelsPath="/exports/weights"))
    assert "kept when its claim is deleted" in lines[0] and "onDelete retain" in lines[0]
    assert "nfs.lab:/exports/weights" in lines[1] and "models" in lines[1]
