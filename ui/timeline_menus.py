"""Right-click menus on the timeline, what Delete does there, and zoom to fit.

Each menu acts on what is under the cursor: a pin (unpin, go to, replace with another take),
a shot (the shared shot menu of ui.shot_menu), a shot's rendered clip (its header row, where
the CLIP / STALE / DRAFT badge is: render again, open in viewer, reveal file) or an audio clip
(move to playhead, gain, remove). Every edit goes through :class:`~ui.state.EditorState`, so
each is one undo step, and a refused one says why in the status bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import QDoubleSpinBox, QMenu, QProxyStyle, QStyle, QStyleOption, QWidget, QWidgetAction

from app import commands
from app.document import KeyframeTake
from app.errors import PinframeError
from app.media_ref import MediaRef
from ui.reveal import reveal_file
from ui.shot_menu import delete_shots, shot_menu
from ui.state import EditorState
from ui.takes import take_caption, take_summary
from ui.timeline_layout import HEADER_H, Picked

if TYPE_CHECKING:
    from ui.timeline import TimelineWidget

ZOOM_TO_FIT_KEYS = ("Shift+Z", "\\")  # Resolve's key, and Premiere's
GAIN_PRESETS = ((0.0, "0 dB (as recorded)"), (-6.0, "−6 dB"), (-12.0, "−12 dB"), (-96.0, "Silent (−96 dB)"))
ICON_SIZE = 56  # a take's picture in Replace With: big enough to tell two takes apart (16:9 → 56×32)


# --- what a menu item does (tests call these too) -----------------------------------------------
def go_to(widget: TimelineWidget, shot_id: str, frame: int = 0) -> None:
    """Playhead to ``frame`` of the shot (the shot becomes current first, so it wins over its start)."""
    entry = widget.state.cut.entry(shot_id)
    if entry is None:
        return
    widget.state.set_current_shot(shot_id)
    widget.state.set_playhead(entry.start + frame)
    widget.ensure_frame_visible(entry.start + frame)


def delete_selection(widget: TimelineWidget) -> bool:
    """Delete / Backspace: unpin the picked pin, remove the picked audio clip, or delete the selected shots."""
    state, picked = widget.state, widget.picked
    project = state.project
    if project is None:
        return False
    if picked is not None:
        widget.pick(None)
        if picked.kind == "pin":
            if not _pin_exists(widget, picked):
                state.message.emit("The pin you picked is no longer there (undone or moved); nothing was unpinned")
                return False
            number = project.shot(picked.shot_id).number
            if state.edit(commands.remove_pin, picked.shot_id, picked.frame):
                state.message.emit(f"Unpinned frame {picked.frame} of shot {number} (Undo pins it again)")
                return True
            return False
        return state.edit(commands.remove_audio, picked.clip_id)
    if not state.selection:
        state.message.emit("Nothing is selected on the timeline: click a pin, a shot or an audio clip first")
        return False
    return delete_shots(state, state.selection)  # the shot menu's Delete: lands on the next shot, says so


def _pin_exists(widget: TimelineWidget, picked: Picked) -> bool:
    entry = widget.state.cut.entry(picked.shot_id)
    return entry is not None and entry.shot.pin_at(picked.frame) is not None


def install_zoom_to_fit(widget: TimelineWidget) -> QAction:
    """View ▸ Zoom Timeline to Fit, on Shift+Z and \\ anywhere in the timeline's window.

    A window shortcut (not only while the timeline has focus): the director is usually looking
    at the viewer. Text fields still get the keys, since Qt lets them claim printable ones."""
    action = QAction("Zoom Timeline to &Fit", widget)
    action.setShortcuts([QKeySequence(k) for k in ZOOM_TO_FIT_KEYS])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setToolTip("Show the whole cut in the timeline's width (Shift+Z or \\)")
    action.triggered.connect(widget.zoom_to_fit)
    widget.addAction(action)
    return action


def install_delete(widget: TimelineWidget) -> QAction:
    """Delete / Backspace on the timeline, as an action so Help ▸ Keyboard Shortcuts lists it.

    The keys themselves reach :func:`delete_selection` through the widget's keyPressEvent (it
    claims them with ShortcutOverride, so a window-wide Delete elsewhere can't take them here)."""
    action = QAction("Delete Picked Pin, Audio Clip or Selected Shots", widget)
    action.setShortcuts([QKeySequence(Qt.Key.Key_Delete), QKeySequence(Qt.Key.Key_Backspace)])
    action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    action.triggered.connect(lambda _=False: delete_selection(widget))
    widget.addAction(action)
    return action


