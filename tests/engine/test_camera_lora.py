"""LTX-2 camera LoRAs: the known models, the job field, the cache key, and loading for one job only.

Renders go through engine.loader.load_backend and engine.runtime.render_clip on the tiny random-weight LTX-2
folder, with a tiny random LoRA for its transformer (tests/engine/tiny_lora.py) saved in LTX-2's original key
format, loaded by diffusers' load_lora_weights through PEFT like a downloaded camera LoRA.
"""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from engine.backends import lora_adapters
from engine.backends.fit import read_rgb
from engine.backends.ltx2 import LTX2Backend
from engine.cache import job_key
from engine.camera_move import MOVES
from engine.devices import DeviceSettings
from engine.errors import ModelFolderError
from engine.jobs import LORA_WEIGHTS, ClipJob, ClipResult, ModelSpec, PinImage, job_from_dict, job_to_dict
from engine.loader import load_backend
from engine.models.registry import (
    BUILTIN_MODELS,
    CAMERA_LORAS,
    KINDS,
    find_in_cache,
    lora_file,
    lora_title,
    select_files,
)
from engine.models.validate import validate_lora_file
from tests.engine.test_ltx2_backend import clip, render
from tests.engine.tiny_lora import build_tiny_lora

torch.set_num_threads(1)

CPU = DeviceSettings(device="cpu", precision="fp32")
COMMIT = "0123456789abcdef0123456789abcdef01234567"
DOLLY_IN = next(m for m in CAMERA_LORAS if m.camera_move == "dolly in")


def hub_snapshot(cache: Path, repo_id: str, files: dict[str, Path | bytes]) -> Path:
    """A snapshot in the Hub cache layout (refs/main -> the commit's folder), without its file list."""
    storage = cache / ("models--" + repo_id.replace("/", "--"))
    (storage / "refs").mkdir(parents=True, exist_ok=True)
    (storage / "refs" / "main").write_text(COMMIT)
    snapshot = storage / "snapshots" / COMMIT
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (snapshot / name).write_bytes(content.read_bytes() if isinstance(content, Path) else content)
    return snapshot


@pytest.fixture(scope="module")
def model(tiny_ltx2_dir: Path) -> Path:
    return tiny_ltx2_dir  # the session's tiny LTX-2 folder (tests/conftest.py)


