"""The window's keys: the transport works from any panel, never while typing, and Help lists every key."""

from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from ui.takes import TAKE_ROLE


@pytest.fixture
def demo(window, loop, qtbot):
    assert loop.run_until_complete(window.open_demo())
    window.activateWindow()  # window shortcuts need the window to be the active one
    qtbot.waitUntil(lambda: window.isActiveWindow())
    yield window
    window.viewer.stop()


def _press(qtbot, loop, widget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    widget.setFocus()
    loop.run_until_complete(asyncio.sleep(0.01))
    assert widget.hasFocus()
    qtbot.keyClick(widget, key, modifier)


def test_space_in_the_shot_list_toggles_playback(demo, qtbot, loop):
    tree = demo.shots.tree
    _press(qtbot, loop, tree, Qt.Key.Key_Space)
    assert demo.viewer.playing
    _press(qtbot, loop, tree, Qt.Key.Key_Space)
    assert not demo.viewer.playing


def test_a_space_typed_in_a_prompt_is_text_not_playback(demo, qtbot, loop):
    for field in (demo.keyframes.prompt, demo.shots.shot_form.prompt):
        field.setFocus()
        field.moveCursor(field.textCursor().MoveOperation.End)
        before = field.toPlainText()
        _press(qtbot, loop, field, Qt.Key.Key_Space)
        qtbot.keyClicks(field, "jkl")
        assert not demo.viewer.playing
        assert field.toPlainText() == before + " jkl"
    demo.state.undo()  # typing was an edit of the shot like any other


def test_j_k_l_shuttle_from_a_button(demo, qtbot, loop):
    button = demo.keyframes.import_button
    button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    _press(qtbot, loop, button, Qt.Key.Key_L)
    assert demo.viewer.speed == 1
    _press(qtbot, loop, button, Qt.Key.Key_L)
    assert demo.viewer.speed == 2  # again: faster, as in editors
    _press(qtbot, loop, button, Qt.Key.Key_K)
    assert demo.viewer.speed == 0
    _press(qtbot, loop, button, Qt.Key.Key_J)
    assert demo.viewer.speed == -1
    _press(qtbot, loop, button, Qt.Key.Key_K)


def test_frame_steps_shots_and_ends_from_the_shot_list(demo, qtbot, loop):
    state, tree = demo.state, demo.shots.tree
    state.set_playhead(10)
    second = state.cut.entries[1]
    _press(qtbot, loop, tree, Qt.Key.Key_Right)
    assert state.playhead == 11
    _press(qtbot, loop, tree, Qt.Key.Key_Left)
    assert state.playhead == 10
    _press(qtbot, loop, tree, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert state.playhead == 10 + state.project.rate.timebase
    _press(qtbot, loop, tree, Qt.Key.Key_End)
    assert state.playhead == state.cut.length - 1
    _press(qtbot, loop, tree, Qt.Key.Key_Home)
    assert state.playhead == 0
    state.set_playhead(second.start + 5)
    _press(qtbot, loop, tree, Qt.Key.Key_O)
    assert state.playhead == second.start + second.shot.duration - 1
    _press(qtbot, loop, tree, Qt.Key.Key_I)
    assert state.playhead == second.start


def test_pins_are_stepped_through_with_brackets(demo, qtbot, loop):
    state = demo.state
    frames = sorted(e.start + p.frame for e in state.cut.entries for p in e.shot.pins)
    state.set_playhead(frames[0])
    _press(qtbot, loop, demo.timeline, Qt.Key.Key_BracketRight)
    assert state.playhead == frames[1]
    _press(qtbot, loop, demo.timeline, Qt.Key.Key_BracketLeft)
    assert state.playhead == frames[0]


def test_fields_and_lists_keep_the_keys_they_move_with(demo, qtbot, loop):
    state, form = demo.state, demo.shots.shot_form
    state.set_playhead(10)
    lens = form.lens.value()
    _press(qtbot, loop, form.lens, Qt.Key.Key_Up)  # a spin box steps its value
    assert form.lens.value() != lens and state.playhead == 10
    demo.state.undo()
    tree = demo.shots.tree
    first = tree.topLevelItem(0).child(0)
    tree.setCurrentItem(first)
    _press(qtbot, loop, tree, Qt.Key.Key_Down)  # the list moves to the next shot row
    assert tree.currentItem() is tree.topLevelItem(0).child(1)


def test_unpin_and_pin_at_the_playhead_by_key(demo, qtbot, loop):
    state = demo.state
    shot = state.cut.entries[0].shot
    pinned = shot.pins[0]
    messages = []
    state.message.connect(messages.append)
    state.set_playhead(pinned.frame)
    _press(qtbot, loop, demo.shots.tree, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    assert state.project.shot(shot.id).pin_at(pinned.frame) is None
    assert "Removed the pin" in messages[-1] and shot.number in messages[-1]
    _press(qtbot, loop, demo.shots.tree, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    assert "has no pin" in messages[-1]  # said in the status bar, nothing changed
    history = demo.keyframes.history
    take_row = next(i for i in range(history.count()) if history.item(i).data(TAKE_ROLE))
    history.setCurrentRow(take_row)
    _press(qtbot, loop, demo.shots.tree, Qt.Key.Key_P)
    assert state.project.shot(shot.id).pin_at(pinned.frame) is not None
    assert "Pinned" in demo.statusBar().currentMessage() or "pin" in messages[-1].lower()
    state.undo()
    state.undo()
    assert state.project.shot(shot.id).pins == shot.pins


def test_help_lists_every_key(demo, qtbot):
    dialog = demo.show_shortcuts()
    listed = dialog.keys_listed()
    native = {k: QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in ("Ctrl+R", "Ctrl+Z")}
    for keys in ("Space", "J", "K", "L", "Left", "Home", "I", "O", "P", native["Ctrl+R"], native["Ctrl+Z"]):
        assert keys in listed, keys
    rows = {row.keys: row for row in dialog.rows}
    assert rows["Space"].name == "Play / Pause"
    assert rows[native["Ctrl+R"]].where == "Render"
    assert dialog.table.rowCount() == len(dialog.rows)
    dialog.close()


def test_no_two_window_actions_share_a_key(demo):
    # Qt fires neither of two window shortcuts with the same key ("ambiguous"): both would be dead.
    from PySide6.QtGui import QAction

    seen: dict[str, str] = {}
    for action in demo.findChildren(QAction):
        if action.shortcutContext() not in (Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.ApplicationShortcut):
            continue
        for keys in action.shortcuts():
            text = keys.toString()
            assert text not in seen, f"{text} is both {seen[text]!r} and {action.text()!r}"
            seen[text] = action.text()


def test_the_readme_lists_the_keys_of_the_shortcut_table():
    from pathlib import Path

    from ui.shortcuts import shortcuts_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert shortcuts_markdown() in readme, "paste ui.shortcuts.shortcuts_markdown() into the README's window section"
