"""The add-ons section: per chart, whether the program installs it and the image digests it runs by.

Which charts exist, and which images each runs, is the chart lockfile's (``policies/charts.json``,
loaded by ``components/core/charts.py`` and ``chart_images.py``). Digest rules (known image names,
prod pins every image) are ``rules/charts.py``'s.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from components.core.charts import ADDON_CHARTS
from components.core.settings.base import Settings

AddonName = Literal[ADDON_CHARTS]  # type: ignore[valid-type]
"""The charts a cluster may already run (the lockfile's ``preinstallable`` ones), by chart name."""


class AddonSettings(Settings):
    install: bool = True
    """False: the cluster already runs this operator (its CRDs included), so the program installs
    no chart for it but still creates its own objects for it (ServiceMonitors, queues...)."""
    image_digests: dict[str, str] = Field(default_factory=dict)
    """Image name (``components/core/chart_images.py``) -> ``sha256:...`` the chart runs it by;
    required in prod for every image listed there."""
