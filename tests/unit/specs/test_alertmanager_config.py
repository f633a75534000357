"""``alertmanager_config``: each receiver with its own integration, checked by amtool.

amtool (Debian's ``prometheus-alertmanager``, installed by ``.ci/install-promtool.sh``) validates
the rendered file as Alertmanager loads it; without amtool the check skips visibly, and fails
under CI (``CI`` set) like the promtool tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.specs.alerts import alert_rule_groups
from components.specs.monitoring import SLACK_TEXT, alertmanager_config

RECEIVERS = {
    "chat": ("https://hooks.slack.com/services/T000/B000/XXXX", ["warning"], "slack"),
    "pager": ("0123456789abcdef0123456789abcdef", ["critical"], "pagerduty"),
    "relay": ("https://relay.example.com/alerts", ["critical", "warning"], "webhook"),
}


def amtool_path() -> str:
    path = shutil.which("amtool")
    if path:
        return path
    message = (
        "amtool not installed: run .ci/install-promtool.sh (Debian/Ubuntu prometheus-alertmanager) "
        "or put Alertmanager's amtool on PATH"
    )
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{message}; CI is set, so the amtool check may not be skipped")
    pytest.skip(message)


def test_each_receiver_type_uses_its_own_integration() -> None:
    config = yaml.safe_load(alertmanager_config(RECEIVERS))
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["chat"] == {
        "name": "chat",
        "slack_configs": [{"api_url": RECEIVERS["chat"][0], "send_resolved": True, "text": SLACK_TEXT}],
    }
    assert receivers["pager"] == {
        "name": "pager",
        "pagerduty_configs": [{"routing_key": RECEIVERS["pager"][0], "send_resolved": True}],
    }
    assert receivers["relay"] == {
        "name": "relay",
        "webhook_configs": [{"url": RECEIVERS["relay"][0], "send_resolved": True}],
    }


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        alertmanager_config({"x": ("https://a.example", ["critical"], "email")})


def test_amtool_accepts_the_rendered_config(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yaml"
    path.write_text(alertmanager_config(RECEIVERS))
    result = subprocess.run(
        [amtool_path(), "check-config", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"amtool check-config:\n{result.stdout}\n{result.stderr}"


def test_a_slack_page_carries_each_alerts_description_and_runbook(tmp_path: Path) -> None:
    """Issue 21 item 11: the annotations reach the receiver. amtool renders our Slack text as
    Alertmanager does, on one of our own alerts with a runbook base URL."""
    groups = alert_rule_groups(
        engines=("vllm",),
        ttft_p95_seconds=2.5,
        gpu_idle_hours=2,
        env="prod",
        runbook_base_url="https://runbooks.example.com/ai",
    )
    rule = groups[0]["rules"][0]
    data = {
        "receiver": "chat",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": {"alertname": rule["alert"]}, "annotations": rule["annotations"]}],
        "groupLabels": {"alertname": rule["alert"]},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager",
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    (tmp_path / "none.tmpl").write_text("")
    result = subprocess.run(
        [
            amtool_path(), "template", "render", f"--template.glob={tmp_path / 'none.tmpl'}",
            f"--template.text={SLACK_TEXT}", f"--template.data={tmp_path / 'data.json'}",
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert rule["annotations"]["summary"] in text and rule["annotations"]["description"] in text
    assert f"Runbook: https://runbooks.example.com/ai#{rule['alert'].lower()}" in text
