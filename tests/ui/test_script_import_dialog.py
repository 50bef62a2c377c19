"""File ▸ Import Script in the real window: preview, timing settings, import, undo."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt

import ui.script_import_dialog as dialog_module
from app.document import Shot, new_id
from app.edits import Command, ReplaceScenes
from app.script.importer import preview_import
from app.script.load import load_script
from app.script.timing import TimingSettings
from tests.ui.conftest import run_until
from tests.ui.test_main_window import ARTIFACTS

SCRIPT = Path(__file__).resolve().parents[1] / "data" / "scripts" / "last_train.fountain"


def statuses(dialog) -> list[tuple[str, str]]:
    tree = dialog.tree
    return [(tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(1)) for i in range(tree.topLevelItemCount())]


def test_preview_then_import_then_undo(window, loop, qtbot):
    assert loop.run_until_complete(window.open_demo())
    before = window.state.project
    assert window.act_import_script.isEnabled()
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    assert dialog is not None and dialog.isVisible() and dialog.error == ""
    tree = dialog.tree
    headings = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    # The demo's own scene stays first; the script's two scenes follow.
    assert headings[1:] == ["EXT. STATION PLATFORM - NIGHT", "INT. WAITING ROOM - CONTINUOUS"]
    assert statuses(dialog)[0][1] == "made by hand"
    assert tree.topLevelItem(1).text(1) == "new" and tree.topLevelItem(1).childCount() == 3
    assert window.state.project is before  # a preview changes nothing

    # Slower reading makes longer shots, in the preview, before anything is imported.
    first_len = dialog.preview.scenes[1].shots[0].duration
    dialog.action_wps.setValue(1.0)
    run_until(loop, lambda: not dialog.pending)
    assert dialog.preview.scenes[1].shots[0].duration > first_len
    ARTIFACTS.mkdir(exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "script_import_dialog.png"))

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: window.script_dialog is None)  # closed (and deleted) after importing
    project = window.state.project
    assert [s.heading for s in project.scenes][1:] == headings[1:]
    assert project.scenes[0] is before.scenes[0]
    assert window.act_undo.text().endswith("Import Script")
    window.act_undo.trigger()
    assert window.state.project.scenes == before.scenes


def test_a_file_that_is_not_a_script_is_refused_in_the_dialog(window, loop, tmp_path):
    assert loop.run_until_complete(window.open_demo())
    bad = tmp_path / "empty.fountain"
    bad.write_text("", encoding="utf-8")
    dialog = loop.run_until_complete(window.import_script(bad))
    assert "empty" in dialog.error.lower() and not dialog.import_button.isEnabled()
    dialog.reject()


def test_cancel_while_the_file_is_read(window, loop, monkeypatch):
    assert loop.run_until_complete(window.open_demo())
    before = window.state.project
    release = threading.Event()

    def slow_load(path, rate):  # the real reader, on a slow disk
        assert release.wait(30)
        return load_script(path, rate)

    monkeypatch.setattr(dialog_module, "load_script", slow_load)
    task = asyncio.ensure_future(window.import_script(SCRIPT))
    run_until(loop, lambda: window.script_dialog is not None)
    dialog = window.script_dialog
    dialog.cancel_button.click()
    run_until(loop, lambda: not shiboken6.isValid(dialog))  # WA_DeleteOnClose: gone
    release.set()
    run_until(loop, task.done)
    assert task.exception() is None  # the read finished and its result was dropped
    assert window.state.project is before and window.script_dialog is None


def test_timing_changes_preview_once_off_the_gui_thread(window, loop, monkeypatch):
    assert loop.run_until_complete(window.open_demo())
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    calls: list[tuple[TimingSettings, bool]] = []

    def counted(project, doc, timing):
        calls.append((timing, threading.current_thread() is threading.main_thread()))
        return preview_import(project, doc, timing)

    monkeypatch.setattr(dialog_module, "preview_import", counted)
    for value in (2.0, 1.5, 1.0):  # a held spin arrow
        dialog.action_wps.setValue(value)
        assert dialog.pending and not dialog.import_button.isEnabled()
    run_until(loop, lambda: not dialog.pending)
    assert [(t.action_wps, on_gui) for t, on_gui in calls] == [(1.0, False)]
    assert dialog.import_button.isEnabled()
    dialog.reject()


def test_a_preview_overtaken_by_a_newer_one_is_dropped(window, loop, monkeypatch):
    assert loop.run_until_complete(window.open_demo())
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    slow, started = threading.Event(), threading.Event()

    def first_one_slow(project, doc, timing):
        if timing.action_wps == 2.0:
            started.set()
            assert slow.wait(30)
        return preview_import(project, doc, timing)

    monkeypatch.setattr(dialog_module, "preview_import", first_one_slow)
    dialog.action_wps.setValue(2.0)
    run_until(loop, started.is_set)
    dialog.action_wps.setValue(1.0)
    run_until(loop, lambda: not dialog.pending)
    latest = dialog.preview
    slow.set()
    loop.run_until_complete(asyncio.sleep(0.3))  # the old result arrives, and is dropped
    assert dialog.preview is latest and not dialog.pending and dialog.import_button.isEnabled()
    dialog.reject()


def test_import_uses_the_project_as_it_is_when_import_is_pressed(window, loop, qtbot):
    assert loop.run_until_complete(window.open_demo())
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    # The user renames the demo's scene while the preview is open.
    project = window.state.project
    renamed = replace(project.scenes[0], heading="INT. RENAMED - DAY")
    assert window.state.do(Command("Rename", (ReplaceScenes((renamed, *project.scenes[1:])),)))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: window.script_dialog is None)
    assert [s.heading for s in window.state.project.scenes] == [
        "INT. RENAMED - DAY", "EXT. STATION PLATFORM - NIGHT", "INT. WAITING ROOM - CONTINUOUS",
    ]  # fmt: skip


def test_scenes_are_labelled_by_what_the_import_does_to_them(window, loop, qtbot, tmp_path):
    assert loop.run_until_complete(window.open_demo())
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: window.script_dialog is None)
    # Someone adds a shot of their own to the waiting room; the writer then cuts that scene
    # and edits the first one.
    project = window.state.project
    waiting = project.scenes[2]
    extra = Shot(new_id(), "2Z", 24, action="A hand-made shot.")
    worked = replace(waiting, shots=(*waiting.shots, extra))
    assert window.state.do(Command("Add shot", (ReplaceScenes((*project.scenes[:2], worked)),)))
    text = SCRIPT.read_text(encoding="utf-8").split("INT. WAITING ROOM")[0]
    edited = tmp_path / "cut.fountain"
    edited.write_text(text.replace("11:58", "11:59"), encoding="utf-8")
    dialog = loop.run_until_complete(window.import_script(edited))
    assert [status for _, status in statuses(dialog)] == ["made by hand", "changed", "not in script (kept)"]
    dialog.reject()

    # The script as imported: nothing to do, the hand-made shot notwithstanding.
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    assert [status for _, status in statuses(dialog)] == ["made by hand", "unchanged", "unchanged"]
    assert not dialog.import_button.isEnabled()
    dialog.reject()


def test_the_shortest_shot_can_not_exceed_the_longest(window, loop):
    assert loop.run_until_complete(window.open_demo())
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    longest = TimingSettings().maximum_seconds
    assert dialog.minimum.maximum() == longest
    dialog.minimum.setValue(60.0)  # clamped to the longest shot
    run_until(loop, lambda: not dialog.pending)
    assert dialog.minimum.value() == longest and dialog.error == "" and dialog.import_button.isEnabled()
    dialog.reject()


def test_the_running_time_and_the_shots_the_longest_shot_clips_are_shown(window, loop):
    assert loop.run_until_complete(window.open_demo())
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    assert "estimated running time" in dialog.summary.text() and "pages at a page a minute" in dialog.summary.text()
    assert "clipped" not in dialog.report.toPlainText()
    dialog.maximum.setValue(2.0)  # shorter than most of the script's shots
    run_until(loop, lambda: not dialog.pending)
    report = dialog.report.toPlainText()
    clipped = next(line for line in report.splitlines() if "clipped to 2 s" in line)
    numbers = {s.number for scene in dialog.preview.scenes[1:] for s in scene.shots}
    assert any(n in clipped for n in numbers), clipped
    assert dialog.minimum.maximum() == 2.0, "the shortest shot can't exceed the longest"
    assert all(s.duration <= 2 * 24 for scene in dialog.preview.scenes[1:] for s in scene.shots)
    dialog.reject()
