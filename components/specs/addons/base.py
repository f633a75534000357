"""``AddOn``: one system add-on as data — its charts, namespace, Pod Security level, when it runs,
its NetworkPolicy allows and, for a plain Helm add-on, its values and component type token.

Every system namespace is one record (``components/specs/addons/__init__.py`` defines those with
components of their own and finds every module exporting ``ADDON``); the namespaces, their Pod
Security levels, the system NetworkPolicies, the chart allowlist test and the program's generic
Helm add-on layer iterate that one list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.core.charts import ADDON_CHARTS, Chart
from components.specs.namespace import PodSecurityLevel
from components.specs.system_network import PolicyBuilder

if TYPE_CHECKING:
    from components.core.settings import StackSettings


@dataclass(frozen=True, kw_only=True)
class ValuesInputs:
    """What a Helm add-on's values builder may read besides the settings."""

    settings: StackSettings
    service_monitor: bool
    """The monitoring stack runs (ServiceMonitor CRDs exist): ship the chart's monitors."""
    system_node_selector: Mapping[str, str] | None
    """Where system controllers run (the EKS system pool); None: anywhere."""


@dataclass(frozen=True, kw_only=True)
class HelmRelease:
    """How the generic ``HelmAddOn`` component installs a plain Helm add-on."""

    type_token: str
    """The component's type token (``ai-infra:<area>:<Noun>``): part of every child's URN, so it never changes."""
    name: str
    """The component's resource name (its release is ``<name>-release``): stable for the same reason."""
    values: Callable[[ValuesInputs], dict[str, Any]]
    after_monitoring: bool = True
    """Wait for the monitoring stack (its ServiceMonitor CRD) when it runs."""


@dataclass(frozen=True, kw_only=True)
class AddOn:
    namespace: str
    """The system namespace it runs in (its name is written only here)."""
    pod_security: PodSecurityLevel
    """Enforced in the namespace; the policy pack's namespace exceptions list the non-restricted ones."""
    charts: tuple[Chart, ...]
    """Its pinned charts (``policies/charts.json``'s, by ``charts.chart(name)``); several when one namespace holds
    alternatives or companions (device plugin or GPU operator; Prometheus, DCGM, OpenCost)."""
    enabled: Callable[[StackSettings], bool]
    """Whether the stack runs it (and so creates its namespace)."""
    network_policies: PolicyBuilder | None = None
    """Its allows beyond default-deny, DNS and the API server (``specs/system_network.py`` helpers)."""
    helm: HelmRelease | None = None
    """Set for a plain Helm add-on (one chart, values from settings): the generic component
    installs it. None: its own component does (IRSA, CRDs it creates, several charts...)."""

    @property
    def type_token(self) -> str:
        """The generic component's type token for this add-on (only plain Helm add-ons have one)."""
        if self.helm is None:
            raise ValueError(f"add-on {self.namespace} is installed by its own component")
        return self.helm.type_token

    @property
    def preinstallable(self) -> bool:
        """A cluster may already run its charts (``addons.<chart>.install: false``)."""
        return all(c.name in ADDON_CHARTS for c in self.charts)
