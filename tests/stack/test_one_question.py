"""The program asks "prod or dev?" and "EKS or existing?" in one place each (issue 24 item 1).

Environment differences are settings fields (the presets set them); the cluster's kind is asked
only by the cluster target modules. This test reads the program's sources and fails on a
question asked anywhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

ALLOWED = (
    "components/core/settings/",
    "components/core/presets.py",
    # The cluster targets: the one branch (cluster.py) and the two answers.
    "stack/cluster.py",
    "stack/eks.py",
    "stack/existing.py",
)

QUESTIONS = {
    "is_prod": re.compile(r"\bis_prod\b"),
    "environment compared": re.compile(r"\benvironment\b[^\n]*(==|!=)|Environment\.(PROD|DEV)\b"),
    "environment name compared": re.compile(r"(==|!=)\s*[\"'](prod|dev)[\"']|[\"'](prod|dev)[\"']\s*(==|!=)"),
    "on_aws": re.compile(r"\bon_aws\b"),
    "mode compared": re.compile(r"\bmode\s*(==|!=)\s*[\"'](aws-eks|eks|existing)[\"']"),
    "eks/existing section tested": re.compile(r"\.(eks|existing|aws)\s+is\s+(not\s+)?None"),
    "isinstance on cluster types": re.compile(r"isinstance\([^)]*\b(Eks\w*|Existing\w*)\b"),
}

PROGRAM = sorted(
    p
    for p in [ROOT / "__main__.py", *(ROOT / "stack").rglob("*.py"), *(ROOT / "components").rglob("*.py")]
    if not str(p.relative_to(ROOT)).startswith(ALLOWED)
)


def questions_in(text: str) -> list[str]:
    return [name for name, pattern in QUESTIONS.items() if pattern.search(text)]


@pytest.mark.parametrize("path", PROGRAM, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_environment_or_cluster_kind_question_outside_its_home(path: Path) -> None:
    lines = [f"{i}: {line.strip()}" for i, line in enumerate(path.read_text().splitlines(), 1) if questions_in(line)]
    assert lines == [], "ask the settings (a field the preset sets) or the cluster target instead"


@pytest.mark.parametrize(
    "line",
    [
        "retain=s.is_prod,",
        "if s.on_aws:",
        'if s.cluster.mode == "existing":',
        "if s.cluster.eks is None:",
        "if c.aws is not None:",
        "isinstance(cluster, EksSettings)",
        "if settings.environment == Environment.PROD:",
        'severity = "critical" if env == "prod" else "warning"',
    ],
)
def test_the_check_sees_each_kind_of_question(line: str) -> None:
    assert questions_in(line)


def test_the_check_lets_plain_code_through() -> None:
    assert questions_in("retain=s.platform.retain_data, selector=ctx.system_node_selector") == []
