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
from pathlib import Path

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


def dashboards() -> dict[str, str]:
    """File stem -> dashboard JSON text, sorted by stem (stable ConfigMap order and content)."""
    return {path.stem: canonical(path.read_text()) for path in sorted(DASHBOARD_DIR.glob("*.json"))}
