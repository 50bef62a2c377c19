"""The real-size model architectures benchmarks/gpu_models.py measures, and the code that builds them.

Config values are hard-coded from the models' published config.json files or the diffusers conversion
scripts that write them (each names its source, and says where a value is not confirmed); ``TINY`` holds
small stand-ins for the CPU check, run through the same builders. ``build_*`` make a diffusers folder with
random weights (safetensors), the same layout a user's download has. :data:`ARCHITECTURES` ties each model
to the registry backend that runs it and lists its components for ``--params`` and the disk check.
"""

from __future__ import annotations

import copy
import gc
import importlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

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

# Wan 2.2 and Wan VACE transformers, diffusers scripts/convert_wan_to_diffusers.py presets "Wan2.2-I2V-14B-720p"
# (Wan-AI/Wan2.2-I2V-A14B), "Wan2.2-TI2V-5B", "Wan-VACE-1.3B" and "Wan-VACE-14B". A14B is two experts of one
# shape (high noise, then low noise) with no CLIP image encoder: the frames reach it through the 4 mask + 16
# latent input channels. The script writes A14B as a WanImageToVideoPipeline with boundary_ratio 0.9 and the
# 5B as a WanPipeline with expand_timesteps (engine/models/registry.py lists wan2.2-ti2v-5b as a WanPipeline).
WAN22_A14B = dict(
    patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=36, out_channels=16,
    text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
    eps=1e-6,
)  # fmt: skip
WAN22_BOUNDARY_RATIO = 0.9
WAN22_5B = dict(WAN22_A14B, num_attention_heads=24, ffn_dim=14336, num_layers=30, in_channels=48, out_channels=48)
# The Wan 2.2 VAE (the script's vae22_diffusers_config): 48 channels over 2x2 pixel patches, 16x spatial. Its
# latents_mean/std are 48 published numbers that only shift and scale latents; zeros and ones cost the same.
WAN22_VAE = dict(
    base_dim=160, decoder_base_dim=256, z_dim=48, is_residual=True, in_channels=12, out_channels=12, patch_size=2,
    scale_factor_temporal=4, scale_factor_spatial=16, latents_mean=[0.0] * 48, latents_std=[1.0] * 48,
)  # fmt: skip
WAN_VACE_1_3B = dict(
    WAN22_A14B, in_channels=16, num_attention_heads=12, ffn_dim=8960, num_layers=30,
    vace_layers=list(range(0, 30, 2)), vace_in_channels=96,
)  # fmt: skip
WAN_VACE_14B = dict(WAN22_A14B, in_channels=16, vace_layers=list(range(0, 40, 5)), vace_in_channels=96)
# flow_shift as the script writes it: 5.0 for TI2V-5B, 3.0 for the rest. Not checked against the published
# scheduler_config.json files; a shift moves the sigmas, not the cost of a step.
WAN22_FLOW_SHIFT, WAN22_5B_FLOW_SHIFT, WAN_VACE_FLOW_SHIFT = 3.0, 5.0, 3.0

