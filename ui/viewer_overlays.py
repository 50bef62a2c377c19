"""Guides over the viewer's picture: aspect masks, safe areas, a centre cross, and onion skin.

The overlay is a transparent child of the viewer laid exactly over the picture (the project
frame fitted into the viewer's picture area), so it never touches how frames are decoded or
painted and lets every click through to the viewer.

Safe areas follow SMPTE ST 2046-1 (the HD/UHD standard): action safe is the centre 93% of
width and height, title safe the centre 90%. Aspect masks darken what a wider or narrower
delivery would cut from the project frame (letterbox or pillarbox), mostly opaque so the
director still sees what is lost.

Onion skin shows the previous and next pinned keyframe of the shot under the playhead, tinted
(previous red, next cyan) and faint, while the playhead is parked or scrubbed; it hides during
playback, where it would only flicker. Pin pictures are decoded on a worker thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QEvent, QObject, QRect, QRectF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QMenu, QWidget

from app.media_ref import MediaRef
from ui.takes import event_loop, read_thumbnail
from ui.viewer import ViewerWidget

SETTINGS_GROUP = "viewer_overlays"
ASPECTS: dict[str, float] = {"2.39": 2.39, "1.85": 1.85, "16:9": 16 / 9, "4:3": 4 / 3}
ACTION_SAFE = 0.93  # SMPTE ST 2046-1
TITLE_SAFE = 0.90
MASK_COLOUR = QColor(0, 0, 0, 215)  # dark enough to read as "cut", light enough to see what goes
ACTION_COLOUR = QColor(120, 200, 255, 200)
TITLE_COLOUR = QColor(255, 210, 90, 200)
CROSS_COLOUR = QColor(255, 255, 255, 170)
ONION_OPACITY = 0.35
ONION_TINTS = {"prev": (1.0, 0.35, 0.35), "next": (0.35, 1.0, 1.0)}  # red behind, cyan ahead
RESUME_MS = 300  # after the last frame of playback, how long until the onion skin comes back


# --- geometry (plain numbers, tested without a window) ---------------------------------------------
def fit_rect(area_w: int, area_h: int, aspect: float) -> QRect:
    """The largest rectangle of ``aspect`` centred in area_w x area_h (how the viewer fits a frame)."""
    if area_w <= 0 or area_h <= 0 or aspect <= 0:
        return QRect()
    w, h = area_w, round(area_w / aspect)
    if h > area_h:
        w, h = round(area_h * aspect), area_h
    return QRect((area_w - w) // 2, (area_h - h) // 2, w, h)


def mask_bars(frame: QRectF, aspect: float) -> list[QRectF]:
    """The parts of ``frame`` outside a centred ``aspect`` window: bars top/bottom or left/right."""
    if frame.isEmpty():
        return []
    frame_aspect = frame.width() / frame.height()
    if abs(frame_aspect - aspect) < 1e-3:
        return []
    if aspect > frame_aspect:  # wider delivery: letterbox
        bar = (frame.height() - frame.width() / aspect) / 2
        return [QRectF(frame.left(), frame.top(), frame.width(), bar),
                QRectF(frame.left(), frame.bottom() - bar, frame.width(), bar)]  # fmt: skip
    bar = (frame.width() - frame.height() * aspect) / 2  # narrower delivery: pillarbox
    return [QRectF(frame.left(), frame.top(), bar, frame.height()),
            QRectF(frame.right() - bar, frame.top(), bar, frame.height())]  # fmt: skip


def safe_rect(frame: QRectF, fraction: float) -> QRectF:
    """The centred ``fraction`` of ``frame``'s width and height."""
    dx, dy = frame.width() * (1 - fraction) / 2, frame.height() * (1 - fraction) / 2
    return frame.adjusted(dx, dy, -dx, -dy)


def tint(rgb: np.ndarray, factors: tuple[float, float, float]) -> np.ndarray:
    """``rgb`` with each channel scaled (worker-thread work: no Qt here)."""
    return np.ascontiguousarray((rgb.astype(np.float32) * np.asarray(factors, np.float32)).astype(np.uint8))


def read_onion(path: Path, width: int, height: int, factors: tuple[float, float, float]) -> np.ndarray | None:
    rgb = read_thumbnail(path, width, height)
    return None if rgb is None else tint(rgb, factors)


@dataclass
class Guides:
    """What is switched on; saved in QSettings as these field names."""

    mask: str = ""  # one of ASPECTS, or "" for none
    action_safe: bool = False
    title_safe: bool = False
    centre: bool = False
    onion: bool = False


