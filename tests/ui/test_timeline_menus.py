"""Right-click menus, Delete / Backspace and zoom to fit on a real TimelineWidget (offscreen).

The menus are opened the way a person opens them: a context-menu event at a point of the
widget, which runs the real QMenu.exec; a timer picks the entry from the open popup.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QLineEdit, QMenu, QPushButton, QVBoxLayout, QWidget

from app import commands as C
from app.document import ClipTake, Shot, new_id
from app.media_ref import MediaRef
from tests.ui.conftest import run_until
from tests.ui.test_timeline import PPF, drag

pytestmark = pytest.mark.usefixtures("loop")


def shots(editor) -> dict[str, Shot]:
    return {s.number: s for s in editor.project.shots()}


def texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def find(menu: QMenu, *path: str) -> QAction:
    """The entry at ``path`` ("Replace With", "seed 7"...), each step matched by the start of its text."""
    action = None
    for i, step in enumerate(path):
        action = next((a for a in menu.actions() if a.text().startswith(step)), None)
        assert action is not None, f"no {step!r} in {texts(menu)}"
        if i < len(path) - 1:
            menu = action.menu()
    return action


def right_click(widget, pos: QPointF, *path: str, reason=QContextMenuEvent.Reason.Mouse) -> list[str]:
    """Right-click at ``pos``, choose the entry at ``path`` from the popup; returns the popup's entries."""
    seen: list[str] = []

    def choose() -> None:
        popup = QApplication.activePopupWidget()
        assert isinstance(popup, QMenu), "no menu opened"
        seen.extend(texts(popup))
        action = find(popup, *path) if path else None
        popup.close()
        if action is not None:
            action.trigger()

    QTimer.singleShot(0, choose)
    point = pos.toPoint()
    event = QContextMenuEvent(reason, point, widget.mapToGlobal(point))
    QApplication.sendEvent(widget, event)
    assert seen, "the menu never showed"
    return seen


def click(qtbot, widget, pos: QPointF) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos.toPoint())


def body_of(timeline, shot_id: str) -> QPointF:
    """A point in the shot's pictures: below the header row, above the pin row."""
    rect = timeline.shot_rect(shot_id)
    return QPointF(rect.center().x(), rect.top() + 30)


def header_of(timeline, shot_id: str) -> QPointF:
    rect = timeline.shot_rect(shot_id)
    return QPointF(rect.center().x(), rect.top() + 6)


def add_audio(editor, start: int = 0, name: str = "temp score") -> str:
    editor.edit(C.add_audio, MediaRef("aa" * 32, "wav"), start, name)
    return editor.project.audio[-1].id


def add_clip(editor, shot_id: str) -> ClipTake:
    take = ClipTake(new_id(), MediaRef("ef" * 32, "mov"), "0" * 64, 24)  # its file was never written
    editor.edit(C.add_clip_take, shot_id, take)
    return take


# --- pins -------------------------------------------------------------------------------------------
def test_right_clicking_a_pin_unpins_it_and_undo_pins_it_again(timeline, editor):
    s1 = shots(editor)["1"]
    entries = right_click(timeline, timeline.pin_rect(s1.id, 47).center(), "Unpin")
    assert entries == ["Unpin", "Go to Pin", "Replace With"]
    assert [p.frame for p in shots(editor)["1"].pins] == [0]
    assert editor.session.history.undo_label == "Remove Pin"
    editor.undo()
    assert shots(editor)["1"].pins == s1.pins


def test_go_to_pin_puts_the_playhead_on_it(timeline, editor):
    s1 = shots(editor)["1"]
    editor.set_playhead(80)  # in shot 3
    right_click(timeline, timeline.pin_rect(s1.id, 47).center(), "Go to Pin")
    assert editor.playhead == 47 and editor.current_shot == s1.id


def test_replace_with_offers_the_shots_other_takes_with_thumbnails(timeline, editor, loop):
    s1 = shots(editor)["1"]
    first, second = s1.keyframe_takes
    timeline._thumbs.clear()  # the icon must arrive after the menu opened, from the worker thread
    from ui.timeline_menus import context_menu

    menu = context_menu(timeline, timeline.pin_rect(s1.id, 0).center())
    assert timeline.picked is not None and (timeline.picked.kind, timeline.picked.frame) == ("pin", 0)
    replace = find(menu, "Replace With").menu()
    assert len(replace.actions()) == 1  # shot 1's other take; never the one pinned here, never shot 2's
    entry = replace.actions()[0]
    assert "pinned at 47" in entry.toolTip()
    run_until(loop, lambda: not entry.icon().isNull(), timeout=10)
    entry.trigger()
    assert shots(editor)["1"].pin_at(0).take_id == second.id
    assert editor.session.history.undo_label == "Replace Pin"
    editor.undo()
    assert shots(editor)["1"].pin_at(0).take_id == first.id
    menu.deleteLater()


def test_replace_with_is_disabled_when_the_shot_has_no_other_take(timeline, editor):
    s2 = shots(editor)["2"]
    from ui.timeline_menus import context_menu

    menu = context_menu(timeline, timeline.pin_rect(s2.id, 0).center())
    replace = find(menu, "Replace With")
    assert not replace.isEnabled() and "no other keyframe takes" in replace.menu().toolTip()
    menu.deleteLater()


