"""The weights layer (issue 26, ``cache: s3``): the environment's S3 bucket of model weights and
its gateway endpoint, when a fleet streams from S3, and each such fleet's URI and roles' inputs."""

from __future__ import annotations

import pulumi

from components.core.settings.models import ModelSpec
from components.model_runner_fleet import WeightsS3Args
from components.specs.weights_s3 import weights_uri
from components.weights_bucket import WeightsBucket
from stack.context import StackContext


def weights_layer(ctx: StackContext) -> WeightsBucket | None:
    """The bucket, only where a fleet needs it and the target has a VPC of the stack's (EKS)."""
    s = ctx.settings
    args = ctx.target.weights_bucket(s) if any(m.cache == "s3" for m in s.models.values()) else None
    return WeightsBucket("weights", args, opts=ctx.opts()) if args is not None else None


def fleet_weights(
    ctx: StackContext, bucket: WeightsBucket | None, name: str, model: ModelSpec
) -> tuple[pulumi.Output[str] | None, WeightsS3Args | None]:
    """An S3 fleet's ``s3://bucket/<namespace>/<fleet>/<revision>/`` and its roles' inputs."""
    identity = ctx.target.workload_identity
    if model.cache != "s3" or bucket is None or identity is None:
        return None, None
    uri = bucket.bucket_name.apply(lambda b: weights_uri(b, model.namespace, name, model.revision))
    return uri, WeightsS3Args(
        bucket_name=bucket.bucket_name,
        kms_key_arn=bucket.kms_key_arn,
        oidc_provider_arn=identity.oidc_provider_arn,
        oidc_issuer=identity.oidc_issuer,
        tags=identity.tags,
    )
