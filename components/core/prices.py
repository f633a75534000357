"""List prices the cost report multiplies, per AWS region the platform allows, with their dates.

On-demand prices (Linux, USD per hour) come from two independent reads of the AWS Price List:

* ``aws/karpenter-provider-aws`` ``pkg/providers/pricing/zz_generated.pricing_aws.go`` (generated
  2026-01-19T13:23:24Z from the Price List API for us-east-1; commit 031e72b6);
* instances.vantage.sh's per-region data as transcribed on 2026-01-21 in ``tsaol/aws-gpu``
  ``data/<family>_instances.js`` (commit 77fcd9f), which lists every region.

They agree on every GPU type below for us-east-1, and the vantage data shows us-east-1, us-east-2
and us-west-2 at the same price for each of them (p4de is not offered in us-east-2). The m7i
system types are from the Karpenter file (us-east-1); that us-east-2 and us-west-2 charge the same
is an estimate (AWS prices the three US regions alike for m7i, not re-read here). EKS, NAT gateway,
EFS and gp3 are in ``docs/research/monitoring.md`` §7 (the same in the three US regions).

A region outside ``REGIONS`` is refused by the settings (``cluster.eks.region``) rather than
priced wrongly: other regions charge 10-40 % more (eu-central-1's g6.xlarge is 1.0064 against
0.8048). To allow one, add its row here with its source.

Spot prices move hourly; the report uses one discount per GPU family (``SPOT_PRICE_FRACTION``),
an *estimate*, with the date it was set. They are planning figures, not billing.
"""

from __future__ import annotations

from components.core.gpu_instances import GPU_INSTANCES

HOURS_PER_MONTH = 730
"""AWS's convention for monthly prices (365 × 24 / 12)."""

PRICES_AS_OF = "2026-01-19"
"""When the on-demand list prices were read (the Price List API's generation date above)."""
SPOT_AS_OF = "2026-12-07"
"""When the spot fractions were set (estimates; see ``SPOT_PRICE_FRACTION``)."""

REGIONS: tuple[str, ...] = ("us-east-1", "us-east-2", "us-west-2")
"""The regions the platform allows (``cluster.eks.region``): those whose prices are below."""

EKS_CLUSTER_USD_HOUR = 0.10
"""An EKS cluster in standard support (extended support costs 0.60)."""
NAT_GATEWAY_USD_HOUR = 0.045
"""Per NAT gateway-hour; data processed (0.045/GB) is traffic, not capacity, and not estimated."""
GP3_USD_GB_MONTH = 0.08
EFS_STANDARD_USD_GB_MONTH = 0.30
"""EFS Standard storage; the model cache is estimated at its full requested size (an upper bound)."""

SYSTEM_INSTANCES_USD_HOUR = {
    "m7i.large": 0.1008,
    "m7i.xlarge": 0.2016,
    "m7i.2xlarge": 0.4032,
    "m7i.4xlarge": 0.8064,
}
"""On-demand prices of the system pool types (Karpenter's us-east-1 list, 2026-01-19)."""
SYSTEM_INSTANCES_SHAPE = {
    "m7i.large": (2, 8),
    "m7i.xlarge": (4, 16),
    "m7i.2xlarge": (8, 32),
    "m7i.4xlarge": (16, 64),
}
"""(vCPUs, memory GiB) of the system pool types, to pack the system pods onto nodes."""

_NOT_OFFERED = {"us-east-2": frozenset({"p4de.24xlarge"})}
"""Types the Price List has no on-demand price for in a region (not offered there)."""

ON_DEMAND_USD_HOUR: dict[str, dict[str, float]] = {
    region: {
        **{n: i.on_demand_usd_hour for n, i in GPU_INSTANCES.items() if n not in _NOT_OFFERED.get(region, ())},
        **SYSTEM_INSTANCES_USD_HOUR,
    }
    for region in REGIONS
}
"""Region -> instance type -> on-demand USD/h (the GPU catalogue's prices are these US prices)."""

SPOT_PRICE_FRACTION: dict[str, float] = {
    # Estimates (no spot price history is in the stored sources): what a spot node costs as a
    # fraction of on-demand, set 2026-12-07 from the spread AWS's Spot Instance Advisor shows for
    # GPU families (older, plentiful families are cheapest; the newest, scarcest ones discount
    # least). Re-check at https://aws.amazon.com/ec2/spot/instance-advisor/ for the stack's region.
    "g4dn": 0.40,
    "g5": 0.45,
    "g6": 0.55,
    "g6e": 0.60,
    "p4d": 0.55,
    "p4de": 0.60,
    "p5": 0.65,
    "p5e": 0.70,
}
"""GPU family -> spot price as a fraction of on-demand (estimates, ``SPOT_AS_OF``)."""


def on_demand_price(instance_type: str, region: str) -> float | None:
    """USD/h on demand in ``region``; None when the region does not offer the type (or is not allowed)."""
    return ON_DEMAND_USD_HOUR.get(region, {}).get(instance_type)


def spot_fraction(instance_type: str) -> float:
    """Spot price as a fraction of on-demand for the type's family (1.0 for unknown families)."""
    return SPOT_PRICE_FRACTION.get(instance_type.split(".", 1)[0], 1.0)


def hourly_price(instance_type: str, capacity_type: str, region: str) -> float:
    """Estimated USD per hour of one node of ``instance_type`` in ``region`` and ``capacity_type``."""
    price = on_demand_price(instance_type, region) or 0.0
    return round(price * spot_fraction(instance_type), 4) if capacity_type == "SPOT" else price


def pricing_note() -> str:
    """The line the cost report and the summary print about where the prices come from."""
    return (
        f"AWS on-demand list prices of {PRICES_AS_OF} (Price List API via Karpenter's table, checked against "
        f"instances.vantage.sh); spot at a per-family estimate of {SPOT_AS_OF}"
    )
