"""Section A: pod and container security context (Pod Security Standards, CIS EKS 4.x).

Rules 1–17 of the rule table. The level in code is the dev level; ``policies/prod.json`` raises
the prod ones. Every message names the key path to fix and never quotes a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
)

from aiinfra_policies.common import (
    NAMESPACE,
    POD,
    SERVICE_ACCOUNT,
    WORKLOAD_TYPES,
    Report,
    args_policy,
    containers,
    excluded,
    pod_spec,
    pod_spec_path,
    resource_policy,
    workload_policy,
)

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY

PSS_BASELINE_CAPS = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
RESTRICTED_VOLUME_KEYS = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
DEFAULT_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "PriorityClass",
        "RuntimeClass",
        "CustomResourceDefinition",
        "CSIDriver",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "IngressClass",
        "VolumeSnapshotClass",
    }
)


def _sc(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    sc = obj.get("securityContext")
    return sc if isinstance(sc, Mapping) else {}


# 1 -------------------------------------------------------------------------------------------
def _privileged(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for cpath, c in containers(spec):
        if _sc(c).get("privileged") is True:
            report(f"{path}.{cpath}.securityContext.privileged must be false or unset.")


# 2 -------------------------------------------------------------------------------------------
def _host_namespaces(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for key in ("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace"):
        if spec.get(key) is True:
            report(f"{path}.{key} must be false or unset.")


# 3 -------------------------------------------------------------------------------------------
def _host_path(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for i, vol in enumerate(spec.get("volumes") or []):
        if isinstance(vol, Mapping) and vol.get("hostPath") is not None:
            report(f"{path}.volumes[{i}] uses hostPath; use a PersistentVolumeClaim (local PV or CSI) instead.")


# 4 -------------------------------------------------------------------------------------------
def _host_ports(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for cpath, c in containers(spec):
        for j, port in enumerate(c.get("ports") or []):
            if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0):
                report(f"{path}.{cpath}.ports[{j}].hostPort must be unset; expose the port with a Service.")


# 5 -------------------------------------------------------------------------------------------
def _caps_baseline(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for cpath, c in containers(spec):
        added = (_sc(c).get("capabilities") or {}).get("add") or []
        if any(cap not in PSS_BASELINE_CAPS for cap in added):
            report(
                f"{path}.{cpath}.securityContext.capabilities.add may only hold the PSS baseline set "
                "(never SYS_ADMIN, NET_RAW or ALL)."
            )


# 6 -------------------------------------------------------------------------------------------
def _caps_drop_all(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for cpath, c in containers(spec):
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            report(f"{path}.{cpath}.securityContext.capabilities.drop must contain ALL.")
        if any(cap != "NET_BIND_SERVICE" for cap in caps.get("add") or []):
            report(f"{path}.{cpath}.securityContext.capabilities.add may only contain NET_BIND_SERVICE.")


# 7 -------------------------------------------------------------------------------------------
def _no_escalation(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for cpath, c in containers(spec):
        if _sc(c).get("allowPrivilegeEscalation") is not False:
            report(f"{path}.{cpath}.securityContext.allowPrivilegeEscalation must be set to false.")


# 8 -------------------------------------------------------------------------------------------
def _non_root(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    pod_sc = _sc(spec)
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    for key in ("runAsUser", "runAsGroup"):
        if pod_sc.get(key) == 0:
            report(f"{path}.securityContext.{key} must not be 0 (root).")
    for cpath, c in containers(spec):
        sc = _sc(c)
        if sc.get("runAsNonRoot") is False or (not pod_non_root and sc.get("runAsNonRoot") is not True):
            report(f"{path}.{cpath}: set runAsNonRoot: true (pod or container securityContext).")
        for key in ("runAsUser", "runAsGroup"):
            if sc.get(key) == 0:
                report(f"{path}.{cpath}.securityContext.{key} must not be 0 (root).")


# 9 -------------------------------------------------------------------------------------------
def _seccomp(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    allowed = ("RuntimeDefault", "Localhost")
    pod_type = (_sc(spec).get("seccompProfile") or {}).get("type")
    if pod_type == "Unconfined":
        report(f"{path}.securityContext.seccompProfile.type must not be Unconfined.")
    for cpath, c in containers(spec):
        c_type = (_sc(c).get("seccompProfile") or {}).get("type")
        if c_type == "Unconfined" or (c_type not in allowed and pod_type not in allowed):
            report(f"{path}.{cpath}: set seccompProfile.type RuntimeDefault (pod or container securityContext).")


# 10 ------------------------------------------------------------------------------------------
def _read_only_root(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for cpath, c in containers(spec):
        if _sc(c).get("readOnlyRootFilesystem") is not True:
            report(
                f"{path}.{cpath}.securityContext.readOnlyRootFilesystem must be true; "
                "mount an emptyDir or PVC where the process writes."
            )


# 11 ------------------------------------------------------------------------------------------
def _volume_types(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    for i, vol in enumerate(spec.get("volumes") or []):
        if not isinstance(vol, Mapping):
            continue
        kinds = set(vol) - {"name"}
        if kinds - RESTRICTED_VOLUME_KEYS:
            report(
                f"{path}.volumes[{i}] must be one of configMap, csi, downwardAPI, emptyDir, ephemeral, "
                "persistentVolumeClaim, projected, secret."
            )


# 12 ------------------------------------------------------------------------------------------
def _selinux_bad(sc: Mapping[str, Any]) -> bool:
    opts = sc.get("seLinuxOptions") or {}
    return bool(opts.get("user") or opts.get("role")) or opts.get("type", "") not in SELINUX_TYPES


def _apparmor_bad(sc: Mapping[str, Any]) -> bool:
    return (sc.get("appArmorProfile") or {}).get("type") == "Unconfined"


def _pss_misc(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    pod_sc = _sc(spec)
    if _selinux_bad(pod_sc):
        report(f"{path}.securityContext.seLinuxOptions: only container types, no user or role.")
    if _apparmor_bad(pod_sc):
        report(f"{path}.securityContext.appArmorProfile.type must be RuntimeDefault or Localhost.")
    for i, sysctl in enumerate(pod_sc.get("sysctls") or []):
        if isinstance(sysctl, Mapping) and sysctl.get("name") not in SAFE_SYSCTLS:
            report(f"{path}.securityContext.sysctls[{i}] is not in the PSS safe set.")
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess") is True:
        report(f"{path}.securityContext.windowsOptions.hostProcess must not be true.")
    for cpath, c in containers(spec):
        sc = _sc(c)
        if _selinux_bad(sc):
            report(f"{path}.{cpath}.securityContext.seLinuxOptions: only container types, no user or role.")
        if _apparmor_bad(sc):
            report(f"{path}.{cpath}.securityContext.appArmorProfile.type must be RuntimeDefault or Localhost.")
        if sc.get("procMount") not in (None, "Default"):
            report(f"{path}.{cpath}.securityContext.procMount must be Default.")
        if (sc.get("windowsOptions") or {}).get("hostProcess") is True:
            report(f"{path}.{cpath}.securityContext.windowsOptions.hostProcess must not be true.")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            for handler in ("httpGet", "tcpSocket"):
                if ((c.get(probe) or {}).get(handler) or {}).get("host"):
                    report(f"{path}.{cpath}.{probe}.{handler}.host must be empty (probe the pod itself).")
        for hook in ("postStart", "preStop"):
            for handler in ("httpGet", "tcpSocket"):
                if (((c.get("lifecycle") or {}).get(hook) or {}).get(handler) or {}).get("host"):
                    report(f"{path}.{cpath}.lifecycle.{hook}.{handler}.host must be empty.")


# 13 ------------------------------------------------------------------------------------------
def _token_automount(path: str, spec: Mapping[str, Any], _: Mapping[str, Any], report: Report) -> None:
    if spec.get("automountServiceAccountToken") is not False:
        report(
            f"{path}.automountServiceAccountToken must be false; mount a projected token only where "
            "the workload calls the Kubernetes API."
        )


# 14 ------------------------------------------------------------------------------------------
def _dedicated_sa(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type == SERVICE_ACCOUNT:
        name = (args.props.get("metadata") or {}).get("name")
        if name == "default" and args.props.get("automountServiceAccountToken") is not False:
            report("The default ServiceAccount must set automountServiceAccountToken: false.")
        return
    if args.resource_type not in WORKLOAD_TYPES or excluded(args):
        return
    spec = pod_spec(args.resource_type, args.props)
    if spec.get("serviceAccountName") in (None, "", "default"):
        report(f"{pod_spec_path(args.resource_type)}.serviceAccountName must name a dedicated ServiceAccount.")


# 15 ------------------------------------------------------------------------------------------
def _explicit_namespace(args: ResourceValidationArgs, report: Report) -> None:
    token = args.resource_type
    if not token.startswith("kubernetes:") or token.startswith(("kubernetes:helm.sh", "kubernetes:yaml")):
        return
    kind = args.props.get("kind")
    if not isinstance(kind, str) or kind in CLUSTER_SCOPED_KINDS or kind.endswith("List"):
        return
    namespace = (args.props.get("metadata") or {}).get("namespace")
    if not namespace:
        report("metadata.namespace must be set explicitly (a literal, so it is known at preview).")
    elif namespace in DEFAULT_NAMESPACES:
        report("metadata.namespace must be a platform namespace, not default, kube-system or kube-public.")


# 16 ------------------------------------------------------------------------------------------
def _bare_pod(_: Mapping[str, Any], report: Report) -> None:
    report("Create pods through a Deployment, StatefulSet, DaemonSet or Job, not as a bare Pod.")


# 17 ------------------------------------------------------------------------------------------
PSS_LABELS = ("enforce", "warn", "audit")
LEVEL_ORDER = {"restricted": 0, "baseline": 1, "privileged": 2}
NAMESPACE_EXCEPTIONS_SCHEMA = PolicyConfigSchema(
    properties={
        "exceptions": {
            "type": "object",
            "additionalProperties": {"type": "string", "enum": ["baseline", "privileged"]},
            "default": {},
            "description": "System namespaces allowed a weaker Pod Security level, and the weakest allowed.",
        }
    }
)


def _namespace_pss(args: ResourceValidationArgs, report: Report) -> None:
    if args.resource_type != NAMESPACE:
        return
    metadata = args.props.get("metadata") or {}
    labels = metadata.get("labels") or {}
    name = metadata.get("name")
    exceptions = (args.get_config() or {}).get("exceptions") or {}
    allowed = exceptions.get(name, "restricted") if isinstance(name, str) else "restricted"
    for mode in PSS_LABELS:
        key = f"pod-security.kubernetes.io/{mode}"
        level = labels.get(key)
        if level not in LEVEL_ORDER:
            report(f"metadata.labels[{key}] must be set to restricted (or an allowed exception level).")
        elif LEVEL_ORDER[level] > LEVEL_ORDER.get(allowed, 0):
            report(
                f"metadata.labels[{key}] is weaker than this namespace may be; use restricted or add the "
                "namespace to the policy's exceptions with a reason."
            )


POLICIES: list[Any] = [
    workload_policy(
        "k8s-no-privileged-containers",
        "Containers must not run privileged.",
        _privileged,
        level=M,
        remediation="Remove securityContext.privileged or set it to false.",
    ),
    workload_policy(
        "k8s-no-host-namespaces",
        "Pods must not share the node's network, PID or IPC namespaces.",
        _host_namespaces,
        level=M,
        remediation="Remove hostNetwork/hostPID/hostIPC/shareProcessNamespace.",
    ),
    workload_policy(
        "k8s-no-host-path-volumes",
        "Pods must not mount hostPath volumes.",
        _host_path,
        level=A,
        remediation="Use a PVC on the local-nvme or shared-models StorageClass.",
    ),
    workload_policy(
        "k8s-no-host-ports",
        "Containers must not bind host ports.",
        _host_ports,
        level=M,
        remediation="Remove ports[].hostPort; put a ClusterIP Service in front.",
    ),
    workload_policy(
        "k8s-capabilities-baseline",
        "Containers may only add Pod Security baseline capabilities.",
        _caps_baseline,
        level=M,
        remediation="Drop SYS_ADMIN, NET_RAW and ALL from capabilities.add.",
    ),
    workload_policy(
        "k8s-capabilities-drop-all",
        "Containers must drop ALL capabilities.",
        _caps_drop_all,
        level=A,
        remediation="Set securityContext.capabilities.drop: [ALL].",
    ),
    workload_policy(
        "k8s-no-privilege-escalation",
        "Containers must set allowPrivilegeEscalation: false.",
        _no_escalation,
        level=A,
        remediation="Set securityContext.allowPrivilegeEscalation: false.",
    ),
    workload_policy(
        "k8s-run-as-non-root",
        "Pods must run as a non-root user and group.",
        _non_root,
        level=A,
        remediation="Set runAsNonRoot: true and a non-zero runAsUser/runAsGroup.",
    ),
    workload_policy(
        "k8s-seccomp-runtime-default",
        "Pods must use the RuntimeDefault (or Localhost) seccomp profile.",
        _seccomp,
        level=A,
        remediation="Set securityContext.seccompProfile.type: RuntimeDefault.",
    ),
    workload_policy(
        "k8s-read-only-root-fs",
        "Containers must have a read-only root filesystem.",
        _read_only_root,
        level=A,
        remediation="Set readOnlyRootFilesystem: true and mount emptyDirs for scratch paths.",
    ),
    workload_policy(
        "k8s-restricted-volume-types",
        "Pods may only use the volume types Pod Security restricted allows.",
        _volume_types,
        level=A,
        remediation="Replace inline nfs/hostPath/EBS volumes with PVCs.",
    ),
    workload_policy(
        "k8s-pss-baseline-misc",
        "Pods must meet the remaining Pod Security baseline controls.",
        _pss_misc,
        level=M,
        remediation="Remove custom SELinux users/roles, unsafe sysctls, Unconfined AppArmor, probe hosts.",
    ),
    workload_policy(
        "k8s-sa-token-not-automounted",
        "Pods must not automount a ServiceAccount token.",
        _token_automount,
        level=A,
        remediation="Set automountServiceAccountToken: false in the pod spec.",
    ),
    args_policy(
        "k8s-dedicated-service-account",
        "Workloads must run as a dedicated ServiceAccount.",
        _dedicated_sa,
        A,
        "Create a ServiceAccount per workload and set serviceAccountName.",
    ),
    args_policy(
        "k8s-explicit-non-default-namespace",
        "Namespaced objects must name a platform namespace explicitly.",
        _explicit_namespace,
        A,
        "Set metadata.namespace to one of the platform's namespaces.",
    ),
    resource_policy(
        "k8s-no-bare-pods",
        "Pods must be created by a controller.",
        frozenset({POD}),
        _bare_pod,
        level=A,
        remediation="Wrap the pod in a Deployment, StatefulSet or Job.",
    ),
    args_policy(
        "k8s-namespace-pss-labels",
        "Namespaces must carry Pod Security labels (restricted unless excepted).",
        _namespace_pss,
        A,
        "Label the namespace pod-security.kubernetes.io/enforce|warn|audit: restricted.",
        NAMESPACE_EXCEPTIONS_SCHEMA,
    ),
]
