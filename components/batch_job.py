"""``BatchJob``: one ``jobs:`` entry, submitted to its Kueue LocalQueue.

A dedicated ServiceAccount (no token), the Hugging Face token as a Secret mounted as a file, a
NetworkPolicy letting the workers reach each other and HTTPS, a headless Service for several
workers' rendezvous, and the job itself: a ``batch/v1`` Job (``run: now``; Kueue suspends it until
admitted, and Pulumi does not wait for it to finish) or a CronJob (a suspended template to submit
with ``kubectl create job --from=cronjob/<name>``, or a schedule). Builders: ``specs/batch.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.core.naming import resource_name
from components.specs import batch as spec

TYPE = "ai-infra:k8s:BatchJob"


@dataclass(frozen=True, kw_only=True)
class BatchJobArgs:
    job: spec.JobPlan
    hf_token: pulumi.Output[str] | None = None
    """The token's secret Output, exactly when ``job.hf_token_secret`` names a Secret."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """The namespace, the BatchQueue (its LocalQueue and Kueue's webhooks) and storage."""


class BatchJob(pulumi.ComponentResource):
    """Children: ServiceAccount, NetworkPolicy, Secret (token), Service (workers > 1), Job or CronJob."""

    kind: pulumi.Output[str]
    job_name: pulumi.Output[str]

    def __init__(self, name: str, args: BatchJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        p = args.job
        if (p.hf_token_secret is None) != (args.hf_token is None):
            raise ValueError("BatchJobArgs: hf_token must be given exactly when the job names a token Secret")
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        children: list[pulumi.Resource] = [
            k8s.core.v1.ServiceAccount(resource_name(name, "sa"), spec.service_account_args(p), opts=after),
            k8s.networking.v1.NetworkPolicy(resource_name(name, "netpol"), spec.network_policy_args(p), opts=after),
        ]
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
        self.register_outputs({"kind": self.kind, "job_name": self.job_name})
