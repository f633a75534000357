"""Section A of ``policies/RULES.md``, part one: pod and container security context (rules 1–13).

These are the Pod Security Standards (baseline, then restricted) and the matching CIS EKS 4.x
controls, checked on every workload kind's pod spec; the objects around pods (rules 14–17 and
the default ServiceAccount) are ``pod_context.py``'s. The level in code is the dev level;
``policies/prod.json`` raises it (all of A is mandatory in prod). Every message names the key
path to fix and never quotes a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel

from aiinfra_policies.common import Report, RulePolicy, Subject, containers, policy
from aiinfra_policies.constants import WORKLOAD_TYPES

M = EnforcementLevel.MANDATORY
A = EnforcementLevel.ADVISORY

# Capability, sysctl and SELinux sets as the Pod Security Standards list them (kept as tables).
# fmt: off
PSS_BASELINE_CAPS = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
    "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
RESTRICTED_VOLUME_KEYS = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
# fmt: on
def _sc(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    sc = obj.get("securityContext")
    return sc if isinstance(sc, Mapping) else {}


# 1 -------------------------------------------------------------------------------------------
def _privileged(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        if _sc(c).get("privileged") is True:
            report(f"{r.pod_path}.{cpath}.securityContext.privileged must be false or unset.")


# 2 -------------------------------------------------------------------------------------------
def _host_namespaces(r: Subject, report: Report) -> None:
    for key in ("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace"):
        if r.pod.get(key) is True:
            report(f"{r.pod_path}.{key} must be false or unset.")


# 3 -------------------------------------------------------------------------------------------
def _host_path(r: Subject, report: Report) -> None:
    for i, vol in enumerate(r.pod.get("volumes") or []):
        if isinstance(vol, Mapping) and vol.get("hostPath") is not None:
            report(f"{r.pod_path}.volumes[{i}] uses hostPath; use a PersistentVolumeClaim (local PV or CSI) instead.")


# 4 -------------------------------------------------------------------------------------------
def _host_ports(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        for j, port in enumerate(c.get("ports") or []):
            if isinstance(port, Mapping) and port.get("hostPort") not in (None, 0):
                report(f"{r.pod_path}.{cpath}.ports[{j}].hostPort must be unset; expose the port with a Service.")


# 5 -------------------------------------------------------------------------------------------
def _caps_baseline(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        added = (_sc(c).get("capabilities") or {}).get("add") or []
        if any(cap not in PSS_BASELINE_CAPS for cap in added):
            report(
                f"{r.pod_path}.{cpath}.securityContext.capabilities.add may only hold the PSS baseline set "
                "(never SYS_ADMIN, NET_RAW or ALL)."
            )


# 6 -------------------------------------------------------------------------------------------
def _caps_drop_all(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            report(f"{r.pod_path}.{cpath}.securityContext.capabilities.drop must contain ALL.")
        if any(cap != "NET_BIND_SERVICE" for cap in caps.get("add") or []):
            report(f"{r.pod_path}.{cpath}.securityContext.capabilities.add may only contain NET_BIND_SERVICE.")


# 7 -------------------------------------------------------------------------------------------
def _no_escalation(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        if _sc(c).get("allowPrivilegeEscalation") is not False:
            report(f"{r.pod_path}.{cpath}.securityContext.allowPrivilegeEscalation must be set to false.")


# 8 -------------------------------------------------------------------------------------------
def _non_root(r: Subject, report: Report) -> None:
    pod_sc = _sc(r.pod)
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    for key in ("runAsUser", "runAsGroup"):
        if pod_sc.get(key) == 0:
            report(f"{r.pod_path}.securityContext.{key} must not be 0 (root).")
    for cpath, c in containers(r.pod):
        sc = _sc(c)
        if sc.get("runAsNonRoot") is False or (not pod_non_root and sc.get("runAsNonRoot") is not True):
            report(f"{r.pod_path}.{cpath}: set runAsNonRoot: true (pod or container securityContext).")
        for key in ("runAsUser", "runAsGroup"):
            if sc.get(key) == 0:
                report(f"{r.pod_path}.{cpath}.securityContext.{key} must not be 0 (root).")


# 9 -------------------------------------------------------------------------------------------
def _seccomp(r: Subject, report: Report) -> None:
    allowed = ("RuntimeDefault", "Localhost")
    pod_type = (_sc(r.pod).get("seccompProfile") or {}).get("type")
    if pod_type == "Unconfined":
        report(f"{r.pod_path}.securityContext.seccompProfile.type must not be Unconfined.")
    for cpath, c in containers(r.pod):
        c_type = (_sc(c).get("seccompProfile") or {}).get("type")
        if c_type == "Unconfined" or (c_type not in allowed and pod_type not in allowed):
            report(f"{r.pod_path}.{cpath}: set seccompProfile.type RuntimeDefault (pod or container securityContext).")


# 10 ------------------------------------------------------------------------------------------
def _read_only_root(r: Subject, report: Report) -> None:
    for cpath, c in containers(r.pod):
        if _sc(c).get("readOnlyRootFilesystem") is not True:
            report(
                f"{r.pod_path}.{cpath}.securityContext.readOnlyRootFilesystem must be true; "
                "mount an emptyDir or PVC where the process writes."
            )


# 11 ------------------------------------------------------------------------------------------
def _volume_types(r: Subject, report: Report) -> None:
    for i, vol in enumerate(r.pod.get("volumes") or []):
        if not isinstance(vol, Mapping):
            continue
        kinds = set(vol) - {"name"}
        if kinds - RESTRICTED_VOLUME_KEYS:
            report(
                f"{r.pod_path}.volumes[{i}] must be one of configMap, csi, downwardAPI, emptyDir, ephemeral, "
                "persistentVolumeClaim, projected, secret."
            )


# 12 ------------------------------------------------------------------------------------------
def _selinux_bad(sc: Mapping[str, Any]) -> bool:
    opts = sc.get("seLinuxOptions") or {}
    return bool(opts.get("user") or opts.get("role")) or opts.get("type", "") not in SELINUX_TYPES


def _apparmor_bad(sc: Mapping[str, Any]) -> bool:
    return (sc.get("appArmorProfile") or {}).get("type") == "Unconfined"


def _pss_misc(r: Subject, report: Report) -> None:
    pod_sc = _sc(r.pod)
    if _selinux_bad(pod_sc):
        report(f"{r.pod_path}.securityContext.seLinuxOptions: only container types, no user or role.")
    if _apparmor_bad(pod_sc):
        report(f"{r.pod_path}.securityContext.appArmorProfile.type must be RuntimeDefault or Localhost.")
    for i, sysctl in enumerate(pod_sc.get("sysctls") or []):
        if isinstance(sysctl, Mapping) and sysctl.get("name") not in SAFE_SYSCTLS:
            report(f"{r.pod_path}.securityContext.sysctls[{i}] is not in the PSS safe set.")
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess") is True:
        report(f"{r.pod_path}.securityContext.windowsOptions.hostProcess must not be true.")
    for cpath, c in containers(r.pod):
        sc = _sc(c)
        if _selinux_bad(sc):
            report(f"{r.pod_path}.{cpath}.securityContext.seLinuxOptions: only container types, no user or role.")
        if _apparmor_bad(sc):
            report(f"{r.pod_path}.{cpath}.securityContext.appArmorProfile.type must be RuntimeDefault or Localhost.")
        if sc.get("procMount") not in (None, "Default"):
            report(f"{r.pod_path}.{cpath}.securityContext.procMount must be Default.")
        if (sc.get("windowsOptions") or {}).get("hostProcess") is True:
            report(f"{r.pod_path}.{cpath}.securityContext.windowsOptions.hostProcess must not be true.")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            for handler in ("httpGet", "tcpSocket"):
                if ((c.get(probe) or {}).get(handler) or {}).get("host"):
                    report(f"{r.pod_path}.{cpath}.{probe}.{handler}.host must be empty (probe the pod itself).")
        for hook in ("postStart", "preStop"):
            for handler in ("httpGet", "tcpSocket"):
                if (((c.get("lifecycle") or {}).get(hook) or {}).get(handler) or {}).get("host"):
                    report(f"{r.pod_path}.{cpath}.lifecycle.{hook}.{handler}.host must be empty.")


# 13 ------------------------------------------------------------------------------------------
def _token_automount(r: Subject, report: Report) -> None:
    if r.pod.get("automountServiceAccountToken") is not False:
        report(
            f"{r.pod_path}.automountServiceAccountToken must be false; mount a projected token only where "
            "the workload calls the Kubernetes API."
        )


POLICIES: list[RulePolicy] = [
    policy(
        "k8s-no-privileged-containers",
        rule="1",
        description="Containers must not run privileged.",
        remediation="Remove securityContext.privileged or set it to false.",
        level=M,
        severity="critical",
        standard="PSS baseline; CKV_K8S_16; CIS EKS 4.2.1",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_privileged,
    ),
    policy(
        "k8s-no-host-namespaces",
        rule="2",
        description="Pods must not share the node's network, PID or IPC namespaces.",
        remediation="Remove hostNetwork/hostPID/hostIPC/shareProcessNamespace.",
        level=M,
        severity="critical",
        standard="PSS baseline; CKV_K8S_17/18/19; CIS EKS 4.2.2–4.2.4",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_host_namespaces,
    ),
    policy(
        "k8s-no-host-path-volumes",
        rule="3",
        description="Pods must not mount hostPath volumes.",
        remediation="Use a PVC on the local-nvme or shared-models StorageClass.",
        level=A,
        severity="high",
        standard="PSS baseline; CKV_K8S_27",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_host_path,
    ),
    policy(
        "k8s-no-host-ports",
        rule="4",
        description="Containers must not bind host ports.",
        remediation="Remove ports[].hostPort; put a ClusterIP Service in front.",
        level=M,
        severity="medium",
        standard="PSS baseline; CKV_K8S_26",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_host_ports,
    ),
    policy(
        "k8s-capabilities-baseline",
        rule="5",
        description="Containers may only add Pod Security baseline capabilities.",
        remediation="Drop SYS_ADMIN, NET_RAW and ALL from capabilities.add.",
        level=M,
        severity="high",
        standard="PSS baseline; CKV_K8S_25/28/39; CIS EKS 4.2.7–4.2.8",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_caps_baseline,
    ),
    policy(
        "k8s-capabilities-drop-all",
        rule="6",
        description="Containers must drop ALL capabilities.",
        remediation="Set securityContext.capabilities.drop: [ALL].",
        level=A,
        severity="medium",
        standard="PSS restricted; CKV_K8S_37; CIS EKS 4.2.9",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_caps_drop_all,
    ),
    policy(
        "k8s-no-privilege-escalation",
        rule="7",
        description="Containers must set allowPrivilegeEscalation: false.",
        remediation="Set securityContext.allowPrivilegeEscalation: false.",
        level=A,
        severity="high",
        standard="PSS restricted; CKV_K8S_20; CIS EKS 4.2.5",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_no_escalation,
    ),
    policy(
        "k8s-run-as-non-root",
        rule="8",
        description="Pods must run as a non-root user and group.",
        remediation="Set runAsNonRoot: true and a non-zero runAsUser/runAsGroup.",
        level=A,
        severity="high",
        standard="PSS restricted; CKV_K8S_23/40; CIS EKS 4.2.6",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_non_root,
    ),
    policy(
        "k8s-seccomp-runtime-default",
        rule="9",
        description="Pods must use the RuntimeDefault (or Localhost) seccomp profile.",
        remediation="Set securityContext.seccompProfile.type: RuntimeDefault.",
        level=A,
        severity="medium",
        standard="PSS restricted; CKV_K8S_31; NSA 1.10",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_seccomp,
    ),
    policy(
        "k8s-read-only-root-fs",
        rule="10",
        description="Containers must have a read-only root filesystem.",
        remediation="Set readOnlyRootFilesystem: true and mount emptyDirs for scratch paths.",
        level=A,
        severity="medium",
        standard="CKV_K8S_22; NSA 1.1",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_read_only_root,
    ),
    policy(
        "k8s-restricted-volume-types",
        rule="11",
        description="Pods may only use the volume types Pod Security restricted allows.",
        remediation="Replace inline nfs/hostPath/EBS volumes with PVCs.",
        level=A,
        severity="medium",
        standard="PSS restricted",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_volume_types,
    ),
    policy(
        "k8s-pss-baseline-misc",
        rule="12",
        description="Pods must meet the remaining Pod Security baseline controls.",
        remediation="Remove custom SELinux users/roles, unsafe sysctls, Unconfined AppArmor, probe hosts.",
        level=M,
        severity="high",
        standard="PSS baseline (SELinux, /proc, sysctls, AppArmor, HostProcess, probe host)",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_pss_misc,
    ),
    policy(
        "k8s-sa-token-not-automounted",
        rule="13",
        description="Pods must not automount a ServiceAccount token.",
        remediation="Set automountServiceAccountToken: false in the pod spec.",
        level=A,
        severity="medium",
        standard="CKV_K8S_38; CIS EKS 4.1.6",
        types=WORKLOAD_TYPES,
        exclude_namespaces=True,
        check=_token_automount,
    ),
]
