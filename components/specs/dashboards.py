"""Grafana dashboards of the platform, as JSON text for ConfigMaps the Grafana sidecar loads.

What: ``dashboards/*.json`` next to this module: ``gpu-fleet`` (GPU utilisation, memory, power
and health by pool and by pod), ``model-serving`` (vLLM load, queueing, time to first token,
throughput, KV cache; replicas of every model runner) and ``cost`` (GPU-hours by namespace and
pool, list-price $/h by pool). They read the recording rules of ``recording_rules.py`` for anything that
joins GPUs or prices to node pools, so the join logic lives once, under promtool tests.

Why files rather than builders: dashboards are edited in Grafana and exported; keeping the JSON
as data makes that round trip a file copy. Each file is kept in canonical form (sorted keys,
two-space indent) so what is reviewed is byte for byte what is deployed. Every dashboard picks
its Prometheus through the ``datasource`` template variable (``${datasource}``), so no data
source uid is baked in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from components.core.engines import ENGINES, VLLM, Engine
from components.specs.alerts import model_runner_name_regex

DASHBOARD_DIR = Path(__file__).with_name("dashboards")

DCGM_EXPORTER_NAMESPACE = "gpu-system"
"""Where both DCGM exporters run (standalone chart or the GPU operator's). dcgm-exporter sets
``pod``/``namespace`` only for GPUs mapped to a pod; an unallocated GPU keeps the scrape target's
own labels (prometheus-operator adds the exporter pod's), so per-pod panels must drop this
namespace or idle GPUs show up as the exporter's pod."""

DASHBOARD_LABEL = ("grafana_dashboard", "1")
"""The label (key, value) kube-prometheus-stack's Grafana sidecar loads dashboard ConfigMaps by:
``grafana.sidecar.dashboards.label`` / ``labelValue`` defaults in kube-prometheus-stack 88.5.3."""


def canonical(text: str) -> str:
    """``text`` as the canonical JSON the files are stored in (and deployed as)."""
    return json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


SERVING = "model-serving"
"""The serving dashboard, exported from Grafana for ``TEMPLATE_ENGINE``'s metrics."""
TEMPLATE_ENGINE = VLLM
RUNNER_REGEX = re.compile(r"\([a-z|]+\)-\.\+")
"""The model-runner workload regex in the exported file (``(ollama|vllm)-.+``), replaced by
``model_runner_name_regex()`` so the replicas panel covers every registered engine."""
_METRIC = re.compile(r"[a-z]+:[a-z0-9_]+")
_QUERY_KEYS = ("expr", "query", "definition")


def dashboards(engines: tuple[str, ...] = ()) -> dict[str, str]:
    """File stem -> dashboard JSON text, sorted by stem (stable ConfigMap order and content):
    the files, plus ``model-serving-<engine>`` for each of ``engines`` (the fleets' engines) that
    exports metrics and is not the template's."""
    boards = {path.stem: _render(path.read_text()) for path in sorted(DASHBOARD_DIR.glob("*.json"))}
    for name in engines:
        engine = ENGINES[name]
        if engine.metrics and engine is not TEMPLATE_ENGINE:
            boards[f"{SERVING}-{name}"] = canonical(json.dumps(engine_dashboard(boards[SERVING], engine)))
    return dict(sorted(boards.items()))


def _render(text: str) -> str:
    return canonical(RUNNER_REGEX.sub(lambda _: model_runner_name_regex(), text))


def engine_dashboard(template: str, engine: Engine) -> dict[str, Any]:
    """``model-serving`` redrawn for ``engine``: each template metric swapped for the metric of the
    same role (``EngineMetrics.dashboard``); a panel reading a role the engine lacks is left out."""
    assert engine.metrics is not None and TEMPLATE_ENGINE.metrics is not None
    roles = {metric: role for role, metric in TEMPLATE_ENGINE.metrics.dashboard.items()}
    mapping = {metric: engine.metrics.dashboard.get(role) for metric, role in roles.items()}
    board = json.loads(template)

    def swap(text: str) -> str | None:
        # A template-engine metric without a role here, or whose role the engine lacks: drop.
        found = [m for m in _METRIC.findall(text) if m.startswith(f"{TEMPLATE_ENGINE.name}:")]
        if any(mapping.get(m) is None for m in found):
            return None
        return _METRIC.sub(lambda m: mapping.get(m.group(0)) or m.group(0), text)

    def translate(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key in _QUERY_KEYS and isinstance(value, str):
                    swapped = swap(value)
                    if swapped is None:
                        return None
                    out[key] = swapped
                else:
                    out[key] = translate(value)
            return out
        if isinstance(node, list):
            return [t for t in (translate(v) for v in node) if t is not None]
        if isinstance(node, str):
            return node.replace(TEMPLATE_ENGINE.label, engine.label).replace(TEMPLATE_ENGINE.title, engine.title)
        return node

    out: dict[str, Any] = translate(board)
    out["panels"] = [p for p in out["panels"] if p.get("type") == "row" or p.get("targets")]
    out["uid"] = f"{board['uid']}-{engine.name}"
    out["title"] = f"{board['title']} ({engine.label})"
    return out
