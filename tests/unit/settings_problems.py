"""Helpers the settings tests share: the problems a raw stack config is refused with, by key path,
and a stack on an existing cluster's machines."""

from __future__ import annotations

from typing import Any

import pytest

from components.core.settings import SettingsError, parse_settings


def stack_problems(
    raw: dict[str, Any], stack: str = "dev", secret_keys: frozenset[str] = frozenset()
) -> dict[str, str]:
    """``raw`` parsed as stack ``stack``: every problem (the error names ``Pulumi.<stack>.yaml``)."""
    with pytest.raises(SettingsError) as info:
        parse_settings(raw, stack=stack, secret_keys=secret_keys)
    assert info.value.stack_file == f"Pulumi.{stack}.yaml"
    assert f"Pulumi.{stack}.yaml" in str(info.value)
    return dict(info.value.problems)


def machine_stack(**machine: object) -> dict[str, Any]:
    """A dev stack on an existing cluster whose pool is one machine (2 GPUs, 32 CPU, 256 GiB) plus ``machine``."""
    base = {"gpus": 2, "cpu": 32, "memoryGib": 256}
    return {
        "environment": "dev",
        "cluster": {"mode": "existing", "existing": {"kubeconfig": "/k"}},
        "nodePools": {"gpu": {"instanceTypes": None, "machine": base | machine}},
        "namespaces": {"models": {"modelCache": False}},
        "models": {"qwen-small": {"cache": "ephemeral"}, "qwen-instruct": {"cache": "ephemeral"}},
    }
