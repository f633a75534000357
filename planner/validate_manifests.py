"""``python -m planner.validate_manifests build/<stack>``: the plan's core manifests through
``kubernetes-validate --strict`` at the stack's Kubernetes version (``make scan`` runs it; the
planner tests run the same check for every stack).

Only built-in API groups are validated here: custom resources are checked against the pinned
CRDs' schemas by ``tests/unit/specs/test_crd_schemas.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

CORE_GROUPS = frozenset({"apps", "batch", "policy", "autoscaling"})


def is_core(manifest: Path) -> bool:
    """A built-in kind: the core group, ``*.k8s.io`` groups (not the SIG projects' ``*.x-k8s.io``
    CRDs, such as Kueue's), apps, batch, policy, autoscaling."""
    group = str(yaml.safe_load(manifest.read_text())["apiVersion"]).rpartition("/")[0]
    sig_crd = group.endswith(".x-k8s.io")
    return not group or (group.endswith(".k8s.io") and not sig_crd) or group in CORE_GROUPS


def core_manifests(build_dir: Path) -> list[Path]:
    return [p for p in sorted((build_dir / "manifests").rglob("*.yaml")) if is_core(p)]


def kubernetes_version(build_dir: Path) -> str:
    """The cluster's minor from the plan's effective settings (``settings.json``)."""
    return str(json.loads((build_dir / "settings.json").read_text())["cluster"]["kubernetesVersion"])


def validate(manifests: list[Path], version: str) -> subprocess.CompletedProcess[str]:
    validator = shutil.which("kubernetes-validate", path=str(Path(sys.executable).parent))
    if validator is None:
        raise FileNotFoundError("kubernetes-validate is not in the project venv (make venv)")
    return subprocess.run(
        [validator, "--strict", "--quiet", "-k", f"{version}.0", *map(str, manifests)],
        capture_output=True,
        text=True,
        check=False,
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m planner.validate_manifests build/<stack>", file=sys.stderr)
        return 2
    build_dir = Path(argv[0])
    manifests = core_manifests(build_dir)
    result = validate(manifests, kubernetes_version(build_dir))
    print(result.stdout + result.stderr, end="")
    if result.returncode == 0:
        print(f"kubernetes-validate --strict: {len(manifests)} core manifests valid")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
