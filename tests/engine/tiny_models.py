"""Tiny random-weight diffusers pipelines, saved exactly like a user's downloaded model folder.

Each ``build_tiny_X(folder)`` builds a real diffusers pipeline in memory (hidden sizes 8-32, one or two
layers, seeded: the written files are byte-identical on every run), writes it with
``save_pretrained(folder, safe_serialization=True)`` (model_index.json, one sub-folder per component,
``*.safetensors`` weights, tokenizer.json) and returns ``folder``. Nothing is downloaded. Load it the way the
engine loads a real model (``IFPipeline.from_pretrained(folder)``, ``AutoPipelineForText2Image``, ...). The
weights are random: outputs are noise, only shapes, ranges and plumbing mean anything.

Smallest calls (fp32 CPU, 2 steps, each well under a second once diffusers is imported, see
test_tiny_models.py):
  IF-I    IFPipeline: pipe(p, height=16, width=24, clean_caption=False, output_type="np") -> (1, 16, 24, 3)
  IF-II   IFSuperResolutionPipeline: pipe(p, image=<PIL 24x16>, height=32, width=48, ...) -> (1, 32, 48, 3)
  SD      StableDiffusionPipeline (4 VAE stages = 8x like SD/SDXL): height=32, width=48 -> (1, 32, 48, 3)
  LTX     LTXConditionPipeline: height=32, width=64, num_frames=9 -> frames (1, 9, 32, 64, 3)
  Wan     WanImageToVideoPipeline: image=, last_image=, height=16, width=32, num_frames=5 -> (1, 5, 16, 32, 3)

Gotchas (diffusers 0.42.1, transformers 5.23.0; this venv has no torchvision or bs4):

Tokenizers
- transformers 5 has a single tokenizers-backed class per model: T5TokenizerFast IS T5Tokenizer and
  CLIPTokenizerFast IS CLIPTokenizer; model_index.json records "T5Tokenizer"/"CLIPTokenizer". Build them with
  the class constructor and an in-memory vocabulary: T5 takes a Unigram list of (piece, score) with
  <pad>=0, </s>=1, <unk>=2 (extra_ids=0 here); CLIP takes a byte-level BPE dict with "</w>" word ends plus
  merges. Wrapping some other `tokenizers` model via tokenizer_object= does not round-trip: from_pretrained
  keeps only vocab/merges/post-processor from tokenizer.json and rebuilds the rest in __init__.
- A real folder whose tokenizer/ has only spiece.model (no tokenizer.json) needs sentencepiece + protobuf to
  load (both pinned in requirements.txt). These fixtures ship tokenizer.json; test_tokenizers.py trains a
  real sentencepiece model in memory and covers the spiece.model-only case.
- Sequence lengths: IF always pads to 77; SD pads to tokenizer.model_max_length (77), so the CLIP text model
  needs at least 77 positions; LTX (default 256) and Wan (default 512) pad to max_sequence_length, so pass a
  small one (16) in tests. The T5/UMT5 vocab size is len(tokenizer).

Loading and running
- from_pretrained(folder, dtype=torch.float32, use_safetensors=True). diffusers 0.42 deprecates torch_dtype=
  with a FutureWarning. use_safetensors=True refuses a folder without safetensors weights.
- Call torch.set_num_threads(1) for these tiny models. With 2 threads on a busy 2-core machine, a 2-step run
  took 0.6-3.7 s instead of 0.03 s (test_tiny_models.py sets it for its module).

Callbacks and cancelling (see test_tiny_models.py)
- IF-I/IF-II only have the old callback(step, timestep, intermediate_images) + callback_steps: there is no
  callback_on_step_end and no interrupt flag. intermediate_images is the pixel-space sample (B, 3, H, W),
  roughly [-1, 1]. Preview it directly as (x / 2 + 0.5).clamp(0, 1).
- SD/LTX/Wan: callback_on_step_end(pipe, i, t, kwargs) must return a dict. Allowed tensor inputs are
  latents, prompt_embeds and negative_prompt_embeds; prompt_embeds is the CFG batch [neg, pos] for LTX.
  Setting pipe._interrupt = True skips the remaining steps but still VAE-decodes and returns.
- Raising inside any callback propagates unchanged out of __call__ (the pipelines catch nothing) and skips
  the decode (tested for IF, SD, LTX and Wan). The next call on the same pipeline object runs normally:
  set_timesteps resets the scheduler, and the Wan test checks that the rerun's output is identical.
- Latents for a cheap latent->RGB preview:
  SD   (B, 4, H/8, W/8), multiplied by vae.config.scaling_factor.
  Wan  (B, 16, (n-1)//4+1, H/8, W/8), normalized to (x - vae.config.latents_mean) / vae.config.latents_std.
  LTX  PACKED tokens (B, S, 128) with S = extra + F*h*w (F = (n-1)//8+1, h, w = H//32, W//32). The extra
       tokens come first: one block per condition with frame_index > 0. Take latents[:, -F*h*w:], then
       pipe._unpack_latents(x, F, h, w, 1, 1) -> (B, 128, F, h, w), normalized with the vae.latents_mean /
       latents_std buffers. output_type="latent" returns that unpacked normalized tensor.

IF (DeepFloyd stage I / II)
- The unet has out_channels=6 (epsilon + learned variance; the pipeline splits them and the DDPM scheduler
  uses the variance because variance_type="learned_range"). encoder_hid_dim = T5 d_model, which is
  projected ("text_proj") to cross_attention_dim. addition_embed_type="text" pools the raw T5 states
  (encoder_hid_dim % addition_embed_type_num_heads == 0). cross_attention_norm="group_norm" uses 32 groups, so
  cross_attention_dim must be a multiple of 32. Stage II has in_channels=6 (noisy image + bilinearly upscaled
  low-res) and class_embed_type="timestep": noise_level (default 250, must be < image_noising_scheduler
  num_train_timesteps) is passed as class_labels.
- DDPM uses thresholding=True and the default "leading" spacing, so 2 steps give timesteps [500, 0]. Real IF
  passes timesteps= lists from diffusers.pipelines.deepfloyd_if.timesteps (fast27_timesteps, smart27, ...).
- clean_caption defaults to True and needs bs4+ftfy. Without them it only logs warnings and falls back to
  lower().strip(). Pass clean_caption=False.
- Output ranges: output_type="pt" is NOT rescaled ([-1, 1]); "np"/"pil" are [0, 1]. IF-II image=: PIL is
  scaled to [-1, 1], but np arrays (NHWC) and tensors (NCHW) are used as given, so they must already be in
  [-1, 1]. To chain I -> II, run stage I with output_type="pt". height/width default to unet.sample_size.
  nsfw_detected / watermark_detected are None without a safety checker.

SD (stand-in for SDXL-Turbo/FLUX "draft" folders)
- AutoPipelineForText2Image resolves model_index "_class_name" (StableDiffusionPipeline) itself. The tiny
  one uses EulerDiscreteScheduler with "trailing" spacing (turbo-style few-step).

LTX (LTXConditionPipeline)
- vae_spatial/temporal_compression_ratio are read from the VAE: patch_size * 2**sum(spatio_temporal_scaling)
  and patch_size_t * 2**sum(...), unless the config sets spatial_compression_ratio / temporal_compression_ratio
  explicitly (0.9.5+ VAEs with LTXVideo095DownBlock3D do). The tiny VAE has patch_size 4 and 3 scaling stages,
  so it compresses 32x / 8x like the real one, with the real 128 latent channels. The transformer's
  in_channels = out_channels = latent_channels (transformer patch_size 1).
- height and width must be multiples of 32 (checked). Use num_frames = 8k+1 (latent frames (n-1)//8+1). The
  defaults are 512x704, 161 frames, frame_rate=25 (which scales the RoPE time coordinates).
- conditions=[LTXVideoCondition(image=pil, frame_index=0), LTXVideoCondition(image=pil,
  frame_index=num_frames-1)] (strength defaults to 1.0; conditions= and image=/video= are mutually
  exclusive; images are resized to height x width). frame_index 0 is blended into latent frame 0 in place.
  A single image at frame_index > 0 becomes extra tokens at RoPE time frame_index (pixel frames), so keep
  keyframe indices multiples of 8 (num_frames-1 is one for 8k+1 clips). image_cond_noise_scale (0.15) keeps
  re-noising the hard conditions each step.
- The pipeline never passes mu, so a scheduler with use_dynamic_shifting=True raises "`mu` must be passed";
  engine.backends.ltx.dynamic_shift supplies it, as LTXPipeline computes it. The tiny one uses
  FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False, shift=1.0). The pipeline
  passes timesteps= without sigmas, so the scheduler logs "`timesteps` were passed without `sigmas`" on every
  call (harmless).
- The VAE has timestep_conditioning=True (as in 0.9.1+), so decode_timestep / decode_noise_scale (e.g.
  0.05 / 0.025) are used. With False they are ignored. Outputs: "np" (B, n, H, W, 3) in [0, 1],
  "pt" (B, n, 3, H, W).

Wan 2.1 first/last frame (WanImageToVideoPipeline)
- The prompt= path calls ftfy.fix_text unconditionally, and ftfy is not installed, so it fails with
  "NameError: name 'ftfy' is not defined". Add ftfy to requirements, or pass BOTH prompt_embeds and
  negative_prompt_embeds (with CFG a missing negative is encoded from "" through ftfy too). They are UMT5
  last_hidden_state with positions past the attention mask zeroed, padded to max_sequence_length
  (see _wan_prompt_embeds in test_tiny_models.py).
- The I2V transformer has image_dim = CLIP vision hidden size (the pipeline uses hidden_states[-2], so a
  plain CLIPVisionModel is right, as in the real repos) and added_kv_proj_dim = heads * head_dim.
  in_channels = 2 * z_dim + 4 (noise + 4 mask channels (the temporal ratio) + encoded first/last-frame video).
  FLF2V also sets pos_embed_seq_len = 2 * CLIP tokens (real 514, tiny 34): the two CLIP embeddings are
  concatenated, and a call WITHOUT last_image fails with a RuntimeError (view shape). Check
  transformer.config.pos_embed_seq_len before offering single-image I2V on such a folder.
- image/last_image must be PIL or tensors (np arrays are rejected). height and width must be multiples of
  16. num_frames is snapped to 4k+1 with a warning. CLIP crop_size must equal the vision config's image_size.
- Without torchvision, CLIPImageProcessor falls back to CLIPImageProcessorPil with a warning (it works). The
  tiny model_index names "CLIPImageProcessor" like the real repos.
- Scheduler: UniPCMultistepScheduler in flow mode (prediction_type="flow_prediction", use_flow_sigmas=True,
  flow_shift=16 as for 720p FLF2V; 3.0 is typical for 480p). Outputs: "np" (B, n, H, W, 3), "pt"
  (B, n, 3, H, W).
"""

