"""`models download` for a camera LoRA, against the fake Hub of test_models_download (nothing leaves 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import torch
from huggingface_hub import constants
from safetensors.torch import save

from engine.models.download import download_model
from engine.models.registry import CAMERA_LORAS, find_in_cache, lora_file
from tests.engine.test_models_download import FakeHub, FakeRepo, fast, no_internet  # noqa: F401  (fixtures)

DOLLY_IN = next(m for m in CAMERA_LORAS if m.camera_move == "dolly in")
WEIGHTS = "ltx-2-19b-lora-camera-control-dolly-in.safetensors"


def lora_repo() -> FakeRepo:
    torch.manual_seed(0)
    tensors = {
        "diffusion_model.transformer_blocks.0.attn1.to_q.lora_A.weight": torch.randn(4, 64),
        "diffusion_model.transformer_blocks.0.attn1.to_q.lora_B.weight": torch.randn(64, 4),
    }
    files = {
        ".gitattributes": b"*.safetensors filter=lfs\n",
        "README.md": b"# LTX-2 19B LoRA - Camera Control (Dolly In)\n",
        WEIGHTS: save(tensors),
        "ltx-2-19b-lora-camera-control-dolly-in.bin": b"\x80\x04 a pickle Pinframe must never fetch",
        "samples/preview.safetensors": save({"x": torch.zeros(4)}),
    }
    return FakeRepo(DOLLY_IN.repo_id, files, {WEIGHTS, "ltx-2-19b-lora-camera-control-dolly-in.bin"})


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, fast: None) -> Iterator[FakeHub]:  # noqa: F811
    fake = FakeHub([lora_repo()])
    fake.start()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", fake.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", fake.url + "/{repo_id}/resolve/{revision}/{filename}")
    yield fake
    fake.stop()


def test_download_fetches_the_lora_file_and_its_card_only(hub: FakeHub, tmp_path) -> None:
    repo = hub.repos[DOLLY_IN.repo_id]
    path = download_model(replace(DOLLY_IN, size_bytes=1000), cache_dir=tmp_path / "hub", endpoint=hub.url, token=False)
    assert sorted(p.name for p in path.iterdir()) == ["README.md", WEIGHTS]
    assert (path / WEIGHTS).read_bytes() == repo.files[WEIGHTS]
    assert lora_file(path) == path / WEIGHTS
    assert find_in_cache(DOLLY_IN, tmp_path / "hub").complete