@pytest.fixture(scope="module")
def loras(model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("loras")
    plain = build_tiny_lora(model, root / "my-style.safetensors", seed=1)
    # The Dolly-In LoRA as a download leaves it: inside its repo's Hub cache folder.
    hub = hub_snapshot(root / "hub", DOLLY_IN.repo_id, {"ltx-2-19b-lora-camera-control-dolly-in.safetensors": plain})
    return {
        "plain": plain,
        "other": build_tiny_lora(model, root / "other.safetensors", seed=2),
        "dolly_in": hub / "ltx-2-19b-lora-camera-control-dolly-in.safetensors",
    }


@pytest.fixture(scope="module")
def backend(model: Path) -> LTX2Backend:
    return load_backend(ModelSpec("ltx2", str(model), "tiny-ltx2"), CPU)


def frames(result: ClipResult) -> np.ndarray:
    return np.stack([read_rgb(result.frame_path(i)) for i in range(result.frame_count)]).astype(np.int16)


def with_loras(job: ClipJob, *pairs: tuple[Path, float]) -> ClipJob:
    return replace(job, loras=tuple((str(path), weight) for path, weight in pairs))


# --- rendering -----------------------------------------------------------------------------------------
def test_a_lora_changes_its_own_render_only(backend, loras, tmp_path):
    job = clip(tmp_path, backend.spec, 9, (0,))
    before = render(backend, job, tmp_path)
    with_dolly = render(backend, with_loras(job, (loras["dolly_in"], 1.0)), tmp_path)
    after = render(backend, job, tmp_path)

    changed = np.abs(frames(with_dolly) - frames(before))[1:]  # frame 0 is the pin, shown exactly either way
    assert changed.mean() > 0.1, "the LoRA made no difference to the render"
    assert np.array_equal(frames(after), frames(before)), "the LoRA stayed on after its job"
    # The clip's notes (the jobs panel shows them) and its settings record name the LoRA.
    assert with_dolly.notes.endswith("; camera LoRA: Dolly In")
    assert dict(with_dolly.params)["lora"] == "Dolly In"
    assert "LoRA" not in after.notes and "lora" not in dict(after.params)


def test_a_resident_lora_is_reused_by_name_and_weights_matter(backend, loras, tmp_path):
    job = with_loras(clip(tmp_path, backend.spec, 9, (0,)), (loras["plain"], 1.0))
    first = render(backend, job, tmp_path)
    loads = backend.loras.loads
    again = render(backend, job, tmp_path)
    assert backend.loras.loads == loads, "a LoRA loaded for an earlier job was read again"
    assert np.array_equal(frames(again), frames(first))
    half = render(backend, with_loras(job, (loras["plain"], 0.5)), tmp_path)
    assert backend.loras.loads == loads
    assert not np.array_equal(frames(half), frames(first))
    assert "LoRA: my-style at 0.5" in half.notes  # not a camera LoRA: named by its file
    # Two at once are both on, each at its weight.
    both = render(backend, with_loras(job, (loras["plain"], 1.0), (loras["other"], 1.0)), tmp_path)
    assert not np.array_equal(frames(both), frames(first))
    assert "LoRAs: my-style, other" in both.notes


def test_least_recently_used_adapters_are_deleted_and_reload_the_same(model, loras, tmp_path, monkeypatch):
    monkeypatch.setattr(lora_adapters, "MAX_RESIDENT", 1)
    backend = load_backend(ModelSpec("ltx2", str(model), "tiny-ltx2"), CPU)
    job = clip(tmp_path, backend.spec, 9, (0,))
    first = render(backend, with_loras(job, (loras["plain"], 1.0)), tmp_path)
    render(backend, with_loras(job, (loras["other"], 1.0)), tmp_path)
    assert list(backend.loras.resident.values()) == [str(loras["other"])]
    assert backend.pipe.get_list_adapters()["transformer"] == list(backend.loras.resident)
    again = render(backend, with_loras(job, (loras["plain"], 1.0)), tmp_path)
    assert backend.loras.loads == 3
    assert np.array_equal(frames(again), frames(first))


def test_a_replaced_lora_file_is_read_again(model, loras, tmp_path):
    backend = load_backend(ModelSpec("ltx2", str(model), "tiny-ltx2"), CPU)
    file = tmp_path / "replaced.safetensors"
    file.write_bytes(loras["plain"].read_bytes())
    job = with_loras(clip(tmp_path, backend.spec, 9, (0,)), (file, 1.0))
    first = render(backend, job, tmp_path)
    file.write_bytes(loras["other"].read_bytes())
    os.utime(file, ns=(file.stat().st_atime_ns, file.stat().st_mtime_ns + 10**9))
    second = render(backend, job, tmp_path)
    assert backend.loras.loads == 2 and len(backend.loras.resident) == 1  # the stale adapter went
    assert not np.array_equal(frames(second), frames(first))


def test_loras_load_onto_fp8_layerwise_storage(model, loras, tmp_path):
    # fp8 storage is switched on for CUDA only; the hooks work on the CPU too, which is what this needs.
    backend = load_backend(ModelSpec("ltx2", str(model), "tiny-ltx2"), CPU)
    backend.pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=torch.float32)
    job = clip(tmp_path, backend.spec, 9, (0,))
    before = render(backend, job, tmp_path)
    with_lora = render(backend, with_loras(job, (loras["plain"], 1.0)), tmp_path)
    assert not np.array_equal(frames(with_lora), frames(before))
    assert {p.dtype for n, p in backend.pipe.transformer.named_parameters() if "lora_" in n} == {torch.float32}
    assert np.array_equal(frames(render(backend, job, tmp_path)), frames(before))