# --- the overlay widget -------------------------------------------------------------------------
class ViewerOverlays(QWidget):
    """Transparent to the mouse; follows the viewer's size and the project's frame shape."""

    def __init__(self, viewer: ViewerWidget, settings: QSettings | None = None) -> None:
        super().__init__(viewer)
        self.viewer = viewer
        self.state = viewer.state
        self.settings = settings if settings is not None else QSettings()
        self.guides = self._load()
        self.guide_actions: dict[str, QAction] = {}
        # (which, ref, w, h) -> tinted picture; kept small: only the pins around the playhead matter.
        self._onion_cache: dict[tuple, QImage] = {}
        self._onion_buffers: dict[tuple, np.ndarray] = {}  # keep each QImage's pixels alive
        self.onion_keys: dict[str, tuple | None] = {"prev": None, "next": None}
        self._pending: set[tuple] = set()
        self._tasks: set[asyncio.Task] = set()
        self._resume = QTimer(self)
        self._resume.setSingleShot(True)
        self._resume.setInterval(RESUME_MS)
        self._resume.timeout.connect(self._on_resume)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        viewer.installEventFilter(self)
        self.state.session_changed.connect(lambda _s: self._refresh())
        self.state.project_changed.connect(lambda _p: self._refresh())
        self.state.playhead_changed.connect(self._on_playhead)
        self._refresh()
        self.show()

    # --- settings --------------------------------------------------------------------------------
    def _load(self) -> Guides:
        s = self.settings
        mask = str(s.value(f"{SETTINGS_GROUP}/mask", ""))
        flags = {name: str(s.value(f"{SETTINGS_GROUP}/{name}", "false")).lower() == "true"
                 for name in ("action_safe", "title_safe", "centre", "onion")}  # fmt: skip
        return Guides(mask=mask if mask in ASPECTS else "", **flags)

    def _save(self) -> None:
        g = self.guides
        for name, value in (("mask", g.mask), ("action_safe", g.action_safe), ("title_safe", g.title_safe),
                            ("centre", g.centre), ("onion", g.onion)):  # fmt: skip
            self.settings.setValue(f"{SETTINGS_GROUP}/{name}", value if name == "mask" else str(value).lower())

    def set_guide(self, name: str, value: bool | str) -> None:
        """Switch one guide (``mask`` takes an aspect name or ""); saved at once."""
        setattr(self.guides, name, value)
        self._save()
        self._sync_action(name)
        if name == "onion":
            self._refresh_onion()
        self.update()

    def _sync_action(self, name: str) -> None:
        if name == "mask":
            for aspect in ASPECTS:
                action = self.guide_actions.get(f"mask:{aspect}")
                if action is not None and action.isChecked() != (self.guides.mask == aspect):
                    action.setChecked(self.guides.mask == aspect)
        elif (action := self.guide_actions.get(name)) is not None and action.isChecked() != getattr(self.guides, name):
            action.setChecked(getattr(self.guides, name))

    # --- placement -------------------------------------------------------------------------------
    def frame_aspect(self) -> float:
        project = self.state.project
        return project.width / project.height if project is not None else 16 / 9

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.viewer and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        # The viewer's picture area (device pixels) minus nothing: the timecode strip is outside it.
        ratio = self.viewer.devicePixelRatioF() or 1.0
        area_w, area_h = (round(v / ratio) for v in self.viewer.picture_area())
        self.setGeometry(fit_rect(area_w, area_h, self.frame_aspect()))
        self.raise_()

    def _refresh(self) -> None:
        self._place()
        self._refresh_onion()
        self.update()

    # --- onion skin --------------------------------------------------------------------------------
    def _on_playhead(self, _frame: int) -> None:
        if not self.guides.onion:
            return
        if self.viewer.playing:
            self._resume.start()  # restarted by every frame: fires once playback has stopped
            if any(self.onion_keys.values()):
                self.onion_keys = {"prev": None, "next": None}
                self.update()
            return
        self._refresh_onion()

    def _on_resume(self) -> None:
        if self.viewer.playing:
            self._resume.start()
        else:
            self._refresh_onion()

    def neighbour_pins(self) -> dict[str, MediaRef | None]:
        """The pictures of the shot's nearest pins before and after the playhead (not the one on it)."""
        found = self.state.cut.locate(self.state.playhead) if self.state.project is not None else None
        if found is None:
            return {"prev": None, "next": None}
        entry, local = found
        pins = sorted(entry.shot.pins, key=lambda p: p.frame)
        before = [p for p in pins if p.frame < local]
        after = [p for p in pins if p.frame > local]
        takes = {t.id: t.image for t in entry.shot.keyframe_takes}
        return {
            "prev": takes.get(before[-1].take_id) if before else None,
            "next": takes.get(after[0].take_id) if after else None,
        }

    def _refresh_onion(self) -> None:
        session = self.state.session
        if not self.guides.onion or session is None or self.viewer.playing or self.width() < 2:
            self.onion_keys = {"prev": None, "next": None}
            self.update()
            return
        ratio = self.devicePixelRatioF() or 1.0
        w, h = round(self.width() * ratio), round(self.height() * ratio)
        keys: dict[str, tuple | None] = {}
        for which, ref in self.neighbour_pins().items():
            key = keys[which] = None if ref is None else (which, ref, w, h)
            if ref is not None and key is not None and key not in self._onion_cache:
                self._load_onion(key, session.media.path(ref))
        self.onion_keys = keys
        self.update()

    def _load_onion(self, key: tuple, path: Path) -> None:
        if key in self._pending:
            return
        self._pending.add(key)
        which, _ref, w, h = key

        async def load() -> None:
            try:
                rgb = await event_loop().run_in_executor(None, read_onion, path, w, h, ONION_TINTS[which])
            finally:
                self._pending.discard(key)
            if rgb is None or not shiboken6.isValid(self):
                return  # a missing picture shows no ghost; the viewer already says the pin is missing
            if len(self._onion_cache) >= 8:  # only the pins around the playhead matter
                self._onion_cache.clear()
                self._onion_buffers.clear()
            self._onion_buffers[key] = rgb
            height, width = rgb.shape[:2]
            self._onion_cache[key] = QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888)
            if key in self.onion_keys.values():
                self.update()

        task = asyncio.ensure_future(load())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def onion_ready(self) -> bool:
        """Every ghost the playhead wants is decoded (tests and screenshots wait on this)."""
        return all(k is None or k in self._onion_cache for k in self.onion_keys.values())

    # --- painting --------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        frame = QRectF(self.rect())
        self._paint_onion(painter, frame)
        g = self.guides
        if g.mask in ASPECTS:
            for bar in mask_bars(frame, ASPECTS[g.mask]):
                painter.fillRect(bar, MASK_COLOUR)
        if g.action_safe:
            self._paint_box(painter, safe_rect(frame, ACTION_SAFE), ACTION_COLOUR)
        if g.title_safe:
            self._paint_box(painter, safe_rect(frame, TITLE_SAFE), TITLE_COLOUR)
        if g.centre:
            self._paint_cross(painter, frame)
        painter.end()

    def _paint_onion(self, painter: QPainter, frame: QRectF) -> None:
        cached = (self._onion_cache.get(k) for k in self.onion_keys.values() if k is not None)
        images = [i for i in cached if i is not None]
        if not images:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.setOpacity(ONION_OPACITY)
        for image in images:
            painter.drawImage(frame, image)
        painter.restore()

    @staticmethod
    def _paint_box(painter: QPainter, box: QRectF, colour: QColor) -> None:
        pen = QPen(colour, 1)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(box)

    @staticmethod
    def _paint_cross(painter: QPainter, frame: QRectF) -> None:
        pen = QPen(CROSS_COLOUR, 1)
        pen.setCosmetic(True)
        painter.setPen(pen)
        c = frame.center()
        arm = max(8.0, min(frame.width(), frame.height()) * 0.04)
        # Whole pixels, as PySide6 picks drawLine(int, ...) for four numbers.
        painter.drawLine(int(c.x() - arm), int(c.y()), int(c.x() + arm), int(c.y()))
        painter.drawLine(int(c.x()), int(c.y() - arm), int(c.x()), int(c.y() + arm))


