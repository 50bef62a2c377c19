"""How the window reaches the drawing layer (:mod:`ui.drawing`): Shot ▸ Draw on Shot (Ctrl+Shift+D),
Shot ▸ Inpaint Selected Take, and the Keyframes panel's Draw…, Draw Over… and Inpaint… requests."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ui.drawing import DrawingOverlay
from ui.keyframe_take_menu import TakeKey, item_key, model_can
from ui.state import EditorState

if TYPE_CHECKING:
    from ui.main_window import MainWindow


# --- where a drawing starts -----------------------------------------------------------------------
def drawing_target(state: EditorState, selected: TakeKey | None = None) -> tuple[str, str | None, int | None] | None:
    """(shot id, take to draw over, pin frame) for Shot ▸ Draw on Shot: the shot under the playhead,
    over its pin at the playhead, else ``selected`` (a take of that shot), else the pin the viewer
    holds before the playhead, else blank paper."""
    found = state.shot_at_playhead()
    if found is None or state.project is None:
        return None
    shot_id, frame = found
    shot = state.project.shot(shot_id)
    pin = shot.pin_at(frame)
    if pin is not None:
        return shot_id, pin.take_id, frame
    if selected is not None and selected[0] == shot_id:
        return shot_id, selected[1], frame
    before = [p for p in sorted(shot.pins, key=lambda p: p.frame) if p.frame < frame]
    return shot_id, before[-1].take_id if before else None, frame


def install_drawing(window: MainWindow) -> DrawingOverlay:
    """Lay the drawing layer over the window's viewer and connect the Keyframes panel's requests
    (Draw…, Draw Over…, Inpaint…) to it. Returns the layer (the window keeps it as ``drawing``)."""
    panel = window.keyframes
    overlay = DrawingOverlay(window.viewer, window.state, inpaint=panel.inpaint_take)
    panel.draw_requested.connect(lambda key: draw_on_shot(window, overlay, key))
    panel.inpaint_requested.connect(overlay.open_mask)
    return overlay


def draw_on_shot(window: MainWindow, overlay: DrawingOverlay, key: TakeKey | None = None) -> asyncio.Task | None:
    """Open the drawing: over take ``key`` if given, else what :func:`drawing_target` finds."""
    state = window.state
    if key is not None:
        found = state.shot_at_playhead()
        frame = found[1] if found is not None and found[0] == key[0] else None
        return overlay.open_drawing(key[0], key[1], frame)
    selected = window.keyframes.selected_items()
    picked = item_key(selected[0]) if len(selected) == 1 else None
    target = drawing_target(state, picked)
    if target is None:
        state.message.emit("Add a shot first: a drawing belongs to the shot under the playhead.")
        return None
    return overlay.open_drawing(*target)


def inpaint_selected(window: MainWindow) -> asyncio.Task | None:
    """Shot ▸ Inpaint Selected Take: the mask layer over the one take selected in the Keyframes panel."""
    panel = window.keyframes
    key = panel.source_key()
    if key is None:
        window.state.message.emit("Select one take in the Keyframes panel to inpaint.")
        return None
    if not model_can(panel.model_spec(), "inpainting"):
        window.state.message.emit(panel.inpaint_tooltip() + " in the Keyframes panel.")
        return None
    return window.drawing.open_mask(key)
