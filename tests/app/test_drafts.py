"""Draft clips (fewer steps or a smaller work size than a final render), Render Stale, and handles.

The CLI runs in this process (``app.cli.main``) against real bundles and a real engine: the
model-free flow backend, and a tiny random-weight LTX folder where steps and size matter.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from app import commands as C
from app import engine_service as S
from app.bundle import Bundle
from app.cli import main
from app.clip_state import clip_state, needs_render
from app.document import KeyframeTake, Pin, Project, RenderSettings, Scene, Shot, new_id
from app.export.plan import ExportOptions
from app.export.run import REPORT_NAME, export_project
from app.media_ref import MediaRef
from app.session import ProjectSession
from app.timecode import FrameRate
from app.video import probe
from engine.backend_registry import get_backend
from engine.jobs import ClipJob, ModelSpec, PinImage
from tests.app.test_cli_engine import reopen
from tests.engine.test_runtime import pin_file

torch.set_num_threads(1)


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PINFRAME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def tiny_project(path: Path, tmp_path: Path, *, handles: int = 0, duration: int = 8) -> Path:
    """64x36 at 24 fps: shots 1 and 2, each pinned at its first and last frame."""
    bundle = Bundle.create(path, Project("Drafts", FrameRate(24), width=64, height=36))
    takes = [
        KeyframeTake(new_id(), bundle.media.put_file(pin_file(tmp_path, f"k{i}.png", i, size=(64, 36))), 64, 36)
        for i in range(4)
    ]
    shots = tuple(
        Shot(
            new_id(),
            str(n + 1),
            duration,
            prompt="a door opens",
            handles=handles,
            keyframe_takes=tuple(takes[2 * n : 2 * n + 2]),
            pins=(Pin(0, takes[2 * n].id), Pin(duration - 1, takes[2 * n + 1].id)),
        )
        for n in range(2)
    )
    bundle.save(Project("Drafts", FrameRate(24), width=64, height=36, scenes=(Scene(new_id(), "INT", shots=shots),)))
    bundle.close()
    return path


def shot_of(project: Project, number: str) -> Shot:
    return next(s for s in project.shots() if s.number == number)


def info_json(path: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["info", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    return {s["number"]: s for scene in summary["scenes"] for s in scene["shots"]} | {"": summary}


# --- the rule --------------------------------------------------------------------------------
def ltx_job(steps: int = 0, work_pixels: int = 0, backend: str = "ltx") -> ClipJob:
    return ClipJob(ModelSpec(backend), 9, 24, 1, 64, 36, (PinImage(0, "k.png"),), steps=steps, work_pixels=work_pixels)


def test_the_draft_rule_compares_steps_with_the_shots_setting_and_size_with_the_backend_default():
    ltx = get_backend("ltx")
    default_steps = ltx.setting("steps").default
    shot = Shot(new_id(), "1", 8)
    assert not S.is_draft(ltx_job(), shot), "the backend's own steps and size make a final render"
    assert S.draft_reason(ltx_job(steps=1), shot) == f"1 of {default_steps} steps"
    assert not S.is_draft(ltx_job(steps=default_steps + 5), shot), "more steps than asked is no draft"
    assert S.draft_reason(ltx_job(work_pixels=2048), shot) == f"2048 of {ltx.default_pixels} pixels a frame"
    assert not S.is_draft(ltx_job(work_pixels=ltx.default_pixels * 2), shot)
    assert S.draft_reason(ltx_job(steps=1, work_pixels=2048), shot).count("of") == 2

    # The shot's own steps setting is the final one; another backend's settings don't count.
    four = replace(shot, render=RenderSettings("ltx", "", 0, (("steps", "4"),)))
    assert S.is_draft(ltx_job(steps=3), four) and not S.is_draft(ltx_job(steps=4), four)
    wan_steps = get_backend("wan").setting("steps").default
    assert S.draft_reason(ltx_job(steps=3, backend="wan"), four) == f"3 of {wan_steps} steps"


def test_backends_without_steps_or_a_work_size_never_make_drafts():
    flow = ClipJob(ModelSpec("flow"), 9, 24, 1, 64, 36, (PinImage(0, "k.png"),), steps=1, work_pixels=16)
    assert not S.is_draft(flow, Shot(new_id(), "1", 8))


def test_the_render_result_marks_a_draft_against_the_settings_it_was_planned_with():
    take = KeyframeTake(new_id(), MediaRef("ab" * 32, "png"), 64, 36)
    shot = Shot(new_id(), "1", 8, keyframe_takes=(take,), pins=(Pin(0, take.id),))
    project = Project("P", FrameRate(24), scenes=(Scene(new_id(), shots=(shot,)),))
    clip = S.StoredClip(MediaRef("cd" * 32, "mp4"), 8, "ltx", "")
    job = ltx_job(steps=2)
    made = S.render_result_command(project, shot.id, job, clip, "h").apply(project)[0]
    assert made.shot(shot.id).current_clip_take.draft
    # Rendering with --set steps=2 makes 2 the shot's setting: the same job is then its final render.
    made = S.render_result_command(project, shot.id, job, clip, "h", {"steps": 2}).apply(project)[0]
    assert not made.shot(shot.id).current_clip_take.draft


# --- drafts end to end, with a model whose steps and size matter ---------------------------------
def test_draft_render_info_and_render_stale_with_and_without_keep_drafts(user_dirs, tiny_ltx_dir, capsys):
    path = tiny_project(user_dirs / "D.pinframe", user_dirs)
    assert main(["motion", str(path), str(tiny_ltx_dir)]) == 0
    assert main(["motion", str(path), "flow", "--shot", "2"]) == 0
    # Shot 1 is a draft twice over (1 of its 2 steps, a tiny work size); shot 2 renders with flow,
    # which has neither knob, so the same small work size is no draft there.
    assert main(["render", str(path), "--shots", "1", "--steps", "1", "--work-pixels", "2048", "--set", "steps=2"]) == 0
    assert main(["render", str(path), "--shots", "2", "--work-pixels", "2048"]) == 0
    project = reopen(path)
    first, second = shot_of(project, "1"), shot_of(project, "2")
    assert first.current_clip_take.draft and first.current_clip_take.backend == "ltx"
    assert not second.current_clip_take.draft
    assert (clip_state(project, first), clip_state(project, second)) == ("draft", "current")
    assert not project.is_stale(first), "a draft's inputs are current: it is not stale"
    assert S.shots_to_render(project, "stale") == [first.id]
    assert S.shots_to_render(project, "stale", keep_drafts=True) == []

    shots = info_json(path, capsys)
    assert (shots["1"]["clip"], shots["2"]["clip"]) == ("draft", "current")
    assert (shots[""]["draft_count"], shots[""]["stale_count"]) == (1, 0)
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "2 rendered, 0 stale, 1 draft" in text and "clip draft" in text

    draft_take = first.current_clip
    assert main(["render", str(path), "--stale", "--keep-drafts"]) == 0
    assert "nothing to render" in capsys.readouterr().out
    assert shot_of(reopen(path), "1").current_clip == draft_take

    assert main(["render", str(path), "--stale"]) == 0
    assert "rendered 1 of 1" in capsys.readouterr().out
    project = reopen(path)
    final = shot_of(project, "1").current_clip_take
    assert final.id != draft_take and not final.draft
    assert dict(final.settings)["steps"] == 2
    assert shot_of(project, "2").current_clip == second.current_clip, "a current clip is left alone"
    assert clip_state(project, shot_of(project, "1")) == "current"
    assert main(["render", str(path), "--stale"]) == 0
    assert "nothing to render" in capsys.readouterr().out


def test_keep_drafts_without_stale_is_refused(user_dirs, capsys):
    path = tiny_project(user_dirs / "D.pinframe", user_dirs)
    assert main(["render", str(path), "--keep-drafts"]) != 0
    assert "--keep-drafts goes with --stale" in capsys.readouterr().err


# --- handles ----------------------------------------------------------------------------------
def test_a_clip_rendered_without_handles_is_stale_and_render_stale_renders_them(user_dirs, capsys):
    path = tiny_project(user_dirs / "H.pinframe", user_dirs)
    assert main(["render", str(path)]) == 0
    session = ProjectSession.open(path)
    first = shot_of(session.project, "1")
    assert first.current_clip_take.frame_count == first.duration
    session.do(C.set_shot_fields(session.project, first.id, handles=3))
    project = session.project
    assert project.is_stale(project.shot(first.id)), "handles are part of a clip's inputs"
    assert clip_state(project, project.shot(first.id)) == "stale"
    assert needs_render(project, project.shot(first.id), keep_drafts=True)
    assert S.shots_to_render(project, "stale") == [first.id]
    session.close()

    capsys.readouterr()
    assert main(["render", str(path), "--stale"]) == 0
    assert "rendered 1 of 1" in capsys.readouterr().out
    shot = shot_of(reopen(path), "1")
    assert shot.current_clip_take.frame_count == shot.duration + 2 * 3
    assert probe(path / shot.current_clip_take.media.relpath).frame_count == shot.duration + 6


def export_report(path: Path, folder: Path, **options) -> str:
    session = ProjectSession.open(path)
    try:
        export_project(session.project, session.media, folder, ExportOptions(**options))
    finally:
        session.close()
    return (folder / REPORT_NAME).read_text(encoding="utf-8")


def sources_line(report: str, number: str) -> str:
    return next(line for line in report.splitlines() if line.split()[:1] == [number])


def test_the_export_report_names_each_shot_whose_clip_lacks_its_handles(user_dirs):
    path = tiny_project(user_dirs / "E.pinframe", user_dirs)
    assert main(["render", str(path)]) == 0
    session = ProjectSession.open(path)
    first = shot_of(session.project, "1")
    session.do(C.set_shot_fields(session.project, first.id, handles=8))
    session.close()

    report = export_report(path, user_dirs / "out", formats=frozenset({"movies"}), codec="h264")
    assert (
        "shot 1: clip rendered without its 8 handle frames each side; handles are held frames — "
        "render it again for motion" in report
    )
    assert "clip rendered without its handles" in sources_line(report, "1")
    assert "shot 2: clip rendered" not in report, "shot 2 has no handles to miss"

    # Export handles longer than the shot's own: the fix is to give the shot handles first.
    report = export_report(path, user_dirs / "out2", formats=frozenset({"csv"}), handles=4)
    assert "shot 2: clip rendered without its 4 handle frames each side" in report
    assert "give the shot 4 handles and render it again for motion" in report


def test_a_clip_with_some_of_its_handles_says_how_many(user_dirs):
    path = tiny_project(user_dirs / "F.pinframe", user_dirs, handles=2)
    assert main(["render", str(path), "--shots", "1"]) == 0
    session = ProjectSession.open(path)
    first = shot_of(session.project, "1")
    session.do(C.set_shot_fields(session.project, first.id, handles=5))
    session.close()
    report = export_report(path, user_dirs / "out", formats=frozenset({"csv"}))
    assert "shot 1: clip rendered with 2 of its 5 handle frames each side" in report

    assert main(["render", str(path), "--stale"]) == 0
    report = export_report(path, user_dirs / "out2", formats=frozenset({"csv"}))
    assert "handle frames each side" not in report, "once rendered with its handles, nothing is said"
