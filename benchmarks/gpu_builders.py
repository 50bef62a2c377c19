"""Builders of the real-size (or tiny) diffusers folders benchmarks/gpu_models.py renders with.

``build_*`` make a diffusers folder with random weights (safetensors), the same layout a user's download
has, from the shapes in :mod:`gpu_configs`; a :class:`Builder` makes each module on the run's device and dtype.
"""

from __future__ import annotations

import copy
import gc
import json
import os
from pathlib import Path
from typing import Any

from gpu_configs import (
    CLIP_BIGG_TEXT,
    CLIP_H_VISION,
    CLIP_L_TEXT,
    GEMMA3_12B,
    IF_I_XL_UNET,
    IF_II_L_UNET,
    LTX2_AUDIO_VAE,
    LTX2_CONNECTORS,
    LTX2_SCHEDULER,
    LTX2_TEXT_TOKENS,
    LTX2_TRANSFORMER,
    LTX2_UPSAMPLER,
    LTX2_VIDEO_VAE,
    LTX2_VOCODER,
    LTX_SCHEDULER,
    LTX_TRANSFORMER,
    LTX_VAE,
    SDXL_UNET,
    SDXL_VAE,
    T5_XXL,
    TINY,
    TINY_LTX2_TEXT_TOKENS,
    UMT5_XXL,
    WAN22_5B,
    WAN22_5B_FLOW_SHIFT,
    WAN22_A14B,
    WAN22_BOUNDARY_RATIO,
    WAN22_FLOW_SHIFT,
    WAN22_VAE,
    WAN_FLOW_SHIFT,
    WAN_VACE_FLOW_SHIFT,
    WAN_VAE,
)


def _cfg(name: str, tiny: bool, real: dict) -> dict:
    # A deep copy: config classes may rewrite nested dicts (Gemma's rope settings) in place.
    return copy.deepcopy(TINY[name] if tiny else real)


class Builder:
    """Makes modules with random weights directly on the device, then casts them to the run dtype."""

    def __init__(self, device: str, dtype: Any) -> None:
        self.device = device
        self.dtype = dtype
        self.params: dict[str, int] = {}

    def make(self, label: str, factory: Any) -> Any:
        import torch

        torch.manual_seed(0)
        # Construct straight in the run dtype: a 16B transformer in fp32 would not fit an 80 GB card.
        default = torch.get_default_dtype()
        torch.set_default_dtype(self.dtype)
        try:
            with torch.device(self.device):
                module = factory()
        finally:
            torch.set_default_dtype(default)
        module = module.to(self.dtype).eval()
        self.params[label] = sum(p.numel() for p in module.parameters())
        return module


def _t5(builder: Builder, label: str, config: dict, umt5: bool = False) -> Any:
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    ids = dict(pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    if umt5:
        return builder.make(label, lambda: UMT5EncoderModel(UMT5Config(**config, **ids)))
    return builder.make(label, lambda: T5EncoderModel(T5Config(**config, **ids)))


def _tokenizers():
    from tests.engine.tiny_models import _clip_tokenizer, _t5_tokenizer

    return _t5_tokenizer, _clip_tokenizer


def _image_processor(size: int) -> Any:
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})


def build_sdxl(folder: Path, b: Builder, tiny: bool) -> None:
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    _, clip_tokenizer = _tokenizers()
    tok = clip_tokenizer()
    ids = dict(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    unet = b.make("unet", lambda: UNet2DConditionModel(**_cfg("sdxl_unet", tiny, SDXL_UNET)))
    te1 = b.make("text_encoder", lambda: CLIPTextModel(CLIPTextConfig(**_cfg("clip_l", tiny, CLIP_L_TEXT), **ids)))
    te2 = b.make(
        "text_encoder_2",
        lambda: CLIPTextModelWithProjection(CLIPTextConfig(**_cfg("clip_bigg", tiny, CLIP_BIGG_TEXT), **ids)),
    )
    vae = b.make("vae", lambda: AutoencoderKL(**_cfg("sdxl_vae", tiny, SDXL_VAE)))
    scheduler = EulerAncestralDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", timestep_spacing="trailing", steps_offset=1
    )
    pipe = StableDiffusionXLPipeline(
        vae=vae, text_encoder=te1, text_encoder_2=te2, tokenizer=tok, tokenizer_2=clip_tokenizer(), unet=unet,
        scheduler=scheduler, add_watermarker=False,
    )  # fmt: skip
    pipe.save_pretrained(folder, safe_serialization=True)


