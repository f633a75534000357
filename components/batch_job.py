"""``BatchJob``: one ``jobs:`` entry, submitted to its Kueue LocalQueue.

A dedicated ServiceAccount (no token), the Hugging Face token as a Secret mounted as a file, a
NetworkPolicy letting the workers reach each other and HTTPS, a headless Service for several
workers' rendezvous, where results outlive the pods (``output``: a ReadWriteMany claim mounted at
``/output``, kept in prod, or an IRSA role that may use one S3 prefix), and the job itself: a
``batch/v1`` Job (``run: now``; Kueue suspends it until admitted, and Pulumi does not wait for it
to finish) or a CronJob (a suspended template to submit with ``kubectl create job
--from=cronjob/<name>``, or a schedule). Builders: ``specs/batch.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.core.naming import resource_name
from components.resources.irsa import irsa_role
from components.specs import batch as spec
from components.specs.aws_iam import s3_prefix_policy

TYPE = "ai-infra:k8s:BatchJob"


@dataclass(frozen=True, kw_only=True)
class S3OutputArgs:
    """What the job's IRSA role needs (``output.s3``, EKS only)."""

    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    tags: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class BatchJobArgs:
    job: spec.JobPlan
    hf_token: pulumi.Output[str] | None = None
    """The token's secret Output, exactly when ``job.hf_token_secret`` names a Secret."""
    s3: S3OutputArgs | None = None
    """Exactly when the job's ``output.s3`` is set: its role may use that prefix only."""
    retain_output: bool = False
    """Prod: the output claim is protected and kept on delete (results are data)."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """The namespace, the BatchQueue (its LocalQueue and Kueue's webhooks) and storage."""


class BatchJob(pulumi.ComponentResource):
    """Children: ServiceAccount, NetworkPolicy, Secret (token), Service (workers > 1), the output
    PVC (``output.volume``) or IRSA role (``output.s3``), Job or CronJob."""

    kind: pulumi.Output[str]
    job_name: pulumi.Output[str]
    rerun: pulumi.Output[str | None]
    """The command that runs a ``run: now`` Job again (None for CronJobs)."""

    def __init__(self, name: str, args: BatchJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        p = args.job
        if (p.hf_token_secret is None) != (args.hf_token is None):
            raise ValueError("BatchJobArgs: hf_token must be given exactly when the job names a token Secret")
        out = p.spec.output
        if (args.s3 is None) != (out is None or out.s3 is None):
            raise ValueError("BatchJobArgs: s3 must be given exactly when the job's output is an S3 prefix")
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        role_arn: pulumi.Output[str] | None = None
        permissions: list[pulumi.Resource] = []
        if args.s3 is not None and out is not None and out.s3 is not None:
            role = irsa_role(
                self,
                name,
                oidc_provider_arn=args.s3.oidc_provider_arn,
                oidc_issuer=args.s3.oidc_issuer,
                namespace=p.namespace,
                service_account=p.resource_name,
                policy_arns=[],
                tags=args.s3.tags,
                inline_policies={"output": s3_prefix_policy(out.s3.bucket, out.s3.prefix, out.s3.kms_key_arn)},
            )
            role_arn, permissions = role.role.arn, [role.role, *role.permissions]
        children: list[pulumi.Resource] = [
            k8s.core.v1.ServiceAccount(
                resource_name(name, "sa"),
                spec.service_account_args(p, role_arn),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, *permissions]),
            ),
            k8s.networking.v1.NetworkPolicy(resource_name(name, "netpol"), spec.network_policy_args(p), opts=after),
        ]
        if p.output_claim:
            children.append(
                k8s.core.v1.PersistentVolumeClaim(
                    resource_name(name, "output"),
                    spec.output_pvc_args(p),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        depends_on=list(args.depends_on),
                        protect=args.retain_output,
                        retain_on_delete=args.retain_output,
                    ),
                )
            )
        if p.hf_token_secret and args.hf_token is not None:
            children.append(
                k8s.core.v1.Secret(resource_name(name, "hf-token"), spec.secret_args(p, args.hf_token), opts=after)
            )
        if p.indexed:
            children.append(
                k8s.core.v1.Service(resource_name(name, "service"), spec.headless_service_args(p), opts=after)
            )
        job_opts = pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, *children])
        workload: k8s.batch.v1.Job | k8s.batch.v1.CronJob
        if p.kind == "Job":
            workload = k8s.batch.v1.Job(resource_name(name, "job"), spec.job_args(p), opts=job_opts)
        else:
            workload = k8s.batch.v1.CronJob(resource_name(name, "cronjob"), spec.cronjob_args(p), opts=job_opts)
        self.kind = pulumi.Output.from_input(p.kind)
        self.job_name = workload.metadata.apply(lambda m: str(m.name))
        # A finished Job cannot be started again; replacing it (delete, then create: it has a fixed
        # name) runs it anew. None for CronJobs (`kubectl create job --from=cronjob/...`).
        self.rerun = (
            pulumi.Output.concat("pulumi up --replace '", workload.urn, "'")
            if p.kind == "Job"
            else pulumi.Output.from_input(None)
        )
        self.register_outputs({"kind": self.kind, "job_name": self.job_name, "rerun": self.rerun})
