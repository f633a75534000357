"""Weight staging from the Hugging Face Hub, shared by the engines that load Hub checkpoints.

vLLM and SGLang both read ``HF_HOME``'s hub cache through ``huggingface_hub`` (SGLang 0.5.23
``srt/model_loader/weight_utils.py`` calls ``snapshot_download(..., cache_dir=download_dir)`` and
honours ``HF_HUB_OFFLINE``; see docs/research/sglang.md), so one staging Job layout serves both.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from components.core.engines.base import HF_HOME, HF_TOKEN_FILE, EnvPairs

if TYPE_CHECKING:
    from components.core.settings.models import ModelSpec


def stage_script(s: ModelSpec) -> str:
    """Idempotent weight download into the cache (snapshot_download skips complete files)."""
    call = {"repo_id": s.model, "revision": s.revision or "main", "cache_dir": f"{HF_HOME}/hub"}
    return f"from huggingface_hub import snapshot_download\nsnapshot_download(**{json.dumps(call, sort_keys=True)})\n"


def verify_script(s: ModelSpec) -> str:
    """The same call with ``local_files_only``: fails fast, without network, when a file is missing."""
    call = {
        "repo_id": s.model,
        "revision": s.revision or "main",
        "cache_dir": f"{HF_HOME}/hub",
        "local_files_only": True,
    }
    return f"from huggingface_hub import snapshot_download\nsnapshot_download(**{json.dumps(call, sort_keys=True)})\n"


def hub_env(offline: bool, hf_token: bool) -> EnvPairs:
    """``HF_HOME`` always; offline for the server (it reads only the staged cache), the token file
    for the staging Job."""
    env = [("HF_HOME", HF_HOME)]
    if offline:
        env.append(("HF_HUB_OFFLINE", "1"))
    elif hf_token:
        env.append(("HF_TOKEN_PATH", HF_TOKEN_FILE))
    return env


ON_THE_FLY_QUANTIZATION = frozenset({"fp8", "bitsandbytes"})
"""Quantizations the engine applies at load time and must be told about. AWQ and GPTQ checkpoints
say what they are in their config, and naming them forces vLLM's slow kernels instead of the Marlin
ones it picks itself on GPUs that support them (vLLM v0.11.0 ``awq_marlin.py``
``override_quantization_method``: "... so forcing awq. Use quantization=awq_marlin ...")."""

HUB_OPTIONS = frozenset(
    {"revision", "maxModelLen", "gpuMemoryUtilization", "chunkedPrefill", "extraArgs", "hfTokenSecret", "gated"}
)
"""The ``ModelSpec`` keys an engine serving Hub checkpoints reads (vLLM, SGLang), besides those its
capabilities add (``prefixCaching``, ``quantization``, ``apiKeySecret``)."""
