"""``TailscaleMesh``: the tailnet policy, tagged keys, the operator and private reach to the cluster.

Children, in the order they must exist:

1. ``tailscale.Acl`` — the whole policy file (``specs/tailnet_policy.py``). **Adopted** with
   ``import_="acl"``: every tailnet already has a policy, so creating one would send
   ``If-Match: "ts-default"`` and fail with 412 on any tailnet whose policy was ever edited;
   an import reads the existing file and the same run updates it to ours (Pulumi ≥ 3.174). Never
   ``overwrite_existing_content`` and never ``reset_acl_on_destroy`` (that resets the tailnet's
   policy on destroy); ``retain_on_delete`` keeps the tailnet's policy when the stack goes.
   ``TailnetSettings`` marks the policy externally managed (console edits stop), turns HTTPS
   certificates on (tailnet Ingress) and, in prod, device approval (outside prod no value is
   sent, never ``false``).

   Every tailnet-wide child is ``retain_on_delete`` (``TAILNET_WIDE``): the policy, the
   settings, the DNS preferences (their Delete sets *empty* preferences, MagicDNS off for the
   whole tailnet: TF provider v0.29.2 ``resource_dns_preferences.go``) and each split-DNS domain
   (its Delete empties that domain's nameservers for every device). A destroy, a rename or
   ``tailscale.enabled: false`` then leaves the tailnet as it was; keys and OAuth clients are
   this stack's own and are deleted.
2. DNS: MagicDNS and split-DNS nameservers from settings.
3. ``TailnetKey`` per machine outside the cluster: tagged, ephemeral, pre-authorised, short
   expiry; the ``key`` output is a secret and is exported only as one.
4. The operator: its own ``OauthClient`` (or the stack's) written to the ``operator-oauth``
   Secret, the pinned chart, a ``ProxyClass`` for the system pool, the ``Connector`` subnet
   router (after the policy, whose ``autoApprovers`` approve its routes on first advertisement),
   and Grafana's tailnet Ingress.

Sources for every input: docs/research/tailscale.md (pulumi-tailscale 0.29.2 schema, TF provider
v0.29.2 resource_acl.go, tailscale/tailscale v1.102.3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tailscale as tailscale

from components.core.charts import TAILSCALE_OPERATOR
from components.core.naming import resource_name
from components.core.settings.tailscale import MONITORING_TAG, OPERATOR_TAG, PROXY_TAG, ROUTER_TAG, env_tag
from components.resources.custom_resource import custom_resource
from components.resources.helm import pinned_release
from components.specs import tailscale as spec
from components.specs.system_network import GRAFANA_TAILNET_INGRESS
from components.specs.tailnet_policy import TailnetPolicyInput, policy_json

TYPE = "ai-infra:mesh:TailscaleMesh"

TAILNET_WIDE = (
    "tailscale:index/acl:Acl",
    "tailscale:index/tailnetSettings:TailnetSettings",
    "tailscale:index/dnsPreferences:DnsPreferences",
    "tailscale:index/dnsSplitNameservers:DnsSplitNameservers",
)
"""Tailscale resources whose Delete changes the whole tailnet: all ``retain_on_delete``."""
STACK_OWNED = ("tailscale:index/tailnetKey:TailnetKey", "tailscale:index/oauthClient:OauthClient")
"""Tailscale resources this stack alone uses: deleted with it."""
OPERATOR_SCOPES = ("devices:core", "auth_keys", "services")
"""What the operator's OAuth client may do: register proxies, mint their keys, publish services
(tailscale.com/docs/kubernetes-operator install guide: Devices Core, Auth Keys, Services write)."""


@dataclass(frozen=True, kw_only=True)
class AuthKeyArgs:
    tags: Sequence[str]
    reusable: bool = False
    description: str = "ai-infra GPU machine"


@dataclass(frozen=True, kw_only=True)
class OperatorArgs:
    namespace: pulumi.Input[str]
    hostname: str
    """The operator's own device name on the tailnet (one per stack)."""
    tags: Sequence[str] = (OPERATOR_TAG,)
    """The operator's device and OAuth client tags."""
    proxy_tags: Sequence[str] = (PROXY_TAG,)
    """Tags of proxies that name none."""
    labels: Mapping[str, str]
    client_id: pulumi.Output[str] | None = None
    """The stack's OAuth client for the operator (secret); None: the mesh creates the operator's own."""
    client_secret: pulumi.Output[str] | None = None
    node_selector: Mapping[str, str] | None = None
    """Where the operator and its proxies run (the system pool on EKS); None: anywhere."""
    routes: Sequence[str] = ()
    """The Connector's routes (empty: no subnet router)."""
    router_hostname: str = "subnet-router"
    grafana_namespace: str | None = None
    """Expose Grafana on the tailnet from this namespace (the monitoring stack runs)."""
    grafana_host: str = "grafana"
    depends_on: Sequence[pulumi.Resource] = ()
    """The operator's namespace."""
    image_digests: Mapping[str, str] = field(default_factory=dict)
    """The operator and proxy images by digest (``tailscale.operator.imageDigests``)."""


