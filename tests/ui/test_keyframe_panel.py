"""The keyframe panel on a real CPU engine: generate, pick, pin, undo, import and the take history."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor, QValidator

from app import commands as C
from engine.jobs import SEED_MAX, ModelSpec
from tests.ui.conftest import run_until
from ui.mime import read_take

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _click_generate(panel, bridge, loop, qtbot) -> str:
    before = set(bridge.jobs)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    (job_id,) = set(bridge.jobs) - before
    run_until(loop, lambda: bridge.jobs[job_id].status in ("done", "failed", "cancelled"))
    assert bridge.jobs[job_id].status == "done", bridge.jobs[job_id].message
    return job_id


def _menu_action(panel, lst, item, text: str):
    menu = panel.take_menu(lst, item)
    found = [a for a in menu.actions() if a.text() == text]
    assert found, f"no {text!r} in {[a.text() for a in menu.actions()]}"
    return found[0]


def _wait_for_thumbnails(panel, loop, lst) -> None:
    from ui.takes import REF_ROLE

    refs = [lst.item(i).data(REF_ROLE) for i in range(lst.count())]
    run_until(loop, lambda: all(panel.thumbnails.has(ref) for ref in refs if ref is not None))


def test_generate_pick_pin_and_undo(panel, editor, bridge, loop, qtbot, messages):
    from ui.takes import TAKE_ROLE

    shot = editor.project.shot(editor.current_shot)  # shot 1: cut frames 0-47
    before = len(shot.keyframe_takes)
    panel.seed_edit.setText("123")
    panel.seed_lock.setChecked(True)
    panel.variations.setValue(2)
    assert panel.model_spec() == ModelSpec("sketch")

    _click_generate(panel, bridge, loop, qtbot)
    takes = editor.project.shot(shot.id).keyframe_takes[before:]
    assert [t.generation.seed for t in takes] == [123, 124]
    assert [t.generation.backend for t in takes] == ["sketch", "sketch"]
    assert panel.candidates.count() == 2
    assert [panel.candidates.item(i).text() for i in range(2)] == ["seed 123", "seed 124"]
    _wait_for_thumbnails(panel, loop, panel.candidates)

    # Candidates drag onto the timeline as the shared take format.
    item = panel.candidates.item(1)
    assert read_take(panel.candidates.drag_mime(item)) == (shot.id, takes[1].id)

    # Outside the candidate's shot the pin is refused, in words.
    centre = panel.candidates.visualItemRect(item).center()
    qtbot.mouseClick(panel.candidates.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert item.isSelected() and panel.pin_button.isEnabled()
    editor.set_playhead(60)  # shot 2
    qtbot.mouseClick(panel.pin_button, Qt.MouseButton.LeftButton)
    assert "shot 2" in messages[-1] and "shot 1" in messages[-1]
    assert editor.project.shot(shot.id).pin_at(12) is None

    editor.set_playhead(10)
    item = panel.candidates.item(1)  # the playhead's shot changed twice: the grid was relabelled
    assert item.isSelected(), "the selection survives the relabelling"
    qtbot.mouseClick(panel.pin_button, Qt.MouseButton.LeftButton)
    assert editor.project.shot(shot.id).pin_at(10).take_id == item.data(TAKE_ROLE) == takes[1].id
    assert messages[-1] == "Pinned take seed 124 at frame 10 of shot 1"
    assert "pinned 10" in panel.history.item(0).text()  # newest first: seed 124

    editor.undo()
    assert editor.project.shot(shot.id).pin_at(10) is None
    editor.undo()
    assert len(editor.project.shot(shot.id).keyframe_takes) == before
    assert panel.candidates.count() == 0, "candidates whose takes were undone disappear"
    editor.redo()
    assert panel.candidates.count() == 2, "and come back on redo"


def test_generate_with_a_tiny_diffusers_model(panel, editor, bridge, loop, qtbot, tiny_sd_dir):
    panel.set_model(ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"), "tiny")
    panel.steps.setValue(1)
    panel.variations.setValue(1)
    panel.seed_lock.setChecked(False)
    panel.seed_edit.setText("5")
    shot_id = editor.current_shot

    before = set(bridge.jobs)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert panel.candidates.item(0).text() == "Generating…", "the live preview sits in the grid while it runs"
    (job_id,) = set(bridge.jobs) - before
    run_until(loop, lambda: not bridge.jobs[job_id].active and bridge.jobs[job_id].status != "storing")
    info = bridge.jobs[job_id]
    assert info.status == "done", info.message
    (take_id,) = info.take_ids
    take = editor.project.shot(shot_id).keyframe(take_id)
    assert take.generation.backend == "text2image" and take.generation.steps == 1
    assert take.generation.seed == int(panel.seed_edit.text())
    assert panel.candidates.count() == 1 and panel.candidates.item(0).data(Qt.ItemDataRole.UserRole) == take_id


def test_seed_field_lock_and_variations(panel, qtbot):
    from ui.keyframe_panel import SeedValidator

    validator = SeedValidator()
    assert validator.validate(str(SEED_MAX + 1), 0) == QValidator.State.Invalid
    assert validator.validate(str(SEED_MAX), 0) == QValidator.State.Acceptable
    assert validator.validate("-1", 0) == QValidator.State.Invalid
    assert validator.validate("", 0) == QValidator.State.Intermediate

    panel.seed_edit.clear()
    qtbot.keyClicks(panel.seed_edit, str(SEED_MAX + 1))
    assert panel.seed_edit.text() == str(SEED_MAX + 1)[:-1], "the last digit would pass 2^32-1"
    assert panel.seed_lock.isChecked(), "typing a seed means it"

    panel.seed_edit.setText(str(SEED_MAX))
    panel.variations.setValue(3)
    assert panel.seeds_for_generate() == (SEED_MAX, 0, 1), "seeds wrap around 2^32"
    assert panel.seeds_for_generate() == (SEED_MAX, 0, 1), "locked: the same seeds every time"

    panel.seed_lock.setChecked(False)
    first = panel.seeds_for_generate()
    assert first[0] == int(panel.seed_edit.text()), "the random seed is shown, so a good one can be locked"
    assert panel.seeds_for_generate() != first


def test_the_typed_prompt_is_the_shots_prompt(panel, editor, qtbot):
    from app.bundle import Bundle

    shots = [s.id for s in editor.project.shots()]
    assert panel.prompt.toPlainText() == "a door opens"
    editor.edit(C.set_shot_fields, shots[0], prompt="a door slams")  # the shot form edits the same field
    assert panel.prompt.toPlainText() == "a door slams", "an edit elsewhere shows here"

    panel.activateWindow()
    panel.prompt.setFocus()
    panel.prompt.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(panel.prompt, " at dawn")
    qtbot.keyClicks(panel.negative, "rain")
    assert editor.project.shot(shots[0]).prompt == "a door slams at dawn", "typing edits the shot"
    assert editor.project.shot(shots[0]).negative_prompt == "rain"
    editor.edit(C.set_shot_fields, shots[0], notes="unrelated edit")
    assert panel.prompt.toPlainText() == "a door slams at dawn", "typed text survives other edits"

    editor.set_current_shot(shots[1])
    assert panel.prompt.toPlainText() == "she turns" and panel.negative.toPlainText() == ""
    assert panel.history.count() == 1
    editor.set_current_shot(shots[0])
    assert panel.prompt.toPlainText() == "a door slams at dawn", "back on the shot, the typed prompt is there"
    assert panel.negative.toPlainText() == "rain"

    # It is saved with the project: the bundle read afresh has it.
    assert editor.session.autosaver.flush()
    bundle, saved, _report = Bundle.open(editor.session.path, readonly=True)
    bundle.close()
    assert saved.shot(shots[0]).prompt == "a door slams at dawn"

    # One undo step per burst of typing in one field.
    editor.undo()  # notes
    editor.undo()  # the negative prompt, typed in one go
    assert panel.negative.toPlainText() == "" and panel.prompt.toPlainText() == "a door slams at dawn"
    editor.undo()  # " at dawn", typed in one go
    assert panel.prompt.toPlainText() == "a door slams"
    assert editor.project.shot(shots[0]).prompt == "a door slams"

    editor.set_current_shot(None)
    assert not panel.generate_button.isEnabled() and not panel.prompt.isEnabled()


def test_import_images_and_take_history(panel, editor, loop, qtbot, tmp_path, messages):
    from ui.takes import TAKE_ROLE

    shot_id = editor.current_shot
    picture = tmp_path / "storyboard frame.jpeg"
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :32] = (200, 40, 40)
    assert cv2.imwrite(str(picture), rgb)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")

    tasks = panel.import_files([str(picture), str(broken)])
    run_until(loop, lambda: all(t.done() for t in tasks))
    shot = editor.project.shot(shot_id)
    take = shot.keyframe_takes[-1]
    assert (take.imported_from, take.width, take.height, take.image.ext) == ("storyboard frame.jpeg", 64, 48, "jpg")
    assert any("broken.png" in m for m in messages)

    # Every take of the shot, newest first, with words for how it was made.
    assert panel.history.count() == len(shot.keyframe_takes) == 3
    ids = [panel.history.item(i).data(TAKE_ROLE) for i in range(panel.history.count())]
    assert ids == [t.id for t in reversed(shot.keyframe_takes)]
    first, size, how = panel.history.item(0).text().split("\n")  # a strip cell: short lines under the picture
    assert first.startswith("storyboard frame") and (size, how) == ("64×48", "imported")
    assert "pinned 0" in panel.history.item(2).text()
    assert "imported storyboard frame.jpeg · 64×48" in panel.history.item(0).toolTip()
    _wait_for_thumbnails(panel, loop, panel.history)

    # The context menu's Pin at Playhead pins at frame 5 of shot 1, as one undo step.
    editor.set_playhead(5)
    _menu_action(panel, panel.history, panel.history.item(0), "Pin at Playhead").trigger()
    assert editor.project.shot(shot_id).pin_at(5).take_id == take.id
    assert messages[-1] == "Pinned take storyboard frame.jpeg at frame 5 of shot 1"


def test_history_tooltip_and_screenshot(panel, editor, bridge, loop, qtbot):
    panel.seed_edit.setText("42")
    panel.seed_lock.setChecked(True)
    panel.variations.setValue(4)
    _click_generate(panel, bridge, loop, qtbot)
    tip = panel.history.item(0).toolTip()
    assert "a door opens" in tip and "45" in tip and "sketch" in tip
    assert panel.history.item(0).text().startswith("seed 45\n")
    assert "seed 45 · sketch · 320×180" in tip
    _wait_for_thumbnails(panel, loop, panel.candidates)
    _wait_for_thumbnails(panel, loop, panel.history)
    panel.candidates.setCurrentRow(1)
    ARTIFACTS.mkdir(exist_ok=True)
    assert panel.grab().save(str(ARTIFACTS / "keyframe_panel.png"))


def test_dropped_image_files_are_imported(panel, editor, loop, tmp_path, messages):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    picture = tmp_path / "dropped.png"
    assert cv2.imwrite(str(picture), np.full((30, 40, 3), 90, np.uint8))
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(picture)), QUrl.fromLocalFile(str(notes))])
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, buttons, keys)
    panel.dropEvent(event)
    assert event.isAccepted()
    shot_id = editor.current_shot
    run_until(loop, lambda: editor.project.shot(shot_id).keyframe_takes[-1].imported_from == "dropped.png")
    run_until(loop, lambda: any("notes.txt" in m for m in messages))


def test_ctrl_return_generates(panel, editor, bridge, loop, qtbot):
    panel.activateWindow()
    qtbot.waitActive(panel)
    panel.prompt.setFocus()
    before = set(bridge.jobs)
    qtbot.keyClick(panel.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(set(bridge.jobs) - before) == 1
    assert panel.prompt.toPlainText() == "a door opens", "the shortcut doesn't type a line break"
    run_until(loop, lambda: all(not i.active and i.status != "storing" for i in bridge.jobs.values()))


def test_add_model_folder(panel, loop, tiny_sd_dir, tmp_path, messages):
    loop.run_until_complete(panel.add_model_folder(str(tiny_sd_dir)))
    assert panel.model_spec().backend == "text2image"
    assert panel.model_combo.currentText() == f"{tiny_sd_dir.name} (folder)"
    loop.run_until_complete(panel.add_model_folder(str(tmp_path)))
    assert "model_index.json" in messages[-1]
    assert panel.model_spec().backend == "text2image", "a refused folder leaves the choice alone"