# --- the View menu ------------------------------------------------------------------------------
def install_overlays(viewer: ViewerWidget, view_menu: QMenu, settings: QSettings | None = None) -> ViewerOverlays:
    """Lay the guides over ``viewer`` and add their checkable actions to ``view_menu``."""
    overlays = ViewerOverlays(viewer, settings)
    guides = view_menu.addMenu("&Guides")
    group = QActionGroup(guides)
    group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)  # one mask, or none
    for aspect in ASPECTS:
        action = QAction(f"{aspect}:1 Mask" if ":" not in aspect else f"{aspect} Mask", guides)
        action.setCheckable(True)
        action.setChecked(overlays.guides.mask == aspect)
        action.setToolTip(f"Darken what a {aspect} delivery would cut from the frame")
        action.toggled.connect(lambda on, a=aspect: _mask_toggled(overlays, a, on))
        group.addAction(action)
        guides.addAction(action)
        overlays.guide_actions[f"mask:{aspect}"] = action
    guides.addSeparator()
    for name, text, tip in (
        ("action_safe", "&Action Safe (93%)", "SMPTE ST 2046-1 action safe area"),
        ("title_safe", "&Title Safe (90%)", "SMPTE ST 2046-1 title safe area"),
        ("centre", "&Centre Cross", "Mark the centre of the frame"),
    ):
        overlays.guide_actions[name] = _toggle(guides, overlays, name, text, tip)
    overlays.guide_actions["onion"] = _toggle(
        view_menu, overlays, "onion", "&Onion Skin", "Ghost the shot's previous and next pin while parked or scrubbing"
    )
    return overlays


def _toggle(menu: QMenu, overlays: ViewerOverlays, name: str, text: str, tip: str) -> QAction:
    action = QAction(text, menu)
    action.setCheckable(True)
    action.setChecked(bool(getattr(overlays.guides, name)))
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.toggled.connect(lambda on: overlays.set_guide(name, on))
    menu.addAction(action)
    return action


def _mask_toggled(overlays: ViewerOverlays, aspect: str, on: bool) -> None:
    if on:
        overlays.set_guide("mask", aspect)
    elif overlays.guides.mask == aspect:  # unchecked, not replaced by another aspect
        overlays.set_guide("mask", "")
