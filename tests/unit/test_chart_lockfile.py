"""The chart lockfile ``policies/charts.json``: the program loads it strictly (every bad entry is
an error naming the file and the key), into the same records the code has always imported."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from components.core import charts
from components.core.charts import LOCKFILE, Chart, LockfileError, chart, load_lockfile

GOOD: dict[str, Any] = {
    "about": "test",
    "charts": {
        "foo": {
            "repo": "https://charts.example.org",
            "version": "1.2.3",
            "preinstallable": True,
            "source": "example/foo charts/foo @ v1.2.3",
            "images": [
                {
                    "name": "foo",
                    "repository": "registry.example.org/foo",
                    "path": ["image"],
                    "style": "tag",
                    "defaultTag": "v1.2.3",
                    "source": "example/foo charts/foo/values.yaml `image` @ v1.2.3",
                }
            ],
        }
    },
}


def _load(tmp_path: Path, document: Any) -> dict[str, charts.LockedChart]:
    path = tmp_path / "charts.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return load_lockfile(path)


def _broken(tmp_path: Path, change: Any) -> str:
    document = copy.deepcopy(GOOD)
    change(document["charts"]["foo"])
    with pytest.raises(LockfileError) as err:
        _load(tmp_path, document)
    message = str(err.value)
    assert message.startswith("policies/charts.json: "), message
    return message


def test_a_good_entry_loads_into_chart_records(tmp_path: Path) -> None:
    (foo,) = _load(tmp_path, GOOD).values()
    assert foo.charts == (Chart("foo", "https://charts.example.org", "1.2.3"),) and foo.preinstallable
    (image,) = foo.images
    assert (image.repository, image.path, image.style, image.default_tag, image.key) == (
        "registry.example.org/foo",
        ("image",),
        "tag",
        "v1.2.3",
        None,
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(verison="1.2.4"), "charts.foo.verison: unknown key (allowed: images, lines,"),
        (lambda c: c.pop("source"), "charts.foo.source: is required"),
        (lambda c: c.pop("preinstallable"), "charts.foo.preinstallable: is required"),
        (lambda c: c.update(version="^1.2"), "charts.foo.version: '^1.2' is not a chart version (SemVer"),
        (lambda c: c.update(version="latest"), "charts.foo.version: 'latest' is not a chart version"),
        (lambda c: c.update(lines={"1.34": {"version": "1.0.0", "imageTag": "v1"}}), "give exactly one of version"),
        (lambda c: c.update(repo="http://charts.example.org"), "charts.foo.repo: 'http://charts.example.org' is not"),
        (lambda c: c.update(preinstallable="yes"), "charts.foo.preinstallable: must be true or false"),
        (lambda c: c["images"][0].update(style="pinned"), "charts.foo.images[0].style: 'pinned' is not one of"),
        (lambda c: c["images"][0].pop("defaultTag"), "charts.foo.images[0].defaultTag: is required"),
        (lambda c: c["images"][0].update(repository="r.example.org/foo:1"), "images[0].repository: 'r.example.org"),
        (lambda c: c["images"][0].update(tag="1"), "charts.foo.images[0].tag: unknown key"),
        (lambda c: c["images"][0].update(style="reference", key="x"), "a reference-style image is the value at path"),
        (lambda c: c["images"].append(dict(c["images"][0])), "charts.foo.images: image names must be unique"),
        (
            lambda c: c.update(pinnedImages=[{"name": "x", "reference": "r.example.org/x:1", "source": "s"}]),
            "charts.foo.pinnedImages[0].reference: 'r.example.org/x:1' is not a reference pinned by digest",
        ),
    ],
)
def test_a_bad_entry_names_the_file_the_key_and_what_is_allowed(tmp_path: Path, change: Any, expected: str) -> None:
    assert expected in _broken(tmp_path, change)


def _lined(c: dict[str, Any], **lines: Any) -> None:
    del c["version"], c["images"][0]["defaultTag"]  # a line gives the image tag
    c["lines"] = lines or {"1.34": {"version": "1.0.0", "imageTag": "v1.34.1"}}


def test_lines_pin_a_chart_per_kubernetes_minor(tmp_path: Path) -> None:
    document = copy.deepcopy(GOOD)
    _lined(document["charts"]["foo"])
    (foo,) = _load(tmp_path, document).values()
    assert foo.lines == {"1.34": (Chart("foo", "https://charts.example.org", "1.0.0"), "v1.34.1")}
    assert "charts.foo.lines.1.34.imageTag: is required" in _broken(
        tmp_path, lambda c: _lined(c, **{"1.34": {"version": "1.0.0"}})
    )
    assert "charts.foo.lines.134: is not a Kubernetes minor" in _broken(
        tmp_path, lambda c: _lined(c, **{"134": {"version": "1.0.0", "imageTag": "v1"}})
    )


def test_duplicate_keys_and_broken_json_are_refused(tmp_path: Path) -> None:
    text = json.dumps(GOOD)
    with pytest.raises(LockfileError, match=r"policies/charts\.json: key 'foo' appears twice"):
        _load(tmp_path, text.replace('"charts": {', '"charts": {"foo": {}, ', 1))
    with pytest.raises(LockfileError, match=r"policies/charts\.json: not valid JSON"):
        _load(tmp_path, text[:-1])
    with pytest.raises(LockfileError, match=r"policies/charts\.json: cannot be read"):
        load_lockfile(tmp_path / "missing.json")
    with pytest.raises(LockfileError, match=r"policies/charts.json: \(root\).chart: unknown key"):
        _load(tmp_path, {"chart": {}})


def test_the_repository_lockfile_keeps_the_names_the_code_imports() -> None:
    assert Path(__file__).resolve().parents[2] / "policies" / "charts.json" == LOCKFILE
    assert chart("keda") == charts.KEDA and charts.KEDA.version == "2.17.2"
    assert charts.KUEUE.oci and charts.KUEUE.reference == "oci://registry.k8s.io/kueue/charts/kueue"
    assert {c.name for c, _ in charts.CLUSTER_AUTOSCALER_LINES.values()} == {"cluster-autoscaler"}
    assert "tailscale-operator" not in charts.ADDON_CHARTS and "keda" in charts.ADDON_CHARTS
    with pytest.raises(LookupError, match="pins no chart 'nope'"):
        chart("nope")
    with pytest.raises(LookupError, match="a line per Kubernetes minor"):
        chart("cluster-autoscaler")


def test_every_chart_and_image_names_its_upstream_source() -> None:
    """JSON has no comments: the citations that were docstrings are ``source`` strings."""
    document = json.loads(LOCKFILE.read_text())
    for name, entry in document["charts"].items():
        # A single pin's source names its version (a chart line's: the tags each line comes from).
        assert entry.get("version", "cluster-autoscaler-chart-*").removeprefix("v") in entry["source"], name
        for image in [*entry["images"], *entry.get("pinnedImages", [])]:
            assert " @ " in image["source"], f"{name}: {image['name']}"
