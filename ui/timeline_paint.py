"""Painting the timeline: ruler, scenes, shot blocks with thumbnails and pins, audio, drop markers, playhead."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPolygonF

from app.cut import Cut, CutEntry
from app.document import Project
from app.timecode import format_duration, frames_to_timecode
from ui.timeline_layout import AUDIO_H, HEADER_H, PIN_ROW_H, RULER_H, SCENE_H, CutIndex, Picked, TimelineLayout
from ui.timeline_thumbnails import Thumbnails

if TYPE_CHECKING:
    from ui.timeline import _Drag

# Screening-room colours (ui/theme.py): neutral greys so the pictures carry the colour.
BG, RULER_BG, LANE_BG = QColor("#1b1c1f"), QColor("#232428"), QColor("#202124")
BLOCK, BLOCK_ALT, BLOCK_CURRENT = QColor("#2f3036"), QColor("#34353c"), QColor("#3d3e46")
BORDER, TEXT, DIM = QColor("#4a4b52"), QColor("#d8d8dc"), QColor("#7c7d84")
ACCENT, STALE, CLIP_OK = QColor("#d9a441"), QColor("#c8553d"), QColor("#5f9e78")
SCENE_A, SCENE_B, SCENE_LINE = QColor("#26272c"), QColor("#2a2b31"), QColor("#8a8b93")
AUDIO, PIN, MISSING = QColor("#2e4a4f"), QColor("#e8e8ec"), QColor("#5a2a2a")
LIVE = QColor("#b48ead")  # a live motion draft (ui.live_draft): in memory only, not a clip take
DRAFT = QColor("#8fa8c8")  # a cool blue: unlike STALE's warning red, a draft is fine for now
# The header pill of each clip badge (TimelineWidget.badge_for): its word and colour.
BADGES = {"stale": ("STALE", STALE), "draft": ("DRAFT", DRAFT), "clip": ("CLIP", CLIP_OK)}


class TimelinePainting(TimelineLayout):
    """The paint helpers of :class:`~ui.timeline.TimelineWidget` (a mixin of it); its paintEvent calls them."""

    _thumbs: Thumbnails
    _small: QFont
    _bold: QFont
    _bold_metrics: QFontMetrics
    _painted_playhead: int
    _take_drop: tuple[int, bool] | None  # cut frame, belongs to that shot
    _picked: Picked | None  # the pin or audio clip Delete acts on
    _drag: _Drag | None  # the press or drag in progress
    badge_for: Callable[[str], str]  # TimelineWidget's
    live_mark: Callable[[str], str]  # TimelineWidget's

    def _paint_ruler(self, p: QPainter, project: Project, area: QRectF, first: int, last: int) -> None:
        p.fillRect(QRectF(area.left(), 0, area.width(), RULER_H), RULER_BG)
        major, minor = self._tick_steps(project.rate.timebase)
        # Start a label's width early: a label whose tick is left of a thin exposed strip
        # (the playhead's) still crosses into it and must be redrawn there.
        first, last = max(0, self.frame_at_x(area.left() - 100)), min(last, self.state.cut.length)
        p.setFont(self._small)
        for frame in range(first - first % minor, last + 1, minor):
            x = self.x_of_frame(frame)
            is_major = frame % major == 0
            p.setPen(DIM if is_major else BORDER)
            p.drawLine(QPointF(x, RULER_H - (10 if is_major else 5)), QPointF(x, RULER_H))
            if is_major:
                label = frames_to_timecode(project.start_frame + frame, project.rate, drop_frame=project.drop_frame)
                p.drawText(QPointF(x + 3, RULER_H - 12), label)
        p.setPen(BORDER)
        p.drawLine(QPointF(area.left(), RULER_H - 0.5), QPointF(area.right(), RULER_H - 0.5))

    def _tick_steps(self, timebase: int) -> tuple[int, int]:
        """Frames between labelled ticks (at least ~90 px apart) and between minor ticks."""
        # Below a second, steps that divide it (6 and 12 at 24 fps), so labels land on whole seconds.
        steps = [d for d in range(1, timebase) if timebase % d == 0]
        steps += [timebase * s for s in (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)]
        major = next((s for s in steps if s * self._ppf >= 90), steps[-1])
        minor = next((major // n for n in (10, 6, 5, 4, 3, 2) if major % n == 0 and major // n * self._ppf >= 7), major)
        return major, minor

    def _paint_scenes(self, p: QPainter, project: Project, index: CutIndex, area: QRectF) -> None:
        p.setFont(self._small)
        for scene_index, start, end in index.scenes:
            rect = QRectF(self.x_of_frame(start), RULER_H, (end - start) * self._ppf, SCENE_H)
            if not rect.intersects(area):
                continue
            p.fillRect(rect, SCENE_A if scene_index % 2 == 0 else SCENE_B)
            if rect.width() > 30:
                text = f"{scene_index + 1}  {project.scenes[scene_index].heading}".strip()
                visible = rect.intersected(QRectF(0, RULER_H, self.width(), SCENE_H))  # heading stays readable
                p.setPen(DIM)
                p.drawText(
                    visible.adjusted(6, 0, -4, 0),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    self._small_metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(visible.width()) - 10),
                )

    def _paint_scene_lines(self, p: QPainter, index: CutIndex, area: QRectF) -> None:
        p.setPen(QPen(SCENE_LINE, 2))
        _, bottom = self._audio_lane()
        for _, start, _end in index.scenes[1:]:
            x = self.x_of_frame(start)
            if area.left() - 2 <= x <= area.right() + 2:
                p.drawLine(QPointF(x, RULER_H), QPointF(x, bottom))

    def _paint_shot(self, p: QPainter, project: Project, entry: CutEntry, area: QRectF) -> None:
        shot = entry.shot
        rect = self._block(entry)
        moving = self._drag is not None and self._drag.active and shot.id in self._drag.ids
        fill = BLOCK_CURRENT if shot.id == self.state.current_shot else (BLOCK, BLOCK_ALT)[entry.scene_index % 2]
        if rect.width() < 4:  # fit-to-window on a long cut: a sliver of colour is all that fits
            p.fillRect(rect, ACCENT if shot.id in self.state.selection else fill)
            return
        body = rect.adjusted(0.5, 0.5, -0.5, -0.5)
        p.save()
        p.setClipRect(body)
        if moving:
            p.setOpacity(0.45)
        p.fillRect(body, fill)
        self._paint_thumbnails(p, project, entry, body, area)
        self._paint_header(p, project, entry, body)
        self._paint_pins(p, entry)
        self._paint_live_mark(p, entry, body)
        drag = self._drag
        if drag is not None and drag.lost and drag.hit.entry is not None and drag.hit.entry.shot.id == shot.id:
            p.fillRect(body, QColor(STALE.red(), STALE.green(), STALE.blue(), 70))  # this retime drops pins
        p.restore()
        selected = shot.id in self.state.selection
        p.setPen(QPen(ACCENT, 2) if selected else QPen(BORDER, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(body.adjusted(1, 1, -1, -1) if selected else body)

    def _paint_header(self, p: QPainter, project: Project, entry: CutEntry, body: QRectF) -> None:
        shot = entry.shot
        left = max(body.left(), 0.0) + 5  # zoomed in on a long shot, its number stays in view
        header = QRectF(left, body.top(), body.right() - 5 - left, HEADER_H)
        badge = self.badge_for(shot.id)
        if badge in BADGES and header.width() > 60:
            label, colour = BADGES[badge]
            w = self._small_metrics.horizontalAdvance(label) + 8
            pill = QRectF(header.right() - w, header.top() + 3, w, HEADER_H - 6)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(pill, 3, 3)
            p.setFont(self._small)
            p.setPen(QColor("#111111"))
            p.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
            header.setRight(pill.left() - 4)
        p.setFont(self._bold)
        p.setPen(TEXT)
        number_w = self._bold_metrics.horizontalAdvance(shot.number) + 8
        p.drawText(header, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shot.number)
        if header.width() > number_w + 40:
            p.setFont(self._small)
            p.setPen(DIM)
            duration = format_duration(shot.duration, project.rate, drop_frame=project.drop_frame)
            p.drawText(header.adjusted(number_w, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, duration)

    def _paint_live_mark(self, p: QPainter, entry: CutEntry, body: QRectF) -> None:
        """LIVE at the top right of the pictures while the viewer shows the shot's live motion draft
        (ui.live_draft), an outlined LIVE… while one is made."""
        mark = self.live_mark(entry.shot.id)
        if not mark or body.width() < 60:
            return
        label = "LIVE" if mark == "live" else "LIVE…"
        w = self._small_metrics.horizontalAdvance(label) + 8
        pill = QRectF(body.right() - w - 5, body.top() + HEADER_H + 3, w, HEADER_H - 6)
        p.setPen(QPen(LIVE, 1))
        p.setBrush(LIVE if mark == "live" else BG)
        p.drawRoundedRect(pill, 3, 3)
        p.setFont(self._small)
        p.setPen(QColor("#111111") if mark == "live" else LIVE)
        p.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_thumbnails(self, p: QPainter, project: Project, entry: CutEntry, body: QRectF, area: QRectF) -> None:
        shot = entry.shot
        strip = QRectF(body.left() + 2, body.top() + HEADER_H, body.width() - 4, body.height() - HEADER_H - PIN_ROW_H)
        if strip.height() < 8 or strip.width() < 8:
            return
        if not shot.pins:
            if strip.width() > 80:
                p.setFont(self._small)
                p.setPen(DIM)
                p.drawText(strip, Qt.AlignmentFlag.AlignCenter, "no keyframe pinned")
            return
        h = strip.height() - 2
        w = h * project.width / project.height
        images = {t.id: t.image for t in shot.keyframe_takes}
        media = self.state.require_session().media  # painting a shot: a project is open
        for pin in shot.pins:
            centre = self.x_of_frame(entry.start + pin.frame) + self._ppf / 2
            left = max(strip.left(), min(centre - w / 2, strip.right() - w))
            target = QRectF(left, strip.top() + 1, w, h)
            if not target.intersects(area):  # a long shot zoomed in: don't decode what's off screen
                continue
            image = self._thumbs.get(images[pin.take_id], media.path)
            if image is None:
                p.fillRect(target, LANE_BG)  # still decoding
            elif image.isNull():
                p.fillRect(target, MISSING)  # the file is missing or unreadable
            else:
                p.drawImage(target, image)
            p.setPen(QPen(BG, 1))
            p.drawRect(target)

    def _paint_pins(self, p: QPainter, entry: CutEntry) -> None:
        drag = self._drag if self._drag is not None and self._drag.hit.kind == "pin" else None
        dragged = drag.frame if drag is not None else None
        dragged_shot = drag.hit.require_entry().shot.id if drag is not None else None
        picked = self._picked
        mine = picked is not None and picked.kind == "pin" and picked.shot_id == entry.shot.id
        picked_frame = picked.frame if picked is not None and mine else None
        for pin in entry.shot.pins:
            marker = self._pin_marker(entry, pin.frame)
            active = (dragged_shot == entry.shot.id and pin.frame == dragged) or pin.frame == picked_frame
            colour = ACCENT if active else PIN
            x = marker.center().x()
            # The tick says exactly which frame; the diamond is what a hand grabs.
            p.setPen(QPen(QColor(colour.red(), colour.green(), colour.blue(), 140), 1))
            p.drawLine(QPointF(x, marker.top() - 4), QPointF(x, marker.top() + 2))
            c, r = marker.center(), min(marker.width(), marker.height()) / 2 - 1
            diamond = QPolygonF([QPointF(c.x(), c.y() - r), QPointF(c.x() + r, c.y()), QPointF(c.x(), c.y() + r),
                                 QPointF(c.x() - r, c.y())])  # fmt: skip
            p.setPen(QPen(BG, 1))
            p.setBrush(colour)
            p.drawPolygon(diamond)

    def _paint_audio(self, p: QPainter, project: Project, cut: Cut, area: QRectF) -> None:
        top, _ = self._audio_lane()
        p.fillRect(QRectF(area.left(), top, area.width(), AUDIO_H), LANE_BG)
        p.setFont(self._small)
        picked = self._picked.clip_id if self._picked is not None and self._picked.kind == "audio" else ""
        for clip, rect in self._audio_blocks():
            if not rect.intersects(area):
                continue
            p.fillRect(rect.adjusted(0.5, 0, -0.5, 0), AUDIO)
            if clip.id == picked:
                p.setPen(QPen(ACCENT, 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(rect.adjusted(1.5, 1, -1.5, -1))
            p.setPen(TEXT)
            label = QRectF(
                max(rect.left(), 0.0) + 5, rect.top(), rect.right() - max(rect.left(), 0.0) - 8, rect.height()
            )
            gain = f"  {clip.gain_db:+g} dB" if clip.gain_db else ""
            p.drawText(label, Qt.AlignmentFlag.AlignVCenter, f"♪ {clip.name or 'audio'}{gain}")

    def _paint_markers(self, p: QPainter) -> None:
        top, bottom = self._shot_lane()
        drag = self._drag
        if drag is not None and drag.active and drag.drop is not None:
            x = drag.drop[2]
            p.fillRect(QRectF(x - 1.5, top - 3, 3, bottom - top + 6), ACCENT)
            for y, d in ((top - 3, 5), (bottom + 3, -5)):
                p.setBrush(ACCENT)
                p.setPen(Qt.PenStyle.NoPen)
                p.drawPolygon(QPolygonF([QPointF(x - 5, y - d), QPointF(x + 5, y - d), QPointF(x, y)]))
        if self._take_drop is not None:
            frame, ok = self._take_drop
            p.fillRect(QRectF(self.x_of_frame(frame), top, max(self._ppf, 2.0), bottom - top), ACCENT if ok else STALE)

    def _paint_playhead(self, p: QPainter) -> None:
        frame = self.state.playhead
        self._painted_playhead = frame
        x, box = self._playhead_box(frame)
        if self._ppf >= 4:  # wide frames: show which frame, not just where it starts
            p.fillRect(QRectF(x, RULER_H, self._ppf, self._bottom() - RULER_H), QColor(217, 164, 65, 40))
        p.setPen(QPen(ACCENT, 1))
        p.drawLine(QPointF(x, box.bottom()), QPointF(x, self._bottom()))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(ACCENT)
        p.drawRoundedRect(box, 3, 3)
        p.setFont(self._small)
        p.setPen(QColor("#111111"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, self.playhead_label())
