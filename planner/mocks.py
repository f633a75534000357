"""Recording mocks for the Pulumi SDK's mock engine: the offline plan and the tests share them.

``RecordingMocks`` answers every resource registration and invoke with deterministic computed
outputs (ids, ARNs, endpoints, kubeconfig) derived from the resource's type and name, so two
runs of the same program produce byte-identical plans. ``RecordingMonitor`` wraps the SDK's
``MockMonitor`` to keep what ``MockResourceArgs`` leaves out: the parent URN and the
``protect`` / ``retainOnDelete`` options, which the plan and the policy host need.

Unknown invoke tokens raise (strict mode) so a new data source is never silently ``{}``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

ACCOUNT_ID = "123456789012"
"""The fake AWS account every mocked ARN lives in."""

SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""Pulumi's wire signature key: a dict holding it (with ``value``) is a secret."""
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def short_hash(*parts: str, length: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@dataclass
class Registration:
    """Everything recorded about one registered resource."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    protect: bool = False
    retain_on_delete: bool = False
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


def _region_of(inputs: dict[str, Any], default: str = "us-west-2") -> str:
    region = inputs.get("region")
    return region if isinstance(region, str) and region else default


def _fake_kubeconfig(cluster: str, endpoint: str) -> str:
    """A syntactically valid kubeconfig for a mocked EKS cluster (never used to connect)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster, "cluster": {"server": endpoint, "certificate-authority-data": "Q0E="}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
            "current-context": cluster,
            "users": [{"name": cluster, "user": {"token": "mock"}}],
        },
        sort_keys=True,
    )


