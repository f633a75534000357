"""Weights from S3 with vLLM's Run:ai Model Streamer (issue 26, ``cache: s3``): pure builders.

The staging Job downloads the pinned revision from the Hub (as for a shared cache) into its own
emptyDir and uploads the snapshot's files to ``s3://<bucket>/<namespace>/<fleet>/<revision>/``, with a write
role on that prefix only. The servers stream from there: ``vllm serve $(AI_INFRA_WEIGHTS_URI)
--load-format runai_streamer``, with a read-only role (``s3:GetObject`` on the prefix,
``s3:ListBucket`` limited to it, ``kms:Decrypt`` through S3). Read at vLLM v0.11.0 (wheel):

- ``vllm/model_executor/model_loader/runai_streamer_loader.py``: ``--model-loader-extra-config``
  keys ``concurrency`` and ``memory_limit`` (ints) become ``RUNAI_STREAMER_CONCURRENCY`` and
  ``RUNAI_STREAMER_MEMORY_LIMIT``; ``AWS_ENDPOINT_URL`` becomes ``RUNAI_STREAMER_S3_ENDPOINT``
  when that is unset (not needed here: the gateway endpoint is routing, not a new URL);
- ``vllm/transformers_utils/runai_utils.py``: ``s3://`` and ``gs://`` are object-store URIs; the
  streamer lists the prefix's ``*.safetensors`` (``list_safetensors``: ``s3:ListBucket``) and
  reads them (``s3:GetObject``); ``vllm/config/model.py`` ``maybe_pull_model_tokenizer_for_runai``
  pulls ``*.json``, ``*.model``, ``*.py`` and the tokenizer files into ``VLLM_ASSETS_CACHE``
  (the pod's HOME), the same two actions.

Credentials come from IRSA (the pod identity webhook's ``AWS_ROLE_ARN`` and web-identity token on
the ServiceAccount's pods). UNVERIFIED here: that the ``vllm-openai:v0.11.0`` image installs
``vllm[runai]`` (``runai-model-streamer-s3``, ``boto3``) and that the streamer's S3 client takes
web-identity credentials; check with ``pip show runai-model-streamer-s3`` in the image and the
first ``up``'s log ("Loading weights took").
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.core.engines import HF_HOME
from components.core.engines.vllm import WEIGHTS_URI_ENV
from components.core.settings import ModelSpec


def weights_prefix(namespace: str, fleet: str) -> str:
    return f"{namespace}/{fleet}"


def weights_uri(bucket: str, namespace: str, fleet: str, revision: str | None) -> str:
    """One prefix per revision: a new revision uploads beside the old one, and servers roll to it
    only after the staging Job (the roles cover the fleet's prefix, every revision under it)."""
    return f"s3://{bucket}/{weights_prefix(namespace, fleet)}/{revision or 'main'}/"


def weights_env(weights_uri: pulumi.Input[str] | None) -> list[k8s.core.v1.EnvVarArgs]:
    """The server's and the staging Job's ``AI_INFRA_WEIGHTS_URI`` (none without S3)."""
    return [] if weights_uri is None else [k8s.core.v1.EnvVarArgs(name=WEIGHTS_URI_ENV, value=weights_uri)]


def stager_account(resource_name: str) -> str:
    """The staging Job's own ServiceAccount: it alone gets the write role."""
    return f"{resource_name}-stager"


def upload_script(spec: ModelSpec) -> str:
    """After the Hub download: upload the snapshot's files under the fleet's prefix (boto3, which
    ``vllm[runai]`` installs; the write role allows PutObject and multipart there only)."""
    call = {
        "repo_id": spec.model,
        "revision": spec.revision or "main",
        "cache_dir": f"{HF_HOME}/hub",
        "local_files_only": True,
    }
    return (
        "from huggingface_hub import snapshot_download\n"
        "import os, pathlib, boto3\n"
        f"root = pathlib.Path(snapshot_download(**{json.dumps(call, sort_keys=True)}))\n"
        f"bucket, _, prefix = os.environ['{WEIGHTS_URI_ENV}'].removeprefix('s3://').partition('/')\n"
        "s3 = boto3.client('s3')\n"
        "for path in sorted(p for p in root.rglob('*') if p.is_file()):\n"
        "    s3.upload_file(str(path), bucket, prefix + path.relative_to(root).as_posix())\n"
    )


def _statement(sid: str, effect: str, action: Any, resource: Any, condition: dict[str, Any] | None = None) -> dict:
    doc: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": action, "Resource": resource}
    if condition:
        doc["Condition"] = condition
    return doc


def read_policy(bucket: str, prefix: str, kms_key_arn: str) -> str:
    """The fleet's servers: list and read under their prefix, decrypt through S3; nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                _statement(
                    "ListOwnPrefix",
                    "Allow",
                    "s3:ListBucket",
                    f"arn:aws:s3:::{bucket}",
                    {"StringLike": {"s3:prefix": [prefix, f"{prefix}/*"]}},
                ),
                _statement("ReadOwnPrefix", "Allow", "s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}/*"),
                _statement(
                    "DecryptThroughS3",
                    "Allow",
                    "kms:Decrypt",
                    kms_key_arn,
                    {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
                ),
            ],
        },
        sort_keys=True,
    )


def bucket_policy(bucket: str) -> str:
    """TLS only: deny every request over plain HTTP, for every principal (the pack's ``s3-tls-only``)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        },
        sort_keys=True,
    )


LOG_PREFIX = "weights/"
"""Key prefix of the weights bucket's access logs in the log bucket."""


def log_bucket_policy(log_bucket: str, source_bucket: str, account_id: str) -> str:
    """The access-log bucket: TLS only, and S3's log delivery may write under ``LOG_PREFIX`` for
    the weights bucket of this account only (a bucket without ACLs takes logs through its policy;
    Amazon S3 User Guide, "Enabling Amazon S3 server access logging")."""
    doc = json.loads(bucket_policy(log_bucket))
    doc["Statement"].append(
        {
            "Sid": "S3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{log_bucket}/{LOG_PREFIX}*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source_bucket}"},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        }
    )
    return json.dumps(doc, sort_keys=True)


def key_policy_with_log_delivery(key_policy: str, account_id: str) -> str:
    """The bucket key's policy plus S3 log delivery encrypting into the SSE-KMS log bucket (it works
    with a customer key once the service may use it: aws/aws-cdk commit 6c5b67ed, "KMS encryption
    works fine for server access logging target buckets with proper permission being setup")."""
    doc = json.loads(key_policy)
    doc["Statement"].append(
        {
            "Sid": "S3ServerAccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )
    return json.dumps(doc, sort_keys=True)