# --- Delete / Backspace ---------------------------------------------------------------------------
def test_delete_unpins_a_clicked_pin(qtbot, timeline, editor, messages):
    s1 = shots(editor)["1"]
    click(qtbot, timeline, timeline.pin_rect(s1.id, 47).center())
    qtbot.keyClick(timeline, Qt.Key.Key_Delete)
    assert [p.frame for p in shots(editor)["1"].pins] == [0]
    assert [s.number for s in editor.project.shots()] == ["1", "2", "3"]  # the pin went, not the shot
    assert messages[-1].startswith("Unpinned frame 47 of shot 1")
    editor.undo()
    assert shots(editor)["1"].pins == s1.pins


def test_delete_after_the_picked_pin_was_undone_says_so_and_deletes_nothing(qtbot, timeline, editor, messages):
    s1 = shots(editor)["1"]
    start = timeline.pin_rect(s1.id, 47).center().toPoint()
    drag(qtbot, timeline, start, QPoint(round(timeline.x_of_frame(30) + PPF / 2), start.y()))
    assert timeline.picked.frame == 30  # the pin stays picked where it landed
    editor.undo()  # the pin is back at 47
    qtbot.keyClick(timeline, Qt.Key.Key_Delete)
    assert shots(editor)["1"].pins == s1.pins and editor.project.shot_count() == 3
    assert "no longer there" in messages[-1]


def test_backspace_removes_a_clicked_audio_clip(qtbot, timeline, editor):
    clip_id = add_audio(editor, start=10)
    rect = timeline.audio_rect(clip_id)
    assert not rect.isEmpty()
    click(qtbot, timeline, rect.center())
    assert timeline.picked.clip_id == clip_id
    assert editor.playhead == 0  # picking a clip doesn't scrub
    qtbot.keyClick(timeline, Qt.Key.Key_Backspace)
    assert editor.project.audio == ()
    editor.undo()
    assert [c.id for c in editor.project.audio] == [clip_id]


def test_delete_deletes_the_selected_shots_and_undo_brings_them_back(qtbot, timeline, editor):
    by = shots(editor)
    click(qtbot, timeline, body_of(timeline, by["2"].id))
    assert timeline.picked is None and editor.selection == [by["2"].id]
    qtbot.keyClick(timeline, Qt.Key.Key_Delete)
    assert [s.number for s in editor.project.shots()] == ["1", "3"]
    editor.undo()
    assert [s.number for s in editor.project.shots()] == ["1", "2", "3"]


def test_the_menu_key_opens_the_picked_pins_menu_and_the_delete_action_is_listed(qtbot, timeline, editor):
    s1 = shots(editor)["1"]
    click(qtbot, timeline, timeline.pin_rect(s1.id, 47).center())
    entries = right_click(timeline, QPointF(5, 5), "Go to Pin", reason=QContextMenuEvent.Reason.Keyboard)
    assert entries[0] == "Unpin" and editor.playhead == 47
    keys = [k.toString() for k in timeline.act_delete.shortcuts()]
    assert keys == ["Del", "Backspace"]  # what Help ▸ Keyboard Shortcuts shows for the timeline
    timeline.act_delete.trigger()
    assert [p.frame for p in shots(editor)["1"].pins] == [0]


def test_delete_wins_over_a_window_shortcut_on_the_same_key(qtbot, timeline, editor):
    fired: list[bool] = []
    other = QAction("Delete elsewhere", timeline)
    other.setShortcut(Qt.Key.Key_Delete)
    other.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    other.triggered.connect(lambda: fired.append(True))
    timeline.addAction(other)
    s1 = shots(editor)["1"]
    click(qtbot, timeline, timeline.pin_rect(s1.id, 47).center())
    qtbot.keyClick(timeline, Qt.Key.Key_Delete)
    assert [p.frame for p in shots(editor)["1"].pins] == [0] and not fired


# --- shots and their clips ------------------------------------------------------------------------
def test_right_clicking_a_shot_selects_it_and_offers_the_shot_menu(timeline, editor):
    by = shots(editor)
    entries = right_click(timeline, body_of(timeline, by["2"].id), "Duplicate")
    assert any(e.startswith("Render") for e in entries) and "Delete Shot" in entries and "Clip" not in entries
    numbers = [s.number for s in editor.project.shots()]
    assert len(numbers) == 4 and numbers[:2] == ["1", "2"] and numbers[3] == "3"  # the copy follows shot 2
    editor.undo()
    assert [s.number for s in editor.project.shots()] == ["1", "2", "3"]


def test_a_rendered_shot_has_a_clip_menu_on_its_header_and_under_its_shot_menu(timeline, editor):
    s2 = shots(editor)["2"]
    add_clip(editor, s2.id)
    asked: list[list[str]] = []
    editor.render_requested.connect(asked.append)
    entries = right_click(timeline, header_of(timeline, s2.id), "Render Again")
    assert entries == ["Render Again", "Open in Viewer", "Reveal File"]
    assert asked == [[s2.id]]
    editor.set_playhead(80)
    right_click(timeline, body_of(timeline, s2.id), "Clip", "Open in Viewer")
    assert editor.playhead == 48 and editor.current_shot == s2.id


