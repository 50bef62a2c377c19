"""The storyboard grid on real widgets (offscreen): panels in cut order, reorder by drop, the shared
selection, the right-click menu, Delete, and thumbnails that arrive off the GUI thread."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from app import commands
from app.document import KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.session import ProjectSession
from app.timecode import FrameRate
from tests.ui.conftest import run_until


@pytest.fixture
def grid(qtbot, editor, loop):
    from ui.storyboard_grid import StoryboardGrid

    widget = StoryboardGrid(editor)
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    run_until(loop, lambda: widget.thumbnails.pending() == 0, timeout=10)  # no decode left running


def numbers(editor) -> list[str]:
    return [s.number for s in editor.project.shots()]


def shot_id(editor, number: str) -> str:
    return next(s.id for s in editor.project.shots() if s.number == number)


def click(qtbot, grid, shot: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    rect = grid.panel_rect(shot)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_panels_are_the_cut_in_order_with_numbers_and_durations(grid, editor):
    assert [grid.panel(i).number for i in grid.shot_ids()] == ["1", "2", "3"]
    first = grid.panel(shot_id(editor, "1"))
    assert first.duration == "00:00:02:00" or first.duration.endswith("2:00")  # 48 frames at 24 fps
    assert grid.panel(shot_id(editor, "2")).duration.endswith("1:00")
    assert [grid.panel(i).first_in_scene for i in grid.shot_ids()] == [True, False, True]
    # Panels flow left to right on one row when they fit.
    rects = [grid.panel_rect(i) for i in grid.shot_ids()]
    assert rects[0].left() < rects[1].left() < rects[2].left()
    assert len({r.top() for r in rects}) == 1


def test_editing_a_shot_redraws_its_panel_text(grid, editor):
    sid = shot_id(editor, "2")
    editor.edit(commands.set_shot_fields, sid, action="She turns to the window.", dialogue="Who's there?")
    assert grid.panel(sid).action == "She turns to the window."
    assert grid.panel(sid).dialogue == "Who's there?"
    assert "Who's there?" in grid.model().data(grid.model().index(1), Qt.ItemDataRole.ToolTipRole)


def test_a_drop_reorders_as_one_undo_step(grid, editor, qtbot):
    three, one = shot_id(editor, "3"), shot_id(editor, "1")
    click(qtbot, grid, three)
    mime = grid.model().mimeData(grid.selectedIndexes())
    rect = grid.panel_rect(one)
    point = QPointF(rect.left() + 4, rect.center().y())  # the left half of shot 1: before it
    event = QDropEvent(point, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    grid.dropEvent(event)
    qtbot.waitUntil(lambda: numbers(editor) == ["3", "1", "2"], timeout=2000)
    assert [grid.panel(i).number for i in grid.shot_ids()] == ["3", "1", "2"]
    assert editor.selection == [three] and editor.current_shot == three
    assert editor.shot_at_playhead()[0] == three  # the playhead went with the moved shot
    editor.undo()
    assert numbers(editor) == ["1", "2", "3"]
    assert [[s.number for s in sc.shots] for sc in editor.project.scenes] == [["1", "2"], ["3"]]
    assert [grid.panel(i).number for i in grid.shot_ids()] == ["1", "2", "3"]


def test_drop_after_the_last_panel_and_onto_the_moving_panel(grid, editor):
    one, two, three = (shot_id(editor, n) for n in "123")
    assert grid.move_shots([one], three, True)
    assert numbers(editor) == ["2", "3", "1"]
    editor.undo()
    assert not grid.move_shots([two], two, False)  # onto itself: no change, no undo step
    assert numbers(editor) == ["1", "2", "3"]
    assert grid.move_shots([one, two], None, True)  # empty space: after the last panel
    assert numbers(editor) == ["3", "1", "2"]
    editor.undo()
    assert numbers(editor) == ["1", "2", "3"]


def test_selecting_a_panel_moves_the_playhead_and_selects_everywhere(grid, editor, qtbot):
    from ui.shots_panel import ShotsPanel

    panel = ShotsPanel(editor)
    qtbot.addWidget(panel)
    two = shot_id(editor, "2")
    click(qtbot, grid, two)
    assert editor.current_shot == two and editor.selection == [two]
    assert editor.playhead == 48  # shot 2 starts after shot 1's 48 frames
    assert panel.tree.selected_shot_ids() == [two]
    # Shift-click extends in the grid, and the list follows.
    click(qtbot, grid, shot_id(editor, "3"), Qt.KeyboardModifier.ShiftModifier)
    assert editor.selection == [two, shot_id(editor, "3")]
    assert panel.tree.selected_shot_ids() == editor.selection


def test_the_playhead_selects_the_panel(grid, editor):
    three = shot_id(editor, "3")
    editor.set_playhead(48 + 24 + 5)
    assert editor.current_shot == three
    assert [grid.storyboard.panels[i.row()].shot_id for i in grid.selectedIndexes()] == [three]
    assert grid.currentIndex().row() == 2


def test_double_click_opens_the_shot_in_the_timeline(grid, editor, qtbot):
    three = shot_id(editor, "3")
    centre = grid.panel_rect(three).center()
    with qtbot.waitSignal(grid.open_in_timeline, timeout=1000) as opened:
        qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
        qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert opened.args == [three]
    assert editor.current_shot == three and editor.playhead == 72


def test_delete_and_backspace_delete_the_selection(grid, editor, qtbot):
    grid.setFocus()
    click(qtbot, grid, shot_id(editor, "2"))
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    assert numbers(editor) == ["1", "3"]
    assert editor.current_shot == shot_id(editor, "3")  # the next shot takes its place
    click(qtbot, grid, shot_id(editor, "1"))
    qtbot.keyClick(grid, Qt.Key.Key_Backspace)
    assert numbers(editor) == ["3"]
    editor.undo()
    editor.undo()
    assert numbers(editor) == ["1", "2", "3"]


def test_right_click_menu_acts_on_the_panel_under_the_mouse(grid, editor):
    two = shot_id(editor, "2")
    menu = grid.menu_at(grid.panel_rect(two).center())
    assert editor.selection == [two]  # a right-click outside the selection selects the panel
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[:5] == ["Render Shot", "Duplicate Shot", "Delete Shot", "Insert Shot Before", "Insert Shot After"]
    duplicate = next(a for a in menu.actions() if a.text() == "Duplicate Shot")
    duplicate.trigger()
    copy = editor.project.scenes[0].shots[2]
    assert numbers(editor) == ["1", "2", copy.number, "3"]
    assert [grid.panel(i).number for i in grid.shot_ids()] == numbers(editor)
    assert editor.selection == [copy.id] and editor.playhead == 72  # the copy is selected, playhead in it
    assert grid.menu_at(grid.viewport().rect().bottomRight()) is None  # empty space: no menu


def test_thumbnails_arrive_without_blocking(grid, editor, loop, qtbot):
    one, three = shot_id(editor, "1"), shot_id(editor, "3")
    assert grid.panel(three).ref is None  # no takes: a blank panel, nothing to load
    shot = editor.project.shot(one)
    assert grid.panel(one).ref == shot.keyframe_takes[0].image  # the first pin's take
    grid.viewport().repaint()
    run_until(loop, lambda: grid.thumbnails.has(grid.panel(one).ref), timeout=10)
    assert grid.thumbnails.cached(grid.panel(one).ref).width() > 1
    # Choosing another take as the shot's thumbnail shows that one.
    editor.edit(commands.set_shot_thumbnail, one, shot.keyframe_takes[1].id)
    assert grid.panel(one).ref == shot.keyframe_takes[1].image
    with qtbot.waitSignal(grid.thumbnail_shown, timeout=10000, check_params_cb=lambda sid: sid == one):
        grid.viewport().repaint()
        QApplication.processEvents()
        run_until(loop, lambda: grid.thumbnails.has(shot.keyframe_takes[1].image), timeout=10)


def long_cut(tmp_path, count: int) -> ProjectSession:
    """``count`` shots in one scene, each with its own small keyframe take pinned at frame 0."""
    path = tmp_path / "Long.pinframe"
    session = ProjectSession.create(path, Project("Long", FrameRate(24), width=320, height=180))
    shots = []
    for n in range(1, count + 1):
        image = np.full((9, 16, 3), n % 256, np.uint8)
        ref = session.media.put_bytes(cv2.imencode(".png", image)[1].tobytes(), "png")
        take = KeyframeTake(new_id(), ref, 16, 9)
        shots.append(Shot(new_id(), str(n), 24, action=f"action {n}", keyframe_takes=(take,), pins=(Pin(0, take.id),)))
    session.bundle.save(Project("Long", FrameRate(24), 320, 180, scenes=(Scene(new_id(), "X", shots=tuple(shots)),)))
    session.close()
    return ProjectSession.open(path)


def test_two_hundred_shots_show_at_once_and_load_only_what_is_on_screen(qtbot, loop, tmp_path):
    from ui.state import EditorState
    from ui.storyboard_grid import StoryboardGrid

    session = long_cut(tmp_path, 200)
    state = EditorState()
    state.attach(session)
    try:
        started = time.perf_counter()
        grid = StoryboardGrid(state)
        qtbot.addWidget(grid)
        grid.resize(900, 500)
        grid.show()
        qtbot.waitExposed(grid)
        assert time.perf_counter() - started < 1.0
        assert len(grid.shot_ids()) == 200
        refs = [p.ref for p in grid.storyboard.panels]
        run_until(loop, lambda: grid.thumbnails.has(refs[0]), timeout=10)
        assert sum(grid.thumbnails.has(r) for r in refs) < 40  # the panels on screen, not the whole cut
        started = time.perf_counter()
        for frame in range(0, 200 * 24, 240):  # playback across the cut: the grid follows the playhead
            state.set_playhead(frame)
            QApplication.processEvents()
        assert (time.perf_counter() - started) / 20 < 0.1
        assert grid.storyboard.panels[grid.currentIndex().row()].shot_id == state.current_shot
        last = grid.panel_rect(state.current_shot)
        assert grid.viewport().rect().intersects(last)  # scrolled to it
        run_until(loop, lambda: grid.thumbnails.has(grid.panel(state.current_shot).ref), timeout=10)
    finally:
        state.attach(None)
        session.close()


def test_the_storyboard_dock_sits_beside_the_timeline_and_opens_shots_in_it(qtbot, loop, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.main_window import MainWindow
    from ui.storyboard_dock import install_storyboard

    window = MainWindow(Engine(tmp_path / "engine-cache", DeviceSettings(device="cpu", precision="fp32")))
    # Once the window installs it itself, the test uses the window's own.
    grid = window.storyboard if hasattr(window, "storyboard") else install_storyboard(window)
    window.resize(1280, 720)
    window.show()
    try:
        loop.run_until_complete(window.open_demo())
        assert window.dock_storyboard.toggleViewAction() in window.layout_.panels_menu.actions()
        assert window.dock_storyboard in window.tabifiedDockWidgets(window.dock_timeline)
        window.dock_storyboard.raise_()
        # A dock behind another tab stays "visible" to Qt; what shows is what has a visible region.
        qtbot.waitUntil(lambda: window.timeline.visibleRegion().isEmpty(), timeout=2000)
        assert not grid.visibleRegion().isEmpty()
        third = grid.shot_ids()[2]
        grid.doubleClicked.emit(grid.model().index(2, 0))
        qtbot.waitUntil(lambda: not window.timeline.visibleRegion().isEmpty(), timeout=2000)
        assert window.state.current_shot == third
        assert window.state.shot_at_playhead()[0] == third
        run_until(loop, lambda: grid.thumbnails.pending() == 0, timeout=10)
    finally:
        loop.run_until_complete(window.close_project())
        window.close()
        window.bridge.shutdown()
        window.deleteLater()