@dataclass(frozen=True, kw_only=True)
class TailscaleMeshArgs:
    policy: TailnetPolicyInput
    auth_keys: Mapping[str, AuthKeyArgs] = field(default_factory=dict)
    key_expiry_seconds: int = 86_400
    device_approval: bool | None = None
    """Devices need an admin's approval (prod); keys here and the operator's are pre-authorised.
    ``None`` sends no value: the attribute is Optional+Computed (TF provider v0.29.2
    ``resource_tailnet_settings.go``), so the tailnet keeps whatever it has, whereas ``False``
    would turn approval off for every team on a shared tailnet."""
    magic_dns: bool = True
    split_dns: Mapping[str, Sequence[str]] = field(default_factory=dict)
    operator: OperatorArgs | None = None
    own_policy: bool = True
    """Write the policy file and the tailnet-wide settings (``tailscale.policy: own``); False
    (``shared``): another stack owns them, this one creates only keys and the operator."""


class TailscaleMesh(pulumi.ComponentResource):
    """Children: Acl, TailnetSettings, DnsPreferences, DnsSplitNameservers (``own_policy`` only),
    TailnetKeys,
    OauthClient, Secret ``operator-oauth``, helm.v3.Release ``tailscale-operator``, ProxyClass,
    Connector, Ingress (Grafana)."""

    auth_keys: pulumi.Output[dict[str, str]]
    """Key name -> auth key, a secret."""
    operator: pulumi.Resource | None
    """The operator release: tailnet Ingresses wait for its IngressClass."""

    def __init__(self, name: str, args: TailscaleMeshArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        acl: tailscale.Acl | None = None
        if args.own_policy:
            acl = tailscale.Acl(
                resource_name(name, "policy"),
                acl=policy_json(args.policy),
                overwrite_existing_content=False,
                reset_acl_on_destroy=False,
                # Adopt the tailnet's existing policy (the only ID is "acl"), then replace it with ours.
                opts=pulumi.ResourceOptions(parent=self, import_="acl", retain_on_delete=True),
            )
        policy_first: list[pulumi.Resource] = [acl] if acl is not None else []
        after_policy = pulumi.ResourceOptions(parent=self, depends_on=policy_first)
        if args.own_policy:
            # Tailnet-wide: a Delete would change the tailnet for every team, so the stack lets go.
            tailnet_wide = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
            tailscale.TailnetSettings(
                resource_name(name, "settings"),
                acls_externally_managed_on=True,
                devices_approval_on=args.device_approval,
                # Let's Encrypt certificates for the tailnet Ingress endpoints.
                https_enabled=True,
                opts=pulumi.ResourceOptions.merge(after_policy, tailnet_wide),
            )
            tailscale.DnsPreferences(resource_name(name, "magicdns"), magic_dns=args.magic_dns, opts=tailnet_wide)
            for domain, servers in sorted(args.split_dns.items()):
                tailscale.DnsSplitNameservers(
                    resource_name(name, f"split-dns-{domain}"),
                    domain=domain,
                    nameservers=list(servers),
                    opts=tailnet_wide,
                )

        keys: dict[str, pulumi.Output[str]] = {}
        for key_name, key in sorted(args.auth_keys.items()):
            minted = tailscale.TailnetKey(
                resource_name(name, f"key-{key_name}"),
                tags=list(key.tags),
                # Machines outside the cluster leave the tailnet when they go offline.
                ephemeral=True,
                preauthorized=True,
                reusable=key.reusable,
                expiry=args.key_expiry_seconds,
                description=key.description,
                # Tags must be owned in the policy before a key can carry them.
                opts=after_policy,
            )
            keys[key_name] = pulumi.Output.secret(minted.key)
        self.auth_keys = pulumi.Output.secret(pulumi.Output.all(**keys)) if keys else pulumi.Output.from_input({})

        self.operator = (
            self._operator(name, args.operator, policy_first, env_tag(args.policy.env)) if args.operator else None
        )
        self.register_outputs({"auth_keys": self.auth_keys})

    def _operator(
        self, name: str, op: OperatorArgs, policy_first: list[pulumi.Resource], stack_tag: str
    ) -> pulumi.Resource:
        if op.client_id is not None and op.client_secret is not None:
            client_id, client_secret = op.client_id, op.client_secret
        else:
            client = tailscale.OauthClient(
                resource_name(name, "operator-client"),
                scopes=list(OPERATOR_SCOPES),
                tags=list(op.tags),
                description="ai-infra tailscale operator",
                opts=pulumi.ResourceOptions(parent=self, depends_on=policy_first),
            )
            client_id, client_secret = pulumi.Output.secret(client.id), pulumi.Output.secret(client.key)
        secret = k8s.core.v1.Secret(
            resource_name(name, "operator-oauth"),
            spec.oauth_secret_args(
                namespace=op.namespace, client_id=client_id, client_secret=client_secret, labels=op.labels
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(op.depends_on)),
        )
        proxy_class_name = resource_name(name, "system") if op.node_selector else None
        release = pinned_release(
            self,
            resource_name(name, "operator"),
            TAILSCALE_OPERATOR,
            namespace=op.namespace,
            values=spec.operator_values(
                hostname=op.hostname,
                tags=op.tags,
                proxy_tags=op.proxy_tags,
                node_selector=op.node_selector,
                proxy_class=proxy_class_name,
            ),
            depends_on=[secret, *policy_first, *op.depends_on],
            image_digests=op.image_digests,
        )
        # Not an `addons` chart: the operator's OAuth Secret and tags belong to this stack.
        assert release is not None
        after_crds: list[pulumi.Resource] = [release]
        if proxy_class_name and op.node_selector:
            after_crds.append(
                custom_resource(
                    resource_name(name, "proxyclass"),
                    spec.proxy_class(proxy_class_name, node_selector=op.node_selector, labels=op.labels),
                    pulumi.ResourceOptions(parent=self, depends_on=[release]),
                )
            )
        if op.routes:
            custom_resource(
                resource_name(name, "connector"),
                spec.connector(
                    resource_name(name, "router"),
                    routes=op.routes,
                    tags=[ROUTER_TAG, stack_tag],
                    hostname=op.router_hostname,
                    labels=op.labels,
                    proxy_class=proxy_class_name,
                ),
                # The policy's autoApprovers must exist before the routes are first advertised.
                pulumi.ResourceOptions(parent=self, depends_on=[*after_crds, *policy_first]),
            )
        if op.grafana_namespace:
            k8s.networking.v1.Ingress(
                resource_name(name, "grafana"),
                spec.tailnet_ingress_args(
                    name=GRAFANA_TAILNET_INGRESS,
                    namespace=op.grafana_namespace,
                    host=op.grafana_host,
                    service=spec.GRAFANA_SERVICE,
                    port=spec.GRAFANA_SERVICE_PORT,
                    tags=[MONITORING_TAG, stack_tag],
                    labels=op.labels,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=after_crds),
            )
        return release
