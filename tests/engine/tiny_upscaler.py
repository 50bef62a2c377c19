"""A tiny random-weight x4 upscaler (StableDiffusionUpscalePipeline), IF's stage III in tests.

Shaped like diffusers' own fast tests of the pipeline: a 7-channel UNet (4 latent + 3 low-res
image channels) with noise-level class embeddings, a 4x VAE (three blocks), a CLIP text encoder
with an in-memory tokenizer, saved to a folder like a user's download.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tests.engine.tiny_models import CLIP_TEXT_DIM, _clip_tokenizer


def build_tiny_x4_upscaler(folder: Path) -> Path:
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = _clip_tokenizer()
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=7,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=CLIP_TEXT_DIM,
        attention_head_dim=8,
        use_linear_projection=True,
        num_class_embeds=351,  # one per noise level up to max_noise_level
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8, 8, 16),  # three blocks: a 4x VAE, as the real upscaler's
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=32,
        scaling_factor=0.08333,  # the real x4 upscaler's latent scale
    )
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=CLIP_TEXT_DIM,
            intermediate_size=37,
            num_hidden_layers=1,
            num_attention_heads=4,
            max_position_embeddings=77,
            hidden_act="gelu",
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    pipe = StableDiffusionUpscalePipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        low_res_scheduler=DDPMScheduler(),
        scheduler=DDIMScheduler(prediction_type="v_prediction"),
        max_noise_level=350,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)
