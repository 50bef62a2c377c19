"""A shot's camera move picks the installed camera LoRA for its LTX-2 render (app.camera_loras, clip_job).

The LoRA is "installed" the way a download leaves it: a snapshot in a temporary Hub cache, holding a real
safetensors LoRA file that the registry's cache check validates.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from huggingface_hub import constants
from safetensors.torch import save_file

from app import engine_service as S
from app.bundle import Bundle
from app.camera_loras import camera_loras, shot_moves
from app.document import Camera, KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.timecode import FrameRate
from engine.jobs import ClipJob, ModelSpec
from engine.models.registry import CAMERA_LORAS, KnownModel, ModelRegistry
from tests.engine.test_runtime import pin_file

COMMIT = "89abcdef0123456789abcdef0123456789abcdef"
LTX2 = ModelSpec("ltx2", "/models/LTX-2", "ltx-2")  # clip_job never opens the model folder


def lora_of(move: str) -> KnownModel:
    return next(m for m in CAMERA_LORAS if m.camera_move == move)


def install(cache: Path, move: str) -> Path:
    """The camera LoRA for ``move`` as a download leaves it in the Hub cache; returns its file."""
    storage = cache / ("models--" + lora_of(move).repo_id.replace("/", "--"))
    (storage / "refs").mkdir(parents=True)
    (storage / "refs" / "main").write_text(COMMIT)
    snapshot = storage / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (snapshot / "README.md").write_text("# camera LoRA\n")
    file = snapshot / f"{move.replace(' ', '-')}.safetensors"
    torch.manual_seed(0)
    save_file(
        {
            "diffusion_model.transformer_blocks.0.attn1.to_q.lora_A.weight": torch.randn(4, 16),
            "diffusion_model.transformer_blocks.0.attn1.to_q.lora_B.weight": torch.randn(16, 4),
        },
        str(file),
    )
    return file


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hub cache and model list that `pinframe models` (app.cli.models.registry) reads."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    return cache


@pytest.fixture
def bundle(tmp_path: Path) -> Iterator[tuple[Bundle, Project]]:
    """A saved bundle with one shot pinned at its first frame, and its project."""
    empty = Project("Moves", FrameRate(24), width=64, height=64)
    b = Bundle.create(tmp_path / "Moves.pinframe", empty)
    take = KeyframeTake(new_id(), b.media.put_file(pin_file(tmp_path, "k.png", 1, size=(64, 64))), 64, 64)
    shot = Shot(new_id(), "1", 17, prompt="a hallway", keyframe_takes=(take,), pins=(Pin(0, take.id),))
    project = replace(empty, scenes=(Scene(new_id(), "INT. HALL", shots=(shot,)),))
    b.save(project)
    yield b, project
    b.close()


def job_for(bundle: tuple[Bundle, Project], move: str, model: ModelSpec = LTX2) -> ClipJob:
    """The render job app.engine_service makes for the shot with this camera move."""
    store, project = bundle
    shot = replace(next(iter(project.shots())), camera=Camera(move=move))
    return S.clip_job(project, store, shot, model)


def test_a_push_in_renders_with_the_installed_dolly_in_lora(hub, bundle):
    assert job_for(bundle, "slow push in").loras == ()  # not downloaded: no LoRA, the prompt still says it
    file = install(hub, "dolly in")
    assert job_for(bundle, "slow push in").loras == ((str(file), 1.0),)
    assert job_for(bundle, "Slow push-in on her hands").loras == ((str(file), 1.0),)
    assert job_for(bundle, "pull out").loras == ()  # the Dolly-Out LoRA isn't installed
    assert job_for(bundle, "pan left").loras == ()  # a pan turns the camera: no LoRA makes that
    assert job_for(bundle, "").loras == ()
    # Only a backend that loads LoRAs gets one; the model-free ones play the move themselves.
    flow = job_for(bundle, "slow push in", ModelSpec("flow"))
    assert flow.loras == () and flow.camera_move == "slow dolly in"


def test_each_installed_lora_serves_its_moves(hub, bundle):
    files = {move: install(hub, move) for move in ("dolly out", "truck left", "crane up", "static")}
    assert job_for(bundle, "pull back").loras == ((str(files["dolly out"]), 1.0),)
    assert job_for(bundle, "track left").loras == ((str(files["truck left"]), 1.0),)
    assert job_for(bundle, "boom up").loras == ((str(files["crane up"]), 1.0),)
    assert job_for(bundle, "locked-off wide").loras == ((str(files["static"]), 1.0),)
    both = job_for(bundle, "truck left and crane up").loras
    assert sorted(both) == sorted([(str(files["truck left"]), 1.0), (str(files["crane up"]), 1.0)])


def test_a_damaged_download_is_not_used_and_the_registry_says_why(hub):
    file = install(hub, "dolly in")
    registry = ModelRegistry(hub.parent / "data" / "models.json", cache_dir=hub)
    assert registry.installed(lora_of("dolly in")).complete
    assert camera_loras(LTX2, "dolly in", registry) == ((str(file), 1.0),)
    file.write_bytes(file.read_bytes()[:20])  # an interrupted copy
    status = registry.installed(lora_of("dolly in"))
    assert not status.complete and str(file) in status.problem
    assert camera_loras(LTX2, "dolly in", registry) == ()


def test_shot_moves_reads_free_text_with_the_camera_move_vocabulary():
    assert shot_moves("slow push in, then tilt up") == ("dolly in", "tilt up")
    assert shot_moves("Locked off") == ("static",)
    assert shot_moves("static, then dolly in") == ("dolly in",)  # a move beats the word static
    assert shot_moves("she looks out of the window") == ()


def test_pinframe_models_lists_the_loras_and_which_are_installed(hub, capsys):
    from app.cli import main

    file = install(hub, "dolly in")
    assert main(["models", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    for lora in CAMERA_LORAS:
        assert rows[lora.id]["kind"] == "motion-lora" and rows[lora.id]["backend"] == "ltx2"
        assert rows[lora.id]["installed"] == (lora.camera_move == "dolly in")
    assert rows["ltx-2-camera-dolly-in"]["path"] == str(file.parent)
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert any(line.split()[:2] == ["ltx-2-camera-jib-up", "motion-lora"] for line in text.splitlines())


def test_the_window_finds_a_shots_loras_with_its_model_and_planning_reads_no_cache(hub, bundle, tiny_ltx2_dir):
    """The window resolves models and LoRAs on a worker thread (ui.motion_models); EngineBridge.render
    then plans on the GUI thread with what was found, and must not read the Hub cache again."""
    import shutil

    from ui.motion_models import resolve_shot_models

    store, project = bundle
    file = install(hub, "dolly in")
    model_id = S.motion_choice(str(tiny_ltx2_dir))
    shot = replace(next(iter(project.shots())), camera=Camera(move="slow push in"), motion_model=model_id)
    project = replace(project, scenes=(replace(project.scenes[0], shots=(shot,)),))
    models = resolve_shot_models(project, [shot.id])
    assert models.specs[shot.id].backend == "ltx2"
    assert models.loras == {shot.id: ((str(file), 1.0),)}
    assert models.subset([shot.id]).loras == models.loras

    shutil.rmtree(hub)  # were the plan to look again, it would find no LoRA now
    job, _ = S.render_plan(project, store, shot.id, models.specs[shot.id], 0, loras=models.loras[shot.id])
    assert job.loras == ((str(file), 1.0),)
    job, _ = S.render_plan(project, store, shot.id, models.specs[shot.id], 0)
    assert job.loras == (), "without them, the plan looks in the cache itself"
