"""Takes full size and compared in the real viewer, and the take context menu, driven through the real panel."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDesktopServices

from app import commands as C
from tests.ui.conftest import run_until

RED, BLUE, GREEN, YELLOW = (220, 30, 30), (30, 40, 220), (30, 200, 60), (230, 210, 20)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def viewer(qtbot, editor, panel):
    from ui.take_compare import connect_take_compare
    from ui.viewer import ViewerWidget

    v = ViewerWidget(editor, display_size=(320, 180))
    qtbot.addWidget(v)
    v.resize(640, 388)  # a 640×360 picture area over the 28 px caption line
    v.show()
    connect_take_compare(panel, v)
    return v


def _two_colour_picture(path: Path, left: tuple, right: tuple, size=(64, 36)) -> Path:
    rgb = np.zeros((size[1], size[0], 3), np.uint8)
    rgb[:, : size[0] // 2] = left
    rgb[:, size[0] // 2 :] = right
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def _import(panel, editor, loop, *paths: Path) -> list[str]:
    """Import pictures as takes of the current shot; their take ids, in order."""
    shot_id = editor.current_shot
    before = len(editor.project.shot(shot_id).keyframe_takes)
    for path in paths:  # one at a time, so the takes keep this order
        tasks = panel.import_files([str(path)])
        run_until(loop, lambda ts=tasks: all(t.done() for t in ts))
    takes = editor.project.shot(shot_id).keyframe_takes[before:]
    assert len(takes) == len(paths)
    return [t.id for t in takes]


def _history_item(panel, take_id: str):
    from ui.takes import TAKE_ROLE

    return next(
        panel.history.item(r) for r in range(panel.history.count()) if panel.history.item(r).data(TAKE_ROLE) == take_id
    )


def _screen(viewer, loop) -> np.ndarray:
    """What the viewer shows, as RGB pixels (the widget's own painting, caption line included)."""
    image = viewer.grab().toImage().convertToFormat(viewer.grab().toImage().Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, : 3 * w]
    return data.reshape(h, w, 3).copy()


def _near(pixel: np.ndarray, colour: tuple) -> bool:
    return bool(np.abs(pixel.astype(int) - np.array(colour)).max() <= 12)


def _menu_action(panel, lst, item, text: str, menu=None):
    menu = menu or panel.take_menu(lst, item)
    found = [a for a in menu.actions() if a.text() == text]
    assert found, f"no {text!r} in {[a.text() for a in menu.actions()]}"
    return found[0]


def _double_click(lst, item, qtbot) -> None:
    centre = lst.visualItemRect(item).center()
    # QTest's double-click is only the second press; a person's starts with a click.
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=centre)


def test_double_click_shows_a_take_full_size_until_esc_or_scrub(panel, viewer, editor, loop, qtbot, tmp_path, messages):
    (take_id,) = _import(panel, editor, loop, _two_colour_picture(tmp_path / "frame.png", RED, BLUE))
    cut_picture = _screen(viewer, loop)
    run_until(loop, lambda: viewer.shown_frame == 0)

    _double_click(panel.history, _history_item(panel, take_id), qtbot)
    run_until(loop, lambda: viewer.compare.pictures)
    assert viewer.showing_takes and viewer.hasFocus()
    screen = _screen(viewer, loop)
    # A 64×36 take fills the 640×360 picture area: red across the left half, blue across the right.
    for x in (8, 160, 300):
        assert _near(screen[180, x], RED), (x, screen[180, x])
    for x in (340, 480, 630):
        assert _near(screen[180, x], BLUE), (x, screen[180, x])
    assert "Shot 1 · frame.png" in viewer.compare.caption() and "Esc" in viewer.compare.caption()
    assert editor.playhead == 0, "looking at a take doesn't move the playhead"

    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not viewer.showing_takes
    assert np.array_equal(_screen(viewer, loop), cut_picture), "Esc: the cut is back, as it was"

    # The context menu's Open Full Size does the same; scrubbing goes back to the cut.
    _menu_action(panel, panel.history, _history_item(panel, take_id), "Open Full Size").trigger()
    run_until(loop, lambda: viewer.compare.pictures)
    editor.set_playhead(3)
    assert not viewer.showing_takes
    # And so does playing.
    _menu_action(panel, panel.history, _history_item(panel, take_id), "Open Full Size").trigger()
    run_until(loop, lambda: viewer.compare.pictures)
    viewer.play()
    assert not viewer.showing_takes and viewer.playing
    viewer.stop()


