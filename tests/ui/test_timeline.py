"""The timeline on a real Qt application (offscreen), driven by real mouse, wheel, key and drop events."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from app import commands as C
from app.document import ClipTake, KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.edits import Command, InsertScene
from app.media_ref import MediaRef
from app.render_inputs import shot_inputs_hash
from app.session import ProjectSession
from app.timecode import FrameRate, frames_to_timecode
from tests.engine.test_runtime import pin_file
from tests.ui.conftest import PPF, run_until
from ui.mime import take_mime


def shots(editor) -> dict[str, Shot]:
    return {s.number: s for s in editor.project.shots()}


def cut_numbers(editor) -> list[str]:
    return [s.number for s in editor.project.shots()]


def move(widget, pos: QPoint, buttons=Qt.MouseButton.LeftButton) -> None:
    # QTest's mouseMove carries no pressed buttons offscreen; send the event a real drag produces.
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        QPointF(pos),
        QPointF(widget.mapToGlobal(pos)),
        Qt.MouseButton.NoButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, event)


def drag(qtbot, widget, start: QPoint, end: QPoint, steps: int = 6) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for i in range(1, steps + 1):
        move(widget, start + (end - start) * i / steps)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def test_dragging_a_pin_moves_it_to_the_frame_under_the_cursor_in_one_undo_step(qtbot, timeline, editor):
    s1 = shots(editor)["1"]
    start = timeline.pin_rect(s1.id, 47).center().toPoint()
    end = QPoint(round(timeline.x_of_frame(30) + PPF / 2), start.y())
    drag(qtbot, timeline, start, end)
    expected = timeline.frame_at_x(end.x()) - 0  # shot 1 starts the cut
    assert expected == 30
    assert [p.frame for p in shots(editor)["1"].pins] == [0, expected]
    editor.undo()
    assert [p.frame for p in shots(editor)["1"].pins] == [0, 47]


def test_a_pin_skips_frames_taken_by_another_pin_and_stays_inside_its_shot(qtbot, timeline, editor):
    s1 = shots(editor)["1"]
    start = timeline.pin_rect(s1.id, 47).center().toPoint()
    # Over pin 0 and past the shot's head: the pin waits on the first free frame it reached.
    drag(qtbot, timeline, start, QPoint(2, start.y()), steps=48)
    assert [p.frame for p in shots(editor)["1"].pins] == [0, 1]
    start = timeline.pin_rect(s1.id, 1).center().toPoint()
    drag(qtbot, timeline, start, QPoint(round(timeline.x_of_frame(60)), start.y()))  # into shot 2: clamped
    assert [p.frame for p in shots(editor)["1"].pins] == [0, 47]
    editor.undo()
    assert [p.frame for p in shots(editor)["1"].pins] == [0, 1]


def test_dragging_the_right_edge_retimes_the_tail_in_one_undo_step(qtbot, timeline, editor):
    s1 = shots(editor)["1"]
    rect = timeline.shot_rect(s1.id)
    start = QPoint(round(rect.right()) - 2, round(rect.top() + 30))
    end = QPoint(round(timeline.x_of_frame(20)) + 1, start.y())
    drag(qtbot, timeline, start, end)
    assert shots(editor)["1"].duration == timeline.frame_at_x(end.x()) == 20
    assert [p.frame for p in shots(editor)["1"].pins] == [0, 19]  # the end pose follows the tail
    assert editor.cut.entry(shots(editor)["2"].id).start == 20
    editor.undo()
    assert shots(editor)["1"].duration == 48
    assert [p.frame for p in shots(editor)["1"].pins] == [0, 47]


def test_an_edge_drag_that_would_unpin_warns_and_dragging_back_restores_the_pins(qtbot, timeline, editor):
    s1 = shots(editor)["1"]
    rect = timeline.shot_rect(s1.id)
    start = QPoint(round(rect.right()) - 2, round(rect.top() + 30))
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=start)
    for x in range(start.x(), round(timeline.x_of_frame(1)), -16):
        move(timeline, QPoint(x, start.y()))
    move(timeline, QPoint(round(timeline.x_of_frame(1)) + 1, start.y()))
    assert shots(editor)["1"].duration == 1
    assert "unpins 1 keyframe" in timeline.retime_warning()
    move(timeline, start)  # back out within the same drag: computed from the shot as it was
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=start)
    assert shots(editor)["1"].duration == 48 and [p.frame for p in shots(editor)["1"].pins] == [0, 47]
    assert timeline.retime_warning() == ""


def test_escape_during_a_drag_puts_the_pin_back(qtbot, timeline, editor):
    s1 = shots(editor)["1"]
    start = timeline.pin_rect(s1.id, 47).center().toPoint()
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=start)
    move(timeline, QPoint(round(timeline.x_of_frame(10)), start.y()))
    assert [p.frame for p in shots(editor)["1"].pins] == [0, 10]
    qtbot.keyClick(timeline, Qt.Key.Key_Escape)
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=QPoint(round(timeline.x_of_frame(10)), start.y()))
    assert [p.frame for p in shots(editor)["1"].pins] == [0, 47]
    assert not editor.session.history.can_undo


def test_dragging_the_left_edge_trims_the_head(qtbot, timeline, editor):
    s2 = shots(editor)["2"]
    rect = timeline.shot_rect(s2.id)
    start = QPoint(round(rect.left()) + 2, round(rect.top() + 30))
    drag(qtbot, timeline, start, start + QPoint(round(4 * PPF), 0))
    assert shots(editor)["2"].duration == 20
    assert [p.frame for p in shots(editor)["2"].pins] == [0]  # the opening pose moved to the new head
    editor.undo()
    assert shots(editor)["2"].duration == 24


def test_dragging_a_shot_before_another_reorders_the_cut(qtbot, timeline, editor):
    s1, s3 = shots(editor)["1"], shots(editor)["3"]
    start = timeline.shot_rect(s3.id).center().toPoint() - QPoint(0, 10)
    end = QPoint(round(timeline.shot_rect(s1.id).left()) + 20, start.y())
    drag(qtbot, timeline, start, end)
    assert cut_numbers(editor) == ["3", "1", "2"]
    assert editor.current_shot == s3.id and editor.selection == [s3.id]
    editor.undo()
    assert cut_numbers(editor) == ["1", "2", "3"]
    assert [len(s.shots) for s in editor.project.scenes] == [2, 1]


def select_1_and_2(qtbot, timeline, editor) -> int:
    by = shots(editor)
    y = round(timeline.shot_rect(by["1"].id).top() + 30)
    at = {n: QPoint(round(timeline.shot_rect(by[n].id).center().x()), y) for n in ("1", "2")}
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=at["1"])
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, at["2"])
    assert editor.selection == [by["1"].id, by["2"].id]
    return y


def test_selected_shots_move_together_into_another_scene(qtbot, timeline, editor):
    y = select_1_and_2(qtbot, timeline, editor)
    by = shots(editor)
    start = QPoint(round(timeline.shot_rect(by["1"].id).center().x()), y)
    end = QPoint(round(timeline.shot_rect(by["3"].id).right()) - 20, y)  # right half of shot 3: after it
    drag(qtbot, timeline, start, end)
    assert [[s.number for s in scene.shots] for scene in editor.project.scenes] == [[], ["3", "1", "2"]]
    editor.undo()
    assert cut_numbers(editor) == ["1", "2", "3"]


def test_selected_shots_move_right_inside_their_own_scene(qtbot, timeline, editor):
    # commands.move_shots alone would interleave them here ([4, 1, 2] comes out [1, 4, 2]).
    editor.edit(C.add_shot, editor.project.scenes[0].id, duration=24, number="4")
    y = select_1_and_2(qtbot, timeline, editor)
    by = shots(editor)
    start = QPoint(round(timeline.shot_rect(by["2"].id).center().x()), y)
    end = QPoint(round(timeline.shot_rect(by["4"].id).right()) - 20, y)
    drag(qtbot, timeline, start, end)
    assert [[s.number for s in scene.shots] for scene in editor.project.scenes] == [["4", "1", "2"], ["3"]]
    assert editor.session.history.undo_label == "Move 2 Shots"
    editor.undo()
    assert cut_numbers(editor) == ["1", "2", "4", "3"]


def test_a_plain_click_selects_and_shift_click_extends(qtbot, timeline, editor):
    by = shots(editor)
    y = round(timeline.shot_rect(by["1"].id).top() + 30)
    at = {n: QPoint(round(timeline.shot_rect(s.id).center().x()), y) for n, s in by.items()}
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=at["2"])
    assert editor.current_shot == by["2"].id and editor.selection == [by["2"].id]
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=at["1"])
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, at["3"])
    assert editor.selection == [by["1"].id, by["2"].id, by["3"].id]
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=at["2"])
    assert editor.selection == [by["2"].id]


def test_clicking_the_ruler_moves_the_playhead_and_shows_its_timecode(qtbot, timeline, editor):
    x = round(timeline.x_of_frame(50)) + 3
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, 8))
    assert editor.playhead == timeline.frame_at_x(x) == 50
    assert timeline.playhead_label() == frames_to_timecode(50, FrameRate(24)) == "00:00:02:02"
    drag(qtbot, timeline, QPoint(x, 8), QPoint(round(timeline.x_of_frame(70)) + 1, 8))  # scrubbing
    assert editor.playhead == 70
    editor.edit(C.set_project_settings, start_frame=24 * 3600)  # start timecode 01:00:00:00
    assert timeline.playhead_label() == "01:00:02:22"


def test_ctrl_wheel_zooms_around_the_cursor_and_keys_around_the_playhead(qtbot, timeline, editor):
    x = 437
    frame = timeline.frame_at_x(x)
    wheel = QWheelEvent(
        QPointF(x, 100),
        QPointF(timeline.mapToGlobal(QPoint(x, 100))),
        QPoint(),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(timeline, wheel)
    assert timeline.pixels_per_frame == pytest.approx(PPF * 1.25**2)
    assert timeline.frame_at_x(x) == frame
    assert timeline.frame_at_x(x - 40) != timeline.frame_at_x(x - 40 * 1.25**2)  # it really zoomed
    editor.set_playhead(40)
    ph_x = timeline.x_of_frame(40)
    qtbot.keyClick(timeline, Qt.Key.Key_Plus)
    assert timeline.pixels_per_frame == pytest.approx(PPF * 1.25**2 * 1.5)
    assert timeline.x_of_frame(40) == pytest.approx(ph_x)
    qtbot.keyClick(timeline, Qt.Key.Key_Minus)
    assert timeline.pixels_per_frame == pytest.approx(PPF * 1.25**2)
    assert timeline.x_of_frame(40) == pytest.approx(ph_x)


def test_dropping_a_keyframe_pins_it_on_its_own_shot_and_refuses_another(qtbot, timeline, editor):
    by = shots(editor)
    take = by["1"].keyframe_takes[1].id
    x = round(timeline.x_of_frame(20)) + 2
    drop_at(timeline, QPointF(x, 100), take_mime(by["1"].id, take))
    assert shots(editor)["1"].pin_at(timeline.frame_at_x(x)) == Pin(20, take)
    messages: list[str] = []
    editor.message.connect(messages.append)
    x2 = round(timeline.x_of_frame(50)) + 2  # inside shot 2
    drop_at(timeline, QPointF(x2, 100), take_mime(by["1"].id, take))
    assert messages and "its own shot" in messages[0]
    assert [p.frame for p in shots(editor)["2"].pins] == [0]


def drop_at(widget, pos: QPointF, mime) -> None:
    actions, button, mods = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, button, mods)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(widget, QDropEvent(pos, actions, mime, button, mods))


def test_badges_say_stale_current_or_nothing(timeline, editor):
    by = shots(editor)
    stale = ClipTake(new_id(), MediaRef("ef" * 32, "mov"), "0" * 64, 24)
    editor.edit(C.add_clip_take, by["2"].id, stale)
    current = ClipTake(
        new_id(), MediaRef("ee" * 32, "mov"), shot_inputs_hash(by["1"], editor.project), 48, backend="flow"
    )
    editor.edit(C.add_clip_take, by["1"].id, current)
    assert [timeline.badge_for(by[n].id) for n in ("1", "2", "3")] == ["clip", "stale", ""]
    editor.edit(C.set_shot_fields, by["1"].id, prompt="the door slams")  # the render no longer matches
    assert timeline.badge_for(by["1"].id) == "stale"
    assert not timeline.grab().isNull()


def test_thumbnails_load_off_the_gui_thread_and_small(timeline, editor, loop):
    refs = {t.image for s in editor.project.shots() for t in s.keyframe_takes}
    timeline.grab()  # a paint asks for what it shows
    run_until(loop, lambda: all(timeline.has_thumbnail(r) for r in refs), timeout=10)
    image = timeline._thumbs.get(next(iter(refs)), editor.session.media.path)
    assert image is not None and not image.isNull() and image.height() <= 96


def test_a_thousand_shots_scrub_without_repainting_the_cut(qtbot, loop, tmp_path):
    from ui.state import EditorState
    from ui.timeline import TimelineWidget

    class Recording(TimelineWidget):
        def paintEvent(self, event) -> None:
            self.painted.append(event.rect())
            super().paintEvent(event)

    session = ProjectSession.create(tmp_path / "Big.pinframe", Project("Big", FrameRate(24)))
    ref = session.media.put_file(pin_file(tmp_path, "k.png", 1, size=(160, 90)))
    scenes = []
    for si in range(10):
        row = []
        for hi in range(100):
            take = KeyframeTake(new_id(), ref, 160, 90)
            row.append(Shot(new_id(), f"{si * 100 + hi + 1}", 48, keyframe_takes=(take,), pins=(Pin(0, take.id),)))
        scenes.append(Scene(new_id(), f"SCENE {si + 1}", shots=tuple(row)))
    session.do(Command("Load", tuple(InsertScene(-1, scene) for scene in scenes)))
    state = EditorState()
    state.attach(session)
    assert state.project.shot_count() == 1000
    w = Recording(state)
    w.painted = []
    qtbot.addWidget(w)
    w.resize(1200, 200)
    w.show()
    qtbot.waitExposed(w)
    try:
        for ppf in (0.02, 1.0, 8.0):  # the whole cut in view, a few dozen shots, a few shots
            w.set_pixels_per_frame(ppf)
            started = time.perf_counter()
            w.repaint()
            assert time.perf_counter() - started < 0.25, f"a full paint at {ppf} px/frame is too slow"
        w.set_pixels_per_frame(2.0)
        w.repaint()
        run_until(loop, lambda: w.thumbnails_pending() == 0, timeout=10)  # an arriving thumbnail repaints all
        QApplication.processEvents()
        w.painted.clear()
        started = time.perf_counter()
        for frame in range(0, 400, 2):
            state.set_playhead(frame)
            QApplication.processEvents()
        assert (time.perf_counter() - started) / 200 < 0.01  # well under a frame at 60 Hz
        assert w.painted and max(r.width() for r in w.painted) < 300  # strips around the playhead only
    finally:
        state.attach(None)
        session.close()
