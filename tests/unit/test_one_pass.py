"""Every error in one run, with its numbers, never blaming an unset key silently (issue 22 item 9).

The on-prem trial surfaced new errors on each run: a pool whose own rule failed (minSize above
maxSize) stopped validation before the rules across sections (quotas, capacity) ran.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.core.settings import SettingsError, deep_merge, parse_settings
from tests.conftest import stack_file_config


def _local_problems(**overrides: Any) -> dict[str, str]:
    """The on-prem stack file (Pulumi.local.yaml) plus ``overrides``: its problems by key."""
    raw = {k.removeprefix("ai-infra:"): v for k, v in stack_file_config("local").items()}
    with pytest.raises(SettingsError) as info:
        parse_settings(deep_merge(raw, overrides), stack="local")
    return dict(info.value.problems)


def test_pool_bounds_and_the_quota_are_reported_in_one_run() -> None:
    problems = _local_problems(nodePools={"gpu": {"minSize": 3}}, namespaces={"models": {"quota": {"gpus": 1}}})
    assert "is below the 2 GPUs its model fleets need" in problems["ai-infra:namespaces.models.quota.gpus"]
    assert problems["ai-infra:nodePools.gpu.minSize"] == "3 must not exceed maxSize (2)"
    # The fleets and the queue on the dropped pool are not blamed for it.
    assert not [key for key in problems if key.startswith(("ai-infra:models.", "ai-infra:batch."))]


def test_capacity_errors_name_their_numbers_and_the_origin_of_unset_keys() -> None:
    # gpuCap removed from the stack file comes from the dev preset (3): the message says so.
    problems = _local_problems(nodePools={"gpu": {"minSize": 2, "desiredSize": 2, "gpuCap": None}})
    assert problems["ai-infra:nodePools.gpu.gpuCap"] == (
        "3 must allow at least minSize nodes' GPUs: 2 node(s) x 2 GPU(s) = 4; raise gpuCap or lower minSize "
        "[not set in Pulumi.local.yaml: the dev preset's value (3)]"
    )
    bounds = _local_problems(nodePools={"gpu": {"minSize": 3, "gpuCap": 8}})
    assert bounds["ai-infra:nodePools.gpu.desiredSize"] == (
        "0 must be within [minSize, maxSize] = [3, 2] [not set in Pulumi.local.yaml: the default (0)]"
    )
    # A key the stack file sets carries no origin note.
    assert "[not set" not in bounds["ai-infra:nodePools.gpu.minSize"]


def test_a_field_dropped_from_an_entry_raises_no_knock_on_in_that_entry() -> None:
    """Dropping a pool's ``machine`` (its GPU memory disagrees with its model) must not report
    the pool as neither EC2 nor on-prem in the next round."""
    import yaml

    from components.core.settings import SettingsError, parse_settings
    from tests.conftest import ROOT

    config = {
        k.split(":", 1)[1]: v for k, v in yaml.safe_load((ROOT / "Pulumi.local.yaml").read_text())["config"].items()
    }
    config["nodePools"]["gpu"]["machine"]["gpuMemoryGib"] = 24
    try:
        parse_settings(config, stack="local")
    except SettingsError as exc:
        text = str(exc)
    else:
        raise AssertionError("a 24 GiB RTX-A6000 was accepted")
    assert "nodePools.gpu.machine.gpuMemoryGib" in text and "instanceTypes" not in text
