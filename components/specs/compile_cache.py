"""The engine's compile caches on the shared cache, so a second replica starts warm (issue 26).

vLLM v0.11.0 keeps torch.compile's artefacts under ``VLLM_CACHE_ROOT`` (``vllm/envs.py``):
``vllm/compilation/backends.py`` writes ``torch_compile_cache/<hash>/rank_<i>_<j>/`` there, and
``vllm/compilation/compiler_interface.py`` points ``TORCHINDUCTOR_CACHE_DIR`` and
``TRITON_CACHE_DIR`` inside the same hash directory. The hash covers the vLLM config, the model
code and the compiler, so a new model, flag or image compiles into a new directory instead of
loading stale artefacts.

Why a separate, writable sub-path and not the model cache itself: the server mounts the weights
read-only, and that stays so (a server that could write there could corrupt the weights every
other replica and fleet loads). The compile cache is mounted a second time from the same claim
at its own sub-path, ``compile-cache/<fleet>``, writable: only that fleet's pods (one image, one
config) write it, so one fleet cannot plant compiled code another fleet loads (torch loads these
artefacts as code). ``VLLM_ASSETS_CACHE`` is not moved (it defaults under HOME, the pod's own
emptyDir, independent of ``VLLM_CACHE_ROOT``): the S3 streamer's ``ObjectStorageModel`` deletes
and recreates its directory there at every start (``vllm/transformers_utils/runai_utils.py``),
which on a shared path would pull config files from under a running replica.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from components.core.settings import ModelSpec

COMPILE_CACHE_MOUNT = "/compile-cache"
COMPILE_CACHE_DIR = "compile-cache"
"""Top-level directory of the namespace's model cache holding one sub-directory per fleet."""


def enabled(spec: ModelSpec) -> bool:
    return spec.compile_cache and spec.engine_record.compile_cache_env is not None and spec.cache == "shared"


def compile_cache_env(spec: ModelSpec) -> list[k8s.core.v1.EnvVarArgs]:
    env_var = spec.engine_record.compile_cache_env
    if not enabled(spec) or env_var is None:
        return []
    return [k8s.core.v1.EnvVarArgs(name=env_var, value=COMPILE_CACHE_MOUNT)]


def compile_cache_mounts(spec: ModelSpec, fleet: str) -> list[k8s.core.v1.VolumeMountArgs]:
    """The writable per-fleet sub-path of the same ``cache`` volume (the weights mount stays read-only)."""
    if not enabled(spec):
        return []
    return [
        k8s.core.v1.VolumeMountArgs(
            name="cache", mount_path=COMPILE_CACHE_MOUNT, sub_path=f"{COMPILE_CACHE_DIR}/{fleet}", read_only=False
        )
    ]
