"""Turn a mocked program run into the plan's files.

- ``plan.json``: every resource as ``{urn, type, name, parent, inputs}`` (+ options), secrets
  shown as ``"[secret]"``;
- ``manifests/<namespace or _cluster>/<kind>-<name>.yaml``: every Kubernetes object but Secrets,
  custom resources too, as ``kubectl apply`` would accept it;
- ``secrets/<namespace>/<name>.yaml``: each Secret's name, type and key names, never a manifest: a
  Secret whose data read ``[secret]`` would overwrite the real one on ``kubectl apply -f
  manifests``, so no file in the plan is an applicable Secret;
- ``patches/<namespace or _cluster>/<kind>-<name>.yaml``: server-side-apply patches of objects
  the platform does not own (applied with ``kubectl apply --server-side``);
- ``helm/<release>.yaml``: chart, repo, version and values of every Helm release.

Output is sorted and stable so two runs are byte-identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from planner.mocks import SECRET_SIG, Registration

SECRET = "[secret]"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def redact(value: Any) -> Any:
    """Replace every secret-wrapped value with ``"[secret]"`` (recursively). A secret mapping
    (a Secret's whole ``stringData``) keeps its keys, so manifests stay valid objects."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            inner = value.get("value")
            return {k: SECRET for k in inner} if isinstance(inner, dict) else SECRET
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def is_k8s_object(reg: Registration) -> bool:
    return (
        reg.custom
        and reg.type.startswith("kubernetes:")
        and not reg.type.startswith("kubernetes:helm.sh")
        and not reg.type.startswith("kubernetes:yaml")
        and "apiVersion" in reg.inputs
    )


K8S_SECRET = "kubernetes:core/v1:Secret"


def secret_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """What a Secret holds, without values and without ``apiVersion``/``kind`` (so ``kubectl
    apply`` refuses the file instead of overwriting the real Secret with placeholders)."""
    keys = sorted({*(manifest.get("data") or {}), *(manifest.get("stringData") or {})})
    meta = manifest["metadata"]
    return {
        "secret": meta.get("name"),
        "namespace": meta.get("namespace"),
        "type": manifest.get("type", "Opaque"),
        "keys": keys,
        "note": "not a manifest: the values live only in the stack's --secret config and the cluster",
    }


def is_patch(reg: Registration) -> bool:
    """Server-side-apply patches of objects someone else owns (e.g. EKS's gp2 class)."""
    return is_k8s_object(reg) and reg.type.endswith("Patch")


def plan_document(stack: str, registrations: list[Registration], outputs: dict[str, Any]) -> dict[str, Any]:
    resources = []
    for reg in registrations:
        entry: dict[str, Any] = {
            "urn": reg.urn,
            "type": reg.type,
            "name": reg.name,
            "parent": reg.parent,
            "custom": reg.custom,
            "inputs": redact(reg.inputs),
        }
        if reg.protect:
            entry["protect"] = True
        if reg.retain_on_delete:
            entry["retainOnDelete"] = True
        resources.append(entry)
    resources.sort(key=lambda r: r["urn"])
    return {"stack": stack, "resources": resources, "outputs": redact(outputs)}


def manifest_of(reg: Registration) -> dict[str, Any]:
    """The object as applied: inputs, with the (mocked, deterministic) name filled in."""
    body = redact(reg.inputs)
    metadata = dict(body.get("metadata") or {})
    out_meta = reg.outputs.get("metadata") or {}
    if "name" not in metadata and isinstance(out_meta, dict) and "name" in out_meta:
        metadata["name"] = out_meta["name"]
    ordered: dict[str, Any] = {"apiVersion": body["apiVersion"], "kind": body["kind"], "metadata": metadata}
    ordered["metadata"] = _sorted(metadata)
    for key in sorted(body):
        if key not in ordered:
            ordered[key] = _sorted(body[key])
    return ordered


def _sorted(value: Any) -> Any:
    """Sort mapping keys recursively (list order is meaningful and kept)."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def manifest_path(manifest: dict[str, Any]) -> Path:
    namespace = manifest["metadata"].get("namespace") or "_cluster"
    name = manifest["metadata"].get("name", "unnamed")
    return Path(str(namespace)) / f"{manifest['kind'].lower()}-{name}.yaml"


def helm_document(reg: Registration) -> dict[str, Any]:
    inputs = redact(reg.inputs)
    repo = (inputs.get("repositoryOpts") or {}).get("repo")
    return {
        "release": inputs.get("name", reg.name),
        "namespace": inputs.get("namespace"),
        "chart": inputs.get("chart"),
        "repo": repo,
        "version": inputs.get("version"),
        "values": _sorted(inputs.get("values", {})),
    }


def dump_yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=100)


def write_plan(out_dir: Path, stack: str, registrations: list[Registration], outputs: dict[str, Any]) -> dict[str, int]:
    """Write plan.json, manifests/ and helm/ under ``out_dir``; return counts per kind of file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "plan.json").write_text(
        json.dumps(plan_document(stack, registrations, outputs), indent=2, sort_keys=True) + "\n"
    )
    manifests = 0
    for reg in registrations:
        if not is_k8s_object(reg):
            continue
        manifest = manifest_of(reg)
        if reg.type == K8S_SECRET:
            path = out_dir / "secrets" / str(manifest["metadata"].get("namespace") or "_cluster")
            path = path / f"{manifest['metadata'].get('name', 'unnamed')}.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dump_yaml(secret_summary(manifest)))
            continue
        # Patches are partial objects: apply them with `kubectl apply --server-side`, not as manifests.
        folder = "patches" if is_patch(reg) else "manifests"
        path = out_dir / folder / manifest_path(manifest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(manifest))
        manifests += folder == "manifests"
    cost = outputs.get("costEstimate")
    if isinstance(cost, dict):
        (out_dir / "cost.json").write_text(json.dumps(cost, indent=2, sort_keys=True) + "\n")
    releases = 0
    for reg in registrations:
        if reg.type != HELM_RELEASE:
            continue
        doc = helm_document(reg)
        path = out_dir / "helm" / f"{doc['release']}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_yaml(doc))
        releases += 1
    return {"resources": len(registrations), "manifests": manifests, "helmReleases": releases}
