"""List prices the cost report multiplies: everything except the GPU instances' own prices.

GPU instance prices live with their catalogue (``gpu_instances.py``). These are AWS on-demand
list prices in USD for us-east-1 (us-west-2 is the same for every line here), read on the AWS
pricing pages in November 2026 (sources in ``docs/research/monitoring.md`` §7). They are planning
figures, not billing: re-check them before trusting a budget to the cent.
"""

from __future__ import annotations

HOURS_PER_MONTH = 730
"""AWS's convention for monthly prices (365 × 24 / 12)."""

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
"""On-demand prices of the system pool types the presets use (m7i scales linearly with size)."""
