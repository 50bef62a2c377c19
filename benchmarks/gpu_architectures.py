"""The real-size model architectures benchmarks/gpu_models.py measures, and the code that builds them.

Config values are hard-coded from the models' published config.json files (each names its
source); ``TINY`` holds small stand-ins for the CPU check. ``build_*`` make a diffusers folder
with random weights (safetensors), the same layout a user's download has.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

# --- published architectures ------------------------------------------------------------------
# T5 v1.1 XXL encoder (google/t5-v1_1-xxl config.json), the text encoder of DeepFloyd IF and LTX-Video.
T5_XXL = dict(
    vocab_size=32128, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
    relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
    layer_norm_epsilon=1e-6, tie_word_embeddings=False,
)  # fmt: skip
# UMT5-XXL encoder (google/umt5-xxl; Wan2.1 *-diffusers text_encoder/config.json): T5-XXL shape, 256k vocab.
UMT5_XXL = dict(T5_XXL, vocab_size=256384)

# SDXL (stabilityai/sdxl-turbo and stable-diffusion-xl-base-1.0 unet/config.json; turbo has sample_size 64).
SDXL_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    mid_block_type="UNetMidBlock2DCrossAttn", transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20),
    cross_attention_dim=2048, use_linear_projection=True, addition_embed_type="text_time",
    addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816, norm_num_groups=32, act_fn="silu",
)  # fmt: skip
# SDXL text encoders: CLIP ViT-L/14 text (text_encoder) and OpenCLIP ViT-bigG/14 text with projection (text_encoder_2).
CLIP_L_TEXT = dict(
    vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
    max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768,
)  # fmt: skip
CLIP_BIGG_TEXT = dict(
    vocab_size=49408, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20,
    max_position_embeddings=77, hidden_act="gelu", projection_dim=1280,
)  # fmt: skip
# SDXL VAE (sdxl-turbo vae/config.json).
SDXL_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512), layers_per_block=2,
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, norm_num_groups=32,
    sample_size=512, scaling_factor=0.13025, force_upcast=True,
)  # fmt: skip

# DeepFloyd IF-I-XL-v1.0 unet/config.json (4.3B; as published in fine-tunes whose _name_or_path is
# DeepFloyd/IF-I-XL-v1.0, e.g. huggingface.co/lucostiguy11/dreambooth_if).
IF_I_XL_UNET = dict(
    sample_size=64, in_channels=3, out_channels=6, layers_per_block=3, block_out_channels=(704, 1408, 2112, 2816),
    down_block_types=("ResnetDownsampleBlock2D",) + ("SimpleCrossAttnDownBlock2D",) * 3,
    up_block_types=("SimpleCrossAttnUpBlock2D",) * 3 + ("ResnetUpsampleBlock2D",),
    mid_block_type="UNetMidBlock2DSimpleCrossAttn", cross_attention_dim=2816, encoder_hid_dim=4096,
    encoder_hid_dim_type="text_proj", attention_head_dim=64, addition_embed_type="text",
    addition_embed_type_num_heads=64, cross_attention_norm="group_norm", resnet_time_scale_shift="scale_shift",
    act_fn="gelu",
)  # fmt: skip
# DeepFloyd IF-II-L-v1.0 unet/config.json (1.2B; huggingface.co/williamberman/dreambooth_me_upscale, from
# DeepFloyd/IF-II-L-v1.0). time_embedding_dim = model_channels * last mult (diffusers scripts/convert_if.py).
IF_II_L_UNET = dict(
    sample_size=256, in_channels=6, out_channels=6, layers_per_block=(2, 2, 3, 5, 5),
    block_out_channels=(160, 320, 640, 960, 1280),
    down_block_types=("ResnetDownsampleBlock2D",) * 3 + ("SimpleCrossAttnDownBlock2D",) * 2,
    up_block_types=("SimpleCrossAttnUpBlock2D",) * 2 + ("ResnetUpsampleBlock2D",) * 3,
    mid_block_type="UNetMidBlock2DSimpleCrossAttn", cross_attention_dim=1280, encoder_hid_dim=4096,
    encoder_hid_dim_type="text_proj", attention_head_dim=64, addition_embed_type="text",
    addition_embed_type_num_heads=64, cross_attention_norm="group_norm", resnet_time_scale_shift="scale_shift",
    act_fn="gelu", class_embed_type="timestep", time_embedding_dim=1280, time_embedding_act_fn="gelu",
    resnet_skip_time_act=True, resnet_out_scale_factor=1.4142271248762552, mid_block_scale_factor=1.4142271248762552,
)  # fmt: skip
# LTX-Video 0.9.5 (2B), diffusers scripts/convert_ltx_to_diffusers.py presets "0.9.5" (transformer + VAE).
LTX_TRANSFORMER = dict(
    in_channels=128, out_channels=128, patch_size=1, patch_size_t=1, num_attention_heads=32, attention_head_dim=64,
    cross_attention_dim=2048, num_layers=28, activation_fn="gelu-approximate", qk_norm="rms_norm_across_heads",
    norm_elementwise_affine=False, norm_eps=1e-6, caption_channels=4096, attention_bias=True, attention_out_bias=True,
)  # fmt: skip
LTX_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=128, block_out_channels=(128, 256, 512, 1024, 2048),
    down_block_types=("LTXVideo095DownBlock3D",) * 4, decoder_block_out_channels=(256, 512, 1024),
    layers_per_block=(4, 6, 6, 2, 2), decoder_layers_per_block=(5, 5, 5, 5),
    spatio_temporal_scaling=(True, True, True, True), decoder_spatio_temporal_scaling=(True, True, True),
    decoder_inject_noise=(False, False, False, False),
    downsample_type=("spatial", "temporal", "spatiotemporal", "spatiotemporal"), upsample_residual=(True, True, True),
    upsample_factor=(2, 2, 2), timestep_conditioning=True, patch_size=4, patch_size_t=1, resnet_norm_eps=1e-6,
    scaling_factor=1.0, encoder_causal=True, decoder_causal=False, spatial_compression_ratio=32,
    temporal_compression_ratio=8,
)  # fmt: skip
# LTX scheduler_config.json (0.9.1 publishes these values with use_dynamic_shifting=true; LTXConditionPipeline
# in diffusers 0.42.1 never passes mu, so dynamic shifting is off here. Timing doesn't depend on it).
LTX_SCHEDULER = dict(
    num_train_timesteps=1000, shift=1.0, use_dynamic_shifting=False, base_shift=0.95, max_shift=2.05,
    base_image_seq_len=1024, max_image_seq_len=4096, shift_terminal=0.1,
)  # fmt: skip

# Wan 2.1 first/last-frame transformers (diffusers scripts/convert_wan_to_diffusers.py presets):
# "Wan-FLF2V-14B-720P" (the engine's registered wan2.1-flf2v-14b-720p) and "SkyReels-V2-FLF2V-1.3B-540P",
# the smallest real first/last-frame Wan (same pipeline class, image conditioning and VAE).
WAN_14B = dict(
    patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=36, out_channels=16,
    text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
    eps=1e-6, image_dim=1280, added_kv_proj_dim=5120, rope_max_seq_len=1024, pos_embed_seq_len=514,
)  # fmt: skip
WAN_1_3B = dict(WAN_14B, num_attention_heads=12, ffn_dim=8960, num_layers=30, added_kv_proj_dim=1536)
# Wan image encoder: open-clip ViT-H/14 vision tower (Wan2.1 I2V/FLF2V *-diffusers image_encoder/config.json).
CLIP_H_VISION = dict(
    hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16, image_size=224,
    patch_size=14, projection_dim=1024, hidden_act="gelu",
)  # fmt: skip
WAN_VAE: dict[str, Any] = {}  # AutoencoderKLWan defaults are Wan 2.1's VAE (base_dim 96, z_dim 16, dim_mult 1,2,4,4)
WAN_FLOW_SHIFT = 16.0  # scheduler_config.json of the 720p FLF2V repo (3.0 for 480p checkpoints)

# --- tiny stand-ins (same code path, CPU-sized; mirror tests/engine/tiny_models.py) ------------
TINY_T5 = dict(
    vocab_size=512, d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=4, relative_attention_num_buckets=8,
    relative_attention_max_distance=32, feed_forward_proj="gated-gelu",
)  # fmt: skip
TINY = dict(
    t5=TINY_T5,
    umt5=TINY_T5,
    sdxl_unet=dict(
        SDXL_UNET, sample_size=4, block_out_channels=(32, 64), down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), transformer_layers_per_block=(1, 2),
        attention_head_dim=(2, 4), cross_attention_dim=64, addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=80, layers_per_block=1,
    ),
    clip_l=dict(CLIP_L_TEXT, hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=4,
                projection_dim=32),
    clip_bigg=dict(CLIP_BIGG_TEXT, hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=4,
                   projection_dim=32),
    sdxl_vae=dict(SDXL_VAE, block_out_channels=(8, 8, 16, 16), layers_per_block=1, norm_num_groups=8, sample_size=32),
    if_i=dict(
        IF_I_XL_UNET, sample_size=16, layers_per_block=1, block_out_channels=(16, 32),
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"), cross_attention_dim=32,
        encoder_hid_dim=32, attention_head_dim=8, addition_embed_type_num_heads=2, norm_num_groups=8,
    ),
    if_ii=dict(
        IF_II_L_UNET, sample_size=32, layers_per_block=(1, 1), block_out_channels=(16, 32),
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"), cross_attention_dim=32,
        encoder_hid_dim=32, attention_head_dim=8, addition_embed_type_num_heads=2, norm_num_groups=8,
        time_embedding_dim=32,
    ),
    ltx_transformer=dict(LTX_TRANSFORMER, num_attention_heads=2, attention_head_dim=8, cross_attention_dim=16,
                         num_layers=1, caption_channels=32),
    ltx_vae=dict(
        LTX_VAE, block_out_channels=(8, 8, 8, 8), down_block_types=("LTXVideoDownBlock3D",) * 4,
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False), decoder_inject_noise=(False,) * 5,
        downsample_type=("conv",) * 4, upsample_residual=(False,) * 4, upsample_factor=(1,) * 4,
        spatial_compression_ratio=None, temporal_compression_ratio=None,
    ),
    wan_transformer=dict(WAN_1_3B, num_attention_heads=2, attention_head_dim=12, text_dim=32, freq_dim=32,
                         ffn_dim=32, num_layers=1, image_dim=16, added_kv_proj_dim=24, rope_max_seq_len=32,
                         pos_embed_seq_len=34),
    clip_h_vision=dict(CLIP_H_VISION, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                       num_attention_heads=2, image_size=32, patch_size=8, projection_dim=16),
    wan_vae=dict(base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1),
)  # fmt: skip


# --- building folders ----------------------------------------------------------------------------
def _cfg(name: str, tiny: bool, real: dict) -> dict:
    return dict(TINY[name]) if tiny else dict(real)


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
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanImageToVideoPipeline
    from transformers import CLIPVisionConfig, CLIPVisionModel

    t5_tokenizer, _ = _tokenizers()
    transformer = _wan_transformer(b, tiny, config)
    encoder = _t5(b, "text_encoder", _cfg("umt5", tiny, UMT5_XXL), umt5=True)
    vision = _cfg("clip_h_vision", tiny, CLIP_H_VISION)
    image_encoder = b.make("image_encoder", lambda: CLIPVisionModel(CLIPVisionConfig(**vision)))
    vae = b.make("vae", lambda: AutoencoderKLWan(**_cfg("wan_vae", tiny, WAN_VAE)))
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=WAN_FLOW_SHIFT, num_train_timesteps=1000,
        solver_order=2, solver_type="bh2", final_sigmas_type="zero",
    )  # fmt: skip
    pipe = WanImageToVideoPipeline(
        tokenizer=t5_tokenizer(512), text_encoder=encoder, vae=vae, scheduler=scheduler,
        image_processor=_image_processor(vision["image_size"]), image_encoder=image_encoder, transformer=transformer,
    )  # fmt: skip
    pipe.register_to_config(image_processor=("transformers", "CLIPImageProcessor"))
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


def weight_table() -> str:
    """Parameters and bf16 bytes of every real component, built on the meta device (no memory used).

    Weights are a floor for a job's GPU memory: activations, the VAE decode and the allocator's
    slack come on top. IF frees T5 before the UNets load; the other backends keep every component
    on the GPU (``pipe.to(device)``).
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        AutoencoderKLLTXVideo,
        AutoencoderKLWan,
        LTXVideoTransformer3DModel,
        UNet2DConditionModel,
        WanTransformer3DModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPVisionConfig,
        CLIPVisionModel,
        T5Config,
        T5EncoderModel,
        UMT5Config,
        UMT5EncoderModel,
    )

    ids = dict(pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    t5 = lambda: T5EncoderModel(T5Config(**T5_XXL, **ids))  # noqa: E731
    umt5 = lambda: UMT5EncoderModel(UMT5Config(**UMT5_XXL, **ids))  # noqa: E731
    clip_h = lambda: CLIPVisionModel(CLIPVisionConfig(**CLIP_H_VISION))  # noqa: E731
    models = {
        "sdxl": [
            ("unet", lambda: UNet2DConditionModel(**SDXL_UNET)),
            ("text_encoder", lambda: CLIPTextModel(CLIPTextConfig(**CLIP_L_TEXT))),
            ("text_encoder_2", lambda: CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_BIGG_TEXT))),
            ("vae", lambda: AutoencoderKL(**SDXL_VAE)),
        ],
        "if": [
            ("text_encoder (freed before the UNets load)", t5),
            ("stage1 unet", lambda: UNet2DConditionModel(**IF_I_XL_UNET)),
            ("stage2 unet", lambda: UNet2DConditionModel(**IF_II_L_UNET)),
        ],
        "ltx": [
            ("transformer", lambda: LTXVideoTransformer3DModel(**LTX_TRANSFORMER)),
            ("vae", lambda: AutoencoderKLLTXVideo(**LTX_VAE)),
            ("text_encoder", t5),
        ],
        "wan13": [
            ("transformer", lambda: WanTransformer3DModel(**WAN_1_3B)),
            ("text_encoder", umt5),
            ("image_encoder", clip_h),
            ("vae", lambda: AutoencoderKLWan(**WAN_VAE)),
        ],
        "wan14": [
            ("transformer", lambda: WanTransformer3DModel(**WAN_14B)),
            ("text_encoder", umt5),
            ("image_encoder", clip_h),
            ("vae", lambda: AutoencoderKLWan(**WAN_VAE)),
        ],
    }
    lines = [f"{'model':6} {'component':44} {'params':>9} {'bf16 GiB':>9}"]
    for model, parts in models.items():
        resident = 0
        for name, factory in parts:
            with torch.device("meta"):
                n = sum(p.numel() for p in factory().parameters())
            if "freed" not in name:
                resident += 2 * n
            lines.append(f"{model:6} {name:44} {n / 1e9:8.3f}B {gib(2 * n):9.2f}")
        lines.append(f"{model:6} {'= resident while denoising':44} {'':9} {gib(resident):9.2f}")
    return "\n".join(lines)


# --- driver --------------------------------------------------------------------------------------
