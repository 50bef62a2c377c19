"""Device and memory settings: which device, which precision, offload and VAE tiling."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from engine.errors import EngineError

DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "fp16", "bf16", "fp32")


@dataclass(frozen=True)
class DeviceSettings:
    device: str = "auto"
    precision: str = "auto"
    # Keep only the running sub-model on the GPU (diffusers model CPU offload): slower, far less VRAM.
    cpu_offload: bool = False
    # Decode video/images in tiles: needed for 1080p video VAEs on most cards.
    vae_tiling: bool = True
    # Load big text encoders (T5-XXL) only to encode a new prompt, then free them.
    free_text_encoder: bool = True
    # Resident models may use this much; 0 picks 90% of the device (or half the RAM on CPU).
    memory_budget_gb: float = 0.0
    # Stream the denoiser's layers to the GPU block by block (diffusers group offload): the
    # least VRAM of all, slower than model offload. Takes precedence over cpu_offload. GPU only.
    group_offload: bool = False
    # Keep the denoiser's weights in fp8 and compute in bf16/fp16 layer by layer (diffusers
    # layerwise casting): about half the weight memory, small quality cost. GPU only.
    fp8_storage: bool = False

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise EngineError(f"device '{self.device}' is unknown; use one of {', '.join(DEVICES)}")
        if self.precision not in PRECISIONS:
            raise EngineError(f"precision '{self.precision}' is unknown; use one of {', '.join(PRECISIONS)}")

    def resolve_device(self) -> str:
        if self.device == "auto":
            if torch.cuda.is_available():
                return "cuda"
            if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
                return "mps"
            return "cpu"
        if self.device == "cuda" and not torch.cuda.is_available():
            raise EngineError("device 'cuda' was chosen but no CUDA GPU is available; choose 'auto' or 'cpu'")
        if self.device == "mps" and not torch.backends.mps.is_available():
            raise EngineError("device 'mps' was chosen but Metal is not available; choose 'auto' or 'cpu'")
        return self.device

    def torch_dtype(self) -> torch.dtype:
        if self.precision == "fp32":
            return torch.float32
        if self.precision == "fp16":
            return torch.float16
        if self.precision == "bf16":
            return torch.bfloat16
        device = self.resolve_device()
        if device == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if device == "mps":
            return torch.float16
        return torch.float32  # half precision on CPU is slow and poorly supported

    def budget_bytes(self) -> int:
        if self.memory_budget_gb > 0:
            return int(self.memory_budget_gb * 1024**3)
        device = self.resolve_device()
        if device == "cuda":
            return int(torch.cuda.get_device_properties(0).total_memory * 0.9)
        try:
            ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            ram = 16 * 1024**3
        return ram // 2