def bad_files(folder: Path, lora: Path) -> dict[str, Path]:
    files = {}
    pickled = folder / "pickled.safetensors"  # a torch.save pickle under a safetensors name
    torch.save({"diffusion_model.a.lora_A.weight": torch.zeros(2, 2)}, pickled)
    files["pickled"] = pickled
    truncated = folder / "truncated.safetensors"
    truncated.write_bytes(lora.read_bytes()[: lora.stat().st_size // 2])
    files["truncated"] = truncated
    not_lora = folder / "checkpoint.safetensors"
    save_file({"diffusion_model.proj_in.weight": torch.zeros(4, 4)}, str(not_lora))
    files["not a LoRA"] = not_lora
    misfit = folder / "misfit.safetensors"  # a LoRA for a wider model: every projection's shape is wrong
    state = load_file(str(lora))
    save_file({k: torch.zeros(v.shape[0], v.shape[1] * 2) if "lora_A" in k else v for k, v in state.items()}, misfit)
    files["misfit"] = misfit
    return files


@pytest.mark.parametrize(
    ("which", "says"),
    [
        ("pickled", "holds a pickle"),
        ("truncated", "truncated or damaged"),
        ("not a LoRA", "holds no LoRA weights"),
        ("misfit", "doesn't fit this model"),
    ],
)
def test_a_bad_lora_is_refused_by_name_and_the_model_stays_usable(backend, loras, tmp_path, which, says):
    job = clip(tmp_path, backend.spec, 9, (0,))
    before = render(backend, job, tmp_path)
    bad = bad_files(tmp_path, loras["plain"])[which]
    with pytest.raises(ModelFolderError) as caught:
        render(backend, with_loras(job, (bad, 1.0)), tmp_path)
    assert str(bad) in str(caught.value) and says in str(caught.value)
    assert np.array_equal(frames(render(backend, job, tmp_path)), frames(before))


def test_a_pickled_lora_never_reaches_a_job(tmp_path):
    spec = ModelSpec("ltx2", str(tmp_path), "x")
    pins = (PinImage(0, "k.png"),)
    with pytest.raises(ValueError, match=r"lora\.bin.*safetensors only"):
        ClipJob(spec, 9, 24, 1, 64, 64, pins, loras=(("/loras/lora.bin", 1.0),))
    pickle_file = tmp_path / "lora.ckpt"
    pickle_file.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ModelFolderError, match="is a pickle"):
        validate_lora_file(pickle_file)


# --- the job record and the cache key ---------------------------------------------------------------------
def test_job_loras_are_checked_sorted_and_round_trip(tmp_path):
    spec = ModelSpec("ltx2", str(tmp_path), "x")
    pins = (PinImage(0, "k.png"),)
    job = ClipJob(spec, 9, 24, 1, 64, 64, pins, loras=[("/l/b.safetensors", 1), ("/l/a.safetensors", 0.5)])
    assert job.loras == (("/l/a.safetensors", 0.5), ("/l/b.safetensors", 1.0))
    assert job_from_dict(json.loads(json.dumps(job_to_dict(job)))) == job
    with pytest.raises(ValueError, match=f"weight 2.5; use {LORA_WEIGHTS[0]:g} to {LORA_WEIGHTS[1]:g}"):
        replace(job, loras=(("/l/a.safetensors", 2.5),))
    with pytest.raises(ValueError, match="listed twice"):
        replace(job, loras=(("/l/a.safetensors", 1.0), ("/l/a.safetensors", 0.5)))
    with pytest.raises(ValueError, match="the flow backend can't load LoRAs; .*ltx2"):
        ClipJob(ModelSpec("flow"), 9, 24, 1, 64, 64, pins, loras=(("/l/a.safetensors", 1.0),))


def test_the_cache_key_follows_the_lora_file_and_weight(tmp_path, loras):
    (tmp_path / "model").mkdir()  # its own folder: the model's fingerprint mustn't see the LoRA files move
    spec = ModelSpec("ltx2", str(tmp_path / "model"), "x")
    pin = tmp_path / "k.png"
    pin.write_bytes(b"not read as an image, only hashed")
    job = ClipJob(spec, 9, 24, 1, 64, 64, (PinImage(0, str(pin)),))
    lora = tmp_path / "a.safetensors"
    lora.write_bytes(loras["plain"].read_bytes())
    with_lora = with_loras(job, (lora, 1.0))
    key = job_key(with_lora)
    assert key != job_key(job)
    assert key == job_key(with_loras(job, (lora, 1.0)))
    assert key != job_key(with_loras(job, (lora, 0.8)))
    os.utime(lora, ns=(lora.stat().st_atime_ns, lora.stat().st_mtime_ns + 10**9))  # the file was replaced
    replaced = job_key(with_lora)
    assert replaced != key
    moved = tmp_path / "elsewhere" / "a.safetensors"
    moved.parent.mkdir()
    lora.rename(moved)
    # The same file in another folder (another Hub cache) is the same LoRA; a missing one is not.
    assert job_key(with_loras(job, (moved, 1.0))) == replaced
    assert job_key(with_lora) != replaced


# --- the known models ---------------------------------------------------------------------------------------
def test_the_camera_loras_are_known_models_beside_ltx2():
    ids = [m.id for m in BUILTIN_MODELS]
    assert [m.id for m in CAMERA_LORAS] == ids[ids.index("ltx-2") + 1 : ids.index("ltx-2") + 1 + len(CAMERA_LORAS)]
    assert "motion-lora" in KINDS
    names = {lora_title(m) for m in CAMERA_LORAS}
    assert names == {"Dolly In", "Dolly Out", "Dolly Left", "Dolly Right", "Jib Up", "Jib Down", "Static"}
    for m in CAMERA_LORAS:
        assert m.kind == "motion-lora" and m.backend == "ltx2" and m.repo_id.startswith("Lightricks/LTX-2-19b-LoRA-")
        assert m.camera_move in MOVES, f"{m.id} serves '{m.camera_move}', which engine.camera_move doesn't know"
        assert "estimate" in m.notes and m.licence == "LTX-2 Community License Agreement"
    assert len({m.camera_move for m in CAMERA_LORAS}) == len(CAMERA_LORAS)
    repo = [
        ".gitattributes",
        "README.md",
        "ltx-2-19b-lora-camera-control-dolly-in.safetensors",
        "examples/sample.safetensors",
        "ltx-2-19b-lora-camera-control-dolly-in.bin",
    ]
    assert select_files(DOLLY_IN, repo) == ["README.md", "ltx-2-19b-lora-camera-control-dolly-in.safetensors"]


def test_find_in_cache_accepts_a_lora_snapshot_and_names_what_is_wrong(tmp_path, loras):
    cache = tmp_path / "hub"
    assert not find_in_cache(DOLLY_IN, cache).complete
    snapshot = hub_snapshot(
        cache, DOLLY_IN.repo_id, {"README.md": b"# Dolly In\n", "dolly-in.safetensors": loras["plain"]}
    )
    status = find_in_cache(DOLLY_IN, cache)
    assert status.complete and status.path == snapshot and status.commit == COMMIT
    assert lora_file(snapshot) == snapshot / "dolly-in.safetensors"

    (snapshot / "dolly-in.safetensors").write_bytes(loras["plain"].read_bytes()[:1000])
    status = find_in_cache(DOLLY_IN, cache)
    assert not status.complete and "truncated" in status.problem and "dolly-in.safetensors" in status.problem
    (snapshot / "dolly-in.safetensors").unlink()
    status = find_in_cache(DOLLY_IN, cache)
    assert not status.complete and "has none" in status.problem
    # Pipeline models are still checked as diffusers folders.
    ltx2 = next(m for m in BUILTIN_MODELS if m.id == "ltx-2")
    hub_snapshot(cache, ltx2.repo_id, {"lora.safetensors": loras["plain"]})
    assert "model_index.json" in find_in_cache(ltx2, cache).problem
