"""The cut as a viewer sees it: where each shot sits, and the picture at any frame.

A frame of the cut comes from the shot's rendered clip when it is current, and otherwise from
its pins (held, or crossfaded between neighbours), so there is always something to watch.
Decoded pictures are cached at the viewer's size within a memory budget; the viewer asks for
frames from a worker thread and only ever paints what is already here.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from app.document import Project, Shot
from app.media_ref import MediaRef
from app.media_store import MediaStore


@dataclass(frozen=True)
class CutEntry:
    shot: Shot
    start: int  # first frame on the cut
    scene_index: int

    @property
    def end(self) -> int:
        return self.start + self.shot.duration


@dataclass(frozen=True)
class Cut:
    entries: tuple[CutEntry, ...]
    length: int

    @classmethod
    def of(cls, project: Project) -> Cut:
        entries = []
        start = 0
        for si, scene in enumerate(project.scenes):
            for shot in scene.shots:
                entries.append(CutEntry(shot, start, si))
                start += shot.duration
        return cls(tuple(entries), start)

    def locate(self, frame: int) -> tuple[CutEntry, int] | None:
        """The shot showing cut frame ``frame`` and the frame inside it."""
        if not self.entries or not 0 <= frame < self.length:
            return None
        i = bisect_right([e.start for e in self.entries], frame) - 1
        entry = self.entries[i]
        return entry, frame - entry.start

    def entry(self, shot_id: str) -> CutEntry | None:
        for e in self.entries:
            if e.shot.id == shot_id:
                return e
        return None


class FrameCache:
    """Pictures of the cut at one display size, least recently used out, within a budget."""

    def __init__(self, media: MediaStore, width: int, height: int, budget_bytes: int = 1 << 30) -> None:
        self.media = media
        self.width, self.height = width, height
        self.budget = budget_bytes
        self._frames: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.crossfade = True

    # --- what a frame is ---------------------------------------------------------------------
    def key(self, project: Project, cut: Cut, frame: int) -> tuple | None:
        """A hashable name for the picture at ``frame``; equal keys are the same picture."""
        found = cut.locate(frame)
        if found is None:
            return None
        entry, offset = found
        shot = entry.shot
        clip = shot.current_clip_take
        if clip is not None and not project.is_stale(shot):
            return ("clip", clip.media, offset + shot.handles)
        return ("pins", *self._pin_mix(shot, offset))

    def _pin_mix(self, shot: Shot, offset: int) -> tuple:
        if not shot.pins:
            return ("slate", shot.number)
        images = {t.id: t.image for t in shot.keyframe_takes}
        frames = [p.frame for p in shot.pins]
        i = bisect_right(frames, offset) - 1
        if i < 0:
            return (images[shot.pins[0].take_id], None, 0.0)
        a = shot.pins[i]
        if not self.crossfade or i + 1 >= len(shot.pins) or offset == a.frame:
            return (images[a.take_id], None, 0.0)
        b = shot.pins[i + 1]
        t = round((offset - a.frame) / (b.frame - a.frame), 3)
        return (images[a.take_id], images[b.take_id], t)

    # --- getting pictures ----------------------------------------------------------------------
    def cached(self, key: tuple | None) -> np.ndarray | None:
        if key is None:
            return None
        with self._lock:
            frame = self._frames.get(key)
            if frame is not None:
                self._frames.move_to_end(key)
            return frame

    def render(self, key: tuple) -> np.ndarray:
        """Make the picture for ``key`` (slow: decodes files); call off the GUI thread."""
        frame = self.cached(key)
        if frame is not None:
            return frame
        if key[0] == "clip":
            self._decode_clip(key[1])
            frame = self.cached(key)
            if frame is None:  # a clip shorter than expected: show its last frame
                frame = np.zeros((self.height, self.width, 3), np.uint8)
        else:
            frame = self._mix(key[1:])
        self._store(key, frame)
        return frame

    def _mix(self, spec: tuple) -> np.ndarray:
        if spec[0] == "slate":
            frame = np.full((self.height, self.width, 3), 24, np.uint8)
            cv2.putText(frame, f"Shot {spec[1]}: no keyframe pinned", (self.width // 20, self.height // 2),
                        cv2.FONT_HERSHEY_SIMPLEX, self.height / 600, (150, 150, 160), max(1, self.height // 360),
                        cv2.LINE_AA)  # fmt: skip
            return frame
        a, b, t = spec
        first = self._image(a)
        if b is None or t <= 0:
            return first
        return cv2.addWeighted(first, 1.0 - t, self._image(b), t, 0.0)

    def _image(self, ref: MediaRef) -> np.ndarray:
        key = ("image", ref)
        image = self.cached(key)
        if image is None:
            data = np.fromfile(str(self.media.path(ref)), dtype=np.uint8) if self.media.exists(ref) else None
            decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None else None
            if decoded is None:
                image = np.zeros((self.height, self.width, 3), np.uint8)
                image[:, :, 0] = 90  # a red frame says "missing media" without words
            else:
                image = fit(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), self.width, self.height)
            self._store(key, image)
        return image

    def _decode_clip(self, ref: MediaRef) -> None:
        from app.video import read_frames

        if not self.media.exists(ref):
            return
        for index, frame in enumerate(read_frames(self.media.path(ref))):
            self._store(("clip", ref, index), fit(frame, self.width, self.height))

    def _store(self, key: tuple, frame: np.ndarray) -> None:
        frame.setflags(write=False)
        with self._lock:
            if key in self._frames:
                return
            self._frames[key] = frame
            self._bytes += frame.nbytes
            while self._bytes > self.budget and len(self._frames) > 1:
                _, old = self._frames.popitem(last=False)
                self._bytes -= old.nbytes


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale to fit inside width x height, letterboxed, keeping the aspect."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return np.ascontiguousarray(image)
    scale = min(width / w, height / h)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    scaled = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.zeros((height, width, 3), np.uint8)
    y, x = (height - sh) // 2, (width - sw) // 2
    out[y : y + sh, x : x + sw] = scaled
    return out
