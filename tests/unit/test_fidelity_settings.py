"""Regression tests for the settings side of the fidelity fixes (commit bc2e265): the rules and
warnings that keep a stack away from configurations upstream does not support (sources in
docs/research/upstream.md)."""

from __future__ import annotations

from typing import Any

import pytest

from components.core.settings import SettingsError, deep_merge, parse_settings
from tests.conftest import DEV_CIDRS, settings_for

BOTTLEROCKET = "BOTTLEROCKET_x86_64_NVIDIA"


def _problems(env: str, **overrides: Any) -> dict[str, str]:
    """Every problem ``settings_for(env, **overrides)`` reports, by key path."""
    with pytest.raises(SettingsError) as info:
        settings_for(env, **overrides)
    return dict(info.value.problems)


# -- 3. Auto Scaling service-linked role: opt-in -------------------------------------------------


def test_autoscaling_service_linked_role_is_opt_in() -> None:
    # AWS KMS API reference (CreateKey/PutKeyPolicy): the key policy's principals must exist
    # (upstream.md §2j); creating the role fails where it exists, so only fresh accounts ask.
    default = settings_for("prod").cluster.eks
    assert default is not None and default.create_autoscaling_service_linked_role is False
    on = settings_for("prod", cluster={"eks": {"createAutoscalingServiceLinkedRole": True}})
    assert on.cluster.eks is not None and on.cluster.eks.create_autoscaling_service_linked_role is True


# -- 5. One GPU model per pool (the accelerator label names it) ------------------------------------


def test_pool_mixing_gpu_models_is_rejected_naming_both() -> None:
    # kubernetes/autoscaler cloudprovider/aws GPULabel (upstream.md §2c): the pool's
    # k8s.amazonaws.com/accelerator label must be true of every node, so one model per pool.
    problems = _problems("dev", nodePools={"gpu": {"instanceTypes": ["g5.xlarge", "g6.xlarge"]}})
    message = problems["ai-infra:nodePools.gpu.instanceTypes"]
    assert "A10G" in message and "L4" in message
    # Sizes of one model still mix (the dev preset's own pool).
    assert settings_for("dev", nodePools={"gpu": {"instanceTypes": ["g6.xlarge", "g6.2xlarge"]}})


# -- 6. Bottlerocket pools: no sharing, no gpu-operator ---------------------------------------------


def test_bottlerocket_pool_rejects_gpu_sharing() -> None:
    # bottlerocket-os/bottlerocket QUICKSTART-EKS.md (upstream.md §2i): the host's device plugin
    # is configured by Bottlerocket settings, not by our chart's sharing config.
    pool = {"amiType": BOTTLEROCKET, "sharing": {"mode": "time-slicing", "replicas": 4}}
    problems = _problems("dev", nodePools={"gpu": pool})
    assert "Bottlerocket" in problems["ai-infra:nodePools.gpu.sharing.mode"]
    assert settings_for("dev", nodePools={"gpu": {"amiType": BOTTLEROCKET}}).node_pools["gpu"].host_device_plugin


def test_gpu_operator_is_rejected_when_any_pool_is_bottlerocket() -> None:
    # Same source: the operator would add a second device plugin next to the host's.
    problems = _problems("prod", nodePools={"serving": {"amiType": BOTTLEROCKET}}, gpu={"stack": "gpu-operator"})
    assert "serving" in problems["ai-infra:gpu.stack"] and "training" not in problems["ai-infra:gpu.stack"]
    assert settings_for("prod", gpu={"stack": "gpu-operator"}).gpu.stack == "gpu-operator"


# -- 9. Documentation-only public access CIDRs warn --------------------------------------------------


@pytest.mark.parametrize(
    ("cidrs", "warns"),
    [
        (["203.0.113.0/24"], True),
        (["192.0.2.0/25", "198.51.100.7/32", "2001:db8::/48"], True),
        (["203.0.113.0/24", "52.94.76.0/22"], False),  # one real range is enough
        (["198.18.0.0/15"], False),  # benchmarking (RFC 2544), not documentation
    ],
)
def test_documentation_only_public_access_cidrs_warn(cidrs: list[str], warns: bool) -> None:
    # RFC 5737 / RFC 3849: documentation ranges are never routed, so such an allowlist admits nobody.
    settings = parse_settings(
        deep_merge({"environment": "dev"}, {"cluster": {"eks": {"publicAccessCidrs": cidrs}}}), stack="dev"
    )
    keys = [key for key, _ in settings.warnings if key.startswith("cluster.")]
    assert keys == (["cluster.eks.publicAccessCidrs"] if warns else [])


def test_private_endpoint_never_warns_about_cidrs() -> None:
    assert settings_for("prod").warnings == []  # prod also runs monitoring: no warning at all
    assert settings_for("dev").warnings and DEV_CIDRS["cluster"]["eks"]["publicAccessCidrs"] == ["203.0.113.0/24"]