class RecordingMocks(Mocks):
    """Deterministic outputs for every resource and invoke the platform uses."""

    def __init__(self, region: str = "us-west-2", *, preview: bool = False) -> None:
        self.region = region
        self.preview = preview
        """Answer like ``pulumi preview`` of a new stack: a resource's computed outputs (ids, ARNs,
        endpoints) are unknown until it is created; only its inputs come back."""
        self.calls: list[tuple[str, dict[str, Any]]] = []

    # -- resources ------------------------------------------------------------------------
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        typ, name, inputs = args.typ, args.name, dict(args.inputs)
        rid = args.resource_id or f"{name}-{short_hash(typ, name)}"
        if self.preview:
            return "", inputs
        state: dict[str, Any] = {**inputs}
        if typ.startswith("aws:"):
            state.update(self._aws_outputs(typ, name, inputs))
            rid = state.get("id", rid)
        elif typ.startswith("kubernetes:") and not typ.startswith("kubernetes:helm.sh"):
            metadata = dict(state.get("metadata") or {})
            # Pulumi autonames objects without metadata.name: <logical>-<random>; ours is stable.
            metadata.setdefault("name", f"{name}-{short_hash(typ, name, length=5)}")
            state["metadata"] = metadata
        elif typ == "kubernetes:helm.sh/v3:Release":
            state["status"] = {"status": "deployed", "namespace": inputs.get("namespace", "")}
        elif typ.startswith("tailscale:"):
            state.update(self._tailscale_outputs(typ, name))
            rid = state.get("id", rid)
        elif typ == "random:index/randomPassword:RandomPassword":
            # A fake of the generated value (the SDK marks `result` secret); never a real key.
            state.update(result=f"mock-random-{short_hash(typ, name, length=16)}", bcryptHash="$2a$10$mock")
        elif typ == "docker:index/image:Image":
            # The pushed digest: what consumers run. Deterministic from the (content-hash) tag.
            image_name = str(inputs.get("imageName", name))
            state["repoDigest"] = (
                f"{image_name.rsplit(':', 1)[0]}@sha256:{hashlib.sha256(image_name.encode()).hexdigest()}"
            )
        return rid, state

    @staticmethod
    def _tailscale_outputs(typ: str, name: str) -> dict[str, Any]:
        """Keys and client credentials as fakes; the SDK marks ``key`` secret
        (``additional_secret_outputs``), and the program wraps them again before any use."""
        h = short_hash(typ, name, length=16)
        if typ == "tailscale:index/tailnetKey:TailnetKey":
            return {"id": f"k{h}", "key": f"tskey-auth-mock{h}", "invalid": False, "expiresAt": "2026-01-02T00:00:00Z"}
        if typ == "tailscale:index/oauthClient:OauthClient":
            return {"id": f"mock-client-{h}", "key": f"tskey-client-mock{h}", "userId": ""}
        if typ == "tailscale:index/acl:Acl":
            return {"id": "acl"}
        return {}

    def _aws_outputs(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        _, module_res = typ.split(":", 1)
        service = module_res.split("/", 1)[0]
        region = _region_of(inputs, self.region)
        h = short_hash(typ, name, length=17)
        resource_name = inputs.get("name") or f"{name}-{h[:7]}"
        out: dict[str, Any] = {
            "arn": f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{module_res.split(':')[-1].lower()}/{resource_name}",
            "name": resource_name,
        }
        if typ == "aws:eks/cluster:Cluster":
            endpoint = f"https://{h.upper()[:16]}.gr7.{region}.eks.amazonaws.com"
            out.update(
                arn=f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{resource_name}",
                endpoint=endpoint,
                certificateAuthority={"data": "Q0E="},
                identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{h.upper()}"}]}],
                vpcConfig={**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": f"sg-{h}"},
                status="ACTIVE",
                kubeconfig=_fake_kubeconfig(resource_name, endpoint),
            )
        elif typ in ("aws:iam/role:Role", "aws:iam/policy:Policy"):
            kind = "role" if typ.endswith("Role") else "policy"
            out["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:{kind}/{resource_name}"
        elif typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            url = str(inputs.get("url", "")).removeprefix("https://")
            out["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url}"
        elif typ == "aws:kms/key:Key":
            key_id = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-8{h[1:4]}-{h[4:16]}"
            out.update(keyId=key_id, arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}", id=key_id)
        elif typ == "aws:ec2/vpc:Vpc":
            out.update(id=f"vpc-{h}", defaultSecurityGroupId=f"sg-{h[::-1]}")
        elif typ == "aws:ec2/subnet:Subnet":
            out["id"] = f"subnet-{h}"
        elif typ == "aws:ec2/securityGroup:SecurityGroup":
            out["id"] = f"sg-{h}"
        elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
            out.update(id=f"lt-{h}", latestVersion=1)
        elif typ == "aws:efs/fileSystem:FileSystem":
            out.update(id=f"fs-{h}", dnsName=f"fs-{h}.efs.{region}.amazonaws.com")
        elif typ == "aws:efs/accessPoint:AccessPoint":
            out["id"] = f"fsap-{h}"
        elif typ == "aws:ecr/repository:Repository":
            url = f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{resource_name}"
            out.update(repositoryUrl=url, registryId=ACCOUNT_ID)
        elif typ == "aws:cloudwatch/logGroup:LogGroup":
            out["arn"] = f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{resource_name}"
        elif typ == "aws:ec2/natGateway:NatGateway":
            out["id"] = f"nat-{h}"
        elif typ == "aws:ec2/eip:Eip":
            out.update(id=f"eipalloc-{h}", publicIp="198.51.100.10")
        elif typ == "aws:ec2/internetGateway:InternetGateway":
            out["id"] = f"igw-{h}"
        elif typ == "aws:ec2/routeTable:RouteTable":
            out["id"] = f"rtb-{h}"
        elif typ == "aws:eks/nodeGroup:NodeGroup":
            out["resources"] = [{"autoscalingGroups": [{"name": f"eks-{resource_name}-{h[:8]}"}]}]
        elif typ == "aws:backup/vault:Vault":
            out["arn"] = f"arn:aws:backup:{region}:{ACCOUNT_ID}:backup-vault:{resource_name}"
        return out

    # -- invokes --------------------------------------------------------------------------
    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token, a = args.token, dict(args.args)
        self.calls.append((token, a))
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            suffixes = "abcd"
            return {
                "names": [f"{self.region}{s}" for s in suffixes],
                "zoneIds": [f"usw2-az{i + 1}" for i in range(len(suffixes))],
                "id": self.region,
            }
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/plan",
                "userId": "AIDAPLAN",
                "id": ACCOUNT_ID,
            }
        if token in ("aws:index/getRegion:getRegion", "aws:index/getPartition:getPartition"):
            return {
                "name": self.region,
                "region": self.region,
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": self.region,
            }
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            endpoint = f"https://{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com"
            return {"userName": "AWS", "password": "mock-ecr-token", "proxyEndpoint": endpoint, "id": self.region}
        if token == "aws:eks/getAddonVersion:getAddonVersion":
            return {"version": f"v1.0.0-eksbuild.{a.get('kubernetesVersion', '1')}", "id": str(a.get("addonName"))}
        raise NotImplementedError(f"no mock for invoke {token}; add it to planner/mocks.py")


class RecordingMonitor(MockMonitor):
    """A ``MockMonitor`` that keeps every registration with its parent and options."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.warnings: list[str] = []
        """Warnings the program logged (filled by the engine's logger)."""
        self._by_urn: dict[str, Registration] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        urn = self.make_urn(request.parent, request.type, request.name)
        registered = self.resources.get(urn)
        from pulumi.runtime import rpc

        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        reg = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=_wire(inputs),
            outputs=_wire(dict(registered.state)) if registered else {},
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            provider=request.provider,
            dependencies=sorted(request.dependencies),
            property_dependencies={
                k: sorted(v.urns) for k, v in sorted(request.propertyDependencies.items()) if v.urns
            },
        )
        self.registrations.append(reg)
        self._by_urn[urn] = reg
        return response

    def by_type(self, typ: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == typ]

    def get(self, typ: str, name: str) -> Registration:
        for r in self.registrations:
            if r.type == typ and r.name == name:
                return r
        raise KeyError(f"no {typ} named {name}; have {[r.name for r in self.by_type(typ)]}")


UNKNOWN_MARK = "[unknown]"
"""How a value unknown until apply (a preview) is written in the plan."""


def _wire(value: Any) -> Any:
    """Normalize deserialized properties to plain JSON-able wire form (secrets keep the sig)."""
    from pulumi.output import Unknown
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # The wire carries every number as a double; Kubernetes ports and counts are integers.
        return int(value)
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return UNKNOWN_MARK
    if hasattr(value, "urn") and hasattr(value, "__class__") and not isinstance(value, str | int | float | bool):
        return f"[resource {type(value).__name__}]"
    return value