def test_compare_two_takes_side_by_side_and_flipped(panel, viewer, editor, loop, qtbot, tmp_path):
    a, b = _import(
        panel,
        editor,
        loop,
        _two_colour_picture(tmp_path / "a.png", RED, RED),
        _two_colour_picture(tmp_path / "b.png", GREEN, YELLOW),
    )
    item_a, item_b = _history_item(panel, a), _history_item(panel, b)
    assert not panel.compare_button.isEnabled()
    qtbot.mouseClick(
        panel.history.viewport(), Qt.MouseButton.LeftButton, pos=panel.history.visualItemRect(item_a).center()
    )
    assert panel.pin_button.isEnabled() and not panel.compare_button.isEnabled()
    qtbot.mouseClick(
        panel.history.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ControlModifier,
        pos=panel.history.visualItemRect(item_b).center(),
    )
    assert panel.compare_button.isEnabled() and not panel.pin_button.isEnabled(), "two selected: compare, not pin"
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: viewer.compare.pictures)

    # Side by side: the history lists newest first, so b is A (left) and a is B (right).
    screen = _screen(viewer, loop)
    assert _near(screen[180, 80], GREEN) and _near(screen[180, 240], YELLOW), "A: b.png on the left half"
    assert _near(screen[180, 400], RED) and _near(screen[180, 560], RED), "B: a.png on the right half"
    assert [(tag, p.ref.label) for tag, p in viewer.compare.shown()] == [
        ("A", "Shot 1 · b.png"),
        ("B", "Shot 1 · a.png"),
    ]
    assert viewer.compare.caption().startswith("A | B side by side")
    ARTIFACTS.mkdir(exist_ok=True)
    assert viewer.grab().save(str(ARTIFACTS / "take_compare_side_by_side.png"))

    # X flips: A alone, full width; X again: B.
    qtbot.keyClick(viewer, Qt.Key.Key_X)
    screen = _screen(viewer, loop)
    assert _near(screen[180, 100], GREEN) and _near(screen[180, 540], YELLOW)
    qtbot.keyClick(viewer, Qt.Key.Key_X)
    screen = _screen(viewer, loop)
    assert _near(screen[180, 100], RED) and _near(screen[180, 540], RED)
    assert viewer.compare.caption().startswith("B: Shot 1 · a.png")
    qtbot.keyClick(viewer, Qt.Key.Key_S)
    assert viewer.compare.mode == "side"

    # Compare With, from a take's menu: that take beside any other of its shot.
    menu = panel.take_menu(panel.history, item_a)
    submenu = _menu_action(panel, panel.history, item_a, "Compare With", menu).menu()
    labels = [action.text() for action in submenu.actions()]
    assert labels[0] == "b.png" and any("pinned 0" in label for label in labels)
    submenu.actions()[0].trigger()
    run_until(loop, lambda: [p.ref.take_id for p in viewer.compare.pictures] == [a, b])

    # A compared take deleted (and the deletion undone): the viewer goes back to the cut.
    editor.edit(C.remove_keyframe_take, editor.current_shot, a)
    assert not viewer.showing_takes


