"""LoRA adapters a diffusers pipeline wears for one job at a time (LTX-2's camera LoRAs).

A job lists LoRA files and weights (:attr:`engine.jobs.ClipJob.loras`). Before the job renders, each file is
checked (:func:`engine.models.validate.validate_lora_file`: safetensors only, complete, really a LoRA), loaded
with diffusers' ``load_lora_weights`` (PEFT layers wrapped around the transformer's projections) and switched on
with ``set_adapters``. Afterwards the adapters are switched off, so the next job renders exactly as the model
does without them: a disabled PEFT layer calls only the layer it wraps.

Switched off, not unloaded: a LoRA for LTX-2 19B is a few hundred MB read from disk, and a director rendering
a sequence of dolly-ins uses the same one shot after shot. So adapters stay resident under a name made from
the file's path, size and modification time (a replaced file gets a new name and is read again) and are reused
by that name; beyond :data:`MAX_RESIDENT` the least recently used is deleted.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from engine.errors import EngineError, ModelFolderError
from engine.models.registry import known_lora, lora_title
from engine.models.validate import validate_lora_file

# Adapters kept loaded (switched off) between jobs; each costs its weights in memory.
MAX_RESIDENT = 3
_FP8 = (torch.float8_e4m3fn, torch.float8_e5m2)
_MESSAGE_CHARS = 300  # diffusers lists every mismatched layer; the first few say enough


def adapter_name(path: str) -> str:
    """A PEFT adapter name for the file as it is now (names can't hold dots, so a digest)."""
    st = os.stat(path)
    identity = f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}"
    return "lora_" + hashlib.sha256(identity.encode()).hexdigest()[:16]


def lora_label(path: str, weight: float = 1.0) -> str:
    """A LoRA as the clip's notes and the jobs panel name it: "Dolly In", or a file's own name, and its weight."""
    known = known_lora(path)
    name = lora_title(known) if known is not None else Path(path).stem
    return name if weight == 1.0 else f"{name} at {weight:g}"


def describe_loras(loras: Sequence[tuple[str, float]]) -> str:
    """The note a render with ``loras`` carries: "camera LoRA: Dolly In"."""
    labels = ", ".join(lora_label(path, weight) for path, weight in loras)
    camera = all(getattr(known_lora(path), "camera_move", "") for path, _ in loras)
    return f"{'camera ' if camera else ''}LoRA{'s' if len(loras) > 1 else ''}: {labels}"


class JobLoras:
    """The LoRA adapters of one pipeline: loaded on first use, reused by name, on only during a job."""

    def __init__(self, pipe: Any, compute_dtype: torch.dtype) -> None:
        self.pipe = pipe
        self.compute_dtype = compute_dtype
        self.resident: OrderedDict[str, str] = OrderedDict()  # adapter name -> file, least recently used first
        self.loads = 0  # files read from disk (a reused adapter isn't counted again)

    @contextmanager
    def active(self, loras: Sequence[tuple[str, float]]) -> Iterator[None]:
        """The job's adapters switched on at their weights for the block; all of them off after it."""
        if not loras:
            yield
            return
        names: list[str] = []
        try:
            names = [self.adapter(path) for path, _ in loras]
            self.pipe.enable_lora()
            self.pipe.set_adapters(names, [weight for _, weight in loras])
            yield
        finally:
            if self.resident:
                self.pipe.disable_lora()
            self.evict(keep=names)

    def adapter(self, path: str) -> str:
        """The adapter name of ``path``, loading the file when it isn't resident yet."""
        validate_lora_file(path)  # a missing, pickled, truncated or non-LoRA file is named before anything loads
        name = adapter_name(path)
        if name in self.resident:
            self.resident.move_to_end(name)
            return name
        stale = [old for old, file in self.resident.items() if file == path]  # the file was replaced
        if stale:
            self.delete(stale)
        from diffusers.utils import USE_PEFT_BACKEND

        if not USE_PEFT_BACKEND:
            raise EngineError(
                f"Loading the LoRA {path} needs the peft package, which isn't installed. Install Pinframe's pinned "
                "dependencies again (./dev.sh setup, or pip install -r requirements.txt -c constraints.txt)."
            )
        try:
            # use_safetensors=True also turns off diffusers' fall-back to pickled weights.
            self.pipe.load_lora_weights(path, adapter_name=name, use_safetensors=True, local_files_only=True)
        except (ValueError, RuntimeError, KeyError, TypeError, OSError) as exc:
            text = " ".join(str(exc).split())
            detail = text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "…"
            raise ModelFolderError(
                f"The LoRA {path} doesn't fit this model ({detail}). A LoRA works only with the model it was made "
                "for (LTX-2's camera LoRAs: LTX-2 19B); remove it or render with that model."
            ) from None
        self._lift_fp8(name)
        self.resident[name] = path
        self.loads += 1
        return name

    def close(self) -> None:
        """Let go of the pipeline (the backend is being unloaded): its adapters go with it."""
        self.pipe = None
        self.resident.clear()

    def evict(self, keep: Sequence[str] = ()) -> None:
        """Delete the least recently used adapters beyond MAX_RESIDENT (never one of ``keep``)."""
        extra = len(self.resident) - MAX_RESIDENT
        if extra > 0:
            self.delete([name for name in self.resident if name not in keep][:extra])

    def delete(self, names: Sequence[str]) -> None:
        if names:
            self.pipe.delete_adapters(list(names))
            for name in names:
                self.resident.pop(name, None)

    def _lift_fp8(self, name: str) -> None:
        """LoRA layers in the compute precision when the transformer stores its weights in fp8.

        PEFT gives new LoRA layers the dtype of the layer they wrap. With fp8 layerwise storage that is fp8,
        which no matrix multiply accepts, and the LoRA layers, loaded after the casting hooks were set up, have
        no hook to upcast them. They are small: they simply stay in the compute precision.
        """
        from peft.tuners.tuners_utils import BaseTunerLayer

        for component in ("transformer", "connectors"):
            model = getattr(self.pipe, component, None)
            if model is None:
                continue
            for module in model.modules():
                if not isinstance(module, BaseTunerLayer):
                    continue
                for layers in (getattr(module, "lora_A", None), getattr(module, "lora_B", None)):
                    if layers is not None and name in layers and layers[name].weight.dtype in _FP8:
                        layers[name].to(dtype=self.compute_dtype)
