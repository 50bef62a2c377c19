"""LoRA adapters a diffusers pipeline wears for one job at a time (LTX-2's camera LoRAs, keyframe LoRAs).

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


# Kohya's ss_base_model_version values, as a person says them.
_BASE_MODELS = {
    "sd_v1": "Stable Diffusion 1.x",
    "sd_v2": "Stable Diffusion 2.x",
    "sdxl_base_v1-0": "SDXL",
    "sdxl_base_v0-9": "SDXL",
    "flux1": "FLUX.1",
    "sd3": "Stable Diffusion 3",
}
_CROSS_ATTENTION = {768: "Stable Diffusion 1.x", 1024: "Stable Diffusion 2.x", 2048: "SDXL"}


def lora_fits(header: dict[str, Any]) -> str:
    """The model a LoRA was made for, read from its safetensors header (metadata, then key names); "" unknown.

    Only the header: the names and shapes of the tensors, never their values.
    """
    metadata = header.get("__metadata__") or {}
    base = str(metadata.get("ss_base_model_version", "") or metadata.get("modelspec.architecture", ""))
    for prefix, name in _BASE_MODELS.items():
        if base.startswith(prefix):
            return name
    if base:
        return base
    keys = [key for key in header if key != "__metadata__"]
    text = " ".join(keys)
    if "audio_" in text or "av_" in text or ("diffusion_model." in text and "transformer_blocks" in text):
        return "LTX-2 (a video transformer)"
    if "double_blocks" in text or "single_transformer_blocks" in text:
        return "FLUX.1"
    if "lora_te2_" in text or "text_encoder_2." in text:
        return "SDXL"
    for key in keys:  # a UNet's cross-attention key projection reads the text width
        shape = header[key].get("shape") if isinstance(header[key], dict) else None
        if "attn2" in key and "to_k" in key and ("lora_A" in key or "lora_down" in key) and shape and len(shape) == 2:
            width = int(shape[1])
            return _CROSS_ATTENTION.get(width, f"a UNet with cross-attention width {width}")
    return ""


class JobLoras:
    """The LoRA adapters of one pipeline: loaded on first use, reused by name, on only during a job."""

    def __init__(self, pipe: Any, compute_dtype: torch.dtype, model: str = "") -> None:
        self.pipe = pipe
        self.compute_dtype = compute_dtype
        self.model = model  # the loaded model's name, for messages about a LoRA that doesn't fit it
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
        # A missing, pickled, truncated or non-LoRA file is named before anything loads.
        header = validate_lora_file(path)
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
        except (ValueError, RuntimeError, KeyError, TypeError, OSError, AttributeError, IndexError) as exc:
            text = " ".join(str(exc).split())
            detail = text if len(text) <= _MESSAGE_CHARS else text[:_MESSAGE_CHARS] + "…"
            self._forget(name)
            raise self._mismatch(path, header, f"({detail})") from None
        if not self._landed(name):
            # diffusers skips keys it can't place, with a warning: a LoRA for another model loads as nothing.
            raise self._mismatch(path, header, "(none of its layers are in this model)")
        self._lift_fp8(name)
        self.resident[name] = path
        self.loads += 1
        return name

    def _landed(self, name: str) -> bool:
        try:
            listed = self.pipe.get_list_adapters()
        except (AttributeError, ValueError):
            return True  # can't tell: trust the loader
        return any(name in names for names in listed.values())

    def _forget(self, name: str) -> None:
        """Remove what a failed load left behind, so the model renders as before."""
        try:
            if self._landed(name):
                self.pipe.delete_adapters([name])
        except (ValueError, KeyError, AttributeError):
            pass

    def _mismatch(self, path: str, header: dict[str, Any], detail: str) -> ModelFolderError:
        loaded = f" The loaded model is {self.model}." if self.model else ""
        made = lora_fits(header)
        made_for = f"It was made for {made}." if made else "A LoRA works only with the model it was made for."
        return ModelFolderError(
            f"The LoRA {path} doesn't fit this model {detail}. {made_for}{loaded} Remove it, or use it with the "
            "model it was made for."
        )

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
