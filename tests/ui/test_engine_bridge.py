"""The engine bridge: jobs submitted from the GUI thread, results applied as undoable edits."""

from __future__ import annotations

import itertools

from engine.jobs import ModelSpec
from tests.ui.conftest import run_until


def test_generated_keyframes_become_takes_and_undo_removes_them(editor, bridge, loop):
    shot_id = editor.project.scenes[1].shots[0].id
    job_id = bridge.generate(shot_id, ModelSpec("sketch"), (4, 5), pin_frame=3)
    run_until(loop, lambda: not bridge.jobs[job_id].active and bridge.jobs[job_id].status != "storing")
    info = bridge.jobs[job_id]
    assert info.status == "done", info.message
    shot = editor.project.shot(shot_id)
    assert [t.generation.seed for t in shot.keyframe_takes] == [4, 5]
    assert shot.pin_at(3).take_id == info.take_ids[0]
    editor.undo()
    assert editor.project.shot(shot_id).keyframe_takes == ()


def test_a_render_is_stored_without_losing_edits_made_while_it_ran(editor, bridge, loop):
    from app import commands as C

    shot = editor.project.scenes[0].shots[0]
    (job_id,) = bridge.render([shot.id], ModelSpec("flow"))
    editor.edit(C.set_shot_fields, shot.id, notes="edited while rendering")
    run_until(loop, lambda: bridge.jobs[job_id].status in ("done", "failed"))
    assert bridge.jobs[job_id].status == "done", bridge.jobs[job_id].message
    stored = editor.project.shot(shot.id)
    assert stored.notes == "edited while rendering" and stored.current_clip is not None
    assert not editor.project.is_stale(stored), "notes don't change the pixels"


def test_storing_a_clip_reports_frames_encoded(editor, bridge, loop):
    shot = editor.project.scenes[0].shots[0]  # 48 frames
    updates: list[tuple[str, int, int]] = []
    bridge.job_updated.connect(lambda j: updates.append((bridge.jobs[j].status, bridge.jobs[j].saved,
                                                         bridge.jobs[j].save_total)))  # fmt: skip
    (job_id,) = bridge.render([shot.id], ModelSpec("flow"))
    run_until(loop, lambda: bridge.jobs[job_id].status in ("done", "failed"))
    assert bridge.jobs[job_id].status == "done", bridge.jobs[job_id].message
    saving = [(saved, total) for status, saved, total in updates if status == "storing" and saved]
    assert saving and saving[-1] == (48, 48), saving
    assert len(saving) > 1 and all(0 < a < b for (a, _), (b, _) in itertools.pairwise(saving))