def sdxl_base_from_turbo(turbo: Path, base: Path) -> None:
    """SDXL base shares every weight with SDXL-Turbo's architecture; only the native size differs (1024)."""
    link_tree(turbo, base, skip=())
    config_path = base / "unet" / "config.json"
    config = json.loads(config_path.read_text())
    config["sample_size"] = config["sample_size"] * 2
    config_path.unlink()  # a hard link: don't write through it into the turbo folder
    config_path.write_text(json.dumps(config, indent=2))


def _if_scheduler(sample_max_value: float) -> Any:
    from diffusers import DDPMScheduler

    # diffusers scripts/convert_if.py
    return DDPMScheduler(
        variance_type="learned_range", beta_schedule="squaredcos_cap_v2", prediction_type="epsilon",
        thresholding=True, dynamic_thresholding_ratio=0.95, sample_max_value=sample_max_value,
    )  # fmt: skip


def build_if(folder: Path, b: Builder, tiny: bool) -> None:
    """Stage I (with T5-XXL) into folder/stage1, stage II into folder/stage2 (its T5 skipped, as loaded).

    Without the safety checker the real repos ship: with transformers 5.23 its folder fails to load
    ("'IFSafetyChecker' object has no attribute 'all_tied_weights_keys'", it never calls post_init).
    """
    from diffusers import DDPMScheduler, IFPipeline, IFSuperResolutionPipeline, UNet2DConditionModel

    t5_tokenizer, _ = _tokenizers()
    unet2 = b.make("stage2_unet", lambda: UNet2DConditionModel(**_cfg("if_ii", tiny, IF_II_L_UNET)))
    stage2 = IFSuperResolutionPipeline(
        tokenizer=None, text_encoder=None, unet=unet2, scheduler=_if_scheduler(1.0),
        image_noising_scheduler=DDPMScheduler(beta_schedule="squaredcos_cap_v2"), safety_checker=None,
        feature_extractor=None, watermarker=None, requires_safety_checker=False,
    )  # fmt: skip
    stage2.save_pretrained(folder / "stage2", safe_serialization=True)
    del stage2, unet2
    free()
    unet1 = b.make("stage1_unet", lambda: UNet2DConditionModel(**_cfg("if_i", tiny, IF_I_XL_UNET)))
    encoder = _t5(b, "text_encoder", _cfg("t5", tiny, T5_XXL))
    stage1 = IFPipeline(
        tokenizer=t5_tokenizer(77), text_encoder=encoder, unet=unet1, scheduler=_if_scheduler(1.5),
        safety_checker=None, feature_extractor=None, watermarker=None, requires_safety_checker=False,
    )  # fmt: skip
    stage1.save_pretrained(folder / "stage1", safe_serialization=True)


def build_ltx(folder: Path, b: Builder, tiny: bool) -> None:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )

    t5_tokenizer, _ = _tokenizers()
    transformer = b.make(
        "transformer", lambda: LTXVideoTransformer3DModel(**_cfg("ltx_transformer", tiny, LTX_TRANSFORMER))
    )
    vae_config = _cfg("ltx_vae", tiny, LTX_VAE)
    vae = b.make("vae", lambda: AutoencoderKLLTXVideo(**vae_config))
    encoder = _t5(b, "text_encoder", _cfg("t5", tiny, T5_XXL))
    pipe = LTXConditionPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**LTX_SCHEDULER), vae=vae, text_encoder=encoder,
        tokenizer=t5_tokenizer(128), transformer=transformer,
    )  # fmt: skip
    pipe.save_pretrained(folder, safe_serialization=True)


def _wan_transformer(b: Builder, tiny: bool, config: dict) -> Any:
    from diffusers import WanTransformer3DModel

    return b.make("transformer", lambda: WanTransformer3DModel(**_cfg("wan_transformer", tiny, config)))


