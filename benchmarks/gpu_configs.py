"""The published shapes of the real models benchmarks/gpu_models.py builds, and tiny stand-ins for the CPU check.

Values are hard-coded from the models' config.json files or the diffusers conversion scripts that write them;
each names its source and says where a value is not confirmed. ``TINY`` holds CPU-sized versions that run
through the same builders (:mod:`gpu_builders`).
"""

from __future__ import annotations

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
