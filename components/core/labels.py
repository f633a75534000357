"""Standard Kubernetes labels and AWS tags, from one place.

Every object we create carries the ``app.kubernetes.io/*`` recommended labels plus the
platform's cost-allocation labels (``ai-infra.io/env``, ``ai-infra.io/team``), so OpenCost and
policies can attribute and select workloads. Selectors use a minimal, immutable subset because
Deployment selectors cannot change after creation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PART_OF = "ai-infra"
MANAGED_BY = "pulumi"
ENV_LABEL = "ai-infra.io/env"
TEAM_LABEL = "ai-infra.io/team"
POOL_LABEL = "ai-infra.io/pool"
KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
"""The LocalQueue a Job is submitted to (on the Job's metadata, not the pod template):
kubernetes-sigs/kueue site/content/en/docs/tasks/run/jobs.md @ v0.19.2."""
MODEL_CLIENT_LABEL = "ai-infra.io/model-client"
"""A pod in a fleet's own namespace that may call its API carries this label set to ``"true"``
(other namespaces' callers are listed in ``models.<n>.clientNamespaces``)."""

_LABEL_VALUE_INVALID = re.compile(r"[^A-Za-z0-9_.-]+")


def label_value(value: str) -> str:
    """Sanitize ``value`` into a valid label value (≤63 chars, alphanumeric at both ends)."""
    cleaned = _LABEL_VALUE_INVALID.sub("-", value)[:63]
    return cleaned.strip("-_.")


def standard_labels(
    *,
    env: str,
    team: str,
    app: str,
    component: str,
    instance: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full label set for an object: recommended labels, cost labels, then ``extra``."""
    labels = {
        "app.kubernetes.io/name": label_value(app),
        "app.kubernetes.io/instance": label_value(instance or app),
        "app.kubernetes.io/component": label_value(component),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        ENV_LABEL: label_value(env),
        TEAM_LABEL: label_value(team),
    }
    for key, value in (extra or {}).items():
        labels[key] = label_value(value)
    return dict(sorted(labels.items()))


def selector_labels(*, app: str, instance: str | None = None) -> dict[str, str]:
    """The immutable selector subset of :func:`standard_labels`."""
    return {
        "app.kubernetes.io/instance": label_value(instance or app),
        "app.kubernetes.io/name": label_value(app),
    }


def aws_tags(*, env: str, team: str, cost_center: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags for every taggable AWS resource (rule 77: Environment, Owner, CostCenter)."""
    tags = {
        "Environment": env,
        "Owner": team,
        "CostCenter": cost_center,
        "ManagedBy": MANAGED_BY,
        "Project": PART_OF,
    }
    tags.update(extra or {})
    return dict(sorted(tags.items()))
