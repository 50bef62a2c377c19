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


def _viewport_shows(panel, row) -> bool:
    """The whole row lies inside the scroll area's viewport."""
    viewport = panel.scroll_area.viewport()
    top_left = row.mapTo(viewport, row.rect().topLeft())
    return viewport.rect().contains(top_left) and viewport.rect().contains(top_left + row.rect().bottomRight())


def test_the_panel_follows_each_new_job_and_has_no_fixed_widths(panel, editor, bridge, loop, qtbot):
    panel.resize(420, 260)  # room for about one row: every new one must be scrolled to
    shots = [s.id for s in editor.project.shots()]
    ids = []
    for seed in range(6):
        ids.append(bridge.generate(shots[seed % 3], ModelSpec("sketch"), (seed,)))
        run_until(loop, lambda: _viewport_shows(panel, panel.rows[ids[-1]]))
    assert panel.scroll_area.verticalScrollBar().value() > 0, "the list is longer than the view, and scrolled down"
    assert not _viewport_shows(panel, panel.rows[ids[0]])
    run_until(loop, lambda: all(bridge.jobs[j].status in ENDED for j in ids))
    row = panel.rows[ids[-1]]
    small = row.preview.size()
    panel.resize(900, 600)  # a wider dock: the preview grows with it, nothing holds it at one size
    run_until(loop, lambda: row.preview.width() > small.width())
    assert row.preview.pixmap().width() > 96
    assert len({r.preview.width() for r in panel.rows.values()}) == 1, "every row's preview the same size"


def test_ended_states_are_a_word_and_a_colour(panel, editor, bridge, loop):
    from ui.jobs_panel import STATUS_COLOURS

    shots = [s.id for s in editor.project.shots()]
    done = bridge.generate(shots[1], ModelSpec("sketch"), (1,))
    failed = bridge.render([shots[0]], ModelSpec("ltx", "/nonexistent"))[0]
    run_until(loop, lambda: all(bridge.jobs[j].status in ENDED for j in (done, failed)))
    assert editor.edit(C.retime_shot, shots[0], 2000)
    (cancelled,) = bridge.render([shots[0]], ModelSpec("flow"))
    run_until(loop, lambda: bridge.jobs[cancelled].step > 0)
    bridge.cancel(cancelled)
    run_until(loop, lambda: bridge.jobs[cancelled].status in ENDED)
    for job_id, word in ((done, "Done"), (failed, "Failed"), (cancelled, "Cancelled")):
        row = panel.rows[job_id]
        colour = STATUS_COLOURS[word.lower()]
        assert row.status.text() == word and colour in row.status.styleSheet() and colour in row.styleSheet()
    assert len({STATUS_COLOURS[s] for s in ("done", "failed", "cancelled", "running")}) == 4


def test_a_render_shows_its_live_preview_and_its_saving_progress(panel, editor, bridge, loop, tiny_ltx_dir):
    shot = editor.project.scenes[0].shots[1]  # 24 frames, one pin: one pass of the tiny LTX model
    seen: list[tuple[str, str, int, int]] = []
    bridge.job_updated.connect(
        lambda j: seen.append(
            (bridge.jobs[j].status, panel.rows[j].status.text(), bridge.jobs[j].saved, panel.rows[j].progress.value())
        )
    )
    (job_id,) = bridge.render([shot.id], ModelSpec("ltx", str(tiny_ltx_dir), "tiny-ltx"), steps=3, work_pixels=64 * 32)
    run_until(loop, lambda: bridge.jobs[job_id].status in ENDED, timeout=180)
    info = bridge.jobs[job_id]
    assert info.status == "done", info.message
    row = panel.rows[job_id]
    pixmap = row.preview.pixmap()
    assert pixmap is not None and not pixmap.isNull() and pixmap.width() >= 96, "a render previews like a keyframe"
    assert info.preview is not None and max(info.preview.shape[:2]) >= 96
    saving = [s for s in seen if s[0] == "storing" and s[2] > 0]
    assert saving, "the saving stage reports frames as they are encoded"
    assert saving[-1][1] == "Saving results… 24 / 24 frames" and saving[-1][3] == 24
    assert [s[2] for s in saving] == sorted(s[2] for s in saving)
    ARTIFACTS.mkdir(exist_ok=True)
    assert panel.grab().save(str(ARTIFACTS / "jobs_panel_render_preview.png"))


def test_a_keyframe_jobs_notes_are_shown_once_however_many_keyframes_share_them():
    from engine.jobs import KeyframeJob, KeyframeResult
    from ui.engine_bridge import JobInfo
    from ui.jobs_panel import job_notes

    job = KeyframeJob(ModelSpec("sketch"), "a door", (1, 2), 64, 36)
    note = "references not used: no IP-Adapter is installed (Models ▸ ip-adapter)"
    info = JobInfo("j1", job, None, status="done")
    info.outputs = [KeyframeResult(f"/tmp/{seed}.png", seed, 64, 36, "sketch", notes=note) for seed in (1, 2)]
    assert job_notes(info) == note
    info.status = "failed"
    assert job_notes(info) == ""


def test_what_the_engine_says_along_the_way_shows_on_the_jobs_row(panel, editor, bridge, loop):
    """A farm retry is said as a Notice: the row shows the latest while the job runs, all of them in its
    tooltip, and the backend's own notes once it is done."""
    from engine.events import Notice

    _shot_id, job_id = _long_render(editor, bridge, frames=600)
    run_until(loop, lambda: bridge.jobs[job_id].step > 2)
    said = ["Shot 1: worker on node-3 died, retrying on node-5 (2 of 3)", "Shot 1: receiving 24 of 96 MB from node-5"]
    for text in said:
        bridge.engine._emit(Notice(job_id, text))  # as the farm executor says them, from the engine's thread
    row = panel.rows[job_id]
    run_until(loop, lambda: row.notes.text() == said[-1])
    assert row.notes.isVisible() and row.notes.toolTip() == "\n".join(said)
    assert bridge.jobs[job_id].status == "running", "a notice changes nothing about the job"
    run_until(loop, lambda: bridge.jobs[job_id].status in ENDED, timeout=120)
    assert bridge.jobs[job_id].status == "done"
    assert said[-1] not in row.notes.text() and row.notes.toolTip() == "\n".join(said)
