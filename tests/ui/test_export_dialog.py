"""File ▸ Export in the real window: choose formats, export in the background, cancel."""

from __future__ import annotations

import opentimelineio as otio
from PySide6.QtCore import Qt

from app import commands as C
from app.export.run import REPORT_NAME
from tests.ui.conftest import run_until
from tests.ui.test_main_window import ARTIFACTS, window  # noqa: F401  (fixture)


def open_dialog(window, loop, tmp_path):  # noqa: F811
    assert loop.run_until_complete(window.open_demo())
    assert window.act_export.isEnabled()
    window.act_export.trigger()
    dialog = window.export_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.open_when_done = False  # no file browser in a test
    dialog.destination.setText(str(tmp_path / "Übergabe an den Schnitt"))
    return dialog


def test_export_from_the_menu_writes_the_chosen_formats(window, loop, qtbot, tmp_path):  # noqa: F811
    dialog = open_dialog(window, loop, tmp_path)
    for key, check in dialog.format_checks.items():
        check.setChecked(key in {"movies", "otio", "csv"})
    dialog.codec.setCurrentIndex(dialog.codec.findData("h264"))
    dialog.own_handles.setChecked(False)
    dialog.handles.setValue(3)
    ARTIFACTS.mkdir(exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "export_dialog.png"))
    # An edit made while the dialog is open is in the export: it snapshots the project on Export.
    first = next(window.state.project.shots())
    assert window.state.do(C.set_shot_fields(window.state.project, first.id, number="1-edited"))
    progress_seen = []
    dialog.progress.valueChanged.connect(progress_seen.append)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.running and not dialog.close_button.isEnabled()
    run_until(loop, lambda: dialog.report is not None or dialog.error, timeout=120)
    assert dialog.error == ""
    out = tmp_path / "Übergabe an den Schnitt"
    project = window.state.project
    timeline = otio.adapters.read_from_file(str(next(out.glob("*.otio"))))
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == [s.number for s in project.shots()]
    assert clips[0].name == "1-edited"
    assert all(c.source_range.start_time.to_frames() - c.available_range().start_time.to_frames() == 3 for c in clips)
    assert len(list((out / "media").glob("*.mp4"))) == project.shot_count()
    assert (out / REPORT_NAME).is_file() and next(out.glob("*.csv"))
    assert not list(out.glob("*.pdf"))  # not chosen
    assert progress_seen and "Wrote" in dialog.stage.text()
    assert dialog.close_button.isEnabled()


def test_cancel_stops_the_export_and_keeps_the_window(window, loop, qtbot, tmp_path):  # noqa: F811
    dialog = open_dialog(window, loop, tmp_path)
    for key, check in dialog.format_checks.items():
        check.setChecked(key in {"movies", "png"})
    dialog.own_handles.setChecked(False)
    dialog.handles.setValue(1000)  # thousands of frames: seconds of work to cancel part-way
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: dialog.progress.maximum() > 1 and dialog.progress.value() > 10, timeout=60)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: not dialog.running, timeout=60)
    assert dialog.report is None and "cancelled" in dialog.error
    out = tmp_path / "Übergabe an den Schnitt"
    assert not [p for p in out.rglob("*") if "partial" in p.name]
    assert not (out / REPORT_NAME).exists()
    assert window.state.project is not None  # the window carries on
