"""Pinned third-party Helm charts, loaded from the one reviewed lockfile ``policies/charts.json``.

Third-party operators are installed from their official charts with ``helm.v3.Release``
(``v4.Chart`` would need the chart and a reachable cluster at preview). The lockfile holds every
chart's repository and version (the cluster-autoscaler: a chart line per Kubernetes minor, with
its image tag), whether a cluster may already run it (``preinstallable``: the settings'
``addons.<chart>`` keys), the images it runs (``chart_images.py``) and the upstream source of each
fact. The policy pack's ``helm-release-allowlisted`` rule reads the same file (it lives under
``policies/`` because ``pulumi policy publish`` ships only that directory), so bumping a version
is one reviewed change there. Loading is strict: an unknown key, a missing field or a malformed
version stops the program with a message naming the file and the key.

A record names its chart with :func:`chart` (``chart("keda")``); the constants below keep the
names the code has always imported.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

OCI = "oci://"
LOCKFILE = Path(__file__).resolve().parents[2] / "policies" / "charts.json"
LOCKFILE_NAME = "policies/charts.json"

# Helm requires SemVer 2 chart versions; some charts keep the tag's leading `v` (gpu-operator).
_VERSION = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)
_CHART_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_MINOR = re.compile(r"^\d+\.\d+$")
_VALUES_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # the OCI distribution spec's tag grammar
_REPOSITORY = re.compile(r"^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$")
_PINNED = re.compile(r"^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9_][A-Za-z0-9_.-]*@sha256:[0-9a-f]{64}$")
STYLES = ("digest", "sha", "tag", "reference")
ImageStyle = Literal["digest", "sha", "tag", "reference"]


class LockfileError(ValueError):
    """The lockfile is malformed: the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class Chart:
    name: str
    repo: str
    """An index repository URL, or an OCI registry path (``oci://host/path``) the chart is pushed under."""
    version: str

    @property
    def oci(self) -> bool:
        return self.repo.startswith(OCI)

    @property
    def reference(self) -> str:
        """What ``helm.v3.Release`` takes as ``chart``: the chart's name in an index repository, the
        full ``oci://`` reference for an OCI chart (the provider resolves an OCI name itself and
        ignores ``repositoryOpts.repo``: pulumi-kubernetes provider/pkg/provider/helm_release.go
        ``resolveChartName`` @ v4.32.0)."""
        return f"{self.repo}/{self.name}" if self.oci else self.name


@dataclass(frozen=True)
class LockedImage:
    """One image row of a chart's lockfile entry (``chart_images.ChartImage`` adds the logic)."""

    name: str
    """The key under ``addons.<chart>.imageDigests``."""
    repository: str
    """The chart's default repository (what the digest must be of)."""
    path: tuple[str, ...]
    """Where the chart's image block sits in its values."""
    style: ImageStyle
    """``digest``: a key taking ``sha256:<hex>``; ``sha``: a key taking the hex alone; ``tag``: the
    chart renders ``repository:tag``; ``reference``: ``path`` is one value, the whole reference."""
    default_tag: str | None
    """The tag the chart runs when the stack sets none (its appVersion, or a values default)."""
    key: str | None
    """The key under ``path`` the digest goes to, when not the style's own name (``digest``,
    ``sha``, ``tag``)."""


