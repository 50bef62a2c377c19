"""The real-size model architectures benchmarks/gpu_models.py measures: one table, tied to the registry.

:data:`ARCHITECTURES` ties each model to the registry backend that runs it, names its builder
(:mod:`gpu_builders`, from the shapes in :mod:`gpu_configs`) and lists its components for ``--params``
and the disk check.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from gpu_builders import (
    Builder,
    build_if,
    build_ltx,
    build_ltx2,
    build_sdxl,
    build_wan,
    build_wan22,
    build_wan22_5b,
    build_wan_vace,
    gemma3_model,
    gib,
    sdxl_base_from_turbo,
)
from gpu_configs import (
    CLIP_BIGG_TEXT,
    CLIP_H_VISION,
    CLIP_L_TEXT,
    GEMMA3_12B,
    IF_I_XL_UNET,
    IF_II_L_UNET,
    LTX2_AUDIO_VAE,
    LTX2_CONNECTORS,
    LTX2_TRANSFORMER,
    LTX2_UPSAMPLER,
    LTX2_VIDEO_VAE,
    LTX2_VOCODER,
    LTX_TRANSFORMER,
    LTX_VAE,
    SDXL_UNET,
    SDXL_VAE,
    T5_XXL,
    UMT5_XXL,
    WAN22_5B,
    WAN22_A14B,
    WAN22_VAE,
    WAN_1_3B,
    WAN_14B,
    WAN_VACE_1_3B,
    WAN_VACE_14B,
    WAN_VAE,
)


class Part(NamedTuple):
    """One real-size component, as a factory that builds it (called on the meta device for counts)."""

    name: str
    factory: Callable[[], Any]
    denoiser: bool = False  # the transformer / UNet: what published sizes ("14B") count
    freed: bool = False  # unloaded before denoising starts (IF's T5)
    linked: bool = False  # a hard link of another part's files: memory when loaded, no disk


@dataclass(frozen=True)
class Architecture:
    """A real model the benchmark builds: which registry backend runs it, how to build it, what it holds."""

    name: str  # the --models name
    backend: str  # the engine.backend_registry backend that runs it
    variant: str  # matched against the (qualifiers) of the registry's vram_preset, e.g. "A14B"
    title: str
    build: Callable[[Path, Builder, bool], None]
    parts: Callable[[], list[Part]]
    run_steps: int = 0  # denoising steps a GPU run does per pass (0: the backend's default); the rest extrapolated
    shares_with: str = ""  # built earlier in the same run, this folder lends every component but the transformer

    def disk_bytes(self, bytes_per_param: int, shared: bool) -> int:
        """What the build writes: every part but hard links (only the transformer when sharing a folder)."""
        total = 0
        for part in self.parts():
            if part.linked or (shared and part.name != "transformer"):
                continue
            total += bytes_per_param * count_params(part.factory)
        return total


def count_params(factory: Callable[[], Any]) -> int:
    import torch

    with torch.device("meta"):
        return sum(p.numel() for p in factory().parameters())


def _model(where: str, config: dict) -> Callable[[], Any]:
    """A factory for ``module:Class(**config)``, importing only when called."""
    module, _, name = where.partition(":")
    return lambda: getattr(importlib.import_module(module), name)(**copy.deepcopy(config))


def _encoder(config_class: str, model_class: str, config: dict) -> Callable[[], Any]:
    """A factory for a transformers model built from its config class."""
    ids = dict(pad_token_id=0, eos_token_id=1, decoder_start_token_id=0) if "T5" in config_class else {}

    def make() -> Any:
        import transformers

        settings = getattr(transformers, config_class)(**copy.deepcopy(config), **ids)
        return getattr(transformers, model_class)(settings)

    return make


_T5 = _encoder("T5Config", "T5EncoderModel", T5_XXL)
_UMT5 = _encoder("UMT5Config", "UMT5EncoderModel", UMT5_XXL)
_WAN21_VAE = _model("diffusers:AutoencoderKLWan", WAN_VAE)


def _wan21_parts(transformer: dict) -> Callable[[], list[Part]]:
    return lambda: [
        Part("transformer", _model("diffusers:WanTransformer3DModel", transformer), denoiser=True),
        Part("text_encoder", _UMT5),
        Part("image_encoder", _encoder("CLIPVisionConfig", "CLIPVisionModel", CLIP_H_VISION)),
        Part("vae", _WAN21_VAE),
    ]


def _wan22_parts() -> list[Part]:
    expert = _model("diffusers:WanTransformer3DModel", WAN22_A14B)
    return [
        Part("transformer (high noise)", expert, denoiser=True),
        Part("transformer_2 (low noise, hard link)", expert, denoiser=True, linked=True),
        Part("text_encoder", _UMT5),
        Part("vae", _WAN21_VAE),
    ]


def _wan22_5b_parts() -> list[Part]:
    return [
        Part("transformer", _model("diffusers:WanTransformer3DModel", WAN22_5B), denoiser=True),
        Part("text_encoder", _UMT5),
        Part("vae (Wan 2.2, 16x)", _model("diffusers:AutoencoderKLWan", WAN22_VAE)),
    ]


def _vace_parts(transformer: dict) -> Callable[[], list[Part]]:
    return lambda: [
        Part("transformer", _model("diffusers:WanVACETransformer3DModel", transformer), denoiser=True),
        Part("text_encoder", _UMT5),
        Part("vae", _WAN21_VAE),
    ]


def _ltx2_parts() -> list[Part]:
    ltx2 = "diffusers.pipelines.ltx2"
    return [
        Part("transformer (audio + video)", _model("diffusers:LTX2VideoTransformer3DModel", LTX2_TRANSFORMER), True),
        Part("text_encoder (Gemma 3 12B)", lambda: gemma3_model(copy.deepcopy(GEMMA3_12B))),
        Part("connectors", _model(f"{ltx2}:LTX2TextConnectors", LTX2_CONNECTORS)),
        Part("vae", _model("diffusers:AutoencoderKLLTX2Video", LTX2_VIDEO_VAE)),
        Part("audio_vae", _model("diffusers:AutoencoderKLLTX2Audio", LTX2_AUDIO_VAE)),
        Part("vocoder", _model(f"{ltx2}.vocoder:LTX2Vocoder", LTX2_VOCODER)),
        Part("latent_upsampler (with upsample on)", _model(f"{ltx2}.latent_upsampler:LTX2LatentUpsamplerModel",
                                                           LTX2_UPSAMPLER)),
    ]  # fmt: skip


def _sdxl_parts() -> list[Part]:
    return [
        Part("unet", _model("diffusers:UNet2DConditionModel", SDXL_UNET), denoiser=True),
        Part("text_encoder", _encoder("CLIPTextConfig", "CLIPTextModel", CLIP_L_TEXT)),
        Part("text_encoder_2", _encoder("CLIPTextConfig", "CLIPTextModelWithProjection", CLIP_BIGG_TEXT)),
        Part("vae", _model("diffusers:AutoencoderKL", SDXL_VAE)),
    ]


def _if_parts() -> list[Part]:
    return [
        Part("text_encoder (freed before the UNets load)", _T5, freed=True),
        Part("stage1 unet", _model("diffusers:UNet2DConditionModel", IF_I_XL_UNET), denoiser=True),
        Part("stage2 unet", _model("diffusers:UNet2DConditionModel", IF_II_L_UNET), denoiser=True),
    ]


def _ltx_parts() -> list[Part]:
    return [
        Part("transformer", _model("diffusers:LTXVideoTransformer3DModel", LTX_TRANSFORMER), denoiser=True),
        Part("vae", _model("diffusers:AutoencoderKLLTXVideo", LTX_VAE)),
        Part("text_encoder", _T5),
    ]


def _build_sdxl_pair(folder: Path, b: Builder, tiny: bool) -> None:
    build_sdxl(folder / "turbo", b, tiny)
    sdxl_base_from_turbo(folder / "turbo", folder / "base")


# Every model-backed registry backend has at least one entry (gpu_presets.uncovered_backends checks).
ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture("sdxl", "text2image", "SDXL-Turbo", "SDXL-Turbo, and SDXL base from the same weights",
                 _build_sdxl_pair, _sdxl_parts),
    Architecture("if", "if", "IF-I-XL", "DeepFloyd IF-I-XL + IF-II-L", build_if, _if_parts),
    Architecture("ltx", "ltx", "0.9.5", "LTX-Video 0.9.5 (2B)", build_ltx, _ltx_parts),
    Architecture("ltx2", "ltx2", "19B", "LTX-2 19B + Gemma 3 12B", build_ltx2, _ltx2_parts,
                 run_steps=4),
    Architecture("wan13", "wan", "1.3B", "Wan 2.1 first/last frame 1.3B (SkyReels-V2 FLF2V shape)",
                 lambda f, b, t: build_wan(f, b, t, WAN_1_3B), _wan21_parts(WAN_1_3B)),
    Architecture("wan14", "wan", "14B", "Wan 2.1 FLF2V 14B 720p",
                 lambda f, b, t: build_wan(f, b, t, WAN_14B, share_from=f.parent / "wan13"), _wan21_parts(WAN_14B),
                 run_steps=4, shares_with="wan13"),
    Architecture("wan22-a14b", "wan22", "A14B", "Wan 2.2 I2V A14B (two 14B experts)", build_wan22, _wan22_parts,
                 run_steps=4),
    Architecture("wan22-5b", "wan22", "5B", "Wan 2.2 TI2V 5B (48-channel 16x VAE)", build_wan22_5b, _wan22_5b_parts,
                 run_steps=4),
    Architecture("vace13", "wan-vace", "1.3B", "Wan 2.1 VACE 1.3B",
                 lambda f, b, t: build_wan_vace(f, b, t, WAN_VACE_1_3B), _vace_parts(WAN_VACE_1_3B)),
    Architecture("vace14", "wan-vace", "14B", "Wan 2.1 VACE 14B",
                 lambda f, b, t: build_wan_vace(f, b, t, WAN_VACE_14B), _vace_parts(WAN_VACE_14B), run_steps=4),
)  # fmt: skip
BY_NAME = {a.name: a for a in ARCHITECTURES}


def weight_table(names: list[str] | None = None) -> str:
    """Parameters and bf16 bytes of every real component, built on the meta device (no memory used).

    Weights are a floor for a job's GPU memory: activations, the VAE decode and the allocator's slack come
    on top. IF frees T5 before the UNets load; the other backends keep every component on the GPU unless a
    memory preset offloads them. "denoiser" is what published sizes name (LTX-2 19B, Wan 14B / 5B / 1.3B).
    """
    lines = [f"{'model':11} {'component':44} {'params':>9} {'bf16 GiB':>9}"]
    for arch in ARCHITECTURES:
        if names is not None and arch.name not in names:
            continue
        resident = denoiser = total = 0
        for part in arch.parts():
            n = count_params(part.factory)
            total += n
            resident += 0 if part.freed else n
            denoiser += n if part.denoiser else 0
            lines.append(f"{arch.name:11} {part.name:44} {n / 1e9:8.3f}B {gib(2 * n):9.2f}")
        for label, n in (
            ("= denoiser", denoiser),
            ("= every component", total),
            ("= resident while denoising", resident),
        ):
            lines.append(f"{arch.name:11} {label:44} {n / 1e9:8.3f}B {gib(2 * n):9.2f}")
    return "\n".join(lines)