# --- the menus -----------------------------------------------------------------------------------
def context_menu(widget: TimelineWidget, pos: QPointF) -> QMenu | None:
    """The menu for what is at ``pos`` (widget coordinates); picking or selecting it first, as editors do."""
    state = widget.state
    if state.project is None:
        return None
    hit = widget._hit(pos)
    if hit.kind == "pin":
        shot_id = hit.require_entry().shot.id
        widget.pick(Picked("pin", shot_id, hit.frame))
        return pin_menu(widget, shot_id, hit.frame)
    if hit.kind == "audio":
        widget.pick(Picked("audio", clip_id=hit.clip_id))
        return audio_menu(widget, hit.clip_id)
    widget.pick(None)
    if hit.entry is None:
        menu = QMenu(widget)
        menu.addAction(widget.act_zoom_fit)
        return menu
    shot = hit.entry.shot
    if shot.id not in state.selection:
        state.set_current_shot(shot.id)
        state.set_selection([shot.id])
    on_header = pos.y() < widget.shot_rect(shot.id).top() + HEADER_H
    if on_header and shot.current_clip_take is not None:
        return clip_menu(widget, shot.id)
    return shot_context_menu(widget, shot.id)


def pin_menu(widget: TimelineWidget, shot_id: str, frame: int) -> QMenu:
    state = widget.state
    shot = state.require_project().shot(shot_id)
    pin = shot.pin_at(frame)
    menu = QMenu(widget)
    menu.setToolTipsVisible(True)
    menu.addAction("Unpin", lambda: state.edit(commands.remove_pin, shot_id, frame))
    menu.addAction("Go to Pin", lambda: go_to(widget, shot_id, frame))
    replace = menu.addMenu("Replace With")
    replace.setToolTipsVisible(True)
    replace.setStyle(_TakeIcons(replace))
    others = [t for t in shot.keyframe_takes if pin is None or t.id != pin.take_id]
    if not others:
        replace.setEnabled(False)
        replace.setToolTip(f"Shot {shot.number} has no other keyframe takes: generate or import some first")
    for take in others:
        pinned = [p.frame for p in shot.pins if p.take_id == take.id]
        action = replace.addAction(_take_label(take))
        action.setToolTip(take_summary(take, pinned))
        action.triggered.connect(lambda _=False, t=take.id: state.edit(commands.set_pin, shot_id, frame, t))
        _set_take_icon(widget, action, take.image)
    return menu


def clip_menu(widget: TimelineWidget, shot_id: str, menu: QMenu | None = None) -> QMenu:
    """Render Again, Open in Viewer, Reveal File for the shot's current clip (into ``menu`` if given)."""
    state = widget.state
    menu = menu if menu is not None else QMenu(widget)
    # The window renders what EditorState.render_requested names, as the shot menu's Render does.
    menu.addAction("Render Again", lambda: state.render_requested.emit([shot_id]))
    menu.addAction("Open in Viewer", lambda: go_to(widget, shot_id))
    menu.addAction("Reveal File", lambda: _reveal_clip(state, shot_id))
    return menu


def _reveal_clip(state: EditorState, shot_id: str) -> None:
    session = state.require_session()  # a menu of the open project's timeline
    try:
        take = session.project.shot(shot_id).current_clip_take
    except PinframeError as exc:
        state.message.emit(str(exc))
        return
    if take is None:
        state.message.emit("This shot has no rendered clip yet: render it first")
        return
    path = session.media.path(take.media)
    number = session.project.shot(shot_id).number
    missing = f"Shot {number}'s clip file {path.name} is missing from the project's media; render the shot again"
    reveal_file(state, path, what=f"Shot {number}'s clip", missing=missing)