def build_wan(folder: Path, b: Builder, tiny: bool, config: dict, share_from: Path | None = None) -> None:
    """A WanImageToVideoPipeline folder; with ``share_from``, every component but the transformer is linked."""
    if share_from is not None and (share_from / "model_index.json").is_file():
        transformer = _wan_transformer(b, tiny, config)
        link_tree(share_from, folder, skip=("transformer",))
        transformer.save_pretrained(folder / "transformer", safe_serialization=True)
        for name in ("text_encoder", "image_encoder", "vae"):
            b.params[name] = _params_on_disk(folder / name)
        return
    from diffusers import AutoencoderKLWan, WanImageToVideoPipeline
    from transformers import CLIPVisionConfig, CLIPVisionModel

    t5_tokenizer, _ = _tokenizers()
    transformer = _wan_transformer(b, tiny, config)
    encoder = _t5(b, "text_encoder", _cfg("umt5", tiny, UMT5_XXL), umt5=True)
    vision = _cfg("clip_h_vision", tiny, CLIP_H_VISION)
    image_encoder = b.make("image_encoder", lambda: CLIPVisionModel(CLIPVisionConfig(**vision)))
    vae = b.make("vae", lambda: AutoencoderKLWan(**_cfg("wan_vae", tiny, WAN_VAE)))
    pipe = WanImageToVideoPipeline(
        tokenizer=t5_tokenizer(512), text_encoder=encoder, vae=vae, scheduler=_wan_scheduler(WAN_FLOW_SHIFT),
        image_processor=_image_processor(vision["image_size"]), image_encoder=image_encoder, transformer=transformer,
    )  # fmt: skip
    pipe.register_to_config(image_processor=("transformers", "CLIPImageProcessor"))
    pipe.save_pretrained(folder, safe_serialization=True)


def _wan_scheduler(flow_shift: float) -> Any:
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=flow_shift, num_train_timesteps=1000,
        solver_order=2, solver_type="bh2", final_sigmas_type="zero",
    )  # fmt: skip


def _wan_text(b: Builder, tiny: bool) -> tuple[Any, Any]:
    """UMT5-XXL and its tokenizer (prompts padded to Wan's 512 tokens): every Wan model reads prompts with it."""
    t5_tokenizer, _ = _tokenizers()
    return t5_tokenizer(512), _t5(b, "text_encoder", _cfg("umt5", tiny, UMT5_XXL), umt5=True)


def build_wan22(folder: Path, b: Builder, tiny: bool) -> None:
    """Wan2.2-I2V-A14B as the conversion script writes it: two experts, boundary_ratio 0.9, no image encoder.

    The low-noise expert is a hard link of the high-noise expert's files: the same shapes and the same cost
    (weight values don't change speed), loaded as a second model, at half the disk (two 14B experts and UMT5
    in bf16 are 68 GB, more than some benchmark machines have). Its load reads what the first expert's load
    just put in the page cache, so the A14B load time is a little optimistic.
    """
    from diffusers import AutoencoderKLWan, WanImageToVideoPipeline, WanTransformer3DModel

    tokenizer, encoder = _wan_text(b, tiny)
    config = _cfg("wan22_transformer", tiny, WAN22_A14B)
    transformer = b.make("transformer", lambda: WanTransformer3DModel(**config))
    vae = b.make("vae", lambda: AutoencoderKLWan(**_cfg("wan_vae", tiny, WAN_VAE)))
    pipe = WanImageToVideoPipeline(
        tokenizer=tokenizer, text_encoder=encoder, vae=vae, scheduler=_wan_scheduler(WAN22_FLOW_SHIFT),
        image_processor=None, image_encoder=None, transformer=transformer, transformer_2=None,
        boundary_ratio=WAN22_BOUNDARY_RATIO,
    )  # fmt: skip
    pipe.save_pretrained(folder, safe_serialization=True)
    link_tree(folder / "transformer", folder / "transformer_2", skip=())
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index["transformer_2"] = index["transformer"]  # what save_pretrained writes for a second expert
    index_path.write_text(json.dumps(index, indent=2))
    b.params["transformer_2 (hard link)"] = b.params["transformer"]


def build_wan22_5b(folder: Path, b: Builder, tiny: bool) -> None:
    """Wan2.2-TI2V-5B as published: a WanPipeline with expand_timesteps, one transformer, the 48-channel VAE."""
    from diffusers import AutoencoderKLWan, WanPipeline, WanTransformer3DModel

    tokenizer, encoder = _wan_text(b, tiny)
    config = _cfg("wan22_5b_transformer", tiny, WAN22_5B)
    transformer = b.make("transformer", lambda: WanTransformer3DModel(**config))
    vae = b.make("vae", lambda: AutoencoderKLWan(**_cfg("wan22_vae", tiny, WAN22_VAE)))
    pipe = WanPipeline(
        tokenizer=tokenizer, text_encoder=encoder, vae=vae, scheduler=_wan_scheduler(WAN22_5B_FLOW_SHIFT),
        transformer=transformer, transformer_2=None, boundary_ratio=None, expand_timesteps=True,
    )  # fmt: skip
    pipe.save_pretrained(folder, safe_serialization=True)


