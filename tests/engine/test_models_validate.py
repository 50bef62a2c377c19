"""validate_model_folder on small real folders: a good one, then each way a folder goes bad."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from engine.errors import ModelFolderError
from engine.models.validate import WeightName, parse_weight_name, validate_model_folder


def write_weights(path: Path, n: int = 32, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    save_file({"weight": torch.randn(n, n), "bias": torch.randn(n)}, str(path))
    return path


def make_folder(root: Path) -> Path:
    """A minimal diffusers-style folder: model_index, a weighted unet, a scheduler and a tokenizer."""
    index = {
        "_class_name": "TinyPipeline",
        "_diffusers_version": "0.42.1",
        "requires_safety_checker": False,
        "safety_checker": [None, None],
        "scheduler": ["diffusers", "DDPMScheduler"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DModel"],
    }
    root.mkdir(parents=True)
    (root / "model_index.json").write_text(json.dumps(index))
    for sub in ("unet", "scheduler", "tokenizer"):
        (root / sub).mkdir()
    (root / "unet" / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel"}))
    write_weights(root / "unet" / "diffusion_pytorch_model.safetensors")
    (root / "scheduler" / "scheduler_config.json").write_text(json.dumps({"_class_name": "DDPMScheduler"}))
    (root / "tokenizer" / "tokenizer_config.json").write_text("{}")
    (root / "tokenizer" / "vocab.json").write_text(json.dumps({"a": 0}))
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "model")


def expect_error(folder: Path, needle: str | Path, *more: str) -> str:
    with pytest.raises(ModelFolderError) as info:
        validate_model_folder(folder)
    message = str(info.value)
    for part in (str(needle), *more):
        assert part in message, message
    return message


def test_good_folder_is_described(folder: Path) -> None:
    report = validate_model_folder(folder)
    assert report.pipeline_class == "TinyPipeline"
    assert report.diffusers_version == "0.42.1"
    assert [c.name for c in report.components] == ["scheduler", "tokenizer", "unet"]
    assert [c.role for c in report.components] == ["scheduler", "tokenizer", "model"]
    assert report.skipped == ("safety_checker",)
    assert report.variants == {"unet": (None,)}
    assert report.loadable_variants == (None,)
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    assert report.total_weight_bytes == weights.stat().st_size
    assert report.components[2].weight_files == ("diffusion_pytorch_model.safetensors",)


def test_variants_are_reported_and_fallbacks_count(folder: Path) -> None:
    write_weights(folder / "unet" / "diffusion_pytorch_model.fp16.safetensors")
    assert validate_model_folder(folder).variants == {"unet": (None, "fp16")}

    # fp16-only unet next to a vae with plain weights: only fp16 loads (the vae falls back).
    (folder / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    index = json.loads((folder / "model_index.json").read_text())
    index["vae"] = ["diffusers", "AutoencoderKL"]
    (folder / "model_index.json").write_text(json.dumps(index))
    (folder / "vae").mkdir()
    (folder / "vae" / "config.json").write_text("{}")
    write_weights(folder / "vae" / "diffusion_pytorch_model.safetensors")
    report = validate_model_folder(folder)
    assert report.variants == {"unet": ("fp16",), "vae": (None,)}
    assert report.loadable_variants == ("fp16",)


def test_sharded_weights_are_accepted(folder: Path) -> None:
    unet = folder / "unet"
    (unet / "diffusion_pytorch_model.safetensors").unlink()
    shards = [
        "diffusion_pytorch_model-00001-of-00002.safetensors",
        "diffusion_pytorch_model-00002-of-00002.safetensors",
    ]
    for i, name in enumerate(shards):
        write_weights(unet / name, seed=i)
    weight_map = {"a.weight": shards[0], "b.weight": shards[1]}
    (unet / "diffusion_pytorch_model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    report = validate_model_folder(folder)
    assert report.variants == {"unet": (None,)}
    assert report.components[2].weight_files == tuple(shards)
    assert report.total_weight_bytes == sum((unet / s).stat().st_size for s in shards)


def test_pickles_next_to_safetensors_are_ignored_not_loaded(folder: Path) -> None:
    (folder / "unet" / "diffusion_pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    report = validate_model_folder(folder)
    assert report.components[2].ignored_pickles == ("diffusion_pytorch_model.bin",)


def test_skipped_components_need_no_folder(folder: Path) -> None:
    shutil.rmtree(folder / "tokenizer")
    report = validate_model_folder(folder, skip={"tokenizer"})
    assert "tokenizer" in report.skipped


def test_missing_folder_and_file_instead_of_folder(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope", tmp_path / "nope", "doesn't exist")
    a_file = tmp_path / "weights.safetensors"
    a_file.write_bytes(b"x")
    expect_error(a_file, a_file, "not a folder")


def test_missing_model_index(folder: Path) -> None:
    (folder / "model_index.json").unlink()
    expect_error(folder, folder / "model_index.json", "is missing")


def test_broken_model_index_json(folder: Path) -> None:
    (folder / "model_index.json").write_text('{"_class_name": "TinyPipeline",')
    expect_error(folder, folder / "model_index.json", "not valid JSON")


def test_model_index_without_class_name(folder: Path) -> None:
    (folder / "model_index.json").write_text(json.dumps({"unet": ["diffusers", "UNet2DModel"]}))
    expect_error(folder, folder / "model_index.json", "_class_name")


def test_missing_component_folder(folder: Path) -> None:
    shutil.rmtree(folder / "unet")
    expect_error(folder, folder / "unet", "'unet'", "UNet2DModel")


def test_missing_config(folder: Path) -> None:
    (folder / "unet" / "config.json").unlink()
    expect_error(folder, folder / "unet" / "config.json", "is missing")
    (folder / "scheduler" / "scheduler_config.json").unlink()
    (folder / "unet" / "config.json").write_text("{}")
    expect_error(folder, folder / "scheduler" / "scheduler_config.json")


def test_broken_config_json(folder: Path) -> None:
    (folder / "unet" / "config.json").write_text("{nope")
    expect_error(folder, folder / "unet" / "config.json", "not valid JSON")


def test_tokenizer_without_vocabulary(folder: Path) -> None:
    (folder / "tokenizer" / "vocab.json").unlink()
    expect_error(folder, folder / "tokenizer", "vocabulary")


def test_only_pickled_weights_are_refused(folder: Path) -> None:
    (folder / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    pickled = folder / "unet" / "diffusion_pytorch_model.bin"
    pickled.write_bytes(b"\x80\x04pickle")
    message = expect_error(folder, pickled, "pickled", "safe_serialization=True")
    assert "run arbitrary code" in message


def test_no_weights_at_all_names_the_folder(folder: Path) -> None:
    (folder / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    (folder / "unet" / "model.onnx").write_bytes(b"onnx")
    expect_error(folder, folder / "unet", "no .safetensors weights", "model.onnx")


def test_unreadable_file(folder: Path) -> None:
    config = folder / "unet" / "config.json"
    config.chmod(0)
    try:
        if os.access(config, os.R_OK):
            # Running as root (as in CI containers): permissions don't stop reads, so simulate an
            # unreadable file with a folder where the file should be.
            config.chmod(0o644)
            config.unlink()
            config.mkdir()
            expect_error(folder, config, "is a folder")
        else:
            expect_error(folder, config, "permission denied")
    finally:
        if config.is_file():
            config.chmod(0o644)


def test_permission_denied_names_the_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a non-root user gets from a chmod 000 file, whoever runs the tests.
    config = folder / "unet" / "config.json"
    real_read_text = Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        if self == config:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text)
    expect_error(folder, config, "permission denied", "chmod")


def test_unreadable_weights(folder: Path) -> None:
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    weights.chmod(0)
    try:
        if os.access(weights, os.R_OK):
            pytest.skip("running as root: chmod 000 doesn't stop root from reading (covered by test_unreadable_file)")
        expect_error(folder, weights, "permission denied")
    finally:
        weights.chmod(0o644)


def test_truncated_safetensors(folder: Path) -> None:
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    expect_error(folder, weights, "truncated")
    weights.write_bytes(data[:5])  # not even the 8-byte header length
    expect_error(folder, weights, "truncated")


def test_safetensors_with_garbage_header(folder: Path) -> None:
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes((16).to_bytes(8, "little") + b"not json at all!" + b"\0" * 64)
    expect_error(folder, weights, "not a valid safetensors file")


def test_sharded_index_with_a_missing_shard(folder: Path) -> None:
    unet = folder / "unet"
    (unet / "diffusion_pytorch_model.safetensors").unlink()
    shards = [
        "diffusion_pytorch_model-00001-of-00002.safetensors",
        "diffusion_pytorch_model-00002-of-00002.safetensors",
    ]
    write_weights(unet / shards[0])
    weight_map = {"a.weight": shards[0], "b.weight": shards[1]}
    (unet / "diffusion_pytorch_model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    expect_error(folder, unet / shards[1], "is missing", "diffusion_pytorch_model.safetensors.index.json")


def test_shards_without_an_index(folder: Path) -> None:
    unet = folder / "unet"
    (unet / "diffusion_pytorch_model.safetensors").unlink()
    write_weights(unet / "diffusion_pytorch_model-00001-of-00002.safetensors")
    expect_error(folder, unet / "diffusion_pytorch_model-00001-of-00002.safetensors", "index")


def test_broken_link_like_an_incomplete_cache(folder: Path) -> None:
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    weights.unlink()
    weights.symlink_to(folder / "blobs" / "gone")
    expect_error(folder, weights, "broken link")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("diffusion_pytorch_model.safetensors", WeightName("single", "diffusion_pytorch_model", None)),
        ("diffusion_pytorch_model.fp16.safetensors", WeightName("single", "diffusion_pytorch_model", "fp16")),
        ("model-00001-of-00002.safetensors", WeightName("shard", "model", None)),
        ("model.fp16-00001-of-00002.safetensors", WeightName("shard", "model", "fp16")),
        ("model-00001-of-00002.fp16.safetensors", WeightName("shard", "model", "fp16")),
        ("model.safetensors.index.json", WeightName("index", "model", None)),
        ("model.safetensors.index.fp16.json", WeightName("index", "model", "fp16")),
        ("model.safetensors.fp16.index.json", WeightName("index", "model", "fp16")),
        ("ltx-video-2b-v0.9.5.safetensors", WeightName("single", "ltx-video-2b-v0.9.5", None)),
        ("diffusion_pytorch_model.bin", None),
        ("config.json", None),
    ],
)
def test_weight_names(name: str, expected: WeightName | None) -> None:
    assert parse_weight_name(name) == expected
