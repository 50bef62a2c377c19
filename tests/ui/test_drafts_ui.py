"""Draft clips in the window: the timeline badge, the shots tree, the shot form, the jobs panel,
and Render ▸ Keep Drafts When Rendering Stale. Real Qt (offscreen), real engine, real bundles."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from app import commands as C
from app import engine_service as S
from app.clip_state import clip_state
from app.document import ClipTake, Project, new_id
from app.render_inputs import shot_inputs_hash
from app.session import ProjectSession
from app.timecode import FrameRate
from engine.jobs import ModelSpec
from tests.ui.conftest import run_until, small_project

torch.set_num_threads(1)
ENDED = ("done", "failed", "cancelled")


def add_clip(editor, shot_id: str, *, draft: bool) -> None:
    """A current clip take of the shot (its image stands in for the movie: only the marks are tested)."""
    shot = editor.project.shot(shot_id)
    take = ClipTake(
        new_id(),
        shot.keyframe_takes[0].image,
        shot_inputs_hash(shot, editor.project),
        shot.duration,
        backend="flow",
        draft=draft,
    )
    assert editor.edit(C.add_clip_take, shot_id, take)


def pill_colour(timeline, shot_id: str) -> tuple[int, int, int]:
    """The colour just inside the right edge of the shot's header badge, as painted."""
    from ui.timeline_layout import HEADER_H

    entry = next(e for e in timeline.state.cut.entries if e.shot.id == shot_id)
    body = timeline._block(entry).adjusted(0.5, 0.5, -0.5, -0.5)
    image = timeline.grab().toImage()
    ratio = image.devicePixelRatio()
    colour = image.pixelColor(round((body.right() - 7) * ratio), round((body.top() + HEADER_H / 2) * ratio))
    return colour.red(), colour.green(), colour.blue()


def rgb(colour) -> tuple[int, int, int]:
    return colour.red(), colour.green(), colour.blue()


def test_a_draft_clip_is_marked_in_the_timeline_the_shots_tree_and_the_shot_form(qtbot, editor, loop):
    from ui.shots_panel import ShotsPanel
    from ui.timeline import TimelineWidget
    from ui.timeline_paint import CLIP_OK, DRAFT, STALE

    timeline = TimelineWidget(editor)
    qtbot.addWidget(timeline)
    timeline.resize(1200, 200)
    timeline.set_pixels_per_frame(8.0)
    timeline.show()
    panel = ShotsPanel(editor)
    qtbot.addWidget(panel)
    panel.show()
    first, second = (s.id for s in list(editor.project.shots())[:2])
    add_clip(editor, first, draft=True)
    add_clip(editor, second, draft=False)
    editor.set_current_shot(first)

    assert (timeline.badge_for(first), timeline.badge_for(second)) == ("draft", "clip")
    assert pill_colour(timeline, first) == rgb(DRAFT) and pill_colour(timeline, second) == rgb(CLIP_OK)
    assert "draft" in timeline._tooltip(timeline._block(timeline.state.cut.entries[0]).center().toPoint())
    item = panel._items[("shot", first)]
    assert item.text(3) == "draft" and "Render Stale renders it in full" in item.toolTip(3)
    assert panel._items[("shot", second)].text(3) == "current"
    assert panel.shot_form.clip_info.text().startswith("draft · 48 fr")

    # Stale outranks draft: once its inputs change, a draft is as stale as any clip.
    assert editor.edit(C.set_shot_fields, first, prompt="the door slams")
    assert timeline.badge_for(first) == "stale" and pill_colour(timeline, first) == rgb(STALE)
    assert item.text(3) == "stale" and panel.shot_form.clip_info.text().startswith("stale")
    run_until(loop, lambda: timeline.thumbnails_pending() == 0, timeout=10)


def test_a_draft_render_says_so_when_it_finishes(qtbot, editor, bridge, loop, tiny_ltx_dir):
    from ui.jobs_panel import JobsPanel

    panel = JobsPanel(bridge)
    qtbot.addWidget(panel)
    panel.show()
    first, second = (s.id for s in list(editor.project.shots())[:2])
    ltx = S.resolve_model(str(tiny_ltx_dir), kind="motion")
    assert editor.edit(C.set_project_settings, motion_model=ltx.model_id)  # its clips are not stale
    (draft_job,) = bridge.render([second], ltx, steps=1, work_pixels=2048)
    (flow_job,) = bridge.render([first], ModelSpec("flow"), work_pixels=2048)
    run_until(loop, lambda: all(bridge.jobs[j].status in ENDED for j in (draft_job, flow_job)), timeout=120)
    assert bridge.jobs[draft_job].status == "done", bridge.jobs[draft_job].message

    steps = S.shot_settings(editor.project.shot(second), "ltx")["steps"]
    row = panel.rows[draft_job]
    assert row.status.text() == "Done · draft"
    assert f"1 of {steps} steps" in row.status.toolTip() and "pixels a frame" in row.status.toolTip()
    assert editor.project.shot(second).current_clip_take.draft
    assert clip_state(editor.project, editor.project.shot(second)) == "draft"
    assert second in S.shots_to_render(editor.project, "stale")
    assert second not in S.shots_to_render(editor.project, "stale", keep_drafts=True)
    # Flow has no steps or work size: the same small size is its final render.
    assert panel.rows[flow_job].status.text() == "Done"
    assert not editor.project.shot(first).current_clip_take.draft


@pytest.fixture
def window(qtbot, loop, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.app import create_application
    from ui.main_window import MainWindow

    app = create_application()
    app.setQuitOnLastWindowClosed(False)
    w = MainWindow(Engine(tmp_path / "engine-cache", DeviceSettings(device="cpu", precision="fp32")))
    w.show()
    yield w
    loop.run_until_complete(w.close_project())
    w.close()
    w.bridge.shutdown()
    w.deleteLater()


def rendered_shots(window, loop, job_ids: list[str]) -> list[str]:
    run_until(loop, lambda: all(window.bridge.jobs[j].status in ENDED for j in job_ids), timeout=120)
    assert {window.bridge.jobs[j].status for j in job_ids} <= {"done"}
    return [window.bridge.jobs[j].shot_id for j in job_ids]


def test_render_stale_renders_drafts_unless_keep_drafts_is_checked(window, loop, tmp_path: Path):
    from PySide6.QtCore import QSettings

    path = tmp_path / "Drafts.pinframe"
    session = ProjectSession.create(path, Project("Drafts", FrameRate(24), width=320, height=180))
    project = small_project(session.media, tmp_path)
    session.bundle.save(project)
    session.close()
    assert loop.run_until_complete(window.open_project(path))
    state = window.state
    first, second, _unpinned = (s.id for s in state.project.shots())
    add_clip(state, first, draft=True)

    action = window.act_keep_drafts
    assert action.isCheckable() and not action.isChecked()
    render_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Render")
    assert action in render_menu.actions()
    action.setChecked(True)
    assert QSettings().value("render/keep_drafts", False, bool) is True, "the choice outlives the window"
    assert rendered_shots(window, loop, loop.run_until_complete(window.render_shots("stale"))) == [second]
    assert state.project.shot(first).current_clip_take.draft, "the draft was kept"

    action.setChecked(False)
    assert QSettings().value("render/keep_drafts", True, bool) is False
    assert rendered_shots(window, loop, loop.run_until_complete(window.render_shots("stale"))) == [first]
    assert not state.project.shot(first).current_clip_take.draft
    assert loop.run_until_complete(window.render_shots("stale")) == []