def build_wan_vace(folder: Path, b: Builder, tiny: bool, config: dict) -> None:
    from diffusers import AutoencoderKLWan, WanVACEPipeline, WanVACETransformer3DModel

    tokenizer, encoder = _wan_text(b, tiny)
    transformer_config = _cfg("vace_transformer", tiny, config)
    transformer = b.make("transformer", lambda: WanVACETransformer3DModel(**transformer_config))
    vae = b.make("vae", lambda: AutoencoderKLWan(**_cfg("wan_vae", tiny, WAN_VAE)))
    pipe = WanVACEPipeline(
        tokenizer=tokenizer, text_encoder=encoder, vae=vae, scheduler=_wan_scheduler(WAN_VACE_FLOW_SHIFT),
        transformer=transformer, transformer_2=None, boundary_ratio=None,
    )  # fmt: skip
    pipe.save_pretrained(folder, safe_serialization=True)


def _gemma_tokenizer(tokens: int) -> Any:
    """The tests' in-memory Gemma tokenizer, padding prompts to ``tokens`` (LTX-2's 1024 at real size)."""
    from tests.engine.tiny_ltx2 import _gemma_tokenizer as small_vocabulary

    tokenizer = small_vocabulary()
    tokenizer.model_max_length = tokens
    return tokenizer


def gemma3_model(config: dict) -> Any:
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    return Gemma3ForConditionalGeneration(Gemma3Config(**config))


def build_ltx2(folder: Path, b: Builder, tiny: bool) -> None:
    """An LTX2Pipeline folder as the conversion script writes it, with latent_upsampler/ inside as Lightricks ships it.

    The engine loads it with LTX2ConditionPipeline and finds the upsampler in latent_upsampler/ by itself.
    """
    from diffusers import (
        AutoencoderKLLTX2Audio,
        AutoencoderKLLTX2Video,
        FlowMatchEulerDiscreteScheduler,
        LTX2Pipeline,
        LTX2VideoTransformer3DModel,
    )
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    upsampler_config = _cfg("ltx2_upsampler", tiny, LTX2_UPSAMPLER)
    upsampler = b.make("latent_upsampler", lambda: LTX2LatentUpsamplerModel(**upsampler_config))
    upsampler.save_pretrained(folder / "latent_upsampler", safe_serialization=True)
    del upsampler
    tokenizer = _gemma_tokenizer(TINY_LTX2_TEXT_TOKENS if tiny else LTX2_TEXT_TOKENS)
    gemma = _cfg("gemma3", tiny, GEMMA3_12B)
    if len(tokenizer) > gemma["text_config"]["vocab_size"]:
        raise ValueError(f"the Gemma vocabulary ({gemma['text_config']['vocab_size']}) is smaller than its tokenizer")
    transformer_config = _cfg("ltx2_transformer", tiny, LTX2_TRANSFORMER)
    connectors_config = _cfg("ltx2_connectors", tiny, LTX2_CONNECTORS)
    vocoder_config = _cfg("ltx2_vocoder", tiny, LTX2_VOCODER)
    pipe = LTX2Pipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(**LTX2_SCHEDULER),
        vae=b.make("vae", lambda: AutoencoderKLLTX2Video(**_cfg("ltx2_video_vae", tiny, LTX2_VIDEO_VAE))),
        audio_vae=b.make("audio_vae", lambda: AutoencoderKLLTX2Audio(**_cfg("ltx2_audio_vae", tiny, LTX2_AUDIO_VAE))),
        text_encoder=b.make("text_encoder", lambda: gemma3_model(gemma)),
        tokenizer=tokenizer,
        connectors=b.make("connectors", lambda: LTX2TextConnectors(**connectors_config)),
        transformer=b.make("transformer", lambda: LTX2VideoTransformer3DModel(**transformer_config)),
        vocoder=b.make("vocoder", lambda: LTX2Vocoder(**vocoder_config)),
        processor=None,
        prompt_enhancer=None,
        duration_head=None,
    )
    pipe.save_pretrained(folder, safe_serialization=True)


def _params_on_disk(folder: Path) -> int:
    from safetensors import safe_open

    total = 0
    for path in folder.glob("*.safetensors"):
        with safe_open(str(path), "pt") as f:
            for key in f.keys():  # noqa: SIM118 - safe_open is not a dict
                total += _numel(f.get_slice(key).get_shape())
    return total


def _numel(shape: list[int]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def link_tree(src: Path, dst: Path, skip: tuple[str, ...]) -> None:
    """Hard-link every file of ``src`` into ``dst`` (no copy, no extra disk), leaving out top-level ``skip``."""
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if rel.parts[0] in skip or path.is_dir():
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, target)


def free() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def gib(n: int) -> float:
    return round(n / 1024**3, 2)
