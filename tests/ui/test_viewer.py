"""The viewer: pictures at given frames, playback at the exact rate, editor keys, clips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from app import commands as C
from app.cut import fit
from engine.jobs import ModelSpec
from tests.ui.conftest import run_until


@pytest.fixture
def viewer(editor, qtbot):
    from ui.viewer import ViewerWidget

    v = ViewerWidget(editor, display_size=(320, 180))
    qtbot.addWidget(v)
    v.resize(400, 260)
    v.show()
    return v


def pin_picture(editor, shot, frame: int) -> np.ndarray:
    take = shot.keyframe(shot.pin_at(frame).take_id)
    data = np.fromfile(str(editor.session.media.path(take.image)), np.uint8)
    return fit(cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB), 320, 180)


def shown_at(viewer, loop, frame: int) -> np.ndarray:
    viewer.state.set_playhead(frame)
    run_until(loop, lambda: viewer.shown_frame == frame)
    return viewer.shown_pixels()


def test_pinned_frames_and_crossfades_between_them(editor, viewer, loop):
    shot1 = editor.project.scenes[0].shots[0]
    first, last = pin_picture(editor, shot1, 0), pin_picture(editor, shot1, 47)
    assert np.array_equal(shown_at(viewer, loop, 0), first)
    assert np.array_equal(shown_at(viewer, loop, 47), last)
    t = 20 / 47
    expected = cv2.addWeighted(first, 1 - round(t, 3), last, round(t, 3), 0)
    assert np.array_equal(shown_at(viewer, loop, 20), expected)
    viewer.cache.crossfade = False
    assert np.array_equal(shown_at(viewer, loop, 21), first), "hold mode shows the last pin"


def test_playback_shows_the_frame_due_at_each_time(editor, viewer, loop):
    now = [100.0]
    viewer.clock = lambda: now[0]
    viewer.play()
    for seconds, frame in ((0.5, 12), (1.0, 24), (2.5, 60), (3.0, 72)):
        now[0] = 100.0 + seconds
        viewer._tick()
        assert editor.playhead == frame
        run_until(loop, lambda f=frame: viewer.shown_frame == f)
    shot3 = editor.project.scenes[1].shots[0]
    assert editor.cut.locate(72)[0].shot.id == shot3.id
    now[0] = 100.0 + 10  # past the end: playback stops on the last frame
    viewer._tick()
    assert not viewer.playing and editor.playhead == editor.cut.length - 1


def test_ntsc_playback_does_not_drift(editor, viewer):
    editor.edit(C.set_project_settings, rate="24000/1001")
    now = [0.0]
    viewer.clock = lambda: now[0]
    editor.set_playhead(0)
    viewer.play()
    now[0] = 1001 / 24000 * 90 + 1e-6  # exactly 90 frame durations later
    viewer._tick()
    assert editor.playhead == 90


def test_editor_keys(editor, viewer, qtbot):
    viewer.setFocus()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert editor.playhead == 2
    qtbot.keyClick(viewer, Qt.Key.Key_Down)
    assert editor.playhead == 48, "next shot starts at 48"
    qtbot.keyClick(viewer, Qt.Key.Key_End)
    assert editor.playhead == editor.cut.length - 1
    qtbot.keyClick(viewer, Qt.Key.Key_Home)
    assert editor.playhead == 0
    qtbot.keyClick(viewer, Qt.Key.Key_Space)
    assert viewer.playing and viewer.speed == 1
    qtbot.keyClick(viewer, Qt.Key.Key_L)
    assert viewer.speed == 2
    qtbot.keyClick(viewer, Qt.Key.Key_K)
    assert not viewer.playing
    qtbot.keyClick(viewer, Qt.Key.Key_J)
    assert viewer.speed == -1
    assert viewer.timecode_text() == "00:00:00:00"


def test_a_current_clip_is_shown_instead_of_the_pins(editor, viewer, bridge, loop):
    shot2 = editor.project.scenes[0].shots[1]
    (job_id,) = bridge.render([shot2.id], ModelSpec("flow"))
    run_until(loop, lambda: bridge.jobs[job_id].status in ("done", "failed"))
    assert bridge.jobs[job_id].status == "done", bridge.jobs[job_id].message
    shown_at(viewer, loop, 48 + 5)
    assert viewer.shown_key[0] == "clip"
    # A held clip of one pin looks like the pin (through H.264: close, not equal).
    difference = np.abs(viewer.shown_pixels().astype(int) - pin_picture(editor, shot2, 0).astype(int)).mean()
    assert difference < 4
    editor.edit(C.set_shot_fields, shot2.id, prompt="changed: the clip is stale now")
    shown_at(viewer, loop, 48 + 6)
    assert viewer.shown_key[0] == "pins", "a stale clip is not shown as if it were current"


def test_takes_shown_in_place_of_the_cut_keep_their_keys(editor, viewer, loop, qtbot):
    """X, S and Esc act on the compared takes even where the window has shortcuts on those keys."""
    from PySide6.QtGui import QAction, QKeySequence

    from ui.take_compare import take_ref

    shot1 = editor.project.scenes[0].shots[0]
    refs = [take_ref(editor.project, editor.session.media, shot1.id, t.id) for t in shot1.keyframe_takes]
    fired = []
    for keys in ("X", "S", "Esc"):
        action = QAction(keys, viewer)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(lambda _=False, k=keys: fired.append(k))
        viewer.addAction(action)
    viewer.activateWindow()
    viewer.setFocus()

    viewer.show_takes(refs)
    run_until(loop, lambda: len(viewer.compare.pictures) == 2)
    assert viewer.compare.mode == "side" and [tag for tag, _p in viewer.compare.shown()] == ["A", "B"]
    qtbot.keyClick(viewer, Qt.Key.Key_X)
    assert viewer.compare.mode == "flip" and not viewer.compare.showing_b
    qtbot.keyClick(viewer, Qt.Key.Key_X)
    assert viewer.compare.showing_b
    qtbot.keyClick(viewer, Qt.Key.Key_S)
    assert viewer.compare.mode == "side"
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.showing_takes and fired == []
    qtbot.keyClick(viewer, Qt.Key.Key_X)
    assert fired == ["X"], "back on the cut, the window's own X shortcut works again"
    run_until(loop, lambda: viewer.shown_frame == 0)
    assert np.array_equal(viewer.shown_pixels(), pin_picture(editor, shot1, 0))
