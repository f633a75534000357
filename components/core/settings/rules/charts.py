"""Chart image digests: names the chart runs, digest syntax, every image pinned in prod, and a
warning for the all-zero placeholder (it cannot be pulled)."""

from __future__ import annotations

from components.core.chart_images import CHART_IMAGES, DIGEST, PLACEHOLDER_DIGEST
from components.core.settings.base import Problem
from components.core.settings.root import StackSections


def chart_digest_problems(s: StackSections) -> list[Problem]:
    """Known image names, digest syntax; in prod a digest for every image of every chart installed."""
    problems: list[Problem] = []
    given = {f"addons.{name}.imageDigests": (name, dict(a.image_digests)) for name, a in s.addons.items()}
    given["tailscale.operator.imageDigests"] = ("tailscale-operator", dict(s.tailscale.operator.image_digests))
    for key, (chart, digests) in given.items():
        names = [i.name for i in CHART_IMAGES.get(chart, ())]
        for image_name, digest in digests.items():
            if image_name not in names:
                problems.append((f"{key}.{image_name}", f"is not an image of chart {chart}: one of {names or 'none'}"))
            elif not DIGEST.match(digest):
                problems.append((f"{key}.{image_name}", "must be a digest: sha256: and 64 hex digits"))
    for chart, (key, digests) in s.chart_digest_keys.items():
        problems += s.missing_chart_digests(chart, key, digests)
    return problems


def placeholder_digest_warnings(s: StackSections) -> list[Problem]:
    """A digest left at the all-zero placeholder plans, but its image cannot be pulled."""
    found: list[Problem] = []
    for chart, (key, digests) in s.chart_digest_keys.items():
        for image, digest in sorted(digests.items()):
            if digest == PLACEHOLDER_DIGEST:
                found.append(
                    (
                        f"{key}.{image}",
                        f"is the all-zero placeholder: replace it with the real digest of {chart}'s {image} "
                        "image before `pulumi up` (a placeholder cannot be pulled)",
                    )
                )
    return found