# LTX-2 (Lightricks/LTX-2, the 19B audio-video model): diffusers scripts/convert_ltx2_to_diffusers.py, version
# "2.0" (get_ltx2_transformer_config, get_ltx2_connectors_config, get_ltx2_video_vae_config,
# get_ltx2_audio_vae_config, get_ltx2_vocoder_config, get_ltx2_spatial_latent_upsampler_config), read from
# the diffusers main branch of 2026-08 (the installed 0.42.1 takes every key).
LTX2_TRANSFORMER = dict(
    in_channels=128, out_channels=128, patch_size=1, patch_size_t=1, num_attention_heads=32, attention_head_dim=128,
    cross_attention_dim=4096, vae_scale_factors=(8, 32, 32), pos_embed_max_pos=20, base_height=2048, base_width=2048,
    gated_attn=False, cross_attn_mod=False, audio_in_channels=128, audio_out_channels=128, audio_patch_size=1,
    audio_patch_size_t=1, audio_num_attention_heads=32, audio_attention_head_dim=64, audio_cross_attention_dim=2048,
    audio_scale_factor=4, audio_pos_embed_max_pos=20, audio_sampling_rate=16000, audio_hop_length=160,
    audio_gated_attn=False, audio_cross_attn_mod=False, num_layers=48, activation_fn="gelu-approximate",
    qk_norm="rms_norm_across_heads", norm_elementwise_affine=False, norm_eps=1e-6, caption_channels=3840,
    attention_bias=True, attention_out_bias=True, rope_theta=10000.0, rope_double_precision=True, causal_offset=1,
    timestep_scale_multiplier=1000, cross_attn_timestep_scale_multiplier=1000, rope_type="split",
    use_prompt_embeddings=True, perturbed_attn=False,
)  # fmt: skip
# The text connectors (video and audio) that turn Gemma's 49 stacked hidden states into the transformer's context.
LTX2_CONNECTORS = dict(
    caption_channels=3840, text_proj_in_factor=49, video_connector_num_attention_heads=30,
    video_connector_attention_head_dim=128, video_connector_num_layers=2, video_connector_num_learnable_registers=128,
    video_gated_attn=False, audio_connector_num_attention_heads=30, audio_connector_attention_head_dim=128,
    audio_connector_num_layers=2, audio_connector_num_learnable_registers=128, audio_gated_attn=False,
    connector_rope_base_seq_len=4096, rope_theta=10000.0, rope_double_precision=True,
    causal_temporal_positioning=False, rope_type="split", per_modality_projections=False, proj_bias=False,
)  # fmt: skip
# timestep_conditioning is the script's --timestep_conditioning flag (off by default); whether the published
# vae/config.json has it on is not confirmed here. It adds a few small timestep embeddings to the decoder.
LTX2_VIDEO_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=128, block_out_channels=(256, 512, 1024, 2048),
    down_block_types=("LTX2VideoDownBlock3D",) * 4, decoder_block_out_channels=(256, 512, 1024),
    layers_per_block=(4, 6, 6, 2, 2), decoder_layers_per_block=(5, 5, 5, 5),
    spatio_temporal_scaling=(True, True, True, True), decoder_spatio_temporal_scaling=(True, True, True),
    decoder_inject_noise=(False, False, False, False),
    downsample_type=("spatial", "temporal", "spatiotemporal", "spatiotemporal"),
    upsample_type=("spatiotemporal",) * 3, upsample_residual=(True, True, True), upsample_factor=(2, 2, 2),
    timestep_conditioning=False, patch_size=4, patch_size_t=1, resnet_norm_eps=1e-6, encoder_causal=True,
    decoder_causal=False, encoder_spatial_padding_mode="zeros", decoder_spatial_padding_mode="reflect",
    spatial_compression_ratio=32, temporal_compression_ratio=8,
)  # fmt: skip
LTX2_AUDIO_VAE = dict(
    base_channels=128, output_channels=2, ch_mult=(1, 2, 4), num_res_blocks=2, attn_resolutions=None, in_channels=2,
    resolution=256, latent_channels=8, norm_type="pixel", causality_axis="height", dropout=0.0,
    mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=64, double_z=True,
)  # fmt: skip
LTX2_VOCODER = dict(
    in_channels=128, hidden_channels=1024, out_channels=2, upsample_kernel_sizes=[16, 15, 8, 4, 4],
    upsample_factors=[6, 5, 2, 2, 2], resnet_kernel_sizes=[3, 7, 11], resnet_dilations=[[1, 3, 5]] * 3,
    act_fn="leaky_relu", leaky_relu_negative_slope=0.1, antialias=False, final_act_fn="tanh", final_bias=True,
    output_sampling_rate=24000,
)  # fmt: skip
# The 2x spatial latent upsampler (ltx-2-spatial-upscaler-x2-1.0), shipped in the repo's latent_upsampler/.
LTX2_UPSAMPLER = dict(
    in_channels=128, mid_channels=1024, num_blocks_per_stage=4, dims=3, spatial_upsample=True,
    temporal_upsample=False, rational_spatial_scale=2.0, use_rational_resampler=True,
)  # fmt: skip
# The full (dev) checkpoint's scheduler as the script writes it; distilled ones run 8 steps on a fixed schedule.
LTX2_SCHEDULER = dict(
    use_dynamic_shifting=True, base_shift=0.95, max_shift=2.05, base_image_seq_len=1024, max_image_seq_len=4096,
    shift_terminal=0.1,
)  # fmt: skip
LTX2_TEXT_TOKENS = 1024  # LTX-2 pads every prompt to 1024 Gemma tokens (engine/backends/ltx2.py TEXT_TOKENS)
# Gemma 3 12B, LTX-2's text encoder (the script's default google/gemma-3-12b-it-qat-q4_0-unquantized, saved as
# Gemma3ForConditionalGeneration). Values from that config.json as third-party LTX-2 ports reproduce it (text
# 3840 wide, 48 layers, 16 heads / 8 KV heads of 256, vocabulary 262,208; SigLIP vision 1152 wide, 27 layers,
# 896 px in 14 px patches; 256 tokens an image). Check: its language model has 11,766,034,176 parameters, which
# is keras-hub's gemma3_12b_text preset (11,765,788,416 with a 262,144 vocabulary) plus 64 x 3840.
GEMMA3_12B = dict(
    text_config=dict(
        vocab_size=262208, hidden_size=3840, intermediate_size=15360, num_hidden_layers=48, num_attention_heads=16,
        num_key_value_heads=8, head_dim=256, query_pre_attn_scalar=256, sliding_window=1024,
        max_position_embeddings=131072, rope_theta=1_000_000, rope_local_base_freq=10000,
        rope_scaling={"factor": 8.0, "rope_type": "linear"}, rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh",
    ),
    vision_config=dict(
        hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16, image_size=896,
        patch_size=14, vision_use_head=False, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6,
    ),
    mm_tokens_per_image=256, boi_token_index=255999, eoi_token_index=256000, image_token_index=262144,
)  # fmt: skip

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
    # Wan 2.2 / VACE and LTX-2 stand-ins: the shapes of tests/engine/tiny_wan_family.py and tiny_ltx2.py.
    wan22_transformer=dict(WAN22_A14B, num_attention_heads=2, attention_head_dim=12, text_dim=32, freq_dim=32,
                           ffn_dim=32, num_layers=1, rope_max_seq_len=32),
    wan22_5b_transformer=dict(WAN22_5B, num_attention_heads=2, attention_head_dim=12, text_dim=32, freq_dim=32,
                              ffn_dim=32, num_layers=1, rope_max_seq_len=32),
    wan22_vae=dict(WAN22_VAE, base_dim=8, decoder_base_dim=None, dim_mult=[1, 1, 1, 1], num_res_blocks=1),
    vace_transformer=dict(WAN_VACE_1_3B, num_attention_heads=2, attention_head_dim=12, text_dim=32, freq_dim=32,
                          ffn_dim=32, num_layers=2, rope_max_seq_len=32, vace_layers=[0, 1]),
    ltx2_transformer=dict(
        LTX2_TRANSFORMER, in_channels=8, out_channels=8, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=2, caption_channels=16,
        rope_double_precision=False,
    ),
    ltx2_connectors=dict(
        LTX2_CONNECTORS, caption_channels=16, text_proj_in_factor=3, video_connector_num_attention_heads=2,
        video_connector_attention_head_dim=8, video_connector_num_layers=1,
        video_connector_num_learnable_registers=None, audio_connector_num_attention_heads=2,
        audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32, rope_double_precision=False,
    ),
    ltx2_video_vae=dict(
        LTX2_VIDEO_VAE, latent_channels=8, block_out_channels=(8, 8, 8), down_block_types=("LTX2VideoDownBlock3D",) * 3,
        decoder_block_out_channels=(8, 8, 8), layers_per_block=(1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True), decoder_spatio_temporal_scaling=(True, True, True),
        decoder_inject_noise=(False,) * 4, downsample_type=("spatiotemporal",) * 3, upsample_residual=(False,) * 3,
        upsample_factor=(1, 1, 1),
    ),
    ltx2_audio_vae=dict(LTX2_AUDIO_VAE, base_channels=4, ch_mult=(1,), num_res_blocks=1, resolution=32,
                        latent_channels=2, mel_bins=8, double_z=True),
    ltx2_vocoder=dict(LTX2_VOCODER, in_channels=16, hidden_channels=32, upsample_kernel_sizes=[8, 8, 20],
                      upsample_factors=[4, 4, 10], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]],
                      output_sampling_rate=16000),
    ltx2_upsampler=dict(LTX2_UPSAMPLER, in_channels=8, mid_channels=32, num_blocks_per_stage=1),
    # Vocabulary 1024 holds the test tokenizer's 558 entries; the image token ids sit past them, never in a prompt.
    gemma3=dict(
        text_config=dict(vocab_size=1024, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=8, query_pre_attn_scalar=8,
                         max_position_embeddings=64, sliding_window=32),
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                           image_size=16, patch_size=8),
        mm_tokens_per_image=4, boi_token_index=1021, eoi_token_index=1022, image_token_index=1023,
    ),
)  # fmt: skip
TINY_LTX2_TEXT_TOKENS = 32


# --- building folders ----------------------------------------------------------------------------
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


def _gemma3(config: dict) -> Any:
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
        text_encoder=b.make("text_encoder", lambda: _gemma3(gemma)),
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


# --- the table of architectures ----------------------------------------------------------------
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
        Part("text_encoder (Gemma 3 12B)", lambda: _gemma3(copy.deepcopy(GEMMA3_12B))),
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


# Every model-backed registry backend has at least one entry (gpu_models.py checks against the registry).
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


# --- driver --------------------------------------------------------------------------------------
