"""``keyframes``, ``render`` and ``models`` from the command line, as a user runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest

from app import commands as C
from app.bundle import Bundle
from app.document import KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.session import ProjectSession
from app.timecode import FrameRate
from app.video import probe
from engine.backends.fit import read_rgb
from tests.engine.test_runtime import pin_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PINFRAME_CACHE_DIR": str(tmp_path / "cache"),
        "PINFRAME_DATA_DIR": str(tmp_path / "data"),
        "HF_HUB_OFFLINE": "1",
    }


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def small_project(path: Path, tmp_path: Path, size=(320, 180), duration=24, second=12) -> Path:
    """Shot 1 (two pins, handles), shot 2 (one pin), shot 3 (no pins)."""
    bundle = Bundle.create(path, Project("Small", FrameRate(24), width=size[0], height=size[1]))
    takes = [
        KeyframeTake(new_id(), bundle.media.put_file(pin_file(tmp_path, f"k{i}.png", i, size=(160, 90))), 160, 90)
        for i in range(3)
    ]
    shots = (
        Shot(
            new_id(),
            "1",
            duration,
            prompt="a door opens",
            handles=2,
            keyframe_takes=tuple(takes[:2]),
            pins=(Pin(0, takes[0].id), Pin(duration - 1, takes[1].id)),
        ),
        Shot(new_id(), "2", second, keyframe_takes=(takes[2],), pins=(Pin(0, takes[2].id),)),
        Shot(new_id(), "3", 12),
    )
    bundle.save(
        Project("Small", FrameRate(24), width=size[0], height=size[1], scenes=(Scene(new_id(), "INT", shots=shots),))
    )
    bundle.close()
    return path


def reopen(path: Path) -> Project:
    bundle, project, _ = Bundle.open(path, readonly=True)
    bundle.close()
    return project


def test_keyframes_with_the_sketch_model(env, tmp_path):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    done = cli(env, "keyframes", str(path), "--shot", "3", "--variations", "3", "--seed", "10", "--pin", "5")
    assert done.returncode == 0, done.stderr
    assert "seeds 10, 11, 12" in done.stdout
    project = reopen(path)
    shot = next(s for s in project.shots() if s.number == "3")
    assert [t.generation.seed for t in shot.keyframe_takes] == [10, 11, 12]
    assert {t.generation.backend for t in shot.keyframe_takes} == {"sketch"}
    assert shot.pins == (Pin(5, shot.keyframe_takes[0].id),)
    image = read_rgb(path / shot.keyframe_takes[0].image.relpath)
    assert image.shape == (180, 320, 3)


def test_keyframes_with_a_tiny_deepfloyd_folder(env, tmp_path, tiny_if_dir, tiny_if_sr_dir):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    done = cli(
        env,
        "keyframes",
        str(path),
        "--shot",
        "2",
        "--model",
        str(tiny_if_dir),
        "--upscale",
        str(tiny_if_sr_dir),
        "--steps",
        "2",
        "--variations",
        "2",
        "--seed",
        "1",
    )
    assert done.returncode == 0, done.stderr
    takes = next(s for s in reopen(path).shots() if s.number == "2").keyframe_takes[1:]
    assert [t.generation.backend for t in takes] == ["if", "if"]
    assert all("stage II" in t.generation.fit for t in takes)


def test_render_encodes_exact_clips_and_stale_renders_only_what_changed(env, tmp_path):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    done = cli(env, "render", str(path))
    assert done.returncode == 0, done.stderr
    assert "rendered 2 of 2" in done.stdout
    project = reopen(path)
    for shot in [s for s in project.shots() if s.pins]:
        clip = shot.current_clip_take
        info = probe(path / clip.media.relpath)
        assert (info.frame_count, info.rate, info.codec) == (shot.duration + 2 * shot.handles, Fraction(24), "h264")
        assert (info.width, info.height) == (320, 180)
        assert not project.is_stale(shot)

    session = ProjectSession.open(path)
    first = next(session.project.shots())
    session.do(C.set_shot_fields(session.project, first.id, prompt="the door slams"))
    session.close()
    again = cli(env, "render", str(path), "--stale")
    assert again.returncode == 0, again.stderr
    assert "rendered 1 of 1" in again.stdout
    assert "Shot 2" not in again.stderr
    assert cli(env, "render", str(path), "--stale").stdout.startswith("nothing to render")


def test_render_with_a_tiny_ltx_folder(env, tmp_path, tiny_ltx_dir):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    done = cli(
        env, "render", str(path), "--shots", "1", "--model", str(tiny_ltx_dir), "--steps", "2", "--work-pixels", "2048"
    )
    assert done.returncode == 0, done.stderr
    shot = next(reopen(path).shots())
    assert shot.current_clip_take.backend == "ltx" and shot.render.backend == "ltx"
    assert probe(path / shot.current_clip_take.media.relpath).frame_count == shot.duration + 2 * shot.handles


@pytest.mark.parametrize(
    "args, needle",
    [
        (["keyframes", "{p}", "--shot", "99"], "no shot '99'"),
        (["keyframes", "{p}", "--shot", "1", "--model", "nonsense"], "'nonsense'"),
        (["keyframes", "{p}", "--shot", "1", "--pin", "500"], "--pin 500"),
        (["keyframes", "{p}", "--shot", "1", "--model", "flow"], "'flow' can't make keyframes"),
        (["render", "{p}", "--shots", "3"], "no pinned keyframe"),
        (["render", "{p}", "--model", "sketch"], "'sketch' can't make clips"),
        (["keyframes", "{p}", "--shot", "1", "--model", "if-i-xl"], "models download if-i-xl"),
    ],
)
def test_mistakes_end_with_one_line(env, tmp_path, args, needle):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    done = cli(env, *[a.format(p=path) for a in args])
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_ctrl_c_cancels_a_render_cleanly(env, tmp_path):
    path = small_project(tmp_path / "S.pinframe", tmp_path, size=(1280, 720), duration=400)
    proc = subprocess.Popen(
        [sys.executable, "main.py", "render", str(path), "--shots", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    seen = ""
    while "step" not in seen:
        assert time.monotonic() < deadline, seen
        seen += proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled" in err and "Traceback" not in err
    assert next(reopen(path).shots()).current_clip is None


def test_models_lists_known_models_and_refuses_downloads_offline(env):
    listed = cli(env, "models")
    assert listed.returncode == 0
    for model_id in ("if-i-xl", "ltx-video", "wan2.1-flf2v-14b-720p", "sdxl-turbo"):
        assert model_id in listed.stdout
    offline = cli(env, "models", "download", "ltx-video")
    assert offline.returncode == 1 and "offline mode" in offline.stderr


def test_models_add_registers_a_local_folder(env, tiny_sd_dir, tmp_path):
    added = cli(env, "models", "add", str(tiny_sd_dir), "--kind", "draft")
    assert added.returncode == 0, added.stderr
    model_id = added.stdout.split()[1]
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    done = cli(env, "keyframes", str(path), "--shot", "3", "--model", model_id, "--steps", "1", "--variations", "1")
    assert done.returncode == 0, done.stderr
    take = next(s for s in reopen(path).shots() if s.number == "3").keyframe_takes[0]
    assert take.generation.backend == "text2image"


def test_render_settings_are_part_of_the_inputs(tmp_path):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    from app import engine_service as S
    from engine.jobs import ModelSpec

    session = ProjectSession.open(path)
    shot = next(session.project.shots())
    session.do(S.render_settings_command(session.project, shot.id, ModelSpec("flow"), 0))
    before = S.current_inputs_hash(session.project, shot.id)
    session.do(S.render_settings_command(session.project, shot.id, ModelSpec("crossfade"), 0))
    assert S.current_inputs_hash(session.project, shot.id) != before
    assert S.render_settings_command(session.project, shot.id, ModelSpec("crossfade"), 0) is None
    session.close()


def test_ctrl_c_keeps_clips_that_already_finished(env, tmp_path):
    path = small_project(tmp_path / "S.pinframe", tmp_path, size=(1280, 720), duration=12, second=600)
    proc = subprocess.Popen(
        [sys.executable, "main.py", "render", str(path), "--model", "crossfade"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    seen = ""
    while "Shot 2: step" not in seen:
        assert time.monotonic() < deadline and proc.poll() is None, seen
        seen += proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "kept clips for shot(s) 1" in err
    first, second, _ = reopen(path).shots()
    assert first.current_clip is not None and second.current_clip is None


def test_a_device_that_is_not_there_is_one_line_and_changes_nothing(env, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the message is for machines without it")
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    before = reopen(path)
    done = cli(env, "render", str(path), "--device", "cuda")
    assert done.returncode == 1 and "no CUDA GPU" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert reopen(path) == before


def test_ctrl_c_while_a_clip_is_being_saved_keeps_it_and_stops_at_once(env, tmp_path):
    """Ctrl-C lands while shot 1's finished clip is being stored: the clip is kept, the rest is cancelled
    at once (no minute-long wait for an event already handled) and the last word says what was kept."""
    path = small_project(tmp_path / "S.pinframe", tmp_path, size=(1280, 720), duration=240, second=600)
    proc = subprocess.Popen(
        [sys.executable, "main.py", "render", str(path), "--model", "crossfade"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    seen = ""
    while "Shot 1: done" not in seen:
        assert time.monotonic() < deadline and proc.poll() is None, seen
        seen += proc.stderr.readline()
    proc.send_signal(signal.SIGINT)  # storing a 240-frame 720p clip takes a good second
    lines, cancelling = [], None
    for line in proc.stderr:  # timed as they come: the store may take long on a busy machine, the stop may not
        lines.append(line)
        if line.startswith("cancelling") and cancelling is None:
            cancelling = time.monotonic()
    proc.wait(timeout=120)
    stopped = time.monotonic()
    err = "".join(lines)
    assert proc.returncode == 130, err
    assert "within a minute" not in err and "Traceback" not in err
    assert cancelling is not None and stopped - cancelling < 30, f"{stopped - cancelling:.0f} s from cancelling:\n{err}"
    assert "kept clips for shot(s) 1" in err, err
    assert lines[-1].strip() == "pinframe: cancelled Shot 2", err
    first, second, _ = reopen(path).shots()
    assert first.current_clip is not None and second.current_clip is None
