"""Tiny random-weight LTX-2 folders (LTX2ConditionPipeline and its latent upsampler), saved like a download.

Every component is built in memory from seeded random weights and written with
``save_pretrained(folder, safe_serialization=True)``; nothing is downloaded, and the files are the same on
every run. Outputs are noise: only shapes, lengths, plumbing and which inputs reach the model mean anything.

The shapes follow diffusers' own test (tests/pipelines/ltx2/test_ltx2_condition.py), checked against the
installed diffusers 0.42.1, with these differences:

- Text encoder: a tiny Gemma3ForConditionalGeneration (2 text layers, hidden 16, a one-layer SigLIP vision
  tower that is never run) built from a config instead of ``hf-internal-testing/tiny-gemma3``. Its tokenizer
  is a GemmaTokenizer (byte-fallback BPE) made from an in-memory vocabulary: specials <pad>=0, <eos>=1,
  <bos>=2, <unk>=3, <mask>=4, the 256 byte tokens, single characters and merges for a few whole words.
  ``model_max_length`` is 32, so prompts are padded to 32 tokens instead of LTX-2's 1024.
- Connectors: inner width (heads x head_dim) equals the Gemma hidden size for both modalities (LTX-2.0 has no
  per-modality projections, so the same projected text feeds both connectors).
- Video VAE: compresses 32x spatially and 8x in time like the real one (patch 4 plus three spatiotemporal
  stages, 8 latent channels instead of 128), so the 8k+1 frame rule and 32-pixel sides are the real ones. The
  decoder pads with "reflect" like the real VAE, which needs at least two latent rows: sides of 64 px or more.
- Vocoder: upsamples mel frames 160x (= the audio VAE's hop length), so its 16 kHz output lasts as long as the
  picture, as the real 24 kHz vocoder does.
- Scheduler: what diffusers' conversion script writes. The full (dev) model shifts its sigmas
  (``use_dynamic_shifting`` true, ``shift_terminal`` 0.1); a distilled one uses its sigma schedule as given
  (``use_dynamic_shifting`` false, ``shift_terminal`` null).

The latent upsampler is a bare LTX2LatentUpsamplerModel folder (config.json + safetensors), as Lightricks/LTX-2
ships it in ``latent_upsampler/``; ``pipeline=True`` wraps it with the VAE as an LTX2LatentUpsamplePipeline
folder, as diffusers' conversion script writes it.

Smallest call (fp32 CPU, one thread): 25 frames at 96x64, 2 steps with guidance, about 0.1 s.

Gotchas (diffusers 0.42.1, transformers 5.23.0):
- ``LTX2VideoCondition(frames=, index=, strength=, crf=)``: ``index`` is a LATENT frame. Index 0 replaces latent
  frame 0 (pixel frame 0); index k > 0 appends keyframe tokens placed at pixel frame 8(k-1)+1, the first frame of
  latent k (``_prepare_keyframe_coords``). engine.backends.ltx2.keyframes_at moves them to the pin's own frame.
- Single-image conditions are H.264 re-compressed (CRF 33 for Gemma 3, 18 for LTX-2.5's Gemma 4) with PyAV's
  libx264 before encoding; ``crf=0`` skips it, and non-uint8 frames need it.
- The __call__ defaults are LTX-2.3's: ``audio_guidance_scale=7.0`` (classifier-free guidance runs even at
  ``guidance_scale=1.0``), ``stg_scale=1.0`` on block 28 and ``modality_scale=3.0`` (two more transformer passes a
  step). Pass 1.0 / 0.0 / 1.0 to switch them off. ``use_cross_timestep`` defaults to True (LTX-2.3+); LTX-2.0 wants
  False.
- ``output_type="latent"`` returns (video, audio) latents, both denormalised, and skips the VAE decode and the
  vocoder; ``latents=`` / ``audio_latents=`` take them back (re-noised to ``noise_scale``).
- The callback's ``latents`` are packed tokens: F*h*w video tokens first, keyframe tokens appended after them.
- One step fails on a scheduler with ``shift_terminal`` (the single sigma stretches to NaN, then IndexError).
- The connectors' heads x head_dim must equal the text encoder's hidden size; LTX2LatentUpsamplerModel has
  GroupNorm(32, mid_channels), so ``mid_channels`` is a multiple of 32.
- LTX2Pipeline and LTX2ImageToVideoPipeline folders (what the real repos' model_index.json names) load as
  LTX2ConditionPipeline: the same components.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch

from tests.engine.tiny_models import _WORDS

LATENT_CHANNELS = 8
GEMMA_HIDDEN = 16
GEMMA_LAYERS = 2
TOKENS = 32  # the tokenizer's model_max_length: prompts are padded to this many tokens
AUDIO_RATE = 16000
MEL_HOP = 160


def _gemma_tokenizer():
    """Gemma's byte-fallback BPE over an in-memory vocabulary; unknown characters fall back to bytes."""
    from transformers import GemmaTokenizer

    pieces = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    pieces += [f"<0x{b:02X}>" for b in range(256)]
    pieces += ["\u2581", *string.ascii_letters, *string.digits, *string.punctuation]
    merges: list[tuple[str, str]] = []
    for word in _WORDS:
        merged = "\u2581"  # Gemma turns spaces into ▁ and keeps it on the word that follows
        for char in word:
            if (merged, char) not in merges:
                merges.append((merged, char))
            merged += char
            pieces.append(merged)
    # Gemma 3's image tokens, so the multimodal config's token indices point at real entries.
    pieces += ["<start_of_image>", "<end_of_image>", "<image_soft_token>"]
    vocab = {piece: i for i, piece in enumerate(dict.fromkeys(pieces))}
    return GemmaTokenizer(vocab=vocab, merges=merges, model_max_length=TOKENS)


