"""Sketch -> keyframe and inpainting from the Keyframes panel: enabled by the backend table,
jobs that carry the take's picture (and mask), candidates that say where they came from."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from engine.jobs import ModelSpec
from tests.ui.conftest import run_until


def _select_first_history_take(panel, loop):
    run_until(loop, lambda: panel.history.count() > 0)
    item = panel.history.item(0)
    panel.history.setCurrentItem(item)
    item.setSelected(True)
    return item


def test_from_take_is_disabled_for_the_sketch_model_and_says_which_models_can(panel, loop):
    _select_first_history_take(panel, loop)
    assert panel.model_spec().backend == "sketch"
    assert not panel.from_take_button.isEnabled()
    tip = panel.from_take_button.toolTip()
    assert "DeepFloyd IF" in tip and "Text to image" in tip
    assert panel.generate_from_take() is None, "refused in words, not queued"


def test_from_take_needs_one_selected_take(panel, loop, tiny_sd_dir):
    panel.set_model(ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"), "tiny")
    panel.history.clearSelection()
    panel.candidates.clearSelection()
    assert not panel.from_take_button.isEnabled()
    assert "Select one take" in panel.from_take_button.toolTip()
    _select_first_history_take(panel, loop)
    assert panel.from_take_button.isEnabled()
    assert panel.source_label.text().startswith("From take")


def _wait_done(bridge, loop, job_id):
    run_until(loop, lambda: not bridge.jobs[job_id].active and bridge.jobs[job_id].status != "storing", timeout=180)
    info = bridge.jobs[job_id]
    assert info.status == "done", info.message
    return info


def test_generate_from_take_makes_candidates_with_a_tiny_diffusers_model(
    panel, editor, bridge, loop, qtbot, tiny_sd_dir
):
    panel.set_model(ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"), "tiny")
    panel.steps.setValue(2)
    panel.variations.setValue(2)
    panel.strength.setValue(50)
    item = _select_first_history_take(panel, loop)
    shot_id, take_id = item.data(Qt.ItemDataRole.UserRole + 1), item.data(Qt.ItemDataRole.UserRole)
    source = editor.project.shot(shot_id).keyframe(take_id)

    before = set(bridge.jobs)
    qtbot.mouseClick(panel.from_take_button, Qt.MouseButton.LeftButton)
    (job_id,) = set(bridge.jobs) - before
    job = bridge.jobs[job_id].job
    assert job.init_image == str(editor.session.media.path(source.image))
    assert job.strength == 0.5 and job.mask_image == ""
    assert "at strength 0.50" in panel.candidates_label.text()
    info = _wait_done(bridge, loop, job_id)
    assert len(info.take_ids) == 2
    assert panel.candidates.count() == 2
    assert "from take" in panel.candidates_label.text() and "0.50" in panel.candidates_label.text()


def test_inpaint_from_the_take_menu_with_a_tiny_diffusers_model(panel, editor, bridge, loop, qtbot, tiny_sd_dir):
    from ui.drawing import DrawingOverlay
    from ui.viewer import ViewerWidget

    viewer = ViewerWidget(editor)
    qtbot.addWidget(viewer)
    viewer.resize(640, 420)
    viewer.show()
    layer = DrawingOverlay(viewer, editor, inpaint=panel.inpaint_take)
    panel.inpaint_requested.connect(layer.open_mask)
    panel.set_model(ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"), "tiny")
    panel.steps.setValue(2)
    panel.variations.setValue(1)

    item = _select_first_history_take(panel, loop)
    menu = panel.take_menu(panel.history, item)
    inpaint = next(a for a in menu.actions() if a.text() == "Inpaint…")
    assert inpaint.isEnabled()
    inpaint.trigger()
    run_until(loop, layer.ready)
    canvas = layer.canvas
    rect = canvas.picture_rect()
    centre = QPoint(round(rect.center().x()), round(rect.center().y()))
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=centre)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=centre)

    before = set(bridge.jobs)
    job_id = layer.inpaint()
    assert job_id is not None and set(bridge.jobs) - before == {job_id}
    job = bridge.jobs[job_id].job
    mask = Path(job.mask_image)
    assert mask.is_file() and job.init_image.endswith(".png")
    assert "inpainted from take" in panel.candidates_label.text()
    _wait_done(bridge, loop, job_id)
    assert not mask.parent.exists(), "the mask's scratch folder goes when the job ends"
    menu.deleteLater()