from __future__ import annotations

import string
from pathlib import Path

import torch

T5_DIM = 32  # d_model of the tiny T5 / UMT5 text encoders
CLIP_TEXT_DIM = 32

# Whole-word pieces for the tokenizers; anything else falls back to single characters.
_WORDS = (
    *("a", "an", "the", "of", "and", "in", "on", "at", "to", "with", "from", "into", "over", "under"),
    *("is", "are", "his", "her", "their", "man", "woman", "girl", "boy", "people", "dog", "cat", "car"),
    *("city", "street", "road", "night", "day", "morning", "rooftop", "hall", "room", "door", "window"),
    *("runs", "walks", "turns", "looks", "stands", "sits", "opens", "falls", "rain", "snow", "fire"),
    *("light", "dark", "red", "blue", "green", "camera", "slow", "fast", "pan", "tilt", "zoom", "close"),
    *("up", "wide", "shot", "scene", "ext", "int"),
)


def _t5_tokenizer(model_max_length: int):
    """T5 Unigram tokenizer: <pad>=0, </s>=1, <unk>=2, then "▁word" pieces and single characters."""
    from transformers import T5Tokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -3.0)]
    vocab += [("\u2581" + word, -5.0) for word in _WORDS]
    for char in string.ascii_letters + string.digits + string.punctuation:
        vocab += [(char, -10.0), ("\u2581" + char, -11.0)]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=model_max_length)


