"""Issue 26 fast paths through the whole program (prod's stack file streams coder-32b from S3 with
a warm floor; dev keeps its vLLM compile cache on the shared cache)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import stack_run


def _one(run: Any, typ: str, name: str | None = None) -> Any:
    found = [r for r in run.registrations if r.type == typ and (name is None or r.inputs["metadata"]["name"] == name)]
    assert len(found) == 1, (typ, name, len(found))
    return found[0]


def test_prod_weights_bucket_is_encrypted_private_versioned_tls_only_logged_and_retained() -> None:
    run = stack_run("prod")
    named = {r.urn.split("::")[-1]: r for r in run.registrations}
    buckets = [r for r in run.registrations if r.type == "aws:s3/bucket:Bucket"]
    assert sorted(r.urn.split("::")[-1] for r in buckets) == ["weights-bucket", "weights-logs"]
    for b in buckets:
        assert b.protect and b.retain_on_delete and b.inputs["forceDestroy"] is False
    for prefix in ("weights-", "weights-logs-"):
        rule = named[f"{prefix}sse"].inputs["rules"][0]
        assert rule["bucketKeyEnabled"] and rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        block = named[f"{prefix}public-access"].inputs
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        assert all(block[k] for k in flags)
        assert named[f"{prefix}versioning"].inputs["versioningConfiguration"]["status"] == "Enabled"
    for policy in ("weights-policy", "weights-logs-policy"):
        deny = json.loads(named[policy].inputs["policy"])["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert named["weights-logging"].inputs["targetPrefix"] == "weights/"
    endpoint = named["weights-s3-endpoint"].inputs
    assert endpoint["vpcEndpointType"] == "Gateway" and endpoint["serviceName"].endswith(".s3")
    assert len(endpoint["routeTableIds"]) == 3  # one private route table per AZ


def test_prod_streams_coder_32b_from_s3_with_a_read_role_and_stages_with_a_write_role() -> None:
    run = stack_run("prod")
    pod = _one(run, "kubernetes:apps/v1:Deployment", "vllm-coder-32b").inputs["spec"]["template"]["spec"]
    server = pod["containers"][0]
    args = server["args"]
    assert args[0] == "$(AI_INFRA_WEIGHTS_URI)"
    assert args[args.index("--load-format") + 1] == "runai_streamer"
    assert json.loads(args[args.index("--model-loader-extra-config") + 1]) == {"concurrency": 16}
    assert args[args.index("--revision") + 1] == "1ed0a6145da0ce550c628e8e8b678f51e695995d"
    uri = {e["name"]: e.get("value") for e in server["env"]}["AI_INFRA_WEIGHTS_URI"]
    assert uri.startswith("s3://") and uri.endswith("/models/coder-32b/1ed0a6145da0ce550c628e8e8b678f51e695995d/")
    assert "initContainers" not in pod  # nothing on a volume to verify
    roles = {
        r.urn.split("::")[-1]: json.loads(r.inputs["assumeRolePolicy"])
        for r in run.registrations
        if r.type == "aws:iam/role:Role" and "weights-" in r.urn
    }
    subjects = sorted(
        v
        for doc in roles.values()
        for k, v in doc["Statement"][0]["Condition"]["StringEquals"].items()
        if k.endswith(":sub")
    )
    assert subjects == [
        "system:serviceaccount:models:vllm-coder-32b",
        "system:serviceaccount:models:vllm-coder-32b-stager",
    ]
    policies = {
        r.urn.split("::")[-1]: json.loads(r.inputs["policy"])
        for r in run.registrations
        if r.type == "aws:iam/rolePolicy:RolePolicy" and "weights-" in r.urn
    }
    read = next(p for n, p in policies.items() if "weights-read" in n)
    actions = sorted(
        a for s in read["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == ["kms:Decrypt", "s3:GetObject", "s3:ListBucket"]
    write = next(p for n, p in policies.items() if "weights-write" in n)
    assert "s3:PutObject" in write["Statement"][1]["Action"]
    job = next(r for r in run.registrations if r.type == "kubernetes:batch/v1:Job" and "coder-32b" in r.urn)
    job_pod = job.inputs["spec"]["template"]["spec"]
    assert job_pod["serviceAccountName"] == "vllm-coder-32b-stager"
    assert "s3.upload_file" in job_pod["containers"][0]["command"][-1]
    accounts = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"].get("annotations", {})
        for r in run.registrations
        # The fleet's own accounts (the gateway's endpoint picker for this fleet reads no weights).
        if r.type == "kubernetes:core/v1:ServiceAccount"
        and "vllm-coder-32b" in r.inputs["metadata"]["name"]
        and "ModelRunnerFleet" in r.urn
    }
    assert set(accounts) == {"vllm-coder-32b", "vllm-coder-32b-stager"}
    assert all("eks.amazonaws.com/role-arn" in a for a in accounts.values())


def test_prod_warm_floor_is_a_cron_trigger_and_dev_keeps_its_compile_cache() -> None:
    prod = stack_run("prod")
    triggers = next(
        r.inputs["spec"]["triggers"]
        for r in prod.registrations
        if r.type == "kubernetes:keda.sh/v1alpha1:ScaledObject" and "coder-32b" in r.urn
    )
    assert triggers[1] == {
        "type": "cron",
        "metadata": {
            "timezone": "Europe/Berlin",
            "start": "0 7 * * 1-5",
            "end": "0 19 * * 1-5",
            "desiredReplicas": "2",
        },
    }
    floor = prod.outputs["costEstimate"]["fleets"]["coder-32b"]["warmFloor"]
    assert floor["hoursPerWeek"] == 60 and floor["extraGpus"] == 2
    dev = stack_run("dev")
    server = _one(dev, "kubernetes:apps/v1:Deployment", "vllm-qwen-instruct").inputs["spec"]["template"]["spec"][
        "containers"
    ][0]
    mounts = {m["mountPath"]: m for m in server["volumeMounts"]}
    assert mounts["/models"]["readOnly"] is True
    assert mounts["/compile-cache"] == {
        "name": "cache",
        "mountPath": "/compile-cache",
        "subPath": "compile-cache/qwen-instruct",
        "readOnly": False,
    }
