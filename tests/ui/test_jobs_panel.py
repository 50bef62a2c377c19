"""The jobs panel on a real CPU engine: progress, per-job and panel-wide cancel, failures in words."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app import commands as C
from engine.backend_registry import get_backend
from engine.jobs import ModelSpec
from tests.ui.conftest import run_until

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ENDED = ("done", "failed", "cancelled")


@pytest.fixture
def panel(qtbot, bridge):
    from ui.jobs_panel import JobsPanel

    widget = JobsPanel(bridge)
    qtbot.addWidget(widget)
    widget.resize(600, 460)
    widget.show()
    return widget


def _long_render(editor, bridge, frames: int = 2000) -> tuple[str, str]:
    """Shot 1 made long enough that a flow render is still running when the test acts."""
    shot_id = editor.project.scenes[0].shots[0].id
    assert editor.edit(C.retime_shot, shot_id, frames)
    (job_id,) = bridge.render([shot_id], ModelSpec("flow"))
    return shot_id, job_id


def test_a_running_render_shows_progress_and_its_cancel_button_stops_it(panel, editor, bridge, loop, qtbot):
    shot_id, job_id = _long_render(editor, bridge)
    row = panel.rows[job_id]
    # The backend's display name from the registry, not its id: which model renders it, in words.
    assert row.title.text() == f"Shot 1 · render · {get_backend('flow').display_name}"
    run_until(loop, lambda: bridge.jobs[job_id].eta is not None and bridge.jobs[job_id].step > 2)
    info = bridge.jobs[job_id]
    assert row.status.text() == "Running"
    assert row.progress.maximum() == info.total == 2000 and row.progress.value() == info.step
    assert row.eta.text().startswith("about ") and row.eta.text().endswith(" left")
    assert row.cancel_button.isVisible() and panel.cancel_all_button.isEnabled()

    qtbot.mouseClick(row.cancel_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: bridge.jobs[job_id].status in ENDED)
    assert bridge.jobs[job_id].status == "cancelled"
    assert row.status.text() == "Cancelled" and not row.cancel_button.isVisible()
    assert editor.project.shot(shot_id).clip_takes == (), "a cancelled render adds no clip"

    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert job_id not in panel.rows and panel.empty_label.isVisible()
    assert job_id in bridge.jobs, "clearing only hides rows; other panels still read the record"


def test_cancel_queued_then_cancel_all(panel, editor, bridge, loop, qtbot):
    shot_ids = [s.id for s in editor.project.shots()][:2]
    assert editor.edit(C.retime_shot, shot_ids[0], 2000)
    first, second = bridge.render(shot_ids, ModelSpec("flow"))
    run_until(loop, lambda: bridge.jobs[first].step > 0)
    assert bridge.jobs[second].status == "queued" and panel.rows[second].status.text() == "Queued"
    assert panel.cancel_queued_button.isEnabled()

    qtbot.mouseClick(panel.cancel_queued_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: bridge.jobs[second].status in ENDED)
    assert bridge.jobs[second].status == "cancelled" and bridge.jobs[first].status == "running"
    assert not panel.cancel_queued_button.isEnabled()

    qtbot.mouseClick(panel.cancel_all_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: bridge.jobs[first].status in ENDED)
    assert bridge.jobs[first].status == "cancelled"
    assert not panel.cancel_all_button.isEnabled() and panel.clear_button.isEnabled()


def test_a_failed_job_says_why_and_details_open_the_traceback(panel, editor, bridge, loop, qtbot):
    from ui.jobs_panel import DetailsDialog

    shot_id = editor.project.scenes[0].shots[0].id
    (job_id,) = bridge.render([shot_id], ModelSpec("ltx", "/nonexistent"))
    run_until(loop, lambda: bridge.jobs[job_id].status in ENDED)
    info = bridge.jobs[job_id]
    assert info.status == "failed" and info.message and info.detail
    row = panel.rows[job_id]
    assert row.status.text() == "Failed"
    assert row.message.isVisible() and row.message.text() == info.message and row.message.wordWrap()
    assert not row.cancel_button.isVisible() and row.details_button.isVisible()

    qtbot.mouseClick(row.details_button, Qt.MouseButton.LeftButton)
    dialog = panel.findChild(DetailsDialog)
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    assert dialog.text.toPlainText() == info.detail and dialog.text.isReadOnly()
    assert "Traceback" in info.detail
    dialog.close()


def test_keyframe_jobs_show_a_live_preview_and_screenshot(panel, editor, bridge, loop):
    from app.engine_service import random_seeds

    shots = [s.id for s in editor.project.shots()]
    done = bridge.generate(shots[1], ModelSpec("sketch"), (7, 8, 9))
    failed = bridge.render([shots[0]], ModelSpec("ltx", "/nonexistent"))[0]
    run_until(loop, lambda: all(bridge.jobs[j].status in ENDED for j in (done, failed)))
    assert panel.rows[done].status.text() == "Done"
    assert panel.rows[done].title.text() == "Shot 2 · 3 keyframes · sketch"
    assert panel.rows[done].preview.pixmap() is not None and not panel.rows[done].preview.pixmap().isNull()
    assert editor.edit(C.retime_shot, shots[0], 2000)
    (running,) = bridge.render([shots[0]], ModelSpec("flow"))
    queued = bridge.generate(shots[2], ModelSpec("sketch"), random_seeds(2))
    run_until(loop, lambda: bridge.jobs[running].eta is not None)  # flow renders send no previews
    ARTIFACTS.mkdir(exist_ok=True)
    assert panel.grab().save(str(ARTIFACTS / "jobs_panel.png"))
    assert bridge.jobs[queued] is not None
    bridge.cancel_all()
    run_until(loop, lambda: all(not i.active and i.status != "storing" for i in bridge.jobs.values()))
