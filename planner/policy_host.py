"""Run the CrossGuard pack the way the Pulumi engine does, over the Analyzer gRPC protocol.

The CLI starts a local Python pack with the interpreter of the pack's own virtualenv
(``PulumiPolicy.yaml``: ``virtualenv: venv``) as ``<pack>/venv/bin/python -u -m pulumi.policy
<engine address> <pack dir>`` in the pack folder, and never creates that virtualenv itself (only
``pulumi install`` inside the pack does; ``docs/research/pulumi-cli.md`` B1). It reads the port
the pack prints and speaks ``pulumirpc.Analyzer``: ``GetAnalyzerInfo``, ``Configure`` (from
``--policy-pack-config``), ``Analyze`` per resource and ``AnalyzeStack`` once. This module does
the same with the same interpreter, so an import missing from ``policies/requirements.txt``
fails the plan as it would fail ``pulumi preview``; nothing is imported from the pack in-process.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from planner.mocks import Registration

LEVEL_NAMES = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
LEVEL_VALUES = {v: k for k, v in LEVEL_NAMES.items()}
START_TIMEOUT_S = 60.0


class PolicyHostError(RuntimeError):
    """The pack could not be started, configured or asked."""


def pack_python(pack_dir: Path) -> Path:
    """The interpreter the CLI runs a local pack with: ``<pack>/venv/bin/python``."""
    return pack_dir / "venv" / "bin" / "python"


@dataclass(frozen=True, order=True)
class Violation:
    policy: str
    level: str
    urn: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message}


def _to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    """Properties in the engine's wire form: secrets keep Pulumi's signature wrapper."""
    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(value, default=str)))
    return s


def resolve_config(policies: list[Any], config: dict[str, Any]) -> dict[str, analyzer_pb2.PolicyConfig]:
    """Turn a ``--policy-pack-config`` document into per-policy ``PolicyConfig``s like the CLI.

    ``"all"`` sets the level of every policy; a policy's own entry (a level string, or an
    object with ``enforcementLevel`` and properties) wins. Schema defaults fill properties.
    """
    known = {p.name for p in policies}
    unknown = sorted(k for k in config if k != "all" and k not in known)
    if unknown:
        raise PolicyHostError(f"policy config names unknown policies: {', '.join(unknown)}")
    default_level = config.get("all")
    result: dict[str, analyzer_pb2.PolicyConfig] = {}
    for info in policies:
        entry = config.get(info.name)
        level = LEVEL_NAMES.get(info.enforcementLevel, "advisory")
        if isinstance(default_level, str):
            level = default_level
        schema = json_format.MessageToDict(info.configSchema.properties)
        props: dict[str, Any] = {k: v["default"] for k, v in schema.items() if "default" in v}
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, dict):
            level = entry.get("enforcementLevel", level)
            props.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        if level not in LEVEL_VALUES:
            raise PolicyHostError(f"policy {info.name}: enforcement level must be one of {sorted(LEVEL_VALUES)}")
        pc = analyzer_pb2.PolicyConfig(enforcementLevel=LEVEL_VALUES[level])  # type: ignore[arg-type]
        pc.properties.update(props)
        result[info.name] = pc
    return result


class PolicyHost:
    """A running policy pack process and a gRPC client to it (use as a context manager)."""

    def __init__(self, pack_dir: Path, python: str | None = None) -> None:
        self.pack_dir = pack_dir.resolve()
        self.python = python or str(pack_python(self.pack_dir))
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.info: Any = None

    def __enter__(self) -> PolicyHost:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        if not Path(self.python).exists():
            raise PolicyHostError(
                f"{self.python} does not exist: the Pulumi CLI runs the pack with its own virtualenv and "
                "never creates it; run `make policy-venv` (or `pulumi install` inside the pack folder)"
            )
        # The program's virtualenv must not leak into the pack's interpreter.
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
        env["PYTHONUNBUFFERED"] = "1"
        self._proc = subprocess.Popen(
            # The engine address is ignored unless the engine also sets PULUMI_PROJECT/STACK/DRY_RUN.
            [self.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(self.pack_dir)],
            cwd=self.pack_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_S)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def _read_port(self) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self._proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=START_TIMEOUT_S):
            self.stop()
            raise PolicyHostError("policy pack did not print its port in time")
        line = self._proc.stdout.readline().decode().strip()
        if not line.isdigit():
            err = self._proc.stderr.read().decode() if self._proc.stderr else ""
            self.stop()
            raise PolicyHostError(f"policy pack failed to start: {line} {err[-2000:]}")
        return int(line)

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream:
                    stream.close()
            self._proc = None

    # -- the engine's calls ---------------------------------------------------------------
    def policy_names(self) -> list[str]:
        return sorted(p.name for p in self.info.policies)

    def configure(self, config: dict[str, Any]) -> None:
        assert self.stub is not None
        resolved = resolve_config(list(self.info.policies), config)
        self.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=resolved))

    def _diagnostics(self, response: Any, default_urn: str = "") -> list[Violation]:
        return [
            Violation(
                policy=d.policyName,
                level=LEVEL_NAMES.get(d.enforcementLevel, "advisory"),
                urn=d.urn or default_urn,
                message=d.message,
            )
            for d in response.diagnostics
        ]

    def analyze(self, reg: Registration) -> list[Violation]:
        assert self.stub is not None
        request = analyzer_pb2.AnalyzeRequest(
            type=reg.type,
            properties=_to_struct(reg.inputs),
            urn=reg.urn,
            name=reg.name,
            # The Analyzer protocol carries protect but not retainOnDelete (plan.json shows both).
            options=analyzer_pb2.AnalyzerResourceOptions(protect=reg.protect),
        )
        return self._diagnostics(self.stub.Analyze(request), reg.urn)

    def analyze_stack(self, regs: list[Registration]) -> list[Violation]:
        assert self.stub is not None
        resources = [
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=_to_struct(r.inputs),
                urn=r.urn,
                name=r.name,
                parent=r.parent,
                options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect),
                dependencies=r.dependencies,
                propertyDependencies={
                    k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items()
                },
            )
            for r in regs
        ]
        return self._diagnostics(self.stub.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources)))


_RUNNING: dict[Path, PolicyHost] = {}
"""One running pack per folder and process: plans in one process (tests) reuse it."""


def _host(pack_dir: Path) -> PolicyHost:
    key = pack_dir.resolve()
    if key not in _RUNNING:
        host = PolicyHost(key)
        host.start()
        _RUNNING[key] = host
        atexit.register(host.stop)
    return _RUNNING[key]


def analyze_all(pack_dir: Path, config: dict[str, Any], regs: list[Registration]) -> list[Violation]:
    """Analyze every custom resource and the stack; return sorted, de-duplicated violations."""
    custom = [r for r in regs if r.custom and not r.type.startswith("pulumi:providers:")]
    host = _host(pack_dir)
    host.configure(config)
    found: set[Violation] = set()
    for reg in custom:
        found.update(host.analyze(reg))
    found.update(host.analyze_stack(custom))
    return sorted(found, key=lambda v: (v.level != "mandatory", v.policy, v.urn, v.message))