def _gemma3_encoder(tokenizer):
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    text = dict(
        vocab_size=len(tokenizer),
        hidden_size=GEMMA_HIDDEN,
        intermediate_size=32,
        num_hidden_layers=GEMMA_LAYERS,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        query_pre_attn_scalar=8,
        max_position_embeddings=2 * TOKENS,
        sliding_window=TOKENS,
    )
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=16)
    vision["patch_size"] = 8
    ids = tokenizer.convert_tokens_to_ids(["<start_of_image>", "<end_of_image>", "<image_soft_token>"])
    config = Gemma3Config(
        text_config=text,
        vision_config=vision,
        mm_tokens_per_image=4,
        boi_token_index=ids[0],
        eoi_token_index=ids[1],
        image_token_index=ids[2],
    )
    torch.manual_seed(0)
    return Gemma3ForConditionalGeneration(config)


def _connectors():
    from diffusers.pipelines.ltx2 import LTX2TextConnectors

    heads, head_dim = 2, GEMMA_HIDDEN // 2
    torch.manual_seed(0)
    return LTX2TextConnectors(
        caption_channels=GEMMA_HIDDEN,
        text_proj_in_factor=GEMMA_LAYERS + 1,  # every hidden state, embeddings included
        video_connector_num_attention_heads=heads,
        video_connector_attention_head_dim=head_dim,
        video_connector_num_layers=1,
        video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=heads,
        audio_connector_attention_head_dim=head_dim,
        audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None,
        connector_rope_base_seq_len=TOKENS,
        rope_double_precision=False,
        rope_type="split",
    )


def _transformer():
    from diffusers import LTX2VideoTransformer3DModel

    torch.manual_seed(0)
    return LTX2VideoTransformer3DModel(
        in_channels=LATENT_CHANNELS,
        out_channels=LATENT_CHANNELS,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=2,
        attention_head_dim=8,
        cross_attention_dim=16,
        audio_in_channels=4,  # 2 audio latent channels x 2 latent mel bins
        audio_out_channels=4,
        audio_num_attention_heads=2,
        audio_attention_head_dim=4,
        audio_cross_attention_dim=8,
        num_layers=2,
        caption_channels=GEMMA_HIDDEN,
        rope_double_precision=False,
        rope_type="split",
    )


