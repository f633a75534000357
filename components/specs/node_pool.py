"""Pure builders for a GPU node pool: labels, taints, autoscaler tags, user data, launch template.

The GPU taint keeps non-GPU pods off expensive nodes; ``nvidia.com/gpu.present`` lets the
device plugin schedule without Node Feature Discovery. Cluster-autoscaler node-template tags
on the ASG describe a node that does not exist yet (labels, taints, GPU count), which is what
makes scale-from-zero work. The launch template enforces IMDSv2 with hop limit 1 (pods cannot
reach node credentials) and an encrypted gp3 root volume; nodeadm lays out the NVMe instance
store as RAID0 for containerd/kubelet, or mounts raw disks for local PersistentVolumes.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from typing import Literal

import pulumi
import pulumi_aws as aws

from components.core.labels import ENV_LABEL, POOL_LABEL, TEAM_LABEL, label_value
from components.core.settings import NodePoolSettings

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}
"""What a pod (or a chart's pods, or a Kueue flavor) needs to run on a tainted GPU node."""
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
DEVICE_PLUGIN_CONFIG_LABEL = "nvidia.com/device-plugin.config"
MIG_CONFIG_LABEL = "nvidia.com/mig.config"
ACCELERATOR_LABEL = "ai-infra.io/accelerator"
AWS_ACCELERATOR_LABEL = "k8s.amazonaws.com/accelerator"
"""cluster-autoscaler's GPU label on AWS (cloudprovider/aws ``GPULabel``): a new node carrying it but
no allocatable GPU yet counts as not ready, so the autoscaler waits for the device plugin instead
of scaling up again (processors/customresources/gpu_processor.go @ cluster-autoscaler-1.34.5)."""
PURPOSE_LABEL = "ai-infra.io/purpose"
CAPACITY_LABEL = "ai-infra.io/capacity-type"
MIME_BOUNDARY = "AIINFRA-NODEADM"


def gpu_taints() -> list[dict[str, str]]:
    """EKS API form of the GPU taint (``NO_SCHEDULE`` is ``NoSchedule`` on the node)."""
    return [{"key": GPU_TAINT_KEY, "value": "true", "effect": "NO_SCHEDULE"}]


def node_labels(pool_name: str, pool: NodePoolSettings, *, env: str, team: str) -> dict[str, str]:
    """Labels every node of the pool carries: GPU presence, pool, accelerator, cost labels."""
    labels = {
        GPU_PRESENT_LABEL: "true",
        POOL_LABEL: pool_name,
        # Settings guarantee one GPU model per pool, so the label is true of every node.
        ACCELERATOR_LABEL: label_value(pool.instances[0].gpu_model.lower()),
        PURPOSE_LABEL: pool.purpose,
        CAPACITY_LABEL: pool.capacity_type.lower().replace("_", "-"),
        ENV_LABEL: env,
        TEAM_LABEL: team,
    }
    if advertises_whole_gpus(pool):
        # Only where nodes advertise nvidia.com/gpu: the autoscaler treats a labelled node without
        # allocatable nvidia.com/gpu as not ready, forever for renamed (gpu.shared) or MIG-mixed ones.
        labels[AWS_ACCELERATOR_LABEL] = label_value(f"nvidia-{pool.instances[0].gpu_model.lower()}")
    if pool.sharing.mode != "none":
        # The device plugin picks its per-node config (time-slicing / MIG) from this label.
        labels[DEVICE_PLUGIN_CONFIG_LABEL] = pool_name
    if pool.sharing.mode == "mig" and pool.sharing.mig_profile:
        labels[MIG_CONFIG_LABEL] = pool.sharing.mig_profile
    labels.update({k: label_value(v) for k, v in pool.labels.items()})
    return dict(sorted(labels.items()))


def advertises_whole_gpus(pool: NodePoolSettings) -> bool:
    """Nodes advertise ``nvidia.com/gpu`` (not ``gpu.shared`` or per-profile MIG resources)."""
    renamed = pool.sharing.mode == "time-slicing" and pool.sharing.rename_by_default
    mig_mixed = pool.sharing.mode == "mig" and pool.sharing.mig_strategy == "mixed"
    return not (renamed or mig_mixed)


MIG_SLICES = 7
"""Compute slices of an A100/H100/H200: a ``<n>g`` profile fits ``7 // n`` times per GPU."""
_UNIFORM_MIG = re.compile(r"^all-(\d)g\.(\d+)gb$")


def advertised_gpu_resource(pool: NodePoolSettings) -> tuple[str, int] | None:
    """The extended resource a node advertises and how many: time-slicing multiplies GPUs and,
    with ``renameByDefault``, advertises them as ``nvidia.com/gpu.shared``; MIG ``mixed`` with a
    uniform profile advertises ``nvidia.com/mig-<profile>``. None when it cannot be known ahead
    (a mixed, non-uniform MIG layout): the template then names no GPU resource."""
    sharing = pool.sharing
    if sharing.mode == "time-slicing" and sharing.replicas:
        count = pool.gpus_per_node * sharing.replicas
        return ("nvidia.com/gpu.shared" if sharing.rename_by_default else GPU_RESOURCE), count
    if sharing.mode == "mig" and sharing.mig_strategy == "mixed":
        uniform = _UNIFORM_MIG.match(sharing.mig_profile or "")
        if uniform is None:
            return None
        size = int(uniform[1])
        return f"nvidia.com/mig-{size}g.{uniform[2]}gb", pool.gpus_per_node * (MIG_SLICES // size)
    return GPU_RESOURCE, pool.gpus_per_node


def autoscaler_tags(cluster_name: str, pool: NodePoolSettings, labels: Mapping[str, str]) -> dict[str, str]:
    """ASG tags cluster-autoscaler reads to build a template node for scale-from-zero."""
    prefix = "k8s.io/cluster-autoscaler"
    tags = {f"{prefix}/enabled": "true", f"{prefix}/{cluster_name}": "owned"}
    for key, value in labels.items():
        tags[f"{prefix}/node-template/label/{key}"] = value
    tags[f"{prefix}/node-template/taint/{GPU_TAINT_KEY}"] = "true:NoSchedule"
    advertised = advertised_gpu_resource(pool)
    if advertised is not None:
        tags[f"{prefix}/node-template/resources/{advertised[0]}"] = str(advertised[1])
    tags[f"{prefix}/node-template/resources/ephemeral-storage"] = f"{pool.root_volume_gib}Gi"
    return dict(sorted(tags.items()))


NvmeMode = Literal["raid0", "local-pv", "none"]


def nodeadm_config(nvme: NvmeMode, nvme_host_dir: str) -> dict[str, object]:
    """The NodeConfig EKS merges into its own for a managed node group (AL2023)."""
    spec: dict[str, object] = {
        "kubelet": {
            "config": {
                # Large CUDA images: pull in parallel instead of one at a time.
                "serializeImagePulls": False,
                "maxParallelImagePulls": 5,
                "registryPullQPS": 50,
                "registryBurst": 100,
            }
        }
    }
    if nvme == "raid0":
        spec["instance"] = {"localStorage": {"strategy": "RAID0"}}
    elif nvme == "local-pv":
        spec["instance"] = {
            "localStorage": {
                "strategy": "Mount",
                "mountPath": nvme_host_dir,
                # Keep the disks for local PVs only; containerd and pod logs stay on the root volume.
                "disabledMounts": ["Containerd", "PodLogs"],
            }
        }
    return {"apiVersion": "node.eks.aws/v1alpha1", "kind": "NodeConfig", "spec": spec}


def al2023_user_data(nvme: NvmeMode, nvme_host_dir: str) -> str:
    """MIME multipart user data holding the NodeConfig (base64, as launch templates expect)."""
    body = json.dumps(nodeadm_config(nvme, nvme_host_dir), sort_keys=True)
    mime = (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{MIME_BOUNDARY}"\n\n'
        f"--{MIME_BOUNDARY}\n"
        "Content-Type: application/node.eks.aws\n\n"
        f"{body}\n\n"
        f"--{MIME_BOUNDARY}--\n"
    )
    return base64.b64encode(mime.encode()).decode()


SOCI_TOML = (
    # SOCI parallel pull-unpack (issue 26): Bottlerocket >= 1.44.0 ships the snapshotter in its
    # kubernetes variants; settings per bottlerocket.dev /en/os/1.53.x/api/settings/container-runtime
    # and .../container-runtime-plugins (the plugin's defaults: 3 downloads and 1 unpack per image).
    # The snapshotter change takes effect at boot, which is when user data applies.
    '\n[settings.container-runtime]\nsnapshotter = "soci"\n'
    '\n[settings.container-runtime-plugins.soci-snapshotter]\npull-mode = "parallel-pull-unpack"\n'
)
SOCI_STATE_DIR = "/var/lib/soci-snapshotter"
"""Where Bottlerocket's SOCI snapshotter keeps layers (bottlerocket.dev container-runtime: it clears
``/var/lib/containerd`` and this directory when the snapshotter changes): on the RAID0 array too."""


def bottlerocket_user_data(nvme: NvmeMode, *, soci: bool = False) -> str:
    """Bottlerocket TOML settings: parallel pulls; its data volume already hosts containerd."""
    toml = "[settings.kubernetes]\nserialize-image-pulls = false\nregistry-qps = 50\nregistry-burst = 100\n"
    if soci:
        toml += SOCI_TOML
    if nvme == "raid0":
        # Bind containerd, kubelet and pod logs to the RAID0 array of the NVMe instance store.
        extra = f', "{SOCI_STATE_DIR}"' if soci else ""
        toml += (
            "\n[settings.bootstrap-commands.k8s-ephemeral-storage]\n"
            'commands = [["apiclient", "ephemeral-storage", "init"], '
            '["apiclient", "ephemeral-storage", "bind", "--dirs", '
            f'"/var/lib/containerd", "/var/lib/kubelet", "/var/log/pods"{extra}]]\n'
            "essential = true\n"
            'mode = "always"\n'
        )
    return base64.b64encode(toml.encode()).decode()


def user_data(pool: NodePoolSettings, nvme_host_dir: str) -> str:
    if pool.ami_type.startswith("BOTTLEROCKET"):
        return bottlerocket_user_data(pool.nvme, soci=pool.soci)
    return al2023_user_data(pool.nvme, nvme_host_dir)


def launch_template_args(
    *,
    name_prefix: str,
    root_volume_gib: int,
    kms_key_arn: pulumi.Input[str],
    user_data: str,
    tags: Mapping[str, str],
    bottlerocket: bool = False,
) -> aws.ec2.LaunchTemplateArgs:
    """IMDSv2 only (hop limit 1), encrypted gp3 root with the platform CMK, no public IPs."""
    return aws.ec2.LaunchTemplateArgs(
        name_prefix=name_prefix,
        description="EKS node launch template (IMDSv2, encrypted root, nodeadm NVMe layout)",
        update_default_version=True,
        metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=1,
            instance_metadata_tags="disabled",
        ),
        block_device_mappings=[
            aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                # AL2023 boots from /dev/xvda; Bottlerocket keeps images on its data volume /dev/xvdb.
                device_name="/dev/xvdb" if bottlerocket else "/dev/xvda",
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=root_volume_gib,
                    volume_type="gp3",
                    iops=3000,
                    throughput=250,
                    encrypted="true",
                    kms_key_id=kms_key_arn,
                    delete_on_termination="true",
                ),
            )
        ],
        user_data=user_data,
        tag_specifications=[
            aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=dict(tags))
            for kind in ("instance", "volume")
        ],
        tags=dict(tags),
    )
