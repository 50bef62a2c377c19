"""The pictures of one shot for export, streamed frame by frame at the project size.

A shot's movie shows its current rendered clip; a shot whose clip is stale or missing shows
its pins (held, and crossfaded between neighbours, as the viewer plays them); a shot with
nothing pinned shows a slate. Whatever had to stand in for the real thing is written to
``notes`` so the export report can say it.

Frames are produced one at a time (a clip is decoded as it is read), so a long 1080p shot
never sits in memory whole. Yielded arrays are read-only and may repeat (a held frame is the
same array): copy before drawing on one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw

from app.cut import fit
from app.errors import MediaError
from app.export.burnin import font
from app.export.plan import ExportPlan, ExportShot
from app.media_ref import MediaRef
from app.media_store import MediaStore
from app.video import read_frames

SLATE_BG = (22, 22, 26)
MISSING_BG = (110, 16, 16)  # a red card: nobody mistakes it for a picture

# What can stand in for a shot's pictures, in the words of the export report's Sources line and the
# shot list. A shot with several says the first: a missing clip outranks held handles.
STAND_INS: dict[str, str] = {
    "clip missing, pins": "clip file missing, pin preview exported",
    "clip missing": "clip file missing, placeholder exported",
    "clip unreadable": "clip unreadable, placeholder exported",
    "clip partly unreadable": "clip partly unreadable, last good frame held",
    "clip short": "clip shorter than the shot, last frame held",
    "keyframe missing": "a pinned keyframe is missing, placeholder shown",
    "handles held": "handles held from the clip's ends",
}


@dataclass
class ShotFrames:
    """Iterator over a shot's export frames; ``notes`` says what stood in for missing pictures.

    Notes about the clip's length are only complete once the iterator is exhausted.
    """

    plan: ExportPlan
    shot: ExportShot
    media: MediaStore
    width: int
    height: int
    handles: int
    notes: list[str] = field(default_factory=list)
    stood_in: set[str] = field(default_factory=set)  # keys of STAND_INS, as they happened
    _it: Iterator[np.ndarray] | None = None
    _decode_failed: bool = False

    @property
    def count(self) -> int:
        return self.shot.duration + 2 * self.handles

    def __iter__(self) -> ShotFrames:
        return self

    def __next__(self) -> np.ndarray:
        if self._it is None:
            self._it = self._frames()
        return next(self._it)

    def note(self, text: str, stand_in: str = "") -> None:
        """Say what happened to the shot's pictures; ``stand_in`` (a key of STAND_INS) when something stood in."""
        line = f"shot {self.shot.number}: {text}"
        if line not in self.notes:
            self.notes.append(line)
        if stand_in:
            if stand_in not in STAND_INS:
                raise KeyError(f"{stand_in!r} is not one of STAND_INS")  # a new kind needs its words there
            self.stood_in.add(stand_in)

    @property
    def stand_in(self) -> str:
        """What stood in for the pictures written so far, in the report's words; "" when nothing did."""
        return next((words for key, words in STAND_INS.items() if key in self.stood_in), "")

    # --- sources -------------------------------------------------------------------------------
    def _frames(self) -> Iterator[np.ndarray]:
        shot = self.shot
        source = shot.source
        clip = shot.shot.current_clip_take
        if source == "clip" and clip is not None:
            if self.media.exists(clip.media):
                yield from self._clip_frames(clip.media)
                return
            self.note(
                f"the rendered clip ({clip.media.relpath}) is missing from the project; "
                + ("exported the pin preview" if shot.pinned else "exported a placeholder"),
                "clip missing, pins" if shot.pinned else "clip missing",
            )
            source = "pins" if shot.pinned else "missing"
        elif source == "pins":
            if clip is not None:
                self.note(
                    "the rendered clip is stale (the shot changed since it was rendered); exported the pin preview"
                )
            else:
                self.note("not rendered yet; exported the pin preview")
        elif source == "slate":
            self.note("nothing rendered or pinned; exported a slate")
        if source == "pins":
            yield from self._pin_frames()
        elif source == "missing":
            yield from self._held(self._placeholder("clip missing"), self.count)
        else:
            yield from self._held(self._slate(), self.count)

    def _clip_frames(self, ref: MediaRef) -> Iterator[np.ndarray]:
        """Clip frame ``i - handles + rendered_handles`` for export frame ``i``, holding the ends."""
        rendered = self.shot.shot.handles
        offset = rendered - self.handles  # clip index of export frame 0
        decoded = self._decode(ref)
        current: np.ndarray | None = None
        clip_index = -1  # index of ``current`` in the clip
        clip_len: int | None = None  # known once the clip ran out
        head = tail = 0
        for i in range(self.count):
            want = i + offset
            while clip_len is None and clip_index < max(0, want):
                frame = next(decoded, None)
                if frame is None:
                    clip_len = clip_index + 1
                    break
                current, clip_index = frame, clip_index + 1
            if current is None:  # the clip has no readable frame at all
                if not self._decode_failed:
                    self.note("the rendered clip has no frames; exported a placeholder", "clip unreadable")
                current = self._placeholder("clip unreadable")
                clip_len = 0
            if want < 0:
                head += 1
            elif clip_len is not None and want >= clip_len:
                tail += 1
            yield current
        self._clip_notes(head, tail, rendered, clip_len)

    def _clip_notes(self, head: int, tail: int, rendered: int, clip_len: int | None) -> None:
        if clip_len == 0 or self._decode_failed:
            return  # _decode already said what happened
        body_short = clip_len is not None and clip_len < rendered + self.shot.duration
        if body_short:
            self.note(
                f"the rendered clip has {clip_len} frames, fewer than the shot's {self.shot.duration} "
                f"(+{rendered} handles); its last frame is held to the end",
                "clip short",
            )
        elif head == tail and head:
            self.note(f"{head} handle frames each side held (the clip was rendered with {rendered})", "handles held")
        else:
            if head:
                self.note(
                    f"{head} handle frames held at the head (the clip was rendered with {rendered})", "handles held"
                )
            if tail:
                self.note(
                    f"{tail} handle frames held at the tail (the clip was rendered with {rendered})", "handles held"
                )

    def _decode(self, ref: MediaRef) -> Iterator[np.ndarray]:
        good = 0
        try:
            for frame in read_frames(self.media.path(ref)):
                out = fit(frame, self.width, self.height)
                out.setflags(write=False)
                yield out
                good += 1
        except MediaError as exc:
            self._decode_failed = True
            if good:  # a clip that stops decoding mid-way keeps its last good frame (held by the caller)
                self.note(
                    f"the rendered clip can't be decoded past frame {good - 1} ({exc}); its last good frame is held",
                    "clip partly unreadable",
                )
            else:
                self.note(f"the rendered clip can't be decoded ({exc}); exported a placeholder", "clip unreadable")

    def _pin_frames(self) -> Iterator[np.ndarray]:
        pinned = self.shot.pinned
        images = [self._image(p.image) for p in pinned]
        frames = [p.frame for p in pinned]
        last = self.shot.duration - 1
        for i in range(self.count):
            offset = min(max(i - self.handles, 0), last)  # handles hold the shot's ends
            k = bisect_right(frames, offset) - 1
            if k < 0:
                yield images[0]
            elif k + 1 >= len(pinned) or offset == frames[k]:
                yield images[k]
            else:
                t = (offset - frames[k]) / (frames[k + 1] - frames[k])
                mixed = cv2.addWeighted(images[k], 1.0 - t, images[k + 1], t, 0.0)
                mixed.setflags(write=False)
                yield mixed

    def _image(self, ref: MediaRef) -> np.ndarray:
        decoded = None
        if self.media.exists(ref):
            data = np.fromfile(str(self.media.path(ref)), dtype=np.uint8)
            decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if decoded is None:
            what = "missing from the project" if not self.media.exists(ref) else "unreadable"
            self.note(
                f"a pinned keyframe ({ref.relpath}) is {what}; a red placeholder stands in for it", "keyframe missing"
            )
            return self._placeholder("keyframe missing")
        image = fit(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), self.width, self.height)
        image.setflags(write=False)
        return image

    # --- cards ---------------------------------------------------------------------------------
    def _slate(self) -> np.ndarray:
        return self._card(SLATE_BG, f"Shot {self.shot.number}", [self.shot.scene_heading, "no picture yet"])

    def _placeholder(self, what: str) -> np.ndarray:
        return self._card(MISSING_BG, f"MISSING MEDIA — shot {self.shot.number}", [what, "relink or re-render"])

    def _card(self, background: tuple[int, int, int], title: str, lines: list[str]) -> np.ndarray:
        w, h = self.width, self.height
        image = Image.new("RGB", (w, h), background)
        draw = ImageDraw.Draw(image)
        big, small = font(max(9, h // 9), bold=True), font(max(8, h // 20))
        y = h // 3
        for text, face, colour in [(title, big, (235, 235, 240))] + [(t, small, (170, 170, 180)) for t in lines if t]:
            draw.text((w // 2, y), text, font=face, fill=colour, anchor="mt")
            y += int(face.size * 1.5)
        card = np.asarray(image, dtype=np.uint8).copy()
        card.setflags(write=False)
        return card

    @staticmethod
    def _held(frame: np.ndarray, count: int) -> Iterator[np.ndarray]:
        for _ in range(count):
            yield frame


def shot_frames(
    plan: ExportPlan,
    shot: ExportShot,
    media: MediaStore,
    width: int | None = None,
    height: int | None = None,
    *,
    handles: int | None = None,
) -> ShotFrames:
    """The frames of ``shot``'s export movie: ``shot.media_frames`` RGB uint8 frames at the project size.

    ``handles`` overrides the shot's export handles (the reference movie asks for 0: the cut only).
    """
    return ShotFrames(
        plan, shot, media, width or plan.width, height or plan.height, shot.handles if handles is None else handles
    )