@dataclass(frozen=True)
class LockedChart:
    """One chart's lockfile entry."""

    name: str
    charts: tuple[Chart, ...]
    """The pinned chart: one, or one per Kubernetes minor (``lines``)."""
    lines: Mapping[str, tuple[Chart, str]]
    """Kubernetes minor -> (its chart line, the image tag it runs); empty for a single pin."""
    preinstallable: bool
    images: tuple[LockedImage, ...]
    pinned_images: Mapping[str, str]
    """Images the chart already runs by digest (its default reference)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise LockfileError(f"{LOCKFILE_NAME}: key {key!r} appears twice in one object")
        seen[key] = value
    return seen


class _Reader:
    """Typed reads of one JSON object, each error naming the key path."""

    def __init__(self, value: Any, where: str, required: set[str], optional: frozenset[str] = frozenset()) -> None:
        if not isinstance(value, dict):
            raise LockfileError(f"{LOCKFILE_NAME}: {where}: must be an object")
        unknown = sorted(set(value) - required - optional)
        if unknown:
            allowed = ", ".join(sorted(required | optional))
            raise LockfileError(f"{LOCKFILE_NAME}: {where}.{unknown[0]}: unknown key (allowed: {allowed})")
        missing = sorted(required - set(value))
        if missing:
            raise LockfileError(f"{LOCKFILE_NAME}: {where}.{missing[0]}: is required")
        self.value, self.where = value, where

    def fail(self, key: str, message: str) -> LockfileError:
        return LockfileError(f"{LOCKFILE_NAME}: {self.where}.{key}: {message}")

    def text(self, key: str, pattern: re.Pattern[str] | None = None, allowed: str = "") -> str:
        value = self.value[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            raise self.fail(key, f"{value!r} is not {allowed}")
        return value

    def optional_text(self, key: str, pattern: re.Pattern[str], allowed: str) -> str | None:
        return self.text(key, pattern, allowed) if key in self.value else None

    def listed(self, key: str) -> list[Any]:
        if not isinstance(self.value[key], list):
            raise self.fail(key, "must be a list")
        return list(self.value[key])


_IMAGE_KEYS = {"name", "repository", "path", "style", "source"}


def _image(value: Any, where: str, lined: bool) -> LockedImage:
    r = _Reader(value, where, _IMAGE_KEYS, frozenset({"defaultTag", "key"}))
    r.text("source")
    path = r.listed("path")
    if not path or not all(isinstance(p, str) and p for p in path):
        raise r.fail("path", "must be a non-empty list of values keys")
    style = r.text("style")
    if style not in STYLES:
        raise r.fail("style", f"{style!r} is not one of {', '.join(STYLES)}")
    default_tag = r.optional_text("defaultTag", _TAG, "an image tag")
    if default_tag is None and not lined:
        # Only a chart line gives the tag itself (cluster-autoscaler's lines.<minor>.imageTag).
        raise r.fail("defaultTag", "is required (the tag the chart runs when the stack sets none)")
    key = r.optional_text("key", _VALUES_KEY, "a values key")
    if key is not None and style == "reference":
        raise r.fail("key", "a reference-style image is the value at path itself: no key")
    return LockedImage(
        name=r.text("name", _CHART_NAME, "an image name (lower-case letters, digits and '-')"),
        repository=r.text("repository", _REPOSITORY, "an image repository without tag or digest"),
        path=tuple(path),
        style=style,  # type: ignore[arg-type]  # checked against STYLES above
        default_tag=default_tag,
        key=key,
    )


def _pins(r: _Reader, name: str, repo: str) -> tuple[tuple[Chart, ...], dict[str, tuple[Chart, str]]]:
    version_ok = "a chart version (SemVer, e.g. 2.17.2 or v1.9.0)"
    if ("version" in r.value) == ("lines" in r.value):
        raise r.fail("version", "give exactly one of version (one pin) or lines (a chart line per Kubernetes minor)")
    if "version" in r.value:
        return (Chart(name, repo, r.text("version", _VERSION, version_ok)),), {}
    raw = r.value["lines"]
    if not isinstance(raw, dict) or not raw:
        raise r.fail("lines", "must be an object of Kubernetes minor -> {version, imageTag}")
    lines: dict[str, tuple[Chart, str]] = {}
    for minor, entry in raw.items():
        if not _MINOR.match(minor):
            raise r.fail(f"lines.{minor}", "is not a Kubernetes minor (e.g. 1.34)")
        line = _Reader(entry, f"{r.where}.lines.{minor}", {"version", "imageTag"})
        lines[minor] = (
            Chart(name, repo, line.text("version", _VERSION, version_ok)),
            line.text("imageTag", _TAG, "an image tag"),
        )
    return tuple(c for c, _ in lines.values()), lines


def _chart(name: str, value: Any) -> LockedChart:
    where = f"charts.{name}"
    if not _CHART_NAME.match(name):
        raise LockfileError(f"{LOCKFILE_NAME}: {where}: not a chart name (lower-case letters, digits and '-')")
    r = _Reader(
        value, where, {"repo", "preinstallable", "source", "images"}, frozenset({"version", "lines", "pinnedImages"})
    )
    r.text("source")
    repo = r.text("repo")
    if not repo.startswith(("https://", OCI)) or repo.endswith("/"):
        raise r.fail("repo", f"{repo!r} is not an https:// chart repository or an oci:// registry path (no trailing /)")
    charts, lines = _pins(r, name, repo)
    if not isinstance(r.value["preinstallable"], bool):
        raise r.fail("preinstallable", "must be true or false (whether a cluster may already run the chart)")
    images = tuple(_image(v, f"{where}.images[{i}]", bool(lines)) for i, v in enumerate(r.listed("images")))
    pinned: dict[str, str] = {}
    for i, v in enumerate(r.listed("pinnedImages") if "pinnedImages" in r.value else []):
        p = _Reader(v, f"{where}.pinnedImages[{i}]", {"name", "reference", "source"})
        p.text("source")
        pinned[p.text("name", _CHART_NAME, "an image name")] = p.text(
            "reference", _PINNED, "a reference pinned by digest (repository:tag@sha256:<64 hex>)"
        )
    names = [i.name for i in images] + list(pinned)
    if len(names) != len(set(names)):
        raise r.fail("images", f"image names must be unique: {sorted(names)}")
    return LockedChart(name, charts, lines, r.value["preinstallable"], images, pinned)


def load_lockfile(path: Path = LOCKFILE) -> dict[str, LockedChart]:
    """Every chart of the lockfile at ``path``, in its order (``LockfileError`` if malformed)."""
    try:
        document = json.loads(path.read_text(), object_pairs_hook=_no_duplicates)
    except OSError as exc:
        raise LockfileError(f"{LOCKFILE_NAME}: cannot be read ({exc.strerror}): it pins every chart") from None
    except json.JSONDecodeError as exc:
        raise LockfileError(f"{LOCKFILE_NAME}: not valid JSON: {exc}") from None
    top = _Reader(document, "(root)", {"charts"}, frozenset({"about"}))
    if not isinstance(top.value["charts"], dict) or not top.value["charts"]:
        raise top.fail("charts", "must be an object of chart name -> entry")
    return {name: _chart(name, value) for name, value in top.value["charts"].items()}


try:
    LOCKED: Mapping[str, LockedChart] = load_lockfile()
except LockfileError as err:
    # Read at import (the settings' `addons` keys are a Literal of it), so no caller can catch it:
    # the message alone, and the planner's "invalid configuration" exit code.
    print(err, file=sys.stderr)
    raise SystemExit(2) from None


def chart(name: str) -> Chart:
    """The lockfile's pin of chart ``name`` (what an add-on record names its chart by)."""
    entry = LOCKED.get(name)
    if entry is None:
        raise LookupError(f"{LOCKFILE_NAME} pins no chart {name!r}: one of {sorted(LOCKED)}")
    if entry.lines:
        raise LookupError(f"{LOCKFILE_NAME}: chart {name!r} has a line per Kubernetes minor: read its lines")
    (pinned,) = entry.charts
    return pinned


