"""File ▸ Import Script in the real window: preview, timing settings, import, undo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests.ui.conftest import run_until
from tests.ui.test_main_window import ARTIFACTS, window  # noqa: F401  (fixture)

SCRIPT = Path(__file__).resolve().parents[1] / "data" / "scripts" / "last_train.fountain"


def test_preview_then_import_then_undo(window, loop, qtbot):  # noqa: F811
    assert loop.run_until_complete(window.open_demo())
    before = window.state.project
    assert window.act_import_script.isEnabled()
    dialog = loop.run_until_complete(window.import_script(SCRIPT))
    assert dialog is not None and dialog.isVisible() and dialog.error == ""
    tree = dialog.tree
    headings = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    # The demo's own scene stays first; the script's two scenes follow.
    assert headings[1:] == ["EXT. STATION PLATFORM - NIGHT", "INT. WAITING ROOM - CONTINUOUS"]
    assert tree.topLevelItem(1).text(1) == "new" and tree.topLevelItem(1).childCount() == 3
    assert window.state.project is before  # a preview changes nothing

    # Slower reading makes longer shots, in the preview, before anything is imported.
    first_len = dialog.preview.scenes[1].shots[0].duration
    dialog.action_wps.setValue(1.0)
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


def test_a_file_that_is_not_a_script_is_refused_in_the_dialog(window, loop, tmp_path):  # noqa: F811
    assert loop.run_until_complete(window.open_demo())
    bad = tmp_path / "empty.fountain"
    bad.write_text("", encoding="utf-8")
    dialog = loop.run_until_complete(window.import_script(bad))
    assert "empty" in dialog.error.lower() and not dialog.import_button.isEnabled()
    dialog.reject()