def _clip_tokenizer():
    """CLIP byte-level BPE: the 256 byte symbols (plain and word-final), merges for _WORDS, then bos/eos."""
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {symbol: i for i, symbol in enumerate([*alphabet, *(a + "</w>" for a in alphabet)])}
    merges: list[tuple[str, str]] = []
    for word in _WORDS:
        merged = word[0]
        for i, char in enumerate(word[1:], 1):
            right = char + "</w>" if i == len(word) - 1 else char
            if (merged, right) not in merges:
                merges.append((merged, right))
            merged += right
            vocab.setdefault(merged, len(vocab))
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)


def _t5_encoder(vocab_size: int, umt5: bool = False):
    """T5 v1.1-style (gated-gelu) encoder, as IF/LTX use; UMT5 for Wan."""
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config = dict(
        vocab_size=vocab_size,
        d_model=T5_DIM,
        d_kv=8,
        d_ff=64,
        num_layers=1,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        feed_forward_proj="gated-gelu",
        pad_token_id=0,
        eos_token_id=1,
        decoder_start_token_id=0,
    )
    torch.manual_seed(0)
    if umt5:
        return UMT5EncoderModel(UMT5Config(**config))
    return T5EncoderModel(T5Config(**config))


def _if_scheduler():
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=1000,
        beta_schedule="squaredcos_cap_v2",
        beta_start=0.0001,
        beta_end=0.02,
        variance_type="learned_range",
        prediction_type="epsilon",
        thresholding=True,
        dynamic_thresholding_ratio=0.95,
        sample_max_value=1.5,
        clip_sample=True,
        clip_sample_range=1.0,
    )


