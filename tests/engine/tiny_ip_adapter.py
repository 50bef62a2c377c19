"""A tiny random IP-Adapter and tiny LoRAs for the tiny Stable Diffusion folder (tests/engine/tiny_models.py).

The IP-Adapter is laid out like h94/IP-Adapter (``models/ip-adapter_sd15.safetensors`` beside
``models/image_encoder``) inside a Hugging Face cache folder, so the engine finds it the way it finds a
user's download. Its weights follow diffusers' own test helper (``create_ip_adapter_state_dict`` in
tests/models/unets/test_models_unet_2d_condition.py): an ``image_proj`` (ImageProjection) and a key/value
projection pair per cross-attention layer, numbered 1, 3, 5... as the original checkpoints are. Seeded: the
same files on every run.
"""

from __future__ import annotations

from pathlib import Path

import torch

COMMIT = "0123456789abcdef0123456789abcdef01234567"
EMBED_DIM = 16  # the tiny image encoder's projection width
TOKENS = 4  # image tokens the adapter adds per picture


def build_tiny_image_encoder(folder: Path) -> Path:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    config = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        projection_dim=EMBED_DIM,
        num_hidden_layers=1,
        num_attention_heads=4,
        image_size=32,
        patch_size=8,
    )
    CLIPVisionModelWithProjection(config).save_pretrained(folder, safe_serialization=True)
    return folder


def ip_adapter_tensors(unet, *, seed: int = 0, cross_attention_dim: int | None = None) -> dict[str, torch.Tensor]:
    """IP-Adapter weights for ``unet`` (or, with ``cross_attention_dim``, for a UNet of that text width)."""
    width = cross_attention_dim or unet.config.cross_attention_dim
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator) * 0.5

    tensors: dict[str, torch.Tensor] = {}
    key_id = 1
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue  # self-attention: no image tokens
        if name.startswith("mid_block"):
            hidden = unet.config.block_out_channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(unet.config.block_out_channels))[int(name[len("up_blocks.")])]
        else:
            hidden = unet.config.block_out_channels[int(name[len("down_blocks.")])]
        tensors[f"ip_adapter.{key_id}.to_k_ip.weight"] = rand(hidden, width)
        tensors[f"ip_adapter.{key_id}.to_v_ip.weight"] = rand(hidden, width)
        key_id += 2
    tensors["image_proj.proj.weight"] = rand(width * TOKENS, EMBED_DIM)
    tensors["image_proj.proj.bias"] = rand(width * TOKENS)
    tensors["image_proj.norm.weight"] = torch.ones(width)
    tensors["image_proj.norm.bias"] = torch.zeros(width)
    return tensors


def build_tiny_ip_adapter(sd_folder: Path, root: Path, *, cross_attention_dim: int | None = None) -> Path:
    """An h94/IP-Adapter-shaped folder at ``root`` for the UNet of ``sd_folder``."""
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file

    unet = UNet2DConditionModel.from_pretrained(sd_folder / "unet")
    build_tiny_image_encoder(root / "models" / "image_encoder")
    tensors = ip_adapter_tensors(unet, cross_attention_dim=cross_attention_dim)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(root / "models" / "ip-adapter_sd15.safetensors"))
    return root


def build_tiny_ip_adapter_cache(sd_folder: Path, cache: Path) -> Path:
    """A Hugging Face cache holding h94/IP-Adapter at ``main`` as the tiny adapter; returns the snapshot."""
    storage = cache / "models--h94--IP-Adapter"
    (storage / "refs").mkdir(parents=True, exist_ok=True)
    (storage / "refs" / "main").write_text(COMMIT)
    return build_tiny_ip_adapter(sd_folder, storage / "snapshots" / COMMIT)


def build_tiny_sd_lora(
    sd_folder: Path, file: Path, *, seed: int = 0, scale: float = 1.0, cross_attention_dim: int | None = None
) -> Path:
    """A rank-4 LoRA on the tiny UNet's attention, saved by diffusers in its own LoRA format (``unet.`` keys).

    ``cross_attention_dim`` widens the cross-attention key/value inputs: a LoRA made for another UNet.
    """
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig, get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(sd_folder / "unet")
    torch.manual_seed(seed)
    unet.add_adapter(
        LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False)
    )
    state = get_peft_model_state_dict(unet)
    layers = {}
    for key, value in state.items():
        value = value * scale if "lora_B" in key else value
        if cross_attention_dim and "attn2" in key and ("to_k" in key or "to_v" in key) and "lora_A" in key:
            value = torch.randn(value.shape[0], cross_attention_dim)
        layers[key] = value.contiguous()
    file.parent.mkdir(parents=True, exist_ok=True)
    StableDiffusionPipeline.save_lora_weights(
        file.parent, unet_lora_layers=layers, weight_name=file.name, safe_serialization=True
    )
    return file
