"""The shots panel on real widgets (offscreen): typing, undo, the buttons, the tree and the state."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QToolButton

from app import commands
from tests.ui.conftest import run_until


@pytest.fixture
def panel(qtbot, editor, loop):
    from ui.shots_panel import ShotsPanel

    widget = ShotsPanel(editor)
    qtbot.addWidget(widget)
    widget.resize(380, 800)
    widget.show()
    widget.activateWindow()
    qtbot.waitActive(widget)
    yield widget
    run_until(loop, lambda: widget.thumbnails.pending() == 0, timeout=10)  # no decode left running


def numbers(editor) -> list[str]:
    return [s.number for s in editor.project.shots()]


def scene_numbers(editor) -> list[list[str]]:
    return [[s.number for s in scene.shots] for scene in editor.project.scenes]


def shot_id(editor, number: str) -> str:
    return next(s.id for s in editor.project.shots() if s.number == number)


def current(editor):
    return editor.project.shot(editor.current_shot)


def click_row(qtbot, panel, row, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    tree = panel.tree
    item = panel._items[row]
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, modifier, tree.visualItemRect(item).center())


def press(qtbot, panel, action) -> None:
    button = panel.toolbar.widgetForAction(action)
    assert isinstance(button, QToolButton) and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def retype(qtbot, widget, text: str) -> None:
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)


# --- typing and undo -----------------------------------------------------------------------------
def test_typing_a_prompt_is_one_undo_step(panel, editor, qtbot):
    box = panel.shot_form.prompt
    assert box.toPlainText() == "a door opens" == current(editor).prompt
    box.setFocus()
    box.moveCursor(box.textCursor().MoveOperation.End)
    qtbot.keyClicks(box, ", slowly")
    assert current(editor).prompt == "a door opens, slowly"
    qtbot.keyClicks(box, " at dawn")
    assert current(editor).prompt == "a door opens, slowly at dawn"
    editor.undo()
    assert current(editor).prompt == "a door opens"
    assert box.toPlainText() == "a door opens"
    assert box.hasFocus()


def test_leaving_a_field_starts_a_new_undo_step(panel, editor, qtbot):
    box = panel.shot_form.prompt
    box.setFocus()
    box.moveCursor(box.textCursor().MoveOperation.End)
    qtbot.keyClicks(box, " wide")
    panel.shot_form.style_edit.setFocus()  # focus out closes the merge run
    box.setFocus()
    qtbot.keyClicks(box, "r")
    editor.undo()
    assert current(editor).prompt == "a door opens wide"


def test_reload_keeps_the_cursor_of_the_field_being_typed_in(panel, editor, qtbot):
    box = panel.shot_form.prompt
    box.setFocus()
    box.moveCursor(box.textCursor().MoveOperation.Start)
    qtbot.keyClicks(box, "At night, ")
    # Another panel edits the same shot while the person types: their text and cursor stay.
    editor.edit(commands.set_shot_fields, editor.current_shot, notes="from elsewhere")
    assert panel.shot_form.texts["notes"].toPlainText() == "from elsewhere"
    qtbot.keyClicks(box, "x")
    assert current(editor).prompt == "At night, xa door opens"


def test_number_and_text_fields_edit_the_current_shot(panel, editor, qtbot):
    form = panel.shot_form
    retype(qtbot, form.number, "1X")
    qtbot.keyClicks(form.texts["action"], "He waits.")
    qtbot.keyClicks(form.style_edit, "noir")
    shot = current(editor)
    assert (shot.number, shot.action, shot.style) == ("1X", "He waits.", "noir")
    assert panel._items[("shot", shot.id)].text(0) == "1X"


# --- duration, camera, handles -------------------------------------------------------------------
def test_duration_takes_timecode_and_refuses_nonsense(panel, editor, qtbot):
    field = panel.shot_form.duration
    assert field.text() == "00:00:02:00"
    retype(qtbot, field, "00:00:03:00")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert current(editor).duration == 72
    assert "72 fr" in panel.shot_form.duration_info.text()
    retype(qtbot, field, "abc")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert current(editor).duration == 72
    assert panel.shot_form.error.isVisible() and "not a duration" in panel.shot_form.error.text()
    assert field.text() == "abc"  # left for the person to fix
    retype(qtbot, field, "2s")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert current(editor).duration == 48 and field.text() == "00:00:02:00"
    assert not panel.shot_form.error.isVisible()
    editor.undo()
    assert current(editor).duration == 72 and field.text() == "00:00:03:00"


def test_camera_fields(panel, editor, qtbot):
    form = panel.shot_form
    form.shot_size.setFocus()
    qtbot.keyClicks(form.shot_size, "CU")
    assert current(editor).camera.size == "CU"
    form.angle.setFocus()
    qtbot.keyClick(form.angle, Qt.Key.Key_Down)
    assert current(editor).camera.angle == "eye level"
    retype(qtbot, form.lens.lineEdit(), "35")
    qtbot.keyClick(form.lens, Qt.Key.Key_Return)
    assert current(editor).camera.lens_mm == 35.0
    retype(qtbot, form.lens.lineEdit(), "0.5")
    qtbot.keyClick(form.lens, Qt.Key.Key_Return)
    assert current(editor).camera.lens_mm == 35.0
    assert form.error.isVisible() and "out of range" in form.error.text()
    retype(qtbot, form.camera_move.lineEdit(), "dolly in")
    assert current(editor).camera.move == "dolly in"
    # Each pick from a list is its own undo step; the lens and the move are not merged into it.
    editor.undo()
    editor.undo()
    assert current(editor).camera.lens_mm is None and current(editor).camera.angle == "eye level"
    assert form.lens.text() == "—"
    editor.undo()
    assert current(editor).camera.angle == "" and form.angle.currentText() == "—"


def test_handles(panel, editor, qtbot):
    retype(qtbot, panel.shot_form.handles.lineEdit(), "12")
    qtbot.keyClick(panel.shot_form.handles, Qt.Key.Key_Return)
    assert current(editor).handles == 12


# --- the buttons ---------------------------------------------------------------------------------
def test_add_shot_goes_after_the_current_one(panel, editor, qtbot):
    press(qtbot, panel, panel.act_add_shot)
    assert scene_numbers(editor) == [["1", "1A", "2"], ["3"]]
    assert current(editor).number == "1A" and panel.shot_form.number.text() == "1A"
    assert panel.tree.selected_shot_ids() == [editor.current_shot]
    editor.undo()
    assert numbers(editor) == ["1", "2", "3"]


def test_add_scene_then_edit_its_heading(panel, editor, qtbot):
    press(qtbot, panel, panel.act_add_scene)
    assert len(editor.project.scenes) == 3 and editor.project.scenes[1].heading == ""
    assert panel.forms.currentWidget() is panel.scene_form
    qtbot.keyClicks(panel.scene_form.heading, "INT. STAIRS")
    assert editor.project.scenes[1].heading == "INT. STAIRS"
    press(qtbot, panel, panel.act_add_shot)  # into the chosen (empty) scene
    assert scene_numbers(editor) == [["1", "2"], ["4"], ["3"]]
    editor.undo()
    editor.undo()
    editor.undo()
    assert len(editor.project.scenes) == 2


def test_duplicate_selected(panel, editor, qtbot):
    click_row(qtbot, panel, ("shot", shot_id(editor, "2")))
    qtbot.keyClick(panel.tree, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    # Numbering is the command's: a copy at the end of a scene takes the next free number.
    assert numbers(editor) == ["1", "2", "4", "3"]
    assert current(editor).number == "4" and editor.selection == [editor.current_shot]
    editor.undo()
    assert numbers(editor) == ["1", "2", "3"]


def test_delete_key_deletes_the_selected_shots(panel, editor, qtbot):
    click_row(qtbot, panel, ("shot", shot_id(editor, "1")))
    click_row(qtbot, panel, ("shot", shot_id(editor, "3")), Qt.KeyboardModifier.ControlModifier)
    assert editor.selection == [shot_id(editor, "1"), shot_id(editor, "3")]
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert numbers(editor) == ["2"]
    assert current(editor).number == "2"
    editor.undo()
    assert numbers(editor) == ["1", "2", "3"]


def test_delete_in_a_text_field_deletes_text_not_shots(panel, editor, qtbot):
    box = panel.shot_form.prompt
    box.setFocus()
    box.moveCursor(box.textCursor().MoveOperation.Start)
    qtbot.keyClick(box, Qt.Key.Key_Delete)
    assert numbers(editor) == ["1", "2", "3"] and current(editor).prompt == " door opens"


def test_move_up_and_down_cross_scenes(panel, editor, qtbot):
    click_row(qtbot, panel, ("shot", shot_id(editor, "3")))
    press(qtbot, panel, panel.act_up)
    assert scene_numbers(editor) == [["1", "2", "3"], []]
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert scene_numbers(editor) == [["1", "3", "2"], []]
    assert panel.tree.selected_shot_ids() == [shot_id(editor, "3")]
    press(qtbot, panel, panel.act_down)
    press(qtbot, panel, panel.act_down)
    assert scene_numbers(editor) == [["1", "2"], ["3"]]
    assert not panel.act_down.isEnabled()
    for expected in ([["1", "2", "3"], []], [["1", "3", "2"], []], [["1", "2", "3"], []], [["1", "2"], ["3"]]):
        editor.undo()
        assert scene_numbers(editor) == expected


def test_move_several_shots_as_a_block(panel, editor, qtbot):
    click_row(qtbot, panel, ("shot", shot_id(editor, "1")))
    click_row(qtbot, panel, ("shot", shot_id(editor, "2")), Qt.KeyboardModifier.ShiftModifier)
    press(qtbot, panel, panel.act_down)
    assert scene_numbers(editor) == [[], ["1", "2", "3"]]
    press(qtbot, panel, panel.act_down)
    assert scene_numbers(editor) == [[], ["3", "1", "2"]]
    editor.undo()
    editor.undo()
    assert scene_numbers(editor) == [["1", "2"], ["3"]]


def test_drop_moves_the_dragged_shots(panel, editor, qtbot):
    click_row(qtbot, panel, ("shot", shot_id(editor, "3")))
    tree = panel.tree
    rect = tree.visualItemRect(panel._items[("shot", shot_id(editor, "1"))])
    mime = tree.mimeData(tree.selectedItems()) or QMimeData()
    point = QPointF(rect.center().x(), rect.top() + 2)
    event = QDropEvent(point, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    tree.dropEvent(event)
    qtbot.waitUntil(lambda: numbers(editor) == ["3", "1", "2"], timeout=2000)
    assert tree.drop_target(QPoint(rect.center().x(), rect.bottom() - 1))[1] == 0  # 3 is moving: 1 is first
    editor.undo()
    assert scene_numbers(editor) == [["1", "2"], ["3"]]


# --- the tree and the state ----------------------------------------------------------------------
def test_tree_selection_drives_the_state(panel, editor, qtbot):
    ids = [shot_id(editor, n) for n in ("1", "2", "3")]
    click_row(qtbot, panel, ("shot", ids[0]))
    click_row(qtbot, panel, ("shot", ids[2]), Qt.KeyboardModifier.ShiftModifier)
    assert editor.selection == ids
    assert editor.current_shot == ids[2]
    assert panel.shot_form.number.text() == "3"


def test_state_drives_the_tree(panel, editor, qtbot):
    target = shot_id(editor, "3")
    seen: list[list[str]] = []
    editor.selection_changed.connect(seen.append)
    editor.set_current_shot(target)
    assert seen == [[target]]  # once, from the state itself: the tree did not echo it back
    assert panel.tree.row_of(panel.tree.currentItem()) == ("shot", target)
    assert panel.tree.selected_shot_ids() == [target]
    assert panel.shot_form.number.text() == "3"
    editor.set_selection([shot_id(editor, "2"), target])
    assert panel.tree.selected_shot_ids() == [shot_id(editor, "2"), target]
    assert editor.current_shot == target  # the tree did not echo a different current shot back


def test_showing_shots_makes_no_edits(panel, editor, qtbot):
    for number in ("2", "3", "1"):
        click_row(qtbot, panel, ("shot", shot_id(editor, number)))
        assert panel.shot_form.number.text() == number
    click_row(qtbot, panel, ("scene", editor.project.scenes[0].id))
    assert not editor.session.history.can_undo


def test_scene_heading_and_synopsis(panel, editor, qtbot):
    scene = editor.project.scenes[1]
    click_row(qtbot, panel, ("scene", scene.id))
    assert panel.forms.currentWidget() is panel.scene_form
    assert editor.selection == []
    form = panel.scene_form
    assert form.heading.text() == "EXT. STREET"
    qtbot.keyClicks(form.heading, " - DAWN")
    qtbot.keyClicks(form.synopsis, "Rain.")
    assert editor.project.scenes[1].heading == "EXT. STREET - DAWN"
    assert editor.project.scenes[1].synopsis == "Rain."
    assert panel._items[("scene", scene.id)].text(0).endswith("EXT. STREET - DAWN")
    editor.undo()
    editor.undo()
    assert editor.project.scenes[1].heading == "EXT. STREET" and form.heading.text() == "EXT. STREET"


def test_a_chosen_scene_moves_and_deletes_as_a_whole(panel, editor, qtbot):
    second = editor.project.scenes[1]
    click_row(qtbot, panel, ("scene", second.id))
    press(qtbot, panel, panel.act_up)
    assert [s.heading for s in editor.project.scenes] == ["EXT. STREET", "INT. HOUSE - NIGHT"]
    assert not panel.act_up.isEnabled()
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Delete)
    assert [s.heading for s in editor.project.scenes] == ["INT. HOUSE - NIGHT"] and numbers(editor) == ["1", "2"]
    editor.undo()
    editor.undo()
    assert scene_numbers(editor) == [["1", "2"], ["3"]]


def test_clip_status_column(panel, editor, qtbot):
    from app.document import ClipTake, new_id
    from app.render_inputs import shot_inputs_hash

    shot = current(editor)
    media = shot.keyframe_takes[0].image
    take = ClipTake(new_id(), media, shot_inputs_hash(shot, editor.project), shot.duration, backend="flow")
    editor.edit(commands.add_clip_take, shot.id, take)
    item = panel._items[("shot", shot.id)]
    assert item.text(3) == "current"
    qtbot.keyClicks(panel.shot_form.prompt, "!")
    assert item.text(3) == "stale"


def test_moving_a_block_over_a_neighbour_keeps_the_block_together():
    """move_shots alone would split [b, c] when moving it down past d; place_shots must not."""
    from app.document import Project, Scene, Shot, new_id
    from app.timecode import FrameRate
    from ui.shots_panel import step_shots

    shots = tuple(Shot(new_id(), n, 24) for n in "abcde")
    project = Project("P", FrameRate(24), scenes=(Scene(new_id(), shots=shots),))
    ids = [shots[1].id, shots[2].id]
    moved, _ = step_shots(project, ids, 1).apply(project)
    assert [s.number for s in moved.shots()] == ["a", "d", "b", "c", "e"]
    apart = [shots[0].id, shots[3].id]  # a and d: the block closes up next to d's neighbour
    moved, _ = step_shots(project, apart, 1).apply(project)
    assert [s.number for s in moved.shots()] == ["b", "c", "e", "a", "d"]
    assert step_shots(project, [shots[4].id], 1) is None


# --- thumbnails, the right-click menu, Backspace --------------------------------------------------
def test_shot_rows_show_their_storyboard_picture(panel, editor, loop):
    from ui.shots_panel import LIST_THUMB

    one = shot_id(editor, "1")
    ref = editor.project.shot(one).keyframe_takes[0].image  # the first pin's take
    panel.tree.viewport().repaint()
    run_until(loop, lambda: panel.thumbnails.has(ref), timeout=10)
    item = panel._items[("shot", one)]
    assert panel.tree.visualItemRect(item).height() >= LIST_THUMB.height()
    assert panel.thumbnails.for_shot(editor.project.shot(shot_id(editor, "3"))) is None  # no takes: blank


def test_right_click_offers_the_shot_menu(panel, editor, qtbot):
    two = shot_id(editor, "2")
    tree = panel.tree
    menu = panel.menu_at(tree.visualItemRect(panel._items[("shot", two)]).center())
    assert editor.selection == [two] and editor.playhead == 48
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert "Insert Shot Before" in texts and "Motion Model" in texts
    next(a for a in menu.actions() if a.text() == "Insert Shot Before").trigger()
    assert scene_numbers(editor)[0][1] not in ("1", "2") and len(numbers(editor)) == 4
    assert editor.current_shot == editor.project.scenes[0].shots[1].id  # the new shot is selected
    heading = panel._items[("scene", editor.project.scenes[0].id)]
    assert panel.menu_at(tree.visualItemRect(heading).center()) is None


def test_backspace_deletes_the_selected_shots(panel, editor, qtbot):
    click_row(qtbot, panel, ("shot", shot_id(editor, "2")))
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key.Key_Backspace)
    assert numbers(editor) == ["1", "3"]
    editor.undo()
    assert numbers(editor) == ["1", "2", "3"]