def _if_unet(in_channels: int, sample_size: int, super_resolution: bool):
    """IF-style pixel UNet: 6 output channels, T5 states projected + pooled into the time embedding."""
    from diffusers import UNet2DConditionModel

    stage_two = {}
    if super_resolution:
        stage_two = dict(
            class_embed_type="timestep",  # noise_level of the upscaled low-res image, passed as class_labels
            mid_block_scale_factor=1.414,
            time_embedding_act_fn="gelu",
            resnet_skip_time_act=True,
            resnet_out_scale_factor=1.414,
        )
    torch.manual_seed(0)
    return UNet2DConditionModel(
        sample_size=sample_size,
        in_channels=in_channels,
        out_channels=6,
        layers_per_block=1,
        block_out_channels=(16, 32),
        norm_num_groups=8,
        down_block_types=("ResnetDownsampleBlock2D", "SimpleCrossAttnDownBlock2D"),
        mid_block_type="UNetMidBlock2DSimpleCrossAttn",
        up_block_types=("SimpleCrossAttnUpBlock2D", "ResnetUpsampleBlock2D"),
        cross_attention_dim=32,
        encoder_hid_dim=T5_DIM,
        attention_head_dim=8,
        addition_embed_type="text",
        addition_embed_type_num_heads=2,
        cross_attention_norm="group_norm",
        resnet_time_scale_shift="scale_shift",
        act_fn="gelu",
        **stage_two,
    )


def build_tiny_if(folder: Path, *, safety_checker: bool = False) -> Path:
    """DeepFloyd IF stage I (IFPipeline): 3-channel pixel UNet, sample_size 16.

    ``safety_checker`` adds a tiny CLIP safety checker and its image processor, as the real
    DeepFloyd downloads ship them.
    """
    from diffusers import IFPipeline

    checker, processor = _if_safety_checker() if safety_checker else (None, None)
    tokenizer = _t5_tokenizer(77)
    pipe = IFPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(len(tokenizer)),
        unet=_if_unet(3, 16, super_resolution=False),
        scheduler=_if_scheduler(),
        safety_checker=checker,
        feature_extractor=processor,
        watermarker=None,
        requires_safety_checker=safety_checker,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def _if_safety_checker():
    from diffusers.pipelines.deepfloyd_if.safety_checker import IFSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    torch.manual_seed(0)
    tiny = dict(hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2)
    config = CLIPConfig(
        text_config=dict(tiny, vocab_size=100),
        vision_config=dict(tiny, image_size=32, patch_size=8),
        projection_dim=8,
    )
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return IFSafetyChecker(config), processor


