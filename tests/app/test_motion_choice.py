"""Choosing motion models (project and shot), what a clip records about them, and its sound.

The CLI runs in this process (``app.cli.main``) against real bundles, a real engine and the
model-free backends; model folders are tiny random-weight diffusers pipelines.
"""

from __future__ import annotations

import json
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from app import engine_service as S
from app.bundle import Bundle
from app.cli import main
from app.document import ClipTake, Project
from app.errors import PinframeError
from app.session import ProjectSession
from engine.jobs import ClipResult, ModelSpec
from engine.sound import write_wav
from tests.app.test_cli_engine import reopen, small_project


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PINFRAME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def shot(project: Project, number: str):
    return next(s for s in project.shots() if s.number == number)


def test_motion_command_chooses_for_the_project_and_for_one_shot(user_dirs: Path, capsys) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    assert reopen(path).motion_model == "flow", "a project renders with optical flow until told otherwise"
    assert main(["motion", str(path), "crossfade"]) == 0
    assert main(["motion", str(path), "hold", "--shot", "2"]) == 0
    project = reopen(path)
    assert project.motion_model == "crossfade"
    assert shot(project, "2").motion_model == "hold"
    assert project.motion_model_of(shot(project, "1")) == "crossfade"
    capsys.readouterr()
    assert main(["motion", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == ["project: crossfade", "shot 2: hold"]
    assert main(["motion", str(path), "--shot", "2", "--clear"]) == 0
    assert shot(reopen(path), "2").motion_model == ""


def test_a_model_that_cant_render_motion_is_refused_before_anything_changes(user_dirs: Path, capsys) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    assert main(["motion", str(path), "sketch"]) != 0
    assert "can't make clips" in capsys.readouterr().err
    assert main(["motion", str(path), "no-such-model"]) != 0
    err = capsys.readouterr().err
    assert "no-such-model" in err and "flow" in err
    assert reopen(path).motion_model == "flow"


def test_render_uses_each_shots_choice_and_the_clips_say_which_model_made_them(user_dirs: Path, capsys) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    assert main(["motion", str(path), "crossfade"]) == 0
    assert main(["motion", str(path), "hold", "--shot", "2"]) == 0
    assert main(["render", str(path)]) == 0
    project = reopen(path)
    one, two = shot(project, "1"), shot(project, "2")
    assert (one.current_clip_take.backend, two.current_clip_take.backend) == ("crossfade", "hold")
    assert not project.is_stale(one) and not project.is_stale(two)
    err = capsys.readouterr().err
    assert "shot 1: made by crossfade" in err and "shot 2: made by hold" in err
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    rows = {s["number"]: s for s in info["scenes"][0]["shots"]}
    assert info["motion_model"] == "crossfade"
    assert rows["2"]["motion_model"] == "hold" and rows["2"]["motion_model_own"]
    assert rows["1"]["clip_made_by"] == "crossfade" and rows["2"]["clip_made_by"] == "hold"
    assert main(["info", str(path)]) == 0
    assert "made by hold" in capsys.readouterr().out


def test_render_model_flag_overrides_every_choice_and_settings_are_checked(user_dirs: Path, capsys) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    assert main(["motion", str(path), "hold", "--shot", "2"]) == 0
    assert main(["render", str(path), "--model", "crossfade", "--shots", "2"]) == 0
    project = reopen(path)
    assert shot(project, "2").current_clip_take.backend == "crossfade"
    assert project.is_stale(shot(project, "2")), "made by another model than the shot asks for"
    capsys.readouterr()
    assert main(["render", str(path), "--stale"]) == 0
    assert "rendered 2 of 2" in capsys.readouterr().out, "shot 1 had no clip, shot 2's was stale"
    project = reopen(path)
    assert shot(project, "2").current_clip_take.backend == "hold" and not project.is_stale(shot(project, "2"))
    assert main(["motion", str(path), "crossfade"]) == 0
    project = reopen(path)
    assert project.is_stale(shot(project, "1")) and not project.is_stale(shot(project, "2")), (
        "a new project model makes the shots that follow it stale, not the shot with its own"
    )
    capsys.readouterr()
    assert main(["render", str(path), "--shots", "1", "--set", "sound=true"]) != 0
    assert "has no setting 'sound'" in capsys.readouterr().err
    assert main(["render", str(path), "--shots", "1", "--set", "loud"]) != 0
    assert "NAME=VALUE" in capsys.readouterr().err
    assert main(["render", str(path), "--seed", "-1"]) != 0
    assert "--seed -1 is out of range" in capsys.readouterr().err


def test_a_folder_chosen_as_motion_model_joins_the_model_list_and_is_stored_by_id(
    user_dirs: Path, tiny_ltx_dir: Path
) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    assert main(["motion", str(path), str(tiny_ltx_dir)]) == 0
    assert main(["motion", str(path), str(tiny_ltx_dir), "--shot", "1"]) == 0
    project = reopen(path)
    from app.cli.models import registry

    (local,) = registry().local()
    assert project.motion_model == shot(project, "1").motion_model == local.id, "one entry, stored by id"
    assert S.motion_model(project, shot(project, "1")).path == str(tiny_ltx_dir.resolve())


def test_a_project_can_not_point_the_app_at_a_folder_of_its_own(user_dirs: Path, tiny_ltx_dir: Path) -> None:
    """A project from someone else names models, never paths: a path in it is not followed."""
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    session = ProjectSession.open(path)
    try:
        from app import commands as C

        session.do(C.set_project_settings(session.project, motion_model=str(tiny_ltx_dir)))
        with pytest.raises(PinframeError, match="the project renders with .* not a model folder, a built-in"):
            S.motion_model(session.project, shot(session.project, "1"))
    finally:
        session.close()


def test_a_shot_whose_model_is_gone_is_named(user_dirs: Path) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    session = ProjectSession.open(path)
    try:
        from app import commands as C

        target = shot(session.project, "1")
        session.do(C.set_shot_fields(session.project, target.id, motion_model="local-deleted-model"))
        with pytest.raises(PinframeError, match="shot 1 renders with 'local-deleted-model'"):
            S.motion_model(session.project, session.project.shot(target.id))
    finally:
        session.close()


def test_resolve_model_reads_the_folder_kind(tiny_ltx_dir: Path, tiny_if_dir: Path, tiny_if_sr_dir: Path) -> None:
    assert S.resolve_model(str(tiny_ltx_dir), kind="motion").backend == "ltx"
    with pytest.raises(PinframeError, match="LTXConditionPipeline .*can't make keyframes"):
        S.resolve_model(str(tiny_ltx_dir), kind="keyframe")
    with pytest.raises(PinframeError, match="IFPipeline .*can't make clips"):
        S.resolve_model(str(tiny_if_dir), kind="motion")
    with pytest.raises(PinframeError, match="second stage of DeepFloyd IF"):
        S.resolve_model(str(tiny_if_sr_dir), kind="keyframe")


def test_a_local_motion_model_is_added_by_its_folder_and_chosen_by_id(user_dirs: Path, tiny_ltx_dir: Path) -> None:
    from app.cli.models import registry

    model = registry().add_local(tiny_ltx_dir)
    assert (model.kind, model.backend) == ("motion", "ltx")
    spec = S.resolve_model(model.id, kind="motion")
    assert (spec.backend, spec.model_id, spec.path) == ("ltx", model.id, str(tiny_ltx_dir.resolve()))
    from engine.errors import EngineError

    with pytest.raises(EngineError, match="motion model, not a keyframe one"):
        registry().add_local(tiny_ltx_dir, "keyframe", model_id="again")


# --- what a clip records, and its sound ----------------------------------------------------------
def _wav_ramp(path: Path, seconds: float, rate: int = 16000) -> np.ndarray:
    samples = np.linspace(-0.9, 0.9, round(seconds * rate), dtype=np.float32)
    write_wav(path, samples, rate)
    return samples


def _stored_clip_with_sound(bundle: Bundle, tmp_path: Path, frames: int, fps: Fraction) -> S.StoredClip:
    from engine.backends.fit import write_png
    from engine.jobs import frame_name

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(frames):
        write_png(folder / frame_name(i), np.full((180, 320, 3), i * 4, np.uint8))
    _wav_ramp(tmp_path / "audio.wav", frames / fps)
    result = ClipResult(
        str(folder),
        frames,
        320,
        180,
        fps.numerator,
        fps.denominator,
        "ltx2",
        "tiny-ltx2",
        notes="LTX-2 rendered 33 frames",
        audio_path=str(tmp_path / "audio.wav"),
        model_revision="0123456789abcdef0123",
        params=(("sound", True), ("steps", 8)),
    )
    return S.store_clip(bundle, result)


def test_clip_provenance_and_sound_are_saved_and_the_sound_goes_on_the_lane(user_dirs: Path) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)  # shot 1: 24 frames with 2 handles, 24 fps
    session = ProjectSession.open(path)
    try:
        target = shot(session.project, "1")
        frames = target.duration + 2 * target.handles
        stored = _stored_clip_with_sound(session.bundle, user_dirs, frames, Fraction(24))
        job, inputs_hash = S.render_plan(session.project, session.bundle, target.id, ModelSpec("flow"), 0)
        session.do(S.render_result_command(session.project, target.id, job, stored, inputs_hash))
        clip: ClipTake = session.project.shot(target.id).current_clip_take
        assert clip.audio is not None and clip.settings == (("sound", True), ("steps", 8))
        assert clip.made_by == "ltx2 tiny-ltx2 @0123456789ab (sound True, steps 8)"
        session.do(S.place_clip_sound(session.bundle, session.project, target.id))
        lane = session.project.audio[-1]
        assert lane.start == session.project.shot_start(target.id) and lane.name == "Shot 1 sound"
        with wave.open(str(session.bundle.media.path(lane.media)), "rb") as placed:
            assert placed.getnframes() == round(target.duration / 24 * 16000), "the cut's part, without handles"
            first = np.frombuffer(placed.readframes(1), "<i2")[0] / 32767
        ramp = np.linspace(-0.9, 0.9, round(frames / 24 * 16000))
        assert first == pytest.approx(ramp[round(target.handles / 24 * 16000)], abs=1e-3)
    finally:
        session.close()
    project = reopen(path)
    clip = shot(project, "1").current_clip_take
    assert clip.notes == "LTX-2 rendered 33 frames" and clip.model_revision.startswith("0123")
    assert clip.audio is not None and (path / clip.audio.relpath).is_file()
    assert project.audio[-1].name == "Shot 1 sound"


def test_placing_sound_of_a_clip_without_any_says_how_to_get_it(user_dirs: Path) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    assert main(["render", str(path), "--shots", "1"]) == 0
    session = ProjectSession.open(path)
    try:
        with pytest.raises(PinframeError, match="has no sound; render it with a model that makes sound"):
            S.place_clip_sound(session.bundle, session.project, shot(session.project, "1").id)
    finally:
        session.close()


# --- the current video models, end to end from the command line --------------------------------
def _three_pins(path: Path) -> list[int]:
    """Give shot 1 a third pin in the middle; returns its pins' frames in the clip (handles added)."""
    from app import commands as C
    from app.document import KeyframeTake, new_id
    from tests.engine.test_runtime import pin_file

    session = ProjectSession.open(path)
    try:
        target = shot(session.project, "1")
        image = session.bundle.media.put_file(pin_file(path.parent, "mid.png", 77, size=(160, 90)))
        take = KeyframeTake(new_id(), image, 160, 90)
        session.do(C.add_keyframe_take(session.project, target.id, take, pin_frame=11))
        target = session.project.shot(target.id)
        return [p.frame + target.handles for p in target.pins]
    finally:
        session.close()


def _pinned_frames_land_where_pinned(path: Path, number: str, frames_at: list[int]) -> None:
    """Each pin's picture is closer to the clip's frame at its index than to any other frame."""
    from app.video import read_frames
    from engine.backends.fit import fit_image, read_rgb

    project = reopen(path)
    target = shot(project, number)
    decoded = np.stack(list(read_frames(path / target.current_clip_take.media.relpath))).astype(np.float32)
    takes = {t.id: t for t in target.keyframe_takes}
    for pin, index in zip(target.pins, frames_at, strict=True):
        picture = fit_image(read_rgb(path / takes[pin.take_id].image.relpath), project.width, project.height)[0]
        errors = ((decoded - picture.astype(np.float32)) ** 2).mean(axis=(1, 2, 3))
        # Exact up to H.264 (MSE 20 is 35 dB), and no frame matches better (held frames tie).
        assert errors[index] < 20 and errors[index] <= errors.min() * 1.01 + 0.01, (index, errors.round(1))


@pytest.mark.parametrize(
    ("fixture", "backend", "extra"),
    [
        ("tiny_ltx2_dir", "ltx2", ["--steps", "2", "--set", "sound=true", "--place-sound"]),
        ("tiny_wan22_dir", "wan22", ["--steps", "2"]),
        # Steps as a setting (what the window's field sets), not --steps.
        ("tiny_vace_dir", "wan-vace", ["--set", "conditioning_scale=1.5", "--set", "steps=2"]),
    ],
)
def test_a_shot_with_three_pins_renders_with_each_current_video_model(
    user_dirs: Path, request: pytest.FixtureRequest, fixture: str, backend: str, extra: list[str], capsys
) -> None:
    """The director's path: add the folder, choose it for the project, render; pins on their frames."""
    folder: Path = request.getfixturevalue(fixture)
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    frames_at = _three_pins(path)
    assert main(["models", "add", str(folder)]) == 0
    model_id = capsys.readouterr().out.split()[1].rstrip(":")
    assert main(["motion", str(path), model_id]) == 0
    assert main(["render", str(path), "--shots", "1", "--work-pixels", "4096", *extra]) == 0
    project = reopen(path)
    clip = shot(project, "1").current_clip_take
    assert (clip.backend, clip.model_id) == (backend, model_id)
    assert not project.is_stale(shot(project, "1"))
    settings = dict(clip.settings)
    assert settings["steps"] == 2
    if backend == "ltx2":
        assert settings["sound"] is True and clip.audio is not None
        assert project.audio and project.audio[-1].name == "Shot 1 sound"
    if backend == "wan-vace":
        assert settings["conditioning_scale"] == 1.5
    _pinned_frames_land_where_pinned(path, "1", frames_at)


def test_motion_settings_keep_only_what_differs_from_the_defaults(user_dirs: Path) -> None:
    path = small_project(user_dirs / "S.pinframe", user_dirs)
    session = ProjectSession.open(path)
    try:
        target = shot(session.project, "1")
        session.do(S.motion_settings_command(session.project, target.id, "ltx2", "ltx-2", {"sound": True}))
        render = session.project.shot(target.id).render
        assert (render.backend, render.model_id, render.params) == ("ltx2", "ltx-2", (("sound", "true"),))
        assert S.shot_settings(session.project.shot(target.id), "ltx2")["sound"] is True
        assert S.shot_settings(session.project.shot(target.id), "wan-vace")["conditioning_scale"] == 1.0
        session.do(S.motion_settings_command(session.project, target.id, "ltx2", "ltx-2", {"sound": False}))
        assert session.project.shot(target.id).render.params == (), "back to the default: nothing stored"
        assert S.motion_settings_command(session.project, target.id, "ltx2", "ltx-2", {"sound": False}) is None
        with pytest.raises(PinframeError, match="shot 1: ltx2 setting 'strength' is 2; use 0 to 1"):
            S.motion_settings_command(session.project, target.id, "ltx2", "ltx-2", {"strength": 2})
    finally:
        session.close()


def test_a_new_prompt_template_makes_clips_stale_and_the_built_in_one_keeps_old_hashes(user_dirs: Path) -> None:
    from app.render_inputs import shot_inputs_hash

    path = small_project(user_dirs / "S.pinframe", user_dirs)
    assert main(["render", str(path), "--shots", "1"]) == 0
    project = reopen(path)
    one = shot(project, "1")
    assert not project.is_stale(one)
    from dataclasses import replace

    templated = replace(project, prompt_template="{prompt}, {move}")
    assert templated.is_stale(shot(templated, "1")), "the motion prompt changed"
    assert shot_inputs_hash(one, replace(project, prompt_template="")) == one.current_clip_take.inputs_hash
