"""References and LoRAs in the engine (issue 17, item 4): IP-Adapter pictures and LoRAs on text-to-image
keyframes, reference images for Wan VACE, and the messages a LoRA or IP-Adapter for another model gets.

Tiny random-weight models, loaded through the engine like a user's folders: the tiny SD folder, a tiny
IP-Adapter laid out like h94/IP-Adapter inside a Hugging Face cache, tiny LoRAs saved by diffusers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from huggingface_hub import constants
from safetensors.torch import save_file

from engine.backend_registry import get_backend
from engine.backends.fit import read_rgb, write_png
from engine.backends.lora_adapters import lora_fits
from engine.cache import job_key
from engine.events import Failed, Finished
from engine.jobs import ClipJob, KeyframeJob, ModelSpec, PinImage, job_from_dict, job_to_dict
from engine.models.registry import BUILTIN_MODELS, IP_ADAPTER_MODEL, find_in_cache, is_companion, select_files
from engine.models.validate import read_safetensors_header
from tests.engine.test_diffusers_backends import CPU
from tests.engine.test_runtime import run
from tests.engine.tiny_ip_adapter import build_tiny_ip_adapter, build_tiny_ip_adapter_cache, build_tiny_sd_lora

W, H = 64, 48


pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache the engine looks in (nothing of the real one leaks in)."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("PINFRAME_IP_ADAPTER", raising=False)
    return cache


@pytest.fixture
def ip_adapter(hub_cache: Path, tiny_sd_dir: Path) -> Path:
    return build_tiny_ip_adapter_cache(tiny_sd_dir, hub_cache)


def sd_spec(tiny_sd_dir: Path) -> ModelSpec:
    return ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd")


def picture(path: Path, colour: tuple[int, int, int], seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    rgb = np.clip(np.array(colour) + rng.integers(-40, 40, (40, 30, 3)), 0, 255).astype(np.uint8)
    write_png(path, rgb)
    return str(path)


def keyframe(engine, spec: ModelSpec, **kw) -> tuple[np.ndarray, str]:
    events = run(engine, KeyframeJob(spec, "a hero", (4,), W, H, steps=2, guidance=1.0, **kw))
    assert isinstance(events[-1], Finished), getattr(events[-1], "message", events[-1])
    result = events[-1].outputs[0]
    return read_rgb(result.path), result.notes


# --- the job record and the cache key ----------------------------------------------------------------------
def test_references_and_loras_are_checked_and_round_trip(tmp_path):
    spec = ModelSpec("text2image", "/models/sd", "sd")
    job = KeyframeJob(
        spec, "p", (1,), W, H, references=(("/r/b.png", 0.5), ("/r/a.png", 1)), loras=(("/l/x.safetensors", 0.8),)
    )
    assert job.references == (("/r/b.png", 0.5), ("/r/a.png", 1.0)), "kept in the given order: the first leads"
    assert job_from_dict(job_to_dict(job)) == job
    with pytest.raises(ValueError, match=r"scale 1\.5; use 0 .* to 1"):
        KeyframeJob(spec, "p", (1,), W, H, references=(("/r/a.png", 1.5),))
    with pytest.raises(ValueError, match="listed twice"):
        KeyframeJob(spec, "p", (1,), W, H, references=(("/r/a.png", 0.5), ("/r/a.png", 0.6)))
    with pytest.raises(ValueError, match=r"lora\.ckpt.*safetensors only"):
        KeyframeJob(spec, "p", (1,), W, H, loras=(("/l/lora.ckpt", 1.0),))
    # Backends without the registry flag refuse them, naming those that can.
    with pytest.raises(ValueError, match=r"sketch backend can't use reference pictures.*text2image"):
        KeyframeJob(ModelSpec("sketch"), "p", (1,), W, H, references=(("/r/a.png", 0.5),))
    with pytest.raises(
        ValueError, match=r"if backend can't load LoRAs; make the keyframe with one that can \(text2image"
    ):
        KeyframeJob(ModelSpec("if", "/m/if"), "p", (1,), W, H, loras=(("/l/x.safetensors", 1.0),))
    pins = (PinImage(0, "k.png"),)
    with pytest.raises(ValueError, match=r"wan backend can't use reference pictures.*wan-vace"):
        ClipJob(ModelSpec("wan", "/m/wan"), 9, 16, 1, 64, 64, pins, reference_images=("/r/a.png",))
    assert get_backend("wan-vace").references and get_backend("text2image").references
    assert get_backend("text2image").loras and not get_backend("if").references


def test_cache_key_follows_reference_and_lora_content(tmp_path, tiny_sd_dir):
    spec = ModelSpec("text2image", "", "sd")
    a = picture(tmp_path / "a.png", (200, 40, 40))
    copy = tmp_path / "copy.png"
    copy.write_bytes(Path(a).read_bytes())
    lora = build_tiny_sd_lora(tiny_sd_dir, tmp_path / "style.safetensors")
    plain = KeyframeJob(spec, "p", (1,), W, H)
    base = KeyframeJob(spec, "p", (1,), W, H, references=((a, 0.6),), loras=((str(lora), 1.0),))
    assert job_key(base) != job_key(plain)
    assert job_key(base) == job_key(
        KeyframeJob(spec, "p", (1,), W, H, references=((str(copy), 0.6),), loras=((str(lora), 1.0),))
    )
    assert job_key(base) != job_key(
        KeyframeJob(spec, "p", (1,), W, H, references=((a, 0.7),), loras=((str(lora), 1.0),))
    )
    before = job_key(base)
    picture(Path(a), (10, 10, 200))  # the reference redrawn under the same name
    assert job_key(base) != before
    before = job_key(base)
    build_tiny_sd_lora(tiny_sd_dir, lora, seed=1)  # another LoRA under the same name
    assert job_key(base) != before


# --- IP-Adapter references ---------------------------------------------------------------------------------
def test_a_reference_steers_the_keyframe_and_scale_zero_is_none(engine, tmp_path, tiny_sd_dir, ip_adapter):
    spec = sd_spec(tiny_sd_dir)
    red, blue = picture(tmp_path / "hero.png", (220, 30, 30)), picture(tmp_path / "castle.png", (30, 30, 220), 1)
    none, notes = keyframe(engine, spec)
    assert notes == ""
    hero, notes = keyframe(engine, spec, references=((red, 1.0),))
    assert "1 reference picture through IP-Adapter ip-adapter_sd15 at scale 1" in notes
    assert not np.array_equal(hero, none), "the reference changes the picture at the same seed"
    castle, _ = keyframe(engine, spec, references=((blue, 1.0),))
    assert not np.array_equal(castle, hero), "another reference, another picture"
    both, notes = keyframe(engine, spec, references=((red, 1.0), (blue, 0.5)))
    assert "2 reference pictures" in notes and "scale 0.75" in notes
    assert not np.array_equal(both, hero) and not np.array_equal(both, castle), "every reference steers"
    muted, _ = keyframe(engine, spec, references=((red, 0.0),))
    assert np.array_equal(muted, none), "scale 0: as if there were no reference"
    # Off again after the job: the next plain keyframe renders as before, and the encoder stayed loaded.
    again, _ = keyframe(engine, spec)
    assert np.array_equal(again, none)
    backend = engine.pool._resident[spec.key]
    assert backend.references.encoder is not None and backend.pipe.image_encoder is None
    assert backend.references.loads == 4


def test_without_an_ip_adapter_the_keyframe_still_comes_with_a_note(engine, tmp_path, tiny_sd_dir, hub_cache):
    spec = sd_spec(tiny_sd_dir)
    red = picture(tmp_path / "hero.png", (220, 30, 30))
    none, _ = keyframe(engine, spec)
    made, notes = keyframe(engine, spec, references=((red, 0.8),))
    assert np.array_equal(made, none)
    assert "references not used: no IP-Adapter is installed" in notes and "h94/IP-Adapter" in notes


def test_an_ip_adapter_for_another_model_says_which_it_fits(engine, tmp_path, tiny_sd_dir, monkeypatch):
    folder = build_tiny_ip_adapter(tiny_sd_dir, tmp_path / "sdxl-adapter", cross_attention_dim=2048)
    monkeypatch.setenv("PINFRAME_IP_ADAPTER", str(folder))
    made, notes = keyframe(engine, sd_spec(tiny_sd_dir), references=((picture(tmp_path / "r.png", (9, 9, 9)), 1.0),))
    assert made.shape == (H, W, 3)
    assert "ip-adapter_sd15.safetensors fits SDXL (cross-attention width 2048)" in notes
    assert "tiny-sd (StableDiffusionPipeline)" in notes and "width is 32" in notes
    assert notes.startswith("references not used")


def test_the_known_ip_adapter_is_recognised_in_the_hub_cache(tiny_sd_dir, ip_adapter, hub_cache):
    model = IP_ADAPTER_MODEL
    assert model.kind == "ip-adapter" and model.repo_id == "h94/IP-Adapter" and model.backend == "text2image"
    assert model in BUILTIN_MODELS and is_companion(model), "listed and downloaded, never offered to make pictures"
    status = find_in_cache(model)
    assert status.complete, status.problem
    # Only what Pinframe loads is fetched: one encoder, the plain SD 1.x and SDXL (ViT-H) adapters.
    repo = [
        "models/image_encoder/config.json",
        "models/image_encoder/model.safetensors",
        "models/image_encoder/pytorch_model.bin",
        "models/ip-adapter_sd15.safetensors",
        "models/ip-adapter_sd15.bin",
        "models/ip-adapter-plus_sd15.safetensors",
        "sdxl_models/image_encoder/model.safetensors",
        "sdxl_models/ip-adapter_sdxl_vit-h.safetensors",
    ]
    assert select_files(model, repo) == sorted([repo[0], repo[1], repo[3], repo[7]])
    (ip_adapter / "models" / "image_encoder" / "config.json").unlink()
    assert not find_in_cache(model).complete, "an adapter without its image encoder isn't usable"


# --- LoRAs -------------------------------------------------------------------------------------------------
def test_a_lora_changes_the_keyframe_and_weight_zero_is_none(engine, tmp_path, tiny_sd_dir):
    spec = sd_spec(tiny_sd_dir)
    lora = str(build_tiny_sd_lora(tiny_sd_dir, tmp_path / "ink style.safetensors", scale=4.0))
    none, _ = keyframe(engine, spec)
    styled, notes = keyframe(engine, spec, loras=((lora, 1.0),))
    assert not np.array_equal(styled, none) and "LoRA: ink style" in notes
    off, _ = keyframe(engine, spec, loras=((lora, 0.0),))
    assert np.array_equal(off, none), "weight 0: the model as it is"
    again, _ = keyframe(engine, spec)
    assert np.array_equal(again, none), "switched off after its job"
    assert engine.pool._resident[spec.key].loras.loads == 1, "read from disk once, reused by name"


def test_a_lora_for_another_model_is_refused_naming_what_it_fits(engine, tmp_path, tiny_sd_dir):
    spec = sd_spec(tiny_sd_dir)
    none, _ = keyframe(engine, spec)
    sdxl = build_tiny_sd_lora(tiny_sd_dir, tmp_path / "sdxl-style.safetensors", cross_attention_dim=2048)
    ltx = tmp_path / "dolly.safetensors"  # an LTX-2 camera LoRA's key format
    save_file(
        {
            "diffusion_model.transformer_blocks.0.attn1.to_q.lora_A.weight": torch.zeros(4, 64),
            "diffusion_model.transformer_blocks.0.attn1.to_q.lora_B.weight": torch.zeros(64, 4),
        },
        str(ltx),
    )
    for file, fits in ((sdxl, "It was made for SDXL"), (ltx, "It was made for LTX-2")):
        events = run(engine, KeyframeJob(spec, "a hero", (4,), W, H, steps=2, guidance=1.0, loras=((str(file), 1.0),)))
        assert isinstance(events[-1], Failed)
        message = events[-1].message
        assert str(file) in message and "doesn't fit this model" in message and fits in message, message
        assert "tiny-sd (StableDiffusionPipeline)" in message
    after, _ = keyframe(engine, spec)
    assert np.array_equal(after, none), "the model stays usable, without the refused LoRA"


def test_lora_fits_reads_kohya_metadata(tmp_path):
    file = tmp_path / "kohya.safetensors"
    save_file(
        {"lora_unet_x.lora_down.weight": torch.zeros(1, 1)},
        str(file),
        metadata={"ss_base_model_version": "sdxl_base_v1-0"},
    )
    assert lora_fits(read_safetensors_header(file)) == "SDXL"


# --- Wan VACE reference images -----------------------------------------------------------------------------
def test_vace_receives_the_reference_images_fitted_to_the_render_size(tmp_path, tiny_vace_dir, monkeypatch):
    from diffusers import WanVACEPipeline

    from engine.loader import load_backend
    from engine.progress import StepReporter
    from engine.runtime import render_clip
    from tests.engine.test_runtime import pin_file

    recorded: list[dict] = []
    real = WanVACEPipeline.__call__

    def recording(self, *args, **kwargs):
        recorded.append(dict(kwargs))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(WanVACEPipeline, "__call__", recording)
    wide = tmp_path / "sheet.png"  # a character sheet far bigger than the render, 4:1
    write_png(wide, np.random.default_rng(3).integers(0, 255, (100, 400, 3), dtype=np.uint8))
    small = str(tmp_path / "prop.png")  # smaller than the 48x32 render
    write_png(small, np.random.default_rng(4).integers(0, 255, (16, 20, 3), dtype=np.uint8))
    spec = ModelSpec("wan-vace", str(tiny_vace_dir), "tiny-vace")
    pins = (PinImage(0, pin_file(tmp_path, "p0.png", 1)), PinImage(8, pin_file(tmp_path, "p8.png", 2)))
    job = ClipJob(spec, 9, 16, 1, 96, 64, pins, steps=1, work_pixels=48 * 32, reference_images=(str(wide), small))
    backend = load_backend(spec, CPU)
    (tmp_path / "out").mkdir()
    result = render_clip(backend, job, tmp_path / "out", StepReporter())
    given = recorded[0]["reference_images"]
    width, height = recorded[0]["width"], recorded[0]["height"]
    assert all(image.width <= width and image.height <= height for image in given)
    assert len(given) == 2 and "2 reference images" in result.notes
    assert given[0].size == (width, width // 4), "shrunk inside the frame, its 4:1 aspect kept"
    assert np.array_equal(np.asarray(given[1]), read_rgb(small)), "a small reference goes in as it is"
