"""``WeightsBucket``: the environment's S3 bucket of model weights (``cache: s3``, issue 26).

Children: the bucket's own customer KMS key (rotating) and alias, the bucket with default
SSE-KMS and bucket keys, a public access block with all four flags, versioning, a TLS-only
bucket policy, server access logging into a second bucket built the same way (its policy lets S3's
log delivery write there; a bucket logging into itself would log its own log writes), and a VPC
gateway endpoint for S3 on the private route tables, so the servers'
streams and the staging Job's uploads stay in the Region (no NAT data charge, the instance's full
bandwidth). In prod the bucket and its key are protected and retained on delete. Roles that use
the bucket are the fleets' (``ModelRunnerFleet``: read-only for the servers, write for staging).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.core.naming import resource_name
from components.specs import aws_iam
from components.specs import weights_s3 as spec

TYPE = "ai-infra:storage:WeightsBucket"


@dataclass(frozen=True, kw_only=True)
class WeightsBucketArgs:
    env: str
    account_id: str
    region: str
    vpc_id: pulumi.Input[str]
    route_table_ids: list[pulumi.Input[str]]
    """The private subnets' route tables: the gateway endpoint adds the S3 prefix list to each."""
    retain: bool
    """Prod: protect and retain the bucket and its key."""
    tags: dict[str, str]
    key_admins: list[str] = field(default_factory=list)


class WeightsBucket(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]

    def __init__(self, name: str, args: WeightsBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        keep = pulumi.ResourceOptions(parent=self, protect=args.retain, retain_on_delete=args.retain)
        key = aws.kms.Key(
            resource_name(name, "kms"),
            description=f"ai-infra model weights bucket ({args.env})",
            enable_key_rotation=True,
            deletion_window_in_days=30 if args.retain else 7,
            policy=spec.key_policy_with_log_delivery(
                aws_iam.admin_only_key_policy(args.account_id, args.key_admins), args.account_id
            ),
            tags=args.tags,
            opts=keep,
        )
        aws.kms.Alias(
            resource_name(name, "kms"), name_prefix="alias/ai-infra-weights-", target_key_id=key.key_id, opts=child
        )
        bucket = self._bucket(name, args, key, "bucket", keep)
        logs = self._bucket(name, args, key, "logs", keep)
        aws.s3.BucketPolicy(
            resource_name(name, "policy"), bucket=bucket.id, policy=bucket.bucket.apply(spec.bucket_policy), opts=child
        )
        aws.s3.BucketPolicy(
            resource_name(name, "logs-policy"),
            bucket=logs.id,
            policy=pulumi.Output.all(logs.bucket, bucket.bucket).apply(
                lambda v: spec.log_bucket_policy(v[0], v[1], args.account_id)
            ),
            opts=child,
        )
        aws.s3.BucketLogging(
            resource_name(name, "logging"),
            bucket=bucket.id,
            target_bucket=logs.id,
            target_prefix=spec.LOG_PREFIX,
            opts=child,
        )
        aws.ec2.VpcEndpoint(
            resource_name(name, "s3-endpoint"),
            vpc_id=args.vpc_id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=args.route_table_ids,
            tags={**args.tags, "Name": f"ai-infra-{args.env}-s3"},
            opts=child,
        )
        self.bucket_name = bucket.bucket
        self.kms_key_arn = key.arn
        self.register_outputs({"bucket_name": self.bucket_name, "kms_key_arn": self.kms_key_arn})

    def _bucket(
        self, name: str, args: WeightsBucketArgs, key: aws.kms.Key, part: str, keep: pulumi.ResourceOptions
    ) -> aws.s3.Bucket:
        """A private, versioned, SSE-KMS bucket (the weights, or their access logs)."""
        child = pulumi.ResourceOptions(parent=self)
        prefix = "" if part == "bucket" else f"{part}-"
        bucket = aws.s3.Bucket(
            resource_name(name, part),
            bucket_prefix=f"ai-infra-{args.env}-weights-{prefix}",
            force_destroy=not args.retain,
            tags=args.tags,
            opts=keep,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            resource_name(name, f"{prefix}sse"),
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketPublicAccessBlock(
            resource_name(name, f"{prefix}public-access"),
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            resource_name(name, f"{prefix}versioning"),
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        return bucket
