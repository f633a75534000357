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
import contextlib
import hashlib
import json
import os
import selectors
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from planner.mocks import UNKNOWN_MARK, Registration

LEVEL_NAMES = {0: "advisory", 1: "mandatory", 2: "disabled", 3: "remediate"}
LEVEL_VALUES = {v: k for k, v in LEVEL_NAMES.items()}
PACK_LABEL = "ai-infra 0.1.0"
"""How the CLI names the pack in config errors: ``<name> <version>`` (PulumiPolicy.yaml)."""
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


def _unknowns_to_wire(value: Any) -> Any:
    """The plan's ``[unknown]`` back to the engine's unknown sentinel (a preview's computed values)."""
    if isinstance(value, dict):
        return {k: _unknowns_to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns_to_wire(v) for v in value]
    return rpc.UNKNOWN if value == UNKNOWN_MARK else value


def _to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    """Properties in the engine's wire form: secrets keep Pulumi's signature wrapper, unknowns
    are the engine's sentinel (so the pack reports "can't run policy during preview" as it does)."""
    s = struct_pb2.Struct()
    s.update(_unknowns_to_wire(json.loads(json.dumps(value, default=str))))
    return s


_GO_TYPES = {"object": "object", "array": "array", "string": "string", "integer": "integer", "number": "number"}


