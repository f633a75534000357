"""The tailnet policy file, built from typed data: tag owners, groups, grants, SSH and tests.

The whole file is written by the stack (``tailscale.Acl`` replaces the console's), so it is
derived entirely from settings. Access is by **grants** (not legacy ``acls``); grants are additive,
so each one is as narrow as the job it does:

* the ``models`` principals reach ``tag:model-runner`` on 443 only (the tailnet Ingress proxy
  serves HTTPS there and forwards to the fleet's API port);
* the ``monitoring`` principals reach ``tag:monitoring`` (Grafana's tailnet Ingress) on 443 only;
* ``tag:gpu-node`` machines reach each other on any port (NCCL / torch.distributed pick ports at
  run time) and nothing else;
* the ``admins`` reach the subnet router's routes on the API endpoint's port only (443 on EKS;
  443 and 6443 on an existing cluster), which is also all the router's NetworkPolicy lets it
  reach there (``specs/system_network.py``), the split-DNS
  resolvers on 53, and ``tag:gpu-node`` on 22 for Tailscale SSH (``check`` mode in prod).

``tests`` hold an accept and a deny assertion for every tag a grant reaches and a deny for every
other tag; Tailscale evaluates them whenever the file is set and rejects a file whose tests fail,
so a policy that drifts from these intentions fails the deploy. Syntax: tailscale.com/docs/
reference/syntax/policy-file and .../grants (docs/research/tailscale.md §2).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.core.engines import VLLM
from components.core.settings.tailscale import (
    GPU_NODE_TAG,
    MODEL_TAG,
    MONITORING_TAG,
    OPERATOR_TAG,
    PROXY_TAG,
    ROUTER_TAG,
)

HTTPS = "tcp:443"
"""What a tailnet Ingress proxy listens on (TLS, Let's Encrypt; cmd/k8s-operator/ingress.go @ v1.102.3)."""
TRAINING_TEST_PORT = 29500
"""torch.distributed's default rendezvous port: the node-to-node accept test."""
GRAFANA_POD_PORT = 3000
"""Grafana's own port behind its Service: never reachable from the tailnet directly."""


@dataclass(frozen=True, kw_only=True)
class TailnetPolicyInput:
    env: str
    groups: Mapping[str, Sequence[str]]
    tag_owners: Mapping[str, Sequence[str]]
    models: Sequence[str] = ()
    """Principals that may call model endpoints."""
    monitoring: Sequence[str] = ()
    admins: Sequence[str] = ()
    routes: Sequence[str] = ()
    """The subnet router's routes (auto-approved for ``tag:subnet-router``)."""
    dns_servers: Sequence[str] = ()
    """Split-DNS resolvers admins may query over the routes."""
    ssh_users: Sequence[str] = ()
    """Empty: no Tailscale SSH."""
    ssh_check: bool = False
    """``check`` (re-authenticate) instead of ``accept``: prod."""
    model_ports: Sequence[int] = field(default_factory=lambda: [VLLM.port])
    """The fleets' API container ports (never reachable from the tailnet directly)."""
    operator_tags: Sequence[str] = (OPERATOR_TAG,)
    proxy_tags: Sequence[str] = (PROXY_TAG,)
    api_ports: Sequence[int] = (443,)
    """The Kubernetes API endpoint's ports: the admins' grant on the routes."""


def _groups_only(principals: Sequence[str]) -> list[str]:
    """Test sources: ``tests`` take users, groups, tags or hosts (not autogroups)."""
    return [p for p in principals if p.startswith("group:")]


def _probe_ip(cidr: str) -> str:
    """One address inside a route: tests name single IPs, never CIDRs."""
    network = ipaddress.ip_network(cidr)
    offset = 10 if network.num_addresses > 11 else 0
    return str(network.network_address + offset)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("tag:") else f"{host}:{port}"


def grants(p: TailnetPolicyInput) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if p.models:
        found.append({"src": list(p.models), "dst": [MODEL_TAG], "ip": [HTTPS]})
    if p.monitoring:
        found.append({"src": list(p.monitoring), "dst": [MONITORING_TAG], "ip": [HTTPS]})
    # Training traffic between GPU machines: collective libraries pick ports at run time.
    found.append({"src": [GPU_NODE_TAG], "dst": [GPU_NODE_TAG], "ip": ["*"]})
    if p.admins and p.routes:
        found.append({"src": list(p.admins), "dst": list(p.routes), "ip": [f"tcp:{port}" for port in p.api_ports]})
    if p.admins and p.dns_servers:
        found.append({"src": list(p.admins), "dst": list(p.dns_servers), "ip": ["tcp:53", "udp:53"]})
    if p.admins and p.ssh_users:
        # Tailscale SSH also needs a network path to port 22.
        found.append({"src": list(p.admins), "dst": [GPU_NODE_TAG], "ip": ["tcp:22"]})
    return found


def ssh_rules(p: TailnetPolicyInput) -> list[dict[str, Any]]:
    if not (p.admins and p.ssh_users):
        return []
    return [
        {
            "action": "check" if p.ssh_check else "accept",
            "src": list(p.admins),
            "dst": [GPU_NODE_TAG],
            "users": list(p.ssh_users),
        }
    ]


def policy_tests(p: TailnetPolicyInput, env_tag: str) -> list[dict[str, Any]]:
    """Accept and deny assertions: every tag a grant reaches gets both, every tag a deny."""
    tests: list[dict[str, Any]] = []

    def no_ssh(src: str) -> list[str]:
        # A group that is also an admin may SSH to GPU machines; everyone else may not.
        return [] if (src in p.admins and p.ssh_users) else [f"{GPU_NODE_TAG}:22"]

    for src in _groups_only(p.models):
        tests.append(
            {
                "src": src,
                "accept": [f"{MODEL_TAG}:443"],
                "deny": [
                    *(f"{MODEL_TAG}:{port}" for port in sorted(set(p.model_ports))),
                    *no_ssh(src),
                ],
            }
        )
    for src in _groups_only(p.monitoring):
        tests.append(
            {
                "src": src,
                "accept": [f"{MONITORING_TAG}:443"],
                "deny": [f"{MONITORING_TAG}:{GRAFANA_POD_PORT}", *no_ssh(src)],
            }
        )
    routed = [_probe_ip(r) for r in p.routes]
    # GPU machines reach each other and nothing else: no model, Grafana, cluster or route access.
    tests.append(
        {
            "src": GPU_NODE_TAG,
            "accept": [f"{GPU_NODE_TAG}:{TRAINING_TEST_PORT}"],
            "deny": [
                f"{MODEL_TAG}:443",
                f"{MONITORING_TAG}:443",
                *(f"{tag}:443" for tag in p.operator_tags),
                *(_host_port(ip, 443) for ip in routed),
            ],
        }
    )
    # Proxies never reach GPU machines or each other's back ends.
    tests.append(
        {
            "src": MODEL_TAG,
            "deny": [f"{GPU_NODE_TAG}:22", f"{GPU_NODE_TAG}:{TRAINING_TEST_PORT}", f"{MONITORING_TAG}:443"],
        }
    )
    for src in _groups_only(p.admins):
        accept = [_host_port(ip, port) for ip in routed for port in p.api_ports]
        if p.ssh_users:
            accept.append(f"{GPU_NODE_TAG}:22")
        tests.append(
            {
                "src": src,
                **({"accept": accept} if accept else {}),
                "deny": [
                    *(_host_port(ip, 22) for ip in routed),
                    *(f"{tag}:443" for tag in (*p.operator_tags, *p.proxy_tags)),
                    f"{ROUTER_TAG}:22",
                    f"{env_tag}:22",
                ],
            }
        )
    return tests


def ssh_tests(p: TailnetPolicyInput) -> list[dict[str, Any]]:
    admins = _groups_only(p.admins)
    if not (admins and p.ssh_users):
        return []
    user = next((u for u in p.ssh_users if not u.startswith("autogroup:")), "ubuntu")
    return [{"src": admins[0], "dst": [GPU_NODE_TAG], "check" if p.ssh_check else "accept": [user], "deny": ["root"]}]


def tailnet_policy(p: TailnetPolicyInput) -> dict[str, Any]:
    """The policy file as a document (``policy_json`` serialises it for ``tailscale.Acl``)."""
    env_tag = f"tag:ai-infra-{p.env}"
    document: dict[str, Any] = {
        "groups": {name: list(members) for name, members in sorted(p.groups.items())},
        "tagOwners": {tag: list(owners) for tag, owners in sorted(p.tag_owners.items())},
        "grants": grants(p),
    }
    if p.routes:
        # Approved on first advertisement only, so the policy is set before the Connector starts.
        document["autoApprovers"] = {"routes": {route: [ROUTER_TAG] for route in p.routes}}
    if rules := ssh_rules(p):
        document["ssh"] = rules
    document["tests"] = policy_tests(p, env_tag)
    if tests := ssh_tests(p):
        document["sshTests"] = tests
    return document


def policy_json(p: TailnetPolicyInput) -> str:
    return json.dumps(tailnet_policy(p), indent=2)


def tags_used(document: Mapping[str, Any]) -> set[str]:
    """Every ``tag:`` a policy document mentions outside ``tagOwners`` keys (grants, SSH,
    auto-approvers, tests, owners)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            head = value.split(":", 2)
            if head[0] == "tag" and len(head) > 1:
                found.add(f"tag:{head[1]}")
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk({k: v for k, v in document.items() if k != "tagOwners"})
    walk(list(document.get("tagOwners", {}).values()))
    return found
