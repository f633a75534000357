"""``BlockStorage``: the encrypted gp3 default StorageClass on EKS (gp2 stops being default).

gp3 is cheaper and faster than gp2 at the same size; every volume is encrypted with the
platform's customer KMS key and bound only once its pod is scheduled (so it lands in the pod's
AZ), and can be expanded in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.core.naming import resource_name
from components.specs import storage as spec

TYPE = "ai-infra:storage:BlockStorage"


@dataclass(frozen=True, kw_only=True)
class BlockStorageArgs:
    kms_key_arn: pulumi.Input[str]
    labels: dict[str, str]


class BlockStorage(pulumi.ComponentResource):
    """Children: StorageClass ``gp3`` (default), StorageClassPatch un-defaulting ``gp2``."""

    storage_class_name: pulumi.Output[str]

    def __init__(self, name: str, args: BlockStorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        gp3 = k8s.storage.v1.StorageClass(
            resource_name(name, "gp3"),
            spec.gp3_class_args(args.kms_key_arn, args.labels),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # gp2 is EKS's, not ours: patch only the annotation (server-side apply), never own the class.
        k8s.storage.v1.StorageClassPatch(
            resource_name(name, "gp2-undefault"),
            spec.gp2_undefault_args(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[gp3]),
        )
        self.storage_class_name = gp3.metadata.apply(lambda m: str(m.name))
        self.register_outputs({"storage_class_name": self.storage_class_name})
