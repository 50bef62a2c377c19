"""Issue 17's "done when", in the real window on the demo project, with tiny random-weight pipelines loaded
from folders like a user's downloads:

draw a rough panel, turn it into three keyframe candidates that keep its composition (DeepFloyd IF, pixel
space), fix one by inpainting (the rest pixel-identical), keep the same character across five shots with a
reference picture (text to image through an IP-Adapter), pin the results and render.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from engine.backends.fit import read_rgb
from engine.jobs import ModelSpec
from tests.engine.test_runtime import pin_file
from tests.engine.tiny_ip_adapter import build_tiny_ip_adapter
from tests.ui.conftest import run_until
from tests.ui.test_main_window import ARTIFACTS
from ui.takes import TAKE_ROLE


def grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (64, 36), interpolation=cv2.INTER_AREA).astype(float)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(grey(a).ravel(), grey(b).ravel())[0, 1])


def stroke(canvas, points: list[tuple[float, float]]) -> None:
    """A stroke with the mouse through ``points`` (fractions of the picture)."""
    rect = canvas.picture_rect()

    def at(fx: float, fy: float) -> QPoint:
        return QPoint(round(rect.left() + fx * rect.width()), round(rect.top() + fy * rect.height()))

    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=at(*points[0]))
    for p in points[1:]:
        QTest.mouseMove(canvas, at(*p))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=at(*points[-1]))


def finish(window, loop, job_id: str):
    bridge = window.bridge
    run_until(loop, lambda: not bridge.jobs[job_id].active and bridge.jobs[job_id].status != "storing", timeout=240)
    info = bridge.jobs[job_id]
    assert info.status == "done", info.message
    return info


def select_take(lst, take_id: str):
    item = next(lst.item(r) for r in range(lst.count()) if lst.item(r).data(TAKE_ROLE) == take_id)
    lst.clearSelection()
    lst.setCurrentItem(item)
    item.setSelected(True)
    return item


def test_draw_steer_inpaint_keep_a_character_pin_and_render(
    window, loop, qtbot, tmp_path, monkeypatch, tiny_if_dir, tiny_if_sr_dir, tiny_sd_dir
):
    # The IP-Adapter where a download of h94/IP-Adapter would be found (PINFRAME_IP_ADAPTER names a folder).
    monkeypatch.setenv("PINFRAME_IP_ADAPTER", str(build_tiny_ip_adapter(tiny_sd_dir, tmp_path / "ip-adapter")))
    assert loop.run_until_complete(window.open_demo())
    window.resize(1280, 720)
    state, panel, media = window.state, window.keyframes, window.state.session.media
    first = next(state.project.shots())
    state.set_current_shot(first.id)
    state.set_playhead(state.cut.entries[0].start)
    ARTIFACTS.mkdir(exist_ok=True)

    # 1. A rough panel, drawn on blank paper (Shot ▸ Draw on Shot), saved as a take pinned at frame 0.
    window.act_draw.trigger()
    layer = window.drawing
    run_until(loop, layer.ready)
    layer.toolbar.paper_check.setChecked(True)
    run_until(loop, layer.ready)
    layer.toolbar.brush_size.setValue(40)
    stroke(layer.canvas, [(0.1, 0.8), (0.5, 0.2), (0.9, 0.8)])  # a mountain
    stroke(layer.canvas, [(0.15, 0.15), (0.2, 0.15)])  # the sun
    assert window.grab().save(str(ARTIFACTS / "steering_1_drawing.png"))
    loop.run_until_complete(layer.save())
    drawing = state.project.shot(first.id).keyframe_takes[-1]
    assert drawing.imported_from.startswith("drawing") and state.project.shot(first.id).pin_at(0).take_id == drawing.id
    sketch = read_rgb(media.path(drawing.image))

    # 2. Three candidates from the drawing that keep its composition (IF, sketch -> keyframe).
    window.dock_keyframes.raise_()
    panel.set_model(ModelSpec("if", str(tiny_if_dir), "tiny-if", upscale_path=str(tiny_if_sr_dir)), "tiny IF")
    panel.steps.setValue(2)
    panel.variations.setValue(3)
    panel.strength.setValue(30)
    run_until(loop, lambda: panel.history.count() > 0)
    select_take(panel.history, drawing.id)
    assert panel.from_take_button.isEnabled(), panel.from_take_button.toolTip()
    before = set(window.bridge.jobs)
    qtbot.mouseClick(panel.from_take_button, Qt.MouseButton.LeftButton)
    (job_id,) = set(window.bridge.jobs) - before
    candidates = finish(window, loop, job_id).take_ids
    assert len(candidates) == 3
    takes = {t.id: t for t in state.project.shot(first.id).keyframe_takes}
    for take_id in candidates:
        picture = read_rgb(media.path(takes[take_id].image))
        assert correlation(picture, sketch) > 0.5, "the candidate keeps the drawing's composition"
        assert takes[take_id].generation.source_take == drawing.id
    assert window.grab().save(str(ARTIFACTS / "steering_2_candidates.png"))

    # 3. Fix one by inpainting a region (take menu ▸ Inpaint…): outside the mask it is the same picture.
    chosen = candidates[0]
    panel.variations.setValue(1)
    run_until(loop, lambda: panel.candidates.count() == 3)
    item = select_take(panel.candidates, chosen)
    menu = panel.take_menu(panel.candidates, item)
    inpaint = next(a for a in menu.actions() if a.text() == "Inpaint…")
    assert inpaint.isEnabled()
    inpaint.trigger()
    run_until(loop, layer.ready)
    layer.toolbar.brush_size.setValue(30)
    stroke(layer.canvas, [(0.8, 0.2), (0.85, 0.25)])
    job_id = layer.inpaint()
    assert job_id is not None
    (fixed_id,) = finish(window, loop, job_id).take_ids
    takes = {t.id: t for t in state.project.shot(first.id).keyframe_takes}
    original, fixed = read_rgb(media.path(takes[chosen].image)), read_rgb(media.path(takes[fixed_id].image))
    changed = np.abs(original.astype(int) - fixed.astype(int)).max(axis=2) > 0
    assert changed.any(), "the masked region was painted anew"
    height, width = changed.shape
    assert not changed[height // 2 :, : width // 2].any(), "away from the mask, pixel for pixel the original"
    menu.deleteLater()

    # 4. One character across five shots: a reference picture (Project ▸ References and LoRAs…), ticked in each
    # shot's form, read by the text-to-image model through the IP-Adapter.
    window.act_references.trigger()
    dialog = window.references_dialog
    maya = pin_file(tmp_path, "maya.png", 5, size=(96, 96))
    assert loop.run_until_complete(dialog.add_references([maya])) == 1
    dialog.close()
    from ui.shot_menu import insert_shot

    last = list(state.project.shots())[-1].id
    insert_shot(state, last, after=True)  # the demo has four shots: a fifth for the character
    shots = [s.id for s in state.project.shots()]
    assert len(shots) == 5
    panel.set_model(ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"), "tiny SD")
    panel.variations.setValue(1)
    form = window.shots.shot_form
    reference = state.project.references[0]
    made = []
    for shot_id in shots:
        state.set_current_shot(shot_id)
        run_until(loop, lambda: form.references.list.count() == 1)
        form.references.list.item(0).setCheckState(Qt.CheckState.Checked)
        assert state.project.shot(shot_id).references == (reference.id,)
        before = set(window.bridge.jobs)
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
        (job_id,) = set(window.bridge.jobs) - before
        info = finish(window, loop, job_id)
        assert info.job.references == ((str(media.path(reference.image)), reference.weight),)
        assert not any("not used" in r.notes for r in info.outputs), [r.notes for r in info.outputs]
        take = state.project.shot(shot_id).keyframe(info.take_ids[0])
        assert take.generation.references == ((reference.name, reference.weight),), "the take records it"
        made.append((shot_id, take.id))

    # 5. Pin the results at their shots' first frames (P's command) and render every shot.
    for shot_id, take_id in made:
        state.set_current_shot(shot_id)
        entry = next(e for e in state.cut.entries if e.shot.id == shot_id)
        state.set_playhead(entry.start)
        assert panel.pin_at_playhead((shot_id, take_id))
        assert state.project.shot(shot_id).pin_at(0).take_id == take_id
    window.motion.actions["crossfade"].trigger()
    ids = loop.run_until_complete(window.render_shots("all"))
    assert len(ids) == 5
    run_until(loop, lambda: all(state.project.shot(s).current_clip is not None for s in shots), timeout=240)
    window.dock_storyboard.raise_()
    loop.run_until_complete(asyncio.sleep(0.3))
    assert window.grab().save(str(ARTIFACTS / "steering_3_rendered.png"))
    assert Path(media.path(state.project.shot(shots[-1]).current_clip_take.media)).is_file()
