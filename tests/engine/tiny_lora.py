"""A tiny random LoRA for the tiny LTX-2 transformer (tests/engine/tiny_ltx2.py), saved like Lightricks' own.

PEFT wraps the attention projections (to_q, to_k, to_v, to_out.0) of every attention block of the tiny
transformer in rank-4 LoRA layers. ``init_lora_weights=False`` draws lora_B at random instead of zeros, so
the LoRA really changes what the model computes. The weights are written in LTX-2's original key format,
``diffusion_model.<module>.lora_A.weight``, which is what the Lightricks camera-control LoRAs on the Hub hold
and what diffusers' ``LTX2LoraLoaderMixin`` converts on load (diffusers' own format would skip that step).
Seeded: the same file on every run.
"""

from __future__ import annotations

from pathlib import Path

import torch

RANK = 4
TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
PREFIX = "diffusion_model."  # LTX-2's original (ComfyUI) format


def build_tiny_lora(model_folder: Path, file: Path, *, seed: int = 0, scale: float = 1.0) -> Path:
    """A LoRA for the transformer of the tiny LTX-2 folder ``model_folder``, saved to ``file`` (.safetensors).

    ``scale`` multiplies lora_B: how far the LoRA moves the model.
    """
    from diffusers import LTX2VideoTransformer3DModel
    from peft import LoraConfig, get_peft_model_state_dict
    from safetensors.torch import save_file

    transformer = LTX2VideoTransformer3DModel.from_pretrained(model_folder / "transformer")
    torch.manual_seed(seed)
    transformer.add_adapter(LoraConfig(r=RANK, lora_alpha=RANK, target_modules=TARGETS, init_lora_weights=False))
    state = get_peft_model_state_dict(transformer)
    tensors = {PREFIX + key: (value * scale if "lora_B" in key else value).contiguous() for key, value in state.items()}
    file.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(file))
    return file
