"""The images third-party charts run, and how a stack pins them by digest.

Charts run their images by tag, and a tag can be moved. Prod pins each image a chart runs by the
digest the stack supplies (``addons.<chart>.imageDigests.<image>: sha256:...``); nothing here can
look a digest up (no registry is reachable offline), so the settings require them in prod and the
plan warns about the all-zero placeholders ``Pulumi.prod.yaml`` carries until they are replaced
(``crane digest <repository>:<tag>`` prints one). How a chart takes a digest differs (``style``):
a ``digest`` key (the whole ``sha256:...``), a ``sha`` key holding only the hex (rendered
``:tag@sha256:<hex>``), a tag rendered ``repository:tag`` where a tag of ``<tag>@sha256:...``
makes the reference digest-pinned (the runtime pulls by the digest), or one value that is the
whole image reference.

The rows are data in the chart lockfile ``policies/charts.json`` (each chart's ``images``, read
from its ``values.yaml`` and templates at the pinned version, the upstream source on each row);
this module keeps the logic: the images that run only with some settings (``RUNS``) and where a
digest goes (``digest_values``). A test keeps the repositories and tags equal to the charts'
defaults (or to the newer patch we pin, for the autoscaler). ``CHART_PINNED`` (the lockfile's
``pinnedImages``) lists images whose chart already runs them by digest; images a chart can run
that are not in either table are the README's exceptions ("Chart images by digest").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from components.core.charts import LOCKED, LOCKFILE_NAME, LockedImage

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64


@dataclass(frozen=True)
class ChartImage(LockedImage):
    """A lockfile image row with what only code can say: when it runs, where its digest goes."""

    runs: Callable[[Any], bool] | None = None
    """Whether a stack's settings run this image (None: whenever the chart is installed); prod
    requires digests only for the images that run."""

    @property
    def leaf(self) -> tuple[str, ...]:
        """The full values path the digest is written to."""
        return self.path if self.style == "reference" else (*self.path, self.key or self.style)


RUNS: Mapping[tuple[str, str], Callable[[Any], bool]] = {
    # Which gpu-operator operands run follows our values (specs/helm_values.gpu_operator_values):
    # DCGM exporter only when monitored, MIG manager only with a MIG pool, the driver, its manager
    # and the toolkit only off the EKS accelerated AMIs (which ship them).
    ("gpu-operator", "dcgm-exporter"): lambda s: s.monitoring.enabled and s.monitoring.dcgm,
    ("gpu-operator", "mig-manager"): lambda s: any(p.sharing.mode == "mig" for p in s.node_pools.values()),
    ("gpu-operator", "driver"): lambda s: not s.gpu_driver_on_nodes,
    ("gpu-operator", "driver-manager"): lambda s: not s.gpu_driver_on_nodes,
    ("gpu-operator", "toolkit"): lambda s: not s.gpu_driver_on_nodes,
}
"""The images that run only with some settings, by (chart, image): logic, so it stays here; every
other image runs whenever its chart is installed (a plain add-on never needs an entry)."""

_UNKNOWN_RUNS = sorted(set(RUNS) - {(c, i.name) for c, e in LOCKED.items() for i in e.images})
if _UNKNOWN_RUNS:
    # A renamed or removed image would otherwise silently become required whenever its chart runs.
    raise LookupError(f"chart_images.RUNS names images {LOCKFILE_NAME} does not list: {_UNKNOWN_RUNS}")

CHART_IMAGES: Mapping[str, tuple[ChartImage, ...]] = {
    name: tuple(
        ChartImage(i.name, i.repository, i.path, i.style, i.default_tag, i.key, runs=RUNS.get((name, i.name)))
        for i in entry.images
    )
    for name, entry in LOCKED.items()
    if entry.images
}
"""The images each chart runs that a stack pins by digest (charts with none are left out)."""

CHART_PINNED: Mapping[str, Mapping[str, str]] = {
    name: entry.pinned_images for name, entry in LOCKED.items() if entry.pinned_images
}
"""Images whose chart default is already a digest: nothing for the stack to supply."""


def _at(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(values, Mapping):
            return None
        values = values.get(key)  # type: ignore[assignment]
    return values


def digest_values(chart: str, digests: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that pin ``chart``'s images to ``digests`` (merged over ``values``, whose tag
    a ``tag``-style image keeps in front of its digest)."""
    out: dict[str, Any] = {}
    for image in CHART_IMAGES.get(chart, ()):
        digest = digests.get(image.name)
        if digest is None:
            continue
        *parents, leaf = image.leaf
        block = out
        for key in parents:
            block = block.setdefault(key, {})
        if image.style == "digest":
            block[leaf] = digest
        elif image.style == "sha":
            block[leaf] = digest.removeprefix("sha256:")
        elif image.style == "reference":
            block[leaf] = f"{image.repository}:{image.default_tag}@{digest}"
        else:
            tag = (_at(values, image.path) or {}).get(leaf) or image.default_tag
            block[leaf] = f"{tag}@{digest}"
    return out
