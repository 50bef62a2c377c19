"""Live motion drafts (ui.live_draft): flow drafts of edited shots at viewer size, out of the document."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app import commands as C
from engine.backends.fit import fit_image, read_rgb
from engine.events import Cancelled
from engine.jobs import ModelSpec
from tests.ui.conftest import run_until

torch.set_num_threads(1)


@pytest.fixture
def draft_engine(tmp_path):
    from engine.devices import DeviceSettings
    from engine.runtime import Engine

    engine = Engine(tmp_path / "live-drafts", DeviceSettings(device="cpu", precision="fp32"), preview_every=0)
    yield engine
    engine.shutdown()


@pytest.fixture
def live(editor, draft_engine):
    from ui.live_draft import LiveDrafts

    drafts = LiveDrafts(editor, draft_engine, picture_area=lambda: (400, 232))
    yield drafts
    drafts.shutdown()


@pytest.fixture
def viewer(editor, live, qtbot):
    from ui.viewer import ViewerWidget

    v = ViewerWidget(editor, display_size=(320, 180))
    v.set_live_drafts(live)
    qtbot.addWidget(v)
    v.resize(400, 260)
    v.show()
    return v


def shot1(editor):
    return editor.project.scenes[0].shots[0]


def pin_image(editor, shot, frame: int, size: tuple[int, int]) -> np.ndarray:
    take = shot.keyframe(shot.pin_at(frame).take_id)
    return fit_image(read_rgb(editor.session.media.path(take.image)), *size)[0]


def test_moving_a_pin_drafts_the_shot_and_the_viewer_shows_it_marked_draft(editor, live, viewer, loop):
    shot = shot1(editor)
    editor.set_playhead(20)
    run_until(loop, lambda: viewer.shown_frame == 20)
    assert viewer.shown_key[0] == "pins"  # a crossfade of the pins until a draft comes
    editor.do(C.move_pin(editor.project, shot.id, 47, 40))
    assert live.status(shot.id) == "queued"
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    draft = live.lookup(editor.project, editor.project.shot(shot.id))
    assert draft.frames.shape == (48, 180, 320, 3)  # the viewer's size (never above the project's)
    moved = editor.project.shot(shot.id)
    assert np.array_equal(draft.frames[40], pin_image(editor, moved, 40, (320, 180)))
    assert np.array_equal(draft.frames[45], draft.frames[40]), "after the last pin the draft holds it"
    run_until(loop, lambda: viewer.shown_key is not None and viewer.shown_key[0] == "live")
    assert viewer.shown_frame == 20 and np.array_equal(viewer.shown_pixels(), draft.frames[20])
    assert viewer.draft_mark() == "DRAFT"
    picture = viewer.grab().toImage()
    pill = picture.pixelColor(14, 12)
    assert (pill.red(), pill.green(), pill.blue()) == pytest.approx((79, 134, 198), abs=30), "the DRAFT mark is drawn"
    # Shot 2 was not edited: no draft there, its pin shows as before.
    editor.set_playhead(50)
    run_until(loop, lambda: viewer.shown_frame == 50)
    assert viewer.shown_key[0] != "live" and viewer.draft_mark() == ""


def test_a_second_edit_cancels_the_first_draft_job(editor, live, draft_engine, loop):
    shot = shot1(editor)
    events = draft_engine.events()
    # A long shot (240 frames, pins 0 and 239): its draft runs long enough to edit under it.
    editor.do(C.retime_shot(editor.project, shot.id, 240))
    editor.do(C.move_pin(editor.project, shot.id, 47, 239))
    live.draft_now()
    first = live.job_of(shot.id)
    assert first is not None
    run_until(loop, lambda: live.status(shot.id) == "drafting", timeout=30)
    editor.do(C.move_pin(editor.project, shot.id, 239, 60))
    while not isinstance(event := events.get(timeout=30), Cancelled) or event.job_id != first:
        assert not (event.terminal and event.job_id == first), f"the first draft should be cancelled, got {event}"
    live.draft_now()
    second = live.job_of(shot.id)
    assert second not in (None, first)
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    draft = live.lookup(editor.project, editor.project.shot(shot.id))
    assert len(draft.frames) == 240
    assert np.array_equal(
        draft.frames[60], pin_image(editor, editor.project.shot(shot.id), 60, draft.frames.shape[2:0:-1])
    )
    events.close()


def test_drafts_never_change_the_project_or_its_undo_history(editor, live, viewer, loop):
    from ui.timeline import TimelineWidget

    timeline = TimelineWidget(editor)
    timeline.live_drafts = live
    shot = shot1(editor)
    session = editor.session
    media_before = sorted(p.name for p in (session.path / "media").rglob("*"))
    editor.do(C.move_pin(editor.project, shot.id, 47, 30))
    project, revision = editor.project, session.history.revision
    assert timeline.live_mark(shot.id) == "drafting"
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    assert timeline.live_mark(shot.id) == "live" and not timeline.grab().isNull()
    assert editor.project is project and session.history.revision == revision
    assert session.history.undo_label == "Move Pin"
    assert sorted(p.name for p in (session.path / "media").rglob("*")) == media_before, "nothing in the bundle"
    draft = live.lookup(project, project.shot(shot.id))
    # A prompt says nothing to optical flow: the same draft stays, no new job.
    editor.do(C.set_shot_fields(editor.project, shot.id, prompt="the door slams"))
    assert live.lookup(editor.project, editor.project.shot(shot.id)) is draft and live.job_of(shot.id) is None
    editor.undo()
    editor.undo()
    assert not session.history.can_undo, "only the director's two edits were in the history"
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)  # the shot as it was: drafted again
    # Redo back to the moved pin: its draft is still in memory, keyed by the shot's inputs hash.
    editor.redo()
    assert live.lookup(editor.project, editor.project.shot(shot.id)) is draft and live.job_of(shot.id) is None
    editor.set_playhead(10)
    run_until(loop, lambda: viewer.shown_frame == 10)
    assert viewer.shown_key == ("live", draft.inputs_hash, 10)
    assert np.array_equal(viewer.shown_pixels(), draft.frames[10])


def test_a_current_clip_wins_over_the_live_draft(editor, live, viewer, bridge, loop):
    shot = shot1(editor)
    editor.do(C.move_pin(editor.project, shot.id, 47, 36))
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    editor.set_playhead(12)
    run_until(loop, lambda: viewer.shown_key is not None and viewer.shown_key[0] == "live")
    # A render of the shot (the project's motion model, at the project's size) lands as its current clip.
    [job_id] = bridge.render([shot.id], ModelSpec("flow"))
    run_until(loop, lambda: bridge.jobs[job_id].status == "done", timeout=60)
    rendered = editor.project.shot(shot.id)
    assert rendered.current_clip_take is not None and not rendered.current_clip_take.draft
    assert live.lookup(editor.project, rendered) is None and live.status(shot.id) == ""
    run_until(loop, lambda: viewer.shown_key is not None and viewer.shown_key[0] == "clip")
    assert viewer.draft_mark() == ""
    # Editing again makes the clip stale: the shot is drafted again, and the draft shows.
    editor.do(C.move_pin(editor.project, shot.id, 36, 30))
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    run_until(loop, lambda: viewer.shown_key is not None and viewer.shown_key[0] == "live")


def test_a_draft_on_a_busy_shared_engine_says_it_waits_then_runs_first(editor, bridge, loop):
    from ui.live_draft import LiveDrafts

    live = LiveDrafts(editor, bridge.engine, picture_area=lambda: (320, 180))
    shot = shot1(editor)
    # A long render (120 frames) holds the engine's one worker.
    editor.do(C.retime_shot(editor.project, shot.id, 120))
    editor.do(C.move_pin(editor.project, shot.id, 47, 119))
    [render] = bridge.render([shot.id], ModelSpec("flow"))
    run_until(loop, lambda: bridge.jobs[render].status == "running", timeout=30)
    live.draft_now()
    draft_job = live.job_of(shot.id)
    another = bridge.render([editor.project.scenes[0].shots[1].id], ModelSpec("flow"))[0]  # queued behind
    assert live.status_text(shot.id) == "DRAFT WAITS FOR THE RUNNING RENDER"
    assert bridge.engine.queued_jobs()[0] == draft_job, "a draft goes before queued renders"
    bridge.cancel(render)
    bridge.cancel(another)
    editor.do(C.move_pin(editor.project, shot.id, 119, 40))  # quicker to draft
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    live.shutdown()


def test_draft_size_follows_the_viewer_within_caps():
    from ui.live_draft import DRAFT_MAX_SIDE, DRAFT_MIN_SIDE, draft_size

    assert draft_size((1920, 1080), (500, 300)) == (500, 282)  # the viewer's size, the project's shape
    assert draft_size((1920, 1080), (3000, 2000)) == (DRAFT_MAX_SIDE, 360)
    assert draft_size((320, 180), (1000, 1000)) == (320, 180), "never bigger than the project"
    w, h = draft_size((1920, 1080), (760, 428), max_pixels=100_000)  # the time budget's share
    assert w * h <= 100_000 * 1.02 and w % 2 == 0 and h % 2 == 0 and abs(w / h - 16 / 9) < 0.02
    assert draft_size((1920, 1080), (760, 428), max_pixels=10)[0] == DRAFT_MIN_SIDE
    with pytest.raises(ValueError, match="project size 8x8"):
        draft_size((8, 8), (760, 428))


def test_a_slow_machine_gets_smaller_drafts_not_later_ones(editor, live, loop):
    from ui.live_draft import DRAFT_MIN_SIDE, FIRST_SECONDS_PER_UNIT

    shot = shot1(editor)
    editor.do(C.move_pin(editor.project, shot.id, 47, 40))
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    assert live.seconds_per_unit != FIRST_SECONDS_PER_UNIT, "the draft was timed"
    assert live.lookup(editor.project, editor.project.shot(shot.id)).frames.shape[1:3] == (180, 320)
    live.seconds_per_unit = 1e-5  # a machine a hundred times slower: the next draft shrinks to fit the time
    editor.do(C.move_pin(editor.project, shot.id, 40, 44))
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    frames = live.lookup(editor.project, editor.project.shot(shot.id)).frames
    assert frames.shape[1:3] == (DRAFT_MIN_SIDE * 9 // 16, DRAFT_MIN_SIDE)


def test_the_view_menu_turns_live_drafts_off_and_remembers(qtbot, loop, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from app.document import Project
    from app.session import ProjectSession
    from app.timecode import FrameRate
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from tests.ui.conftest import small_project
    from ui.live_draft import SETTING_KEY
    from ui.main_window import MainWindow

    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    path = tmp_path / "Live.pinframe"
    session = ProjectSession.create(path, Project("Live", FrameRate(24), width=320, height=180))
    session.bundle.save(small_project(session.media, tmp_path))
    session.close()
    window = MainWindow(Engine(tmp_path / "engine", DeviceSettings(device="cpu", precision="fp32")))
    try:
        assert loop.run_until_complete(window.open_project(path))
        assert window.act_live_drafts.isCheckable() and window.act_live_drafts.isChecked()
        window.act_live_drafts.trigger()
        assert QSettings().value(SETTING_KEY, True, bool) is False
        state = window.state
        shot = state.project.scenes[0].shots[0]
        state.do(C.move_pin(state.project, shot.id, 47, 40))
        loop.run_until_complete(__import__("asyncio").sleep(0.4))  # well past the quiet period
        assert window.live_drafts.job_of(shot.id) is None and window.live_drafts.status(shot.id) == ""
        assert not (tmp_path / "live-drafts").exists(), "no draft engine was even started"
        # On again: the shot being looked at is drafted at once, on a light engine beside the window's.
        state.set_current_shot(shot.id)
        window.act_live_drafts.trigger()
        assert QSettings().value(SETTING_KEY, False, bool) is True
        run_until(loop, lambda: window.live_drafts.status(shot.id) == "ready", timeout=30)
        assert (tmp_path / "live-drafts").is_dir()
        assert window.timeline.live_mark(shot.id) == "live"
    finally:
        loop.run_until_complete(window.close_project())
        window.close()
        window.bridge.shutdown()
        window.deleteLater()


def test_a_draft_that_fails_says_why_and_editing_goes_on(editor, live, loop):
    shot = shot1(editor)
    messages = []
    editor.message.connect(messages.append)
    take = shot.keyframe(shot.pin_at(0).take_id)
    editor.session.media.path(take.image).unlink()  # the first pin's picture is gone from the bundle
    editor.do(C.move_pin(editor.project, shot.id, 47, 40))
    live.draft_now()
    run_until(loop, lambda: bool(live.last_failure), timeout=30)
    assert live.status(shot.id) == "" and live.job_of(shot.id) is None
    assert messages == [live.last_failure]
    assert "shot 1" in live.last_failure and "is missing; relink it" in live.last_failure
    assert editor.session.history.undo_label == "Move Pin"


def test_new_handles_draft_again_and_the_viewer_shows_the_shot_not_its_handles(editor, live, viewer, loop):
    shot = shot1(editor)
    editor.do(C.set_shot_fields(editor.project, shot.id, handles=4))
    run_until(loop, lambda: live.status(shot.id) == "ready", timeout=30)
    draft = live.lookup(editor.project, editor.project.shot(shot.id))
    assert len(draft.frames) == 48 + 2 * 4
    assert np.array_equal(draft.frames[4], pin_image(editor, shot, 0, (320, 180))), "the first pin, after 4 handles"
    editor.set_playhead(0)
    run_until(loop, lambda: viewer.shown_key is not None and viewer.shown_key[0] == "live" and viewer.shown_frame == 0)
    assert viewer.shown_key[2] == 4 and np.array_equal(viewer.shown_pixels(), draft.frames[4])