def test_reveal_file_names_the_clip_file_and_says_when_it_is_missing(timeline, editor, messages, loop):
    s2 = shots(editor)["2"]
    add_clip(editor, s2.id)
    right_click(timeline, header_of(timeline, s2.id), "Reveal File")
    run_until(loop, lambda: any("missing" in m for m in messages), timeout=10)
    assert f"{'ef' * 32}.mov" in messages[-1]


# --- audio ----------------------------------------------------------------------------------------
def test_audio_menu_moves_a_clip_to_the_playhead(timeline, editor):
    clip_id = add_audio(editor)
    editor.set_playhead(30)
    entries = right_click(timeline, timeline.audio_rect(clip_id).center(), "Move to Playhead")
    assert entries[0] == "Move to Playhead" and entries[-1] == "Remove"
    assert editor.project.audio[0].start == 30
    editor.undo()
    assert editor.project.audio[0].start == 0


def test_audio_gain_from_its_spin_box_is_one_undo_step_and_presets_apply(timeline, editor):
    clip_id = add_audio(editor)
    from ui.timeline_menus import context_menu

    menu = context_menu(timeline, timeline.audio_rect(clip_id).center())
    gain = find(menu, "Gain").menu()
    spin = gain.findChild(QDoubleSpinBox, "gain")
    assert spin is not None and spin.value() == 0.0
    spin.setValue(-3.0)
    spin.setValue(-4.5)
    assert editor.project.audio[0].gain_db == -4.5
    menu.aboutToHide.emit()  # the menu closes: the next gain edit is a new undo step
    editor.undo()
    assert editor.project.audio[0].gain_db == 0.0
    find(gain, "Silent").trigger()
    assert editor.project.audio[0].gain_db == -96.0
    menu.deleteLater()


def test_audio_remove_from_the_menu(timeline, editor):
    clip_id = add_audio(editor)
    right_click(timeline, timeline.audio_rect(clip_id).center(), "Remove")
    assert editor.project.audio == () and timeline.picked is None


# --- scrubbing and zoom to fit ----------------------------------------------------------------------
def test_scrubbing_into_a_shot_selects_it(qtbot, timeline, editor):
    by = shots(editor)
    drag(qtbot, timeline, QPoint(round(timeline.x_of_frame(10)) + 2, 8), QPoint(round(timeline.x_of_frame(60)) + 2, 8))
    assert editor.playhead == 60
    assert editor.current_shot == by["2"].id and editor.selection == [by["2"].id]


def fits(timeline, editor) -> bool:
    """The whole cut in view, filling its width but for the margins."""
    end = timeline.x_of_frame(editor.cut.length)
    return timeline.x_of_frame(0) >= 0 and timeline.width() - 24 <= end <= timeline.width()


def test_zoom_to_fit_shows_the_whole_cut_long_or_short(timeline, editor):
    timeline.set_pixels_per_frame(30)
    timeline.ensure_frame_visible(90)
    timeline.zoom_to_fit()
    assert fits(timeline, editor)
    editor.edit(C.add_shot, editor.project.scenes[1].id, duration=24 * 60 * 60 * 2)  # a two-hour shot
    timeline.zoom_to_fit()
    assert fits(timeline, editor)


@pytest.mark.parametrize("key", [(Qt.Key.Key_Z, Qt.KeyboardModifier.ShiftModifier), (Qt.Key.Key_Backslash, None)])
def test_zoom_to_fit_keys_work_anywhere_in_the_window_but_not_while_typing(qtbot, editor, key):
    from ui.timeline import TimelineWidget

    window = QWidget()
    qtbot.addWidget(window)
    field, button = QLineEdit(), QPushButton("elsewhere")
    timeline = TimelineWidget(editor)
    layout = QVBoxLayout(window)
    for w in (field, button, timeline):
        layout.addWidget(w)
    window.resize(1000, 320)
    with qtbot.waitActive(window):  # a window shortcut needs its window active
        window.show()
        window.activateWindow()
    timeline.set_pixels_per_frame(30)  # zoomed in: shot 1 alone is wider than the window
    code, mods = key
    mods = mods or Qt.KeyboardModifier.NoModifier
    field.setFocus()
    qtbot.keyClick(field, code, mods)
    assert timeline.pixels_per_frame == 30 and field.text()  # typed, not zoomed
    button.setFocus()
    qtbot.keyClick(button, code, mods)
    assert fits(timeline, editor)
    assert timeline.act_zoom_fit.text().replace("&", "") == "Zoom Timeline to Fit"


def test_right_clicking_the_ruler_offers_zoom_to_fit(timeline, editor):
    timeline.set_pixels_per_frame(30)
    entries = right_click(timeline, QPointF(300, 8), "Zoom Timeline")
    assert entries == ["Zoom Timeline to &Fit"]
    assert fits(timeline, editor)