def test_take_menu_thumbnail_delete_and_reveal(panel, editor, loop, qtbot, tmp_path, messages, monkeypatch):
    shot_id = editor.current_shot
    (take_id,) = _import(panel, editor, loop, _two_colour_picture(tmp_path / "pick.png", RED, BLUE))
    item = _history_item(panel, take_id)

    _menu_action(panel, panel.history, item, "Set as Shot Thumbnail").trigger()
    assert editor.project.shot(shot_id).thumbnail_take == take_id
    assert messages[-1] == "Shot 1 shows take pick.png in the storyboard"
    item = _history_item(panel, take_id)
    assert item.text().startswith("★ pick.png"), "the strip marks the thumbnail"
    action = _menu_action(panel, panel.history, item, "Set as Shot Thumbnail")
    assert action.isChecked()
    action.trigger()  # unchecking goes back to the default
    assert editor.project.shot(shot_id).thumbnail_take == ""
    editor.undo()
    assert editor.project.shot(shot_id).thumbnail_take == take_id

    # Reveal File opens the folder that holds the take's image.
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    _menu_action(panel, panel.history, _history_item(panel, take_id), "Reveal File").trigger()
    run_until(loop, lambda: opened)
    take = editor.project.shot(shot_id).keyframe(take_id)
    path = editor.session.media.path(take.image)
    assert [Path(u.toLocalFile()) for u in opened] == [path.parent]
    assert path.is_file() and path.name in messages[-1]

    # Delete from the menu: the take and the thumbnail go, in one undo step.
    _menu_action(panel, panel.history, _history_item(panel, take_id), "Delete").trigger()
    shot = editor.project.shot(shot_id)
    assert take_id not in [t.id for t in shot.keyframe_takes] and shot.thumbnail_take == ""
    assert messages[-1].startswith("Deleted 1 keyframe")
    editor.undo()
    assert editor.project.shot(shot_id).thumbnail_take == take_id

    # Delete (or Backspace) in the list deletes the selected takes, pins and all, as one undo step.
    before = editor.project.shot(shot_id)
    pinned = before.pins[0].take_id
    panel.history.clearSelection()
    _history_item(panel, take_id).setSelected(True)
    _history_item(panel, pinned).setSelected(True)
    panel.history.setFocus()
    qtbot.keyClick(panel.history, Qt.Key.Key_Backspace)
    after = editor.project.shot(shot_id)
    assert len(after.keyframe_takes) == len(before.keyframe_takes) - 2
    assert all(p.take_id != pinned for p in after.pins)
    assert messages[-1] == "Deleted 2 keyframes and 1 pin showing them (Edit ▸ Undo brings them back)"
    editor.undo()
    assert editor.project.shot(shot_id) == before, "one undo brings both back"


def test_reveal_command_per_platform():
    from ui.reveal import reveal_command

    path = Path("/p/media/ab/abcd.png")
    assert reveal_command(path, "darwin") == ["open", "-R", str(path)]
    assert reveal_command(path, "win32") == ["explorer", f"/select,{path}"]
    assert reveal_command(path, "linux") is None, "Linux: the folder is opened instead"


def test_candidates_say_whose_they_are(panel, editor, bridge, loop, qtbot, messages):
    shots = [s.id for s in editor.project.shots()]
    panel.seed_edit.setText("7")
    panel.seed_lock.setChecked(True)
    panel.variations.setValue(2)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: panel.candidates.count() == 2 and panel.candidates.item(0).text() != "Generating…")
    assert panel.candidates_label.text() == "Candidates · shot 1 · “a door opens”"
    assert [panel.candidates.item(i).text() for i in range(2)] == ["seed 7", "seed 8"]

    editor.set_current_shot(shots[1])
    assert panel.candidates_label.text() == "Candidates of shot 1, not this shot · “a door opens”"
    assert [panel.candidates.item(i).text() for i in range(2)] == ["shot 1 · seed 7", "shot 1 · seed 8"]
    assert "not the current shot" in panel.candidates.item(0).toolTip()

    # Pinning one in shot 2 is refused, in words; the pin lands only in its own shot.
    found = editor.shot_at_playhead()
    assert found is not None and found[0] == shots[1], "the playhead is in the current shot"
    panel.candidates.item(0).setSelected(True)
    assert not panel.pin_at_playhead()
    assert messages[-1].startswith("This keyframe belongs to shot 1 and the playhead is in shot 2")
    assert editor.project.shot(shots[1]).pins == editor.project.shot(shots[1]).pins[:1]

    editor.set_current_shot(shots[0])
    assert panel.candidates_label.text().startswith("Candidates · shot 1")
    menu_pos = panel.candidates.visualItemRect(panel.candidates.item(0)).center()
    assert panel.candidates.itemAt(QPoint(menu_pos)) is panel.candidates.item(0)
