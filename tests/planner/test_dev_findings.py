"""The default dev stack plans clean: its one finding is the placeholder CIDR day one replaces.

``test_plan_cli`` holds the plan equal to ``tests/snapshots/dev/summary.txt``; this test holds that
snapshot to "no other findings" (issue 22), so a new warning or advisory in the default dev stack
fails here, not only as a snapshot diff someone refreshes. The gateway's endpoint picker used to be
the one advisory (run by its tag); it now runs by the release's digest (``gateway.PICKER_DIGEST``).
"""

from __future__ import annotations

from components.core.settings import parse_settings
from components.core.settings.loader import deep_merge
from planner.summary import fix_key
from tests.conftest import ROOT, stack_file_config


def test_the_default_dev_plan_has_no_finding_but_the_day_one_cidr() -> None:
    summary = (ROOT / "tests" / "snapshots" / "dev" / "summary.txt").read_text().splitlines()
    warnings = [line for line in summary if line.startswith("Warning:")]
    assert warnings == [
        "Warning: ai-infra:cluster.eks.publicAccessCidrs: lists only documentation ranges (RFC 5737/3849/9637): "
        "nobody can reach the API endpoint; put your own egress CIDRs here"
    ]
    assert "Policy violations: 0 mandatory, 0 advisory" in summary
    assert not [line for line in summary if line.startswith("  ! [")]


def test_day_one_step_one_leaves_the_settings_without_a_warning() -> None:
    # README "Day one", step 1: the stack file with your own egress CIDR in publicAccessCidrs.
    raw = {k.removeprefix("ai-infra:"): v for k, v in stack_file_config("dev").items()}
    raw["cluster"] = deep_merge(raw["cluster"], {"eks": {"publicAccessCidrs": ["52.94.76.0/22"]}})
    assert list(parse_settings(raw, stack="dev-alice").warnings) == []


def test_a_gateway_pickers_image_finding_names_the_gateway_key() -> None:
    assert fix_key("k8s-image-digest-pinned", "gateway-vllm-qwen-instruct-epp-deployment") == (
        "ai-infra:gateway.pickerDigest"
    )
    # A fleet's image is the registry's or modelImages', as before.
    assert fix_key("k8s-image-digest-pinned", "model-qwen-small-deployment") == (
        "ai-infra:registry.build / modelImages (name@sha256:...)"
    )
    assert fix_key("k8s-namespace-default-deny", "gateway-x") == "ai-infra:namespaces"
