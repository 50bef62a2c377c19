"""The drawing layer on a real viewer: strokes drawn with the mouse, undo, save as a take (pixels
checked), Esc discards, the mask of an inpainting, the window's menu entries and keys."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.cut import fit
from tests.ui.conftest import run_until


@pytest.fixture
def viewer(qtbot, editor):
    from ui.viewer import ViewerWidget

    widget = ViewerWidget(editor)
    qtbot.addWidget(widget)
    widget.resize(640, 420)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def layer(viewer, editor):
    from ui.drawing import DrawingOverlay

    return DrawingOverlay(viewer, editor)


def _at(canvas, fx: float, fy: float) -> QPoint:
    rect = canvas.picture_rect()
    return QPoint(round(rect.x() + fx * rect.width()), round(rect.y() + fy * rect.height()))


def drag(canvas, points: list[tuple[float, float]]) -> None:
    """A stroke with the mouse through ``points`` (fractions of the picture)."""
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=_at(canvas, *points[0]))
    for p in points[1:]:
        QTest.mouseMove(canvas, _at(canvas, *p))
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=_at(canvas, *points[-1]))


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_strokes_undo_and_save_a_pinned_take_over_the_keyframe(layer, editor, loop, messages):
    shot = editor.project.shot(editor.current_shot)
    pinned = shot.pin_at(0).take_id
    start = len(shot.keyframe_takes)
    loop.run_until_complete(layer.open_drawing(shot.id, pinned, 0))
    assert layer.isVisible() and layer.ready()
    assert layer.geometry() == layer.viewer.rect(), "the layer covers the viewer"
    canvas = layer.canvas
    layer.toolbar.brush_size.setValue(12)
    drag(canvas, [(0.1, 0.5), (0.3, 0.5), (0.45, 0.5)])  # stays
    drag(canvas, [(0.6, 0.2), (0.9, 0.2)])  # undone
    assert len(canvas.strokes()) == 2
    QTest.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(canvas.strokes()) == 1, "Ctrl+Z takes back the last stroke"
    assert editor.project.shot(shot.id).keyframe_takes == shot.keyframe_takes, "and no document edit"

    task = layer.save()
    loop.run_until_complete(task)
    assert not layer.isVisible()
    after = editor.project.shot(shot.id)
    assert len(after.keyframe_takes) == start + 1
    take = after.keyframe_takes[-1]
    assert (take.width, take.height) == (320, 180), "saved at the project's frame size"
    assert after.pin_at(0).take_id == take.id, "pinned at the playhead"
    assert take.imported_from.startswith("drawing over")
    pixels = read_rgb(editor.session.media.path(take.image))
    under = fit(read_rgb(editor.session.media.path(shot.keyframe(pinned).image)), 320, 180)
    assert pixels.shape == (180, 320, 3)
    assert pixels[90, 80].max() < 40, "the kept stroke is ink"
    assert np.abs(pixels[36, 240].astype(int) - under[36, 240]).max() <= 2, "the undone stroke left no trace"
    assert np.abs(pixels[150:, :].astype(int) - under[150:, :]).max() <= 2, "away from the ink: the keyframe"
    assert "pinned at frame 0" in messages[-1]

    editor.undo()
    back = editor.project.shot(shot.id)
    assert len(back.keyframe_takes) == start and back.pin_at(0).take_id == pinned, "one undo step"


def test_escape_discards_the_drawing(layer, editor, loop, messages):
    shot = editor.project.shot(editor.current_shot)
    before = editor.project
    layer.open_drawing(shot.id, None, None)  # blank paper: nothing to load
    assert layer.ready() and layer.toolbar.paper_check.isChecked()
    drag(layer.canvas, [(0.2, 0.2), (0.8, 0.8)])
    QTest.keyClick(layer.canvas, Qt.Key.Key_Escape)
    assert not layer.isVisible() and not layer.active
    assert editor.project is before, "nothing was added"
    assert messages[-1] == "Drawing discarded"


def test_saving_nothing_is_refused(layer, editor, messages):
    shot = editor.project.shot(editor.current_shot)
    layer.open_drawing(shot.id, None, None)
    assert layer.save() is None
    assert "Nothing is drawn" in messages[-1] and layer.isVisible()


def test_clear_is_undoable_and_the_eraser_rubs_out_strokes_only(layer, editor, loop):
    from ui.drawing_strokes import compose_drawing

    shot = editor.project.shot(editor.current_shot)
    layer.open_drawing(shot.id, None, None)
    canvas = layer.canvas
    layer.toolbar.brush_size.setValue(20)
    drag(canvas, [(0.1, 0.5), (0.9, 0.5)])
    QTest.keyClick(canvas, Qt.Key.Key_E)
    assert canvas.eraser
    drag(canvas, [(0.5, 0.3), (0.5, 0.7)])
    out = compose_drawing(None, canvas.strokes(), 320, 180)
    assert out[90, 40].max() < 40 and out[90, 160].min() > 215, "ink, then white paper where it was rubbed out"
    layer.toolbar.clear_button.click()
    assert canvas.strokes() == ()
    layer.toolbar.undo_button.click()
    assert len(canvas.strokes()) == 2, "Undo brings a cleared drawing back"


def test_mask_mode_writes_a_mask_the_size_of_the_take(viewer, editor, loop, tmp_path):
    from ui.drawing import DrawingOverlay

    seen: dict = {}

    def inpaint(key, strength, mask, prompt, scratch):
        seen.update(key=key, strength=strength, mask=read_rgb(Path(mask))[..., 0], prompt=prompt, scratch=scratch)
        return "job-1"

    layer = DrawingOverlay(viewer, editor, inpaint=inpaint)
    shot = editor.project.shot(editor.current_shot)
    take = shot.keyframe_takes[0]
    loop.run_until_complete(layer.open_mask((shot.id, take.id)))
    assert layer.toolbar.inpaint_button.isVisible() and not layer.toolbar.save_button.isVisible()
    assert layer.toolbar.prompt.text() == shot.prompt
    canvas = layer.canvas
    assert abs(canvas.picture_rect().width() / canvas.picture_rect().height() - 160 / 90) < 0.02
    layer.toolbar.brush_size.setValue(30)
    drag(canvas, [(0.25, 0.5), (0.3, 0.5)])
    layer.toolbar.prompt.setText("a hand holding a ticket")
    assert layer.inpaint() == "job-1"
    mask = seen["mask"]
    assert mask.shape == (90, 160), "the take's size"
    assert set(np.unique(mask)) <= {0, 255}, "hard-edged: white repaints, black keeps"
    assert mask[45, 44] == 255 and mask[10, 150] == 0
    assert seen["key"] == (shot.id, take.id) and seen["prompt"] == "a hand holding a ticket"
    assert seen["strength"] == pytest.approx(1.0)
    assert not layer.isVisible()


def test_window_draw_on_shot_menu_take_menu_and_keys(window, loop, qtbot):
    from PySide6.QtGui import QKeySequence

    from ui.keyframe_take_menu import item_key

    assert loop.run_until_complete(window.open_demo())
    assert window.act_draw.shortcut() == QKeySequence("Ctrl+Shift+D")
    assert window.act_draw in window.shot_menu.actions()
    window.act_draw.trigger()
    drawing = window.drawing
    run_until(loop, drawing.ready)
    assert drawing.active and drawing.isVisible() and drawing.target.take_id is not None, "over the pin"
    drawing.cancel()

    panel = window.keyframes
    run_until(loop, lambda: panel.history.count() > 0)
    item = panel.history.item(0)
    menu = panel.take_menu(panel.history, item)
    actions = {a.text(): a for a in menu.actions()}
    assert {"Draw Over…", "Generate From This Take", "Inpaint…"} <= set(actions)
    assert not actions["Inpaint…"].isEnabled(), "the sketch model can't inpaint"
    assert "DeepFloyd IF" in actions["Inpaint…"].toolTip()
    actions["Draw Over…"].trigger()
    run_until(loop, drawing.ready)
    assert drawing.target.take_id == item_key(item)[1]
    drawing.cancel()
    menu.deleteLater()
