"""A tiny random-weight PRXPixel pipeline, saved exactly like a user's downloaded folder.

``build_tiny_prx(folder)`` builds a real ``PRXPixelPipeline`` in memory (a one-block pixel-space
PRX transformer with the bottleneck patch projection and resolution embedder the real one has, a
two-layer Qwen3-VL text tower, a byte-level BPE Qwen2 tokenizer from an in-memory vocabulary), writes
it with ``save_pretrained(..., safe_serialization=True)`` and returns ``folder``. Nothing is downloaded.

Shapes that matter (diffusers 0.42.1):
- The real model is a 1024 px model (``default_sample_size`` 1024) whose aspect buckets are
  ``ASPECT_RATIO_1024_BIN``; the pipeline's own binning refuses any other default size, so the
  tiny one is 64 px (``SAMPLE_SIZE``) and the backend scales the 1024 table down itself.
- Sides must be multiples of ``patch_size`` (vae_scale_factor is 1: no VAE), 4 here (``PATCH``).
- Prompts are padded to ``prompt_max_tokens`` (256 in the real one, 16 here); guidance must be >= 1.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch

SAMPLE_SIZE = 64  # the tiny model's "native" side, as 1024 is the real one's
PATCH = 4
TEXT_DIM = 16
TOKENS = 16

_WORDS = ("a", "the", "man", "woman", "city", "street", "night", "rain", "rooftop", "runs", "light", "dark")


def _qwen_tokenizer():
    """Qwen2 byte-level BPE: the 256 byte symbols, merges for a few words, then <|endoftext|>."""
    from tokenizers import pre_tokenizers
    from transformers import Qwen2Tokenizer

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {symbol: i for i, symbol in enumerate(alphabet)}
    merges: list[tuple[str, str]] = []
    for word in _WORDS:
        merged = "\u0120"  # byte-level BPE writes the leading space as Ġ
        for char in word:
            if (merged, char) not in merges:
                merges.append((merged, char))
            merged += char
            vocab.setdefault(merged, len(vocab))
    for char in string.ascii_letters:
        vocab.setdefault(char, len(vocab))
    vocab["<|endoftext|>"] = len(vocab)
    return Qwen2Tokenizer(vocab=vocab, merges=merges, model_max_length=TOKENS)


def build_tiny_prx(folder: Path) -> Path:
    """PRXPixelPipeline: 3-channel pixel transformer (patch 4, bottleneck 8), Qwen3-VL text tower."""
    from diffusers import FlowMatchEulerDiscreteScheduler, PRXPixelPipeline, PRXTransformer2DModel
    from transformers import Qwen3VLTextConfig, Qwen3VLTextModel

    tokenizer = _qwen_tokenizer()
    torch.manual_seed(0)
    transformer = PRXTransformer2DModel(
        patch_size=PATCH,
        in_channels=3,
        context_in_dim=TEXT_DIM,
        hidden_size=8,
        mlp_ratio=2.0,
        num_heads=2,
        depth=1,
        axes_dim=[2, 2],
        bottleneck_size=8,
        resolution_embeds=True,
    )
    torch.manual_seed(0)
    text_encoder = Qwen3VLTextModel(
        Qwen3VLTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=TEXT_DIM,
            intermediate_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            head_dim=8,
            max_position_embeddings=64,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [1, 1, 2]},
        )
    )
    pipe = PRXPixelPipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        default_sample_size=SAMPLE_SIZE,
        prompt_max_tokens=TOKENS,
    )
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)