def _go_type(value: Any) -> str:
    """gojsonschema's name for a value's type (bool first: it is an int in Python)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "null"


def schema_errors(info: Any, props: dict[str, Any]) -> list[str]:
    """Check a policy's properties against its ``configSchema`` as the CLI does: the schema's
    properties and required list (``additionalProperties`` is not carried over, so unknown
    properties pass), errors worded as gojsonschema's ``<field>: <description>``
    (pkg/resource/analyzer/config.go, docs/research/pulumi-cli.md B2)."""
    schema = {
        "type": "object",
        "properties": json_format.MessageToDict(info.configSchema.properties),
        "required": list(info.configSchema.required),
    }
    found = []
    for err in jsonschema.Draft7Validator(schema).iter_errors(props):
        field = ".".join(str(p) for p in err.absolute_path) or "(root)"
        if err.validator == "type":
            expected = err.validator_value if isinstance(err.validator_value, str) else "/".join(err.validator_value)
            found.append(f"{field}: Invalid type. Expected: {expected}, given: {_go_type(err.instance)}")
        elif err.validator == "required":
            missing = str(err.message).split("'")[1]
            found.append(f"{missing}: {missing} is required")
        elif err.validator == "enum":
            options = ", ".join(json.dumps(v) for v in err.validator_value)
            found.append(f"{field}: {field} must be one of the following: {options}")
        else:
            found.append(f"{field}: {err.message}")
    return sorted(found)


def resolve_config(policies: list[Any], config: dict[str, Any]) -> dict[str, analyzer_pb2.PolicyConfig]:
    """Turn a ``--policy-pack-config`` document into per-policy ``PolicyConfig``s like the CLI.

    ``"all"`` sets the level of every policy; a policy's own entry (a level string, or an
    object with ``enforcementLevel`` and properties) wins. Schema defaults fill properties, and
    the result is checked against each policy's schema as the CLI does. Unlike the CLI, a name
    that matches no policy is an error here (the CLI ignores it, so a typo would silently leave
    a policy at its default level).
    """
    known = {p.name for p in policies}
    unknown = sorted(k for k in config if k != "all" and k not in known)
    if unknown:
        raise PolicyHostError(f"policy config names unknown policies: {', '.join(unknown)}")
    default_level = config.get("all")
    result: dict[str, analyzer_pb2.PolicyConfig] = {}
    errors: list[str] = []
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
        errors += [f"{info.name}: {e}" for e in schema_errors(info, props)]
        pc = analyzer_pb2.PolicyConfig(enforcementLevel=LEVEL_VALUES[level])  # type: ignore[arg-type]
        pc.properties.update(props)
        result[info.name] = pc
    if errors:
        raise PolicyHostError("\n".join(f"validating policy config: {PACK_LABEL}  {e}" for e in sorted(errors)))
    return result


class PolicyHost:
    """A running policy pack process and a gRPC client to it (use as a context manager).

    ``launch`` starts the process without waiting for it, so the pack's own start-up (its imports,
    ~0.5 s) overlaps the program run; ``connect`` waits for its port. Answers are cached per
    configuration and request: the pack's policies are functions of what a request carries (the
    engine itself calls ``Analyze`` per resource as resources register, in no fixed order, so a
    policy cannot depend on an earlier call), and a second program run, such as the plan's
    preview-like run, asks again only about the resources whose inputs changed. A request is
    dear: pulumi-policy 1.21.0 (pulumi_policy/policy.py, ``_PolicyAnalyzerServicer.Analyze`` and
    ``AnalyzeStack``) converts and deserializes a resource's properties again for every policy."""

    def __init__(self, pack_dir: Path, python: str | None = None) -> None:
        self.pack_dir = pack_dir.resolve()
        self.python = python or str(pack_python(self.pack_dir))
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.info: Any = None
        self._configured: bytes | None = None
        self._answers: dict[bytes, _Answer] = {}

    def __enter__(self) -> PolicyHost:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        self.launch()
        self.connect()

    def launch(self) -> None:
        """Start the pack process (no wait); ``connect`` completes the start."""
        if self._proc is not None:
            return
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

    def connect(self) -> None:
        """Wait for the launched pack's port and ask for its policies."""
        if self.stub is not None:
            return
        self.launch()
        port = self._read_port()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_S)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self.info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        # Requests go out as the bytes their cache key is made of (serialized once).
        self._analyze = self._channel.unary_unary(
            "/pulumirpc.Analyzer/Analyze", response_deserializer=analyzer_pb2.AnalyzeResponse.FromString
        )
        self._analyze_stack = self._channel.unary_unary(
            "/pulumirpc.Analyzer/AnalyzeStack", response_deserializer=analyzer_pb2.AnalyzeResponse.FromString
        )

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
        self.stub = None
        self._configured = None
        self._answers.clear()
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
        request = analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=resolved)
        key = request.SerializeToString(deterministic=True)
        if key == self._configured:
            return
        # Requests still in flight were asked under the previous configuration.
        for answer in self._answers.values():
            answer.wait()
        self.stub.Configure(request)
        self._configured = key

    def _ask(self, call: str, request: Any, default_urn: str) -> _Answer:
        """The answer to ``request`` under the current configuration: cached, else sent (no wait)."""
        assert self._configured is not None, "configure the pack first"
        body = request.SerializeToString(deterministic=True)
        key = hashlib.sha256(b"\0".join((self._configured, call.encode(), body))).digest()
        if key not in self._answers:
            method = self._analyze if call == "Analyze" else self._analyze_stack
            self._answers[key] = _Answer(method.future(body), default_urn)
        return self._answers[key]

    def ask_analyze(self, reg: Registration, properties: struct_pb2.Struct | None = None) -> _Answer:
        request = analyzer_pb2.AnalyzeRequest(
            type=reg.type,
            properties=properties if properties is not None else _to_struct(reg.inputs),
            urn=reg.urn,
            name=reg.name,
            # The Analyzer protocol carries protect but not retainOnDelete (plan.json shows both).
            options=analyzer_pb2.AnalyzerResourceOptions(protect=reg.protect),
        )
        return self._ask("Analyze", request, reg.urn)

    def ask_analyze_stack(self, regs: list[Registration], properties: list[struct_pb2.Struct] | None = None) -> _Answer:
        structs = properties if properties is not None else [_to_struct(r.inputs) for r in regs]
        resources = [
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=struct,
                urn=r.urn,
                name=r.name,
                parent=r.parent,
                options=analyzer_pb2.AnalyzerResourceOptions(protect=r.protect),
                dependencies=r.dependencies,
                propertyDependencies={
                    k: analyzer_pb2.AnalyzerPropertyDependencies(urns=v) for k, v in r.property_dependencies.items()
                },
            )
            for r, struct in zip(regs, structs, strict=True)
        ]
        return self._ask("AnalyzeStack", analyzer_pb2.AnalyzeStackRequest(resources=resources), "")

    def analyze(self, reg: Registration) -> list[Violation]:
        return self.ask_analyze(reg).result()

    def analyze_stack(self, regs: list[Registration]) -> list[Violation]:
        return self.ask_analyze_stack(regs).result()


