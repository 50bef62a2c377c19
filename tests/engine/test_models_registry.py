"""The model registry: the built-in list, local folders persisted to JSON, and the cache check."""

from __future__ import annotations

import json
import shutil
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine.errors import EngineError, ModelFolderError
from engine.models.registry import (
    BUILTIN_MODELS,
    DIFFUSERS_FILES,
    KINDS,
    KnownModel,
    LocalModel,
    ModelRegistry,
    find_in_cache,
    select_files,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def make_folder(root: Path, pipeline: str = "IFPipeline") -> Path:
    root.mkdir(parents=True)
    index = {"_class_name": pipeline, "unet": ["diffusers", "UNet2DConditionModel"], "watermarker": [None, None]}
    (root / "model_index.json").write_text(json.dumps(index))
    (root / "unet").mkdir()
    (root / "unet" / "config.json").write_text("{}")
    save_file({"w": torch.zeros(8, 8)}, str(root / "unet" / "diffusion_pytorch_model.safetensors"))
    return root


def tiny_known(**changes: object) -> KnownModel:
    base = {
        "id": "tiny",
        "repo_id": "pinframe-test/tiny",
        "revision": "main",
        "kind": "keyframe",
        "pipeline": "IFPipeline",
        "files": DIFFUSERS_FILES,
        "size_bytes": 1000,
        "vram_gb": 1.0,
        "vram_gb_offload": 0.5,
        "licence": "MIT",
        "gated": False,
        "non_commercial": False,
    }
    base.update(changes)
    return KnownModel(**base)  # type: ignore[arg-type]


def test_builtins_are_complete() -> None:
    ids = [m.id for m in BUILTIN_MODELS]
    assert len(ids) == len(set(ids)), "ids must be unique"
    assert {"if-i-xl", "if-i-m", "if-ii-l", "sdxl-turbo", "flux-schnell", "ltx-video", "wan2.1-flf2v-14b-720p"} <= set(
        ids
    )
    for m in BUILTIN_MODELS:
        for f in fields(m):
            value = getattr(m, f.name)
            if f.name in ("notes", "exclude", "variant", "camera_move"):
                continue
            assert value not in ("", None, ()), f"{m.id}.{f.name} is empty"
        assert "/" in m.repo_id and m.kind in KINDS
        assert m.size_bytes > 100_000_000 and m.vram_gb >= m.vram_gb_offload > 0
        if m.kind not in ("motion-lora", "ip-adapter"):  # LoRA and IP-Adapter weights: no pipeline folder
            assert "model_index.json" in m.files
        assert "estimate" in m.notes  # sizes are approximate and say so
    by_id = {m.id: m for m in BUILTIN_MODELS}
    for if_id in ("if-i-xl", "if-i-m", "if-ii-l"):
        assert by_id[if_id].gated and by_id[if_id].non_commercial and by_id[if_id].variant == "fp16"
    assert by_id["if-ii-l"].kind == "keyframe-upscale"
    assert by_id["if-ii-l"].pipeline == "IFSuperResolutionPipeline"
    assert by_id["flux-schnell"].licence == "Apache-2.0" and not by_id["flux-schnell"].non_commercial
    assert by_id["sdxl-turbo"].non_commercial
    assert by_id["ltx-video"].pipeline == "LTXConditionPipeline"
    assert by_id["wan2.1-flf2v-14b-720p"].pipeline == "WanImageToVideoPipeline"


def test_select_files_keeps_safe_weights_of_one_variant() -> None:
    repo = [
        ".gitattributes",
        "README.md",
        "model_index.json",
        "sd_xl_turbo_1.0_fp16.safetensors",  # root single-file checkpoint: not diffusers format
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model.safetensors",
        "text_encoder/model.fp16-00001-of-00002.safetensors",
        "text_encoder/model.fp16-00002-of-00002.safetensors",
        "text_encoder/model.safetensors.index.fp16.json",
        "text_encoder/model-00001-of-00002.safetensors",
        "text_encoder/model.safetensors.index.json",
        "text_encoder/pytorch_model.bin",
        "text_encoder/model.onnx",
        "tokenizer/spiece.model",
        "tokenizer/tokenizer_config.json",
        "tokenizer/special_tokens_map.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors",
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "unet/diffusion_pytorch_model.fp16.bin",
        "watermarker/config.json",
        "watermarker/diffusion_pytorch_model.safetensors",  # no fp16 here: the plain one is kept
    ]
    chosen = select_files(tiny_known(variant="fp16"), repo)
    assert chosen == sorted(
        [
            "model_index.json",
            "scheduler/scheduler_config.json",
            "text_encoder/config.json",
            "text_encoder/model.fp16-00001-of-00002.safetensors",
            "text_encoder/model.fp16-00002-of-00002.safetensors",
            "text_encoder/model.safetensors.index.fp16.json",
            "tokenizer/spiece.model",
            "tokenizer/special_tokens_map.json",
            "tokenizer/tokenizer_config.json",
            "unet/config.json",
            "unet/diffusion_pytorch_model.fp16.safetensors",
            "watermarker/config.json",
            "watermarker/diffusion_pytorch_model.safetensors",
        ]
    )
    plain = select_files(tiny_known(), repo)
    assert "unet/diffusion_pytorch_model.safetensors" in plain
    assert not any(".fp16" in p for p in plain)
    assert "text_encoder/pytorch_model.bin" not in select_files(tiny_known(files=("*",)), repo)
    assert "unet/config.json" not in select_files(tiny_known(exclude=("unet/*",)), repo)


def test_add_local_persists_and_reloads(tmp_path: Path) -> None:
    store = tmp_path / "settings" / "models.json"
    folder = make_folder(tmp_path / "My IF model")
    registry = ModelRegistry(store)
    model = registry.add_local(folder, "keyframe")
    assert model == LocalModel("local-my-if-model", folder.resolve(), "keyframe", "IFPipeline", backend="if")
    assert registry.get(model.id) == model
    assert json.loads(store.read_text())["local"][0]["pipeline"] == "IFPipeline"
    assert [p.name for p in store.parent.iterdir()] == ["models.json"]  # no temporary files left

    reloaded = ModelRegistry(store)
    assert reloaded.get(model.id) == model
    assert reloaded.all()[: len(BUILTIN_MODELS)] == list(BUILTIN_MODELS)
    assert reloaded.all()[-1] == model

    # Same folder name elsewhere: a new id, not a collision.
    other = reloaded.add_local(make_folder(tmp_path / "b" / "My IF model", "LTXConditionPipeline"), "motion")
    assert other.id == "local-my-if-model-2" and other.pipeline == "LTXConditionPipeline"
    with pytest.raises(EngineError, match="already in the model list"):
        reloaded.add_local(folder, "keyframe")
    with pytest.raises(EngineError, match="taken"):
        reloaded.add_local(make_folder(tmp_path / "c"), "draft", model_id="if-i-xl")


def test_add_local_refuses_a_bad_folder_and_remembers_nothing(tmp_path: Path) -> None:
    store = tmp_path / "models.json"
    folder = make_folder(tmp_path / "broken")
    (folder / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    (folder / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"pickle")
    registry = ModelRegistry(store)
    with pytest.raises(ModelFolderError, match="pickled"):
        registry.add_local(folder, "keyframe")
    assert not store.exists()
    assert registry.local() == []
    with pytest.raises(EngineError, match="Unknown model kind"):
        registry.add_local(make_folder(tmp_path / "good"), "video")
    assert not store.exists()


def test_remove_local(tmp_path: Path) -> None:
    store = tmp_path / "models.json"
    registry = ModelRegistry(store)
    a = registry.add_local(make_folder(tmp_path / "a"), "keyframe")
    b = registry.add_local(make_folder(tmp_path / "b"), "draft")
    registry.remove_local(a.id)
    assert [m.id for m in ModelRegistry(store).local()] == [b.id]
    with pytest.raises(EngineError, match="No model with id"):
        registry.get(a.id)
    with pytest.raises(EngineError, match="can't be removed"):
        registry.remove_local("if-i-xl")


def test_damaged_store_is_reported_not_discarded(tmp_path: Path) -> None:
    store = tmp_path / "models.json"
    store.write_text("{not json")
    with pytest.raises(EngineError, match=str(store)):
        ModelRegistry(store)
    assert store.read_text() == "{not json"


def write_hub_cache(cache: Path, model: KnownModel, *, complete: bool = True) -> Path:
    """A snapshot in the Hub cache layout, as huggingface_hub leaves it (here without its file list)."""
    storage = cache / f"models--{model.repo_id.replace('/', '--')}"
    (storage / "refs").mkdir(parents=True)
    (storage / "refs" / "main").write_text(COMMIT)
    snapshot = storage / "snapshots" / COMMIT
    make_folder(snapshot)
    if not complete:
        (snapshot / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    return snapshot


def test_installed_reads_the_cache_without_network(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    model = tiny_known()
    registry = ModelRegistry(tmp_path / "models.json", known=[model], cache_dir=cache)
    status = registry.installed(model)
    assert not status.complete and status.path is None and "not downloaded" in status.problem

    snapshot = write_hub_cache(cache, model)
    status = registry.installed(model)
    assert status.complete and status.path == snapshot and status.commit == COMMIT

    shutil.rmtree(cache)
    snapshot = write_hub_cache(cache, model, complete=False)
    status = find_in_cache(model, cache)
    assert not status.complete and status.path == snapshot
    assert "diffusion_pytorch_model" in status.problem or "no .safetensors" in status.problem
