"""Tiny random-weight Wan 2.2 and Wan VACE pipelines, saved like a user's downloaded model folder.

Built in memory from seeded random weights (the same helpers as :mod:`tests.engine.tiny_models`: a UMT5
encoder and a T5 Unigram tokenizer from an in-memory vocabulary), written with
``save_pretrained(folder, safe_serialization=True)``; nothing is downloaded. Outputs are noise: only
shapes, plumbing and which inputs reach the model mean anything.

Shapes follow diffusers' own pipeline tests (tests/pipelines/wan/test_wan_22_image_to_video.py and
test_wan_vace.py), checked against the installed diffusers 0.42.1:

Wan 2.2 A14B (``build_tiny_wan22``) is a WanImageToVideoPipeline with two expert transformers and
``boundary_ratio`` 0.9 like the real I2V-A14B: ``transformer`` denoises timesteps >= 900, ``transformer_2``
the rest, each with its own guidance (``guidance_scale`` / ``guidance_scale_2``). There is no CLIP image
encoder; first and last frame reach the model only through the mask + encoded-video channels, so the
transformers take 16 (noise) + 4 (frame mask) + 16 (encoded video) = 36 channels. VAE 8x spatial, 4x
temporal; sides multiple of 16 (VAE 8 x patch 2).

Wan 2.2 TI2V-5B (``five_b=True``) has one transformer and ``expand_timesteps=True``: the first latent frame
is replaced by the encoded image and its timestep is 0. The VAE is the 2.2 one (48 latent channels,
2x2 pixel patches, residual blocks), 16x spatial, so sides are multiples of 32 (VAE 16 x patch 2). Its
``prepare_latents`` ignores ``last_image`` entirely: it can't make first/last-frame in-betweens.

Wan VACE (``build_tiny_wan_vace``): WanVACEPipeline with a WanVACETransformer3DModel. Its control input is
16 (inactive: encoded ``video * (1 - mask)``) + 16 (reactive: encoded ``video * mask``) + 64 (the 8x8
pixel mask folded into channels) = 96 channels, added at ``vace_layers`` (which must include 0).
"""

from __future__ import annotations

from pathlib import Path

import torch

from tests.engine.tiny_models import T5_DIM, _t5_encoder, _t5_tokenizer

HEADS, HEAD_DIM = 2, 12
# Real Wan2.2-I2V-A14B hands over to the low-noise expert at 0.9 of the timesteps. With the tiny
# scheduler below, 2 steps give timesteps 999 and about 833: one step for each expert.
BOUNDARY_RATIO = 0.9


def _flow_scheduler():
    from diffusers import UniPCMultistepScheduler

    # Flow-matching UniPC, as the Wan 2.1/2.2 diffusers repos ship it (flow_shift 5.0 for 720p, 3.0 for 480p).
    return UniPCMultistepScheduler(
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=5.0,
        num_train_timesteps=1000,
        solver_order=2,
        solver_type="bh2",
        final_sigmas_type="zero",
    )


def _wan21_vae():
    """The Wan 2.1 VAE (16 latent channels, 8x spatial, 4x temporal), as Wan 2.2 A14B and VACE use it."""
    from diffusers import AutoencoderKLWan

    torch.manual_seed(0)
    return AutoencoderKLWan(
        base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )


def _wan22_vae():
    """The Wan 2.2 VAE of TI2V-5B: 48 latent channels over 2x2 pixel patches, 16x spatial, 4x temporal."""
    from diffusers import AutoencoderKLWan

    z_dim = 48
    torch.manual_seed(0)
    return AutoencoderKLWan(
        base_dim=8,
        z_dim=z_dim,
        in_channels=12,  # 3 colours x 2x2 patch
        out_channels=12,
        is_residual=True,
        patch_size=2,
        latents_mean=[0.0] * z_dim,
        latents_std=[1.0] * z_dim,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        scale_factor_spatial=16,
        scale_factor_temporal=4,
        temperal_downsample=[False, True, True],
    )


def _wan_transformer(in_channels: int, out_channels: int, seed: int):
    from diffusers import WanTransformer3DModel

    torch.manual_seed(seed)
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=HEADS,
        attention_head_dim=HEAD_DIM,
        in_channels=in_channels,
        out_channels=out_channels,
        text_dim=T5_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=1,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        rope_max_seq_len=32,
    )


def build_tiny_wan22(folder: Path, *, five_b: bool = False) -> Path:
    """WanImageToVideoPipeline shaped like Wan2.2-I2V-A14B (two experts), or TI2V-5B with ``five_b``."""
    from diffusers import WanImageToVideoPipeline

    tokenizer = _t5_tokenizer(512)
    if five_b:
        vae = _wan22_vae()
        # The noisy latents themselves carry the image (expand_timesteps): no extra input channels.
        experts = dict(transformer=_wan_transformer(48, 48, seed=0), transformer_2=None)
        config = dict(boundary_ratio=None, expand_timesteps=True)
    else:
        vae = _wan21_vae()
        channels = 16 + 4 + 16  # noise + frame mask (the temporal ratio) + encoded first/last-frame video
        # Different seeds: the two experts must compute different things for a test to tell them apart.
        experts = dict(
            transformer=_wan_transformer(channels, 16, seed=0), transformer_2=_wan_transformer(channels, 16, seed=1)
        )
        config = dict(boundary_ratio=BOUNDARY_RATIO, expand_timesteps=False)
    pipe = WanImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(len(tokenizer), umt5=True),
        vae=vae,
        scheduler=_flow_scheduler(),
        image_processor=None,
        image_encoder=None,
        **experts,
        **config,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_tiny_wan_vace(folder: Path) -> Path:
    """WanVACEPipeline shaped like Wan2.1-VACE-1.3B: control video + mask + reference images."""
    from diffusers import WanVACEPipeline, WanVACETransformer3DModel

    tokenizer = _t5_tokenizer(512)
    torch.manual_seed(0)
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=HEADS,
        attention_head_dim=HEAD_DIM,
        in_channels=16,
        out_channels=16,
        text_dim=T5_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        rope_max_seq_len=32,
        vace_layers=[0, 1],
        vace_in_channels=16 + 16 + 8 * 8,  # inactive + reactive latents + the 8x8 pixel mask per latent pixel
    )
    pipe = WanVACEPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(len(tokenizer), umt5=True),
        vae=_wan21_vae(),
        scheduler=_flow_scheduler(),
        transformer=transformer,
        transformer_2=None,
        boundary_ratio=None,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)