def shot_context_menu(widget: TimelineWidget, shot_id: str) -> QMenu:
    """The shared shot menu (ui.shot_menu, so every view offers the same) for the selection, with
    the clip's actions under it."""
    state = widget.state
    menu = shot_menu(state, list(state.selection), widget)
    if state.require_project().shot(shot_id).current_clip_take is not None:
        menu.addSeparator()
        clip_menu(widget, shot_id, menu.addMenu("Clip"))
    return menu


def audio_menu(widget: TimelineWidget, clip_id: str) -> QMenu:
    state = widget.state
    project = state.require_project()
    clip = project.audio[project.audio_index(clip_id)]
    menu = QMenu(widget)
    menu.addAction("Move to Playhead", lambda: state.edit(commands.move_audio, clip_id, state.playhead))
    gain = menu.addMenu(f"Gain ({clip.gain_db:+g} dB)")
    spin = QDoubleSpinBox()
    spin.setObjectName("gain")
    spin.setRange(-96.0, 24.0)
    spin.setDecimals(1)
    spin.setSingleStep(0.5)
    spin.setSuffix(" dB")
    spin.setValue(clip.gain_db)
    spin.setKeyboardTracking(False)  # one edit per value typed, not per keystroke
    spin.valueChanged.connect(lambda db: state.edit(commands.set_audio_gain, clip_id, float(db)))
    field = QWidgetAction(gain)
    field.setDefaultWidget(spin)
    gain.addAction(field)
    gain.addSeparator()
    for db, label in GAIN_PRESETS:
        preset = gain.addAction(label)
        preset.triggered.connect(lambda _=False, db=db: state.edit(commands.set_audio_gain, clip_id, db))
    menu.addSeparator()
    menu.addAction("Remove", lambda: _remove_audio(widget, clip_id))

    def closed() -> None:
        # Spin steps merge into one undo step while the menu is open; the next gain edit is new.
        if state.session is not None:
            state.session.history.close_merge()

    menu.aboutToHide.connect(closed)
    return menu


def _remove_audio(widget: TimelineWidget, clip_id: str) -> None:
    if widget.state.edit(commands.remove_audio, clip_id):
        widget.pick(None)


# --- take icons ----------------------------------------------------------------------------------
def _take_label(take: KeyframeTake) -> str:
    prompt = take.generation.prompt if take.generation else ""
    if len(prompt) > 40:
        prompt = prompt[:39] + "…"
    return f"{take_caption(take)} — {prompt}" if prompt else take_caption(take)


def _set_take_icon(widget: TimelineWidget, action: QAction, ref: MediaRef) -> None:
    """The take's thumbnail from the timeline's cache; one still decoding is filled in when it lands."""
    image = widget._thumbs.get(ref, widget.state.require_session().media.path)
    if image is None:
        widget._menu_icons.append((action, ref))
    elif not image.isNull():
        small = QPixmap.fromImage(image).scaledToWidth(ICON_SIZE, Qt.TransformationMode.SmoothTransformation)
        action.setIcon(QIcon(small))


class _TakeIcons(QProxyStyle):
    """The app's style, with menu icons at picture size: a QMenu draws icons at PM_SmallIconSize."""

    def __init__(self, menu: QMenu) -> None:
        super().__init__()
        self.setParent(menu)  # the menu owns its style: it goes when the menu does

    def pixelMetric(
        self, metric: QStyle.PixelMetric, option: QStyleOption | None = None, widget: QWidget | None = None
    ) -> int:
        if metric == QStyle.PixelMetric.PM_SmallIconSize:
            return ICON_SIZE
        return super().pixelMetric(metric, option, widget)


def refresh_icons(widget: TimelineWidget) -> None:
    """A thumbnail arrived: give it to the open menu's actions that were waiting for it."""
    waiting = []
    for action, ref in widget._menu_icons:
        if not shiboken6.isValid(action):
            continue  # the menu closed and took its actions with it
        if ref in widget._thumbs:
            _set_take_icon(widget, action, ref)
        else:
            waiting.append((action, ref))
    widget._menu_icons = waiting