def build_tiny_if_sr(folder: Path) -> Path:
    """IF stage II (IFSuperResolutionPipeline): 6 input channels, sample_size 32, image_noising_scheduler."""
    from diffusers import DDPMScheduler, IFSuperResolutionPipeline

    tokenizer = _t5_tokenizer(77)
    pipe = IFSuperResolutionPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(len(tokenizer)),
        unet=_if_unet(6, 32, super_resolution=True),
        scheduler=_if_scheduler(),
        image_noising_scheduler=DDPMScheduler(
            num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", beta_start=0.0001, beta_end=0.02
        ),
        safety_checker=None,
        feature_extractor=None,
        watermarker=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_tiny_sd(folder: Path) -> Path:
    """StableDiffusionPipeline (stand-in for draft models): 4-channel latents, 8x VAE, CLIP text encoder."""
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = _clip_tokenizer()
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=CLIP_TEXT_DIM,
            intermediate_size=37,
            num_hidden_layers=1,
            num_attention_heads=4,
            max_position_embeddings=77,
            projection_dim=32,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=4,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        norm_num_groups=8,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=CLIP_TEXT_DIM,
        attention_head_dim=2,
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(8, 8, 16, 16),  # 4 stages: 8x, like SD/SDXL
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=32,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(
            beta_start=0.00085,
            beta_end=0.012,
            beta_schedule="scaled_linear",
            timestep_spacing="trailing",
            steps_offset=1,
        ),
        safety_checker=None,
        feature_extractor=None,
        image_encoder=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_tiny_ltx(folder: Path) -> Path:
    """LTXConditionPipeline: 128 latent channels, VAE 32x spatial / 8x temporal like the real one."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )

    tokenizer = _t5_tokenizer(128)
    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=128,
        out_channels=128,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,  # = heads * head_dim
        num_layers=1,
        caption_channels=T5_DIM,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=128,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),  # 3 x 2 (space and time)
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=True,
        patch_size=4,  # x 4 in space: 32x spatial, 8x temporal
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    pipe = LTXConditionPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=False, shift=1.0),
        vae=vae,
        text_encoder=_t5_encoder(len(tokenizer)),
        tokenizer=tokenizer,
        transformer=transformer,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_tiny_wan(folder: Path) -> Path:
    """WanImageToVideoPipeline shaped like Wan2.1-FLF2V: CLIP image conditioning on first + last frame."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanImageToVideoPipeline, WanTransformer3DModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    tokenizer = _t5_tokenizer(512)
    clip_size, clip_patch, clip_dim = 32, 8, 16
    clip_tokens = (clip_size // clip_patch) ** 2 + 1  # patches + class token
    torch.manual_seed(0)
    image_encoder = CLIPVisionModel(
        CLIPVisionConfig(
            hidden_size=clip_dim,
            intermediate_size=32,
            projection_dim=clip_dim,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=clip_size,
            patch_size=clip_patch,
        )
    )
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": clip_size}, crop_size={"height": clip_size, "width": clip_size}
    )
    heads, head_dim = 2, 12
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=heads,
        attention_head_dim=head_dim,
        in_channels=16 + 4 + 16,  # noise + frame mask + encoded conditioning video
        out_channels=16,
        text_dim=T5_DIM,
        freq_dim=32,
        ffn_dim=32,
        num_layers=1,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        eps=1e-6,
        image_dim=clip_dim,
        added_kv_proj_dim=heads * head_dim,
        rope_max_seq_len=32,
        pos_embed_seq_len=2 * clip_tokens,  # FLF2V: first and last frame CLIP tokens, concatenated
    )
    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction",
        use_flow_sigmas=True,
        flow_shift=16.0,
        num_train_timesteps=1000,
        solver_order=2,
        solver_type="bh2",
        final_sigmas_type="zero",
    )
    pipe = WanImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=_t5_encoder(len(tokenizer), umt5=True),
        vae=vae,
        scheduler=scheduler,
        image_processor=image_processor,
        image_encoder=image_encoder,
        transformer=transformer,
    )
    # Without torchvision the processor is a CLIPImageProcessorPil; record the public name real repos use.
    pipe.register_to_config(image_processor=("transformers", "CLIPImageProcessor"))
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)