def _video_vae():
    from diffusers import AutoencoderKLLTX2Video

    torch.manual_seed(0)
    vae = AutoencoderKLLTX2Video(
        latent_channels=LATENT_CHANNELS,
        block_out_channels=(8, 8, 8),
        down_block_types=("LTX2VideoDownBlock3D",) * 3,
        decoder_block_out_channels=(8, 8, 8),
        layers_per_block=(1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True),
        decoder_spatio_temporal_scaling=(True, True, True),
        decoder_inject_noise=(False, False, False, False),
        downsample_type=("spatiotemporal",) * 3,
        upsample_type=("spatiotemporal",) * 3,
        upsample_residual=(False, False, False),
        upsample_factor=(1, 1, 1),
        timestep_conditioning=False,
        patch_size=4,
        patch_size_t=1,
        spatial_compression_ratio=32,
        temporal_compression_ratio=8,
    )
    # Random buffers instead of the identity, so (de)normalisation is exercised.
    generator = torch.Generator().manual_seed(1)
    vae.latents_mean.copy_(torch.randn(LATENT_CHANNELS, generator=generator) * 0.1)
    vae.latents_std.copy_(torch.rand(LATENT_CHANNELS, generator=generator) + 0.5)
    return vae


def _audio_vae():
    from diffusers import AutoencoderKLLTX2Audio

    torch.manual_seed(0)
    return AutoencoderKLLTX2Audio(
        base_channels=4,
        output_channels=2,
        ch_mult=(1,),
        num_res_blocks=1,
        attn_resolutions=None,
        in_channels=2,
        resolution=32,
        latent_channels=2,
        norm_type="pixel",
        causality_axis="height",
        dropout=0.0,
        mid_block_add_attention=False,
        sample_rate=AUDIO_RATE,
        mel_hop_length=MEL_HOP,
        is_causal=True,
        mel_bins=8,
    )


def _vocoder(mel_channels: int):
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder

    torch.manual_seed(0)
    return LTX2Vocoder(
        in_channels=mel_channels,
        hidden_channels=32,
        out_channels=2,
        upsample_kernel_sizes=[8, 8, 20],
        upsample_factors=[4, 4, 10],  # 160 samples a mel frame: the hop length, at the same sample rate
        resnet_kernel_sizes=[3],
        resnet_dilations=[[1, 3, 5]],
        leaky_relu_negative_slope=0.1,
        output_sampling_rate=AUDIO_RATE,
    )


def _scheduler(distilled: bool):
    from diffusers import FlowMatchEulerDiscreteScheduler

    # As diffusers' scripts/convert_ltx2_to_diffusers.py writes them for the dev and the distilled checkpoints.
    return FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=not distilled,
        base_shift=0.95,
        max_shift=2.05,
        base_image_seq_len=1024,
        max_image_seq_len=4096,
        shift_terminal=None if distilled else 0.1,
    )


def build_tiny_ltx2(folder: Path, *, distilled: bool = False, pipeline: str = "LTX2ConditionPipeline") -> Path:
    """A tiny LTX-2 folder; ``distilled`` writes the distilled checkpoint's scheduler.

    ``pipeline`` is the class model_index.json names: the Lightricks downloads (and diffusers' conversion
    script) write "LTX2Pipeline", with the same components as LTX2ConditionPipeline.
    """
    import diffusers

    tokenizer = _gemma_tokenizer()
    audio_vae = _audio_vae()
    pipe = getattr(diffusers, pipeline)(
        scheduler=_scheduler(distilled),
        vae=_video_vae(),
        audio_vae=audio_vae,
        text_encoder=_gemma3_encoder(tokenizer),
        tokenizer=tokenizer,
        connectors=_connectors(),
        transformer=_transformer(),
        vocoder=_vocoder(audio_vae.config.output_channels * audio_vae.config.mel_bins),
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_tiny_ltx2_upsampler(folder: Path, *, pipeline: bool = False) -> Path:
    """A tiny 2x LTX2LatentUpsamplerModel folder, or (``pipeline``) an LTX2LatentUpsamplePipeline folder."""
    from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel

    torch.manual_seed(0)
    upsampler = LTX2LatentUpsamplerModel(in_channels=LATENT_CHANNELS, mid_channels=32, num_blocks_per_stage=1)
    if pipeline:
        from diffusers import LTX2LatentUpsamplePipeline

        LTX2LatentUpsamplePipeline(vae=_video_vae(), latent_upsampler=upsampler).save_pretrained(
            folder, safe_serialization=True
        )
    else:
        upsampler.save_pretrained(folder, safe_serialization=True)
    return Path(folder)