class _Answer:
    """One request to the pack: sent at once, its diagnostics read when first asked for."""

    def __init__(self, future: Any, default_urn: str) -> None:
        self._future = future
        self._default_urn = default_urn
        self._violations: list[Violation] | None = None

    def wait(self) -> None:
        self._future.exception()

    def result(self) -> list[Violation]:
        if self._violations is None:
            try:
                response = self._future.result()
            except grpc.RpcError as exc:
                raise PolicyHostError(f"the policy pack failed: {exc}") from exc
            self._violations = [
                Violation(
                    policy=d.policyName,
                    level=LEVEL_NAMES.get(d.enforcementLevel, "advisory"),
                    urn=d.urn or self._default_urn,
                    message=d.message,
                )
                for d in response.diagnostics
            ]
        return self._violations


_RUNNING: dict[Path, PolicyHost] = {}
"""One running pack per folder and process: plans in one process (tests) reuse it."""


def _host(pack_dir: Path, *, wait: bool = True) -> PolicyHost:
    key = pack_dir.resolve()
    if key not in _RUNNING:
        host = PolicyHost(key)
        host.launch()
        _RUNNING[key] = host
        atexit.register(host.stop)
    host = _RUNNING[key]
    if wait:
        try:
            host.connect()
        except PolicyHostError:
            del _RUNNING[key]
            raise
    return host


def launch(pack_dir: Path) -> None:
    """Start the pack for ``pack_dir`` now, so it starts up while the program runs; a pack that
    cannot start says so when it is first used."""
    with contextlib.suppress(PolicyHostError):
        _host(pack_dir, wait=False)


def policy_levels(pack_dir: Path, config: dict[str, Any]) -> dict[str, str]:
    """Each policy's level once ``config`` is applied (as ``Configure`` resolves it)."""
    host = _host(pack_dir)
    resolved = resolve_config(list(host.info.policies), config)
    return {name: LEVEL_NAMES[pc.enforcementLevel] for name, pc in resolved.items()}


CANT_RUN = "can't run policy"
"""How pulumi-policy begins the advisory it reports instead of a policy that read an unknown value."""


class Analysis:
    """Every custom resource and the stack, sent to the pack; ``result`` waits for the answers."""

    def __init__(self, answers: list[_Answer]) -> None:
        self._answers = answers

    def result(self) -> list[Violation]:
        """Sorted, de-duplicated violations (mandatory first)."""
        found: set[Violation] = set()
        for answer in self._answers:
            found.update(answer.result())
        return sorted(found, key=lambda v: (v.level != "mandatory", v.policy, v.urn, v.message))


def start_analysis(pack_dir: Path, config: dict[str, Any], regs: list[Registration]) -> Analysis:
    """Send every custom resource and the stack to the pack and return without waiting, so the
    caller can work while the pack does (requests it answered before come from its cache)."""
    custom = [r for r in regs if r.custom and not r.type.startswith("pulumi:providers:")]
    host = _host(pack_dir)
    host.configure(config)
    structs = [_to_struct(r.inputs) for r in custom]
    answers = [host.ask_analyze(r, s) for r, s in zip(custom, structs, strict=True)]
    answers.append(host.ask_analyze_stack(custom, structs))
    return Analysis(answers)


def analyze_all(pack_dir: Path, config: dict[str, Any], regs: list[Registration]) -> list[Violation]:
    """Analyze every custom resource and the stack; return sorted, de-duplicated violations."""
    return start_analysis(pack_dir, config, regs).result()