def chart_lines(name: str) -> Mapping[str, tuple[Chart, str]]:
    """Kubernetes minor -> (chart line, image tag) of a chart pinned per minor."""
    entry = LOCKED.get(name)
    if entry is None or not entry.lines:
        raise LookupError(f"{LOCKFILE_NAME} pins no chart {name!r} with lines (a chart line per Kubernetes minor)")
    return entry.lines


CLUSTER_AUTOSCALER_LINES = chart_lines("cluster-autoscaler")
"""The autoscaler's minor version must match the cluster's: each minor gets its own chart line."""
NVIDIA_DEVICE_PLUGIN = chart("nvidia-device-plugin")
GPU_OPERATOR = chart("gpu-operator")
LOCAL_STATIC_PROVISIONER = chart("local-static-provisioner")
CSI_DRIVER_NFS = chart("csi-driver-nfs")
KEDA = chart("keda")
METRICS_SERVER = chart("metrics-server")
KUBE_PROMETHEUS_STACK = chart("kube-prometheus-stack")
DCGM_EXPORTER = chart("dcgm-exporter")
OPENCOST = chart("opencost")
TAILSCALE_OPERATOR = chart("tailscale-operator")
KUEUE = chart("kueue")
GATEWAY_API_CRDS = chart("gateway-crds-helm")
AGENTGATEWAY_CRDS = chart("agentgateway-crds")
AGENTGATEWAY = chart("agentgateway")

ALL_CHARTS: tuple[Chart, ...] = tuple(c for entry in LOCKED.values() for c in entry.charts)
"""Every pinned chart (each autoscaler line), in lockfile order."""

ADDON_CHARTS: tuple[str, ...] = tuple(name for name, entry in LOCKED.items() if entry.preinstallable)
"""The charts a cluster may already run, by chart name: the keys of the ``addons`` setting, with
which a stack says so (``addons.<name>.install: false``)."""
