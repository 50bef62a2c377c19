"""Camera moves for the model-free motion backends: a 2D pan, tilt, push or zoom over the frames.

A storyboard tool (Storyboarder, Storyboard Pro) animates a "slow push in" on a single drawing by
moving a camera frame over it. The optical-flow, crossfade and hold backends do the same here:
after the in-betweens are rendered, each frame is scaled and shifted (``cv2.warpAffine``).

The pins are the contract (DESIGN.md): a pinned frame shows its keyframe exactly. So the move is
measured *from the pins*: the transform is the identity at every pin, grows with the distance to
the first pin before it and to the last pin after it, and is the identity between two pins. That
is what a moving camera gives: each pin is a picture the moving camera took at its frame, and
between two pins the in-betweens already carry whatever change of framing the pins show. A
one-pin shot therefore moves away from its pin (pin at the start: it pushes in from the pin;
pin at the end: it arrives at the pin), and a shot pinned at its first and last frame keeps the
move its pins were drawn with.

Speed follows the shot length: a move covers its full amount (the ``amount`` column of
:data:`MOVES`) over the clip's length, so a shot twice as long moves half as fast per frame and
ends on the same framing. "slow" halves a move, "fast" doubles it.

A 2D move can't show parallax, so a dolly looks like a zoom and a truck like a pan, and what a
move uncovers beyond the picture's edges (frames before a pin during a push in, the far side of
a pan) is mirrored from the picture (``BORDER_REFLECT_101``). Handheld, steadicam and orbit
are understood but have no 2D move here (there is nothing in one picture to orbit around, and
a shake would be invented detail); the words still reach the prompts of the video models.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

MoveAxis = Literal["zoom", "x", "y", "none"]


@dataclass(frozen=True)
class Move:
    """One named camera move and what it does to the picture over the whole clip."""

    name: str
    axis: MoveAxis
    # zoom: the scale at the end of the clip (1.25 = 25 % closer); x and y: the shift as a
    # fraction of the frame's width or height, positive moving the picture right or down.
    amount: float = 0.0
    help: str = ""


# The moves a clip job accepts, by canonical name (the document's CAMERA_MOVES, spelled the same).
# Panning left turns the camera left, so the picture slides right; tilting up slides it down.
MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        Move("static", "none", help="no move"),
        Move("pan left", "x", 0.20, "the picture slides right by a fifth of the frame"),
        Move("pan right", "x", -0.20, "the picture slides left by a fifth of the frame"),
        Move("tilt up", "y", 0.20, "the picture slides down by a fifth of the frame"),
        Move("tilt down", "y", -0.20, "the picture slides up by a fifth of the frame"),
        Move("truck left", "x", 0.20, "as pan left (no parallax in 2D)"),
        Move("truck right", "x", -0.20, "as pan right"),
        Move("crane up", "y", 0.20, "as tilt up"),
        Move("crane down", "y", -0.20, "as tilt down"),
        Move("dolly in", "zoom", 1.25, "25 % closer by the end of the clip"),
        Move("dolly out", "zoom", 1 / 1.25, "25 % further away"),
        Move("zoom in", "zoom", 1.4, "40 % closer: a zoom reads stronger than a dolly"),
        Move("zoom out", "zoom", 1 / 1.4, "40 % further away"),
        Move("handheld", "none", help="no 2D move (prompt words only)"),
        Move("steadicam", "none", help="no 2D move (prompt words only)"),
        Move("orbit", "none", help="no 2D move (prompt words only)"),
    )
}

# Other words directors write for the same moves (hyphens are read as spaces: "push-in").
SYNONYMS: dict[str, str] = {
    "push in": "dolly in",
    "track in": "dolly in",
    "pull out": "dolly out",
    "pull back": "dolly out",
    "push out": "dolly out",
    "track out": "dolly out",
    "track left": "truck left",
    "track right": "truck right",
    "pedestal up": "crane up",
    "pedestal down": "crane down",
    "boom up": "crane up",
    "boom down": "crane down",
    "locked off": "static",
    "hand held": "handheld",
    "steady cam": "steadicam",
    "arc": "orbit",
}

# Speed words before a move, and how much of its amount they give.
SPEEDS: dict[str, float] = {"slow": 0.5, "fast": 2.0}
_SPEED_SYNONYMS = {"slowly": "slow", "gentle": "slow", "subtle": "slow", "quick": "fast", "rapid": "fast"}

# "slow push in, tilt up" / "dolly in and pan left" / "zoom in + pan right".
_PART_SPLIT = re.compile(r"\s*(?:[,;+/]|\band\b|\bthen\b|\bwith\b)\s*")
_SPACES = re.compile(r"[\s\-_]+")


@dataclass(frozen=True)
class MovePart:
    move: Move
    speed: str = ""  # "", "slow" or "fast"

    @property
    def text(self) -> str:
        return f"{self.speed} {self.move.name}" if self.speed else self.move.name

    @property
    def factor(self) -> float:
        return SPEEDS.get(self.speed, 1.0)


def move_names() -> str:
    """The accepted moves and speed words, for error messages and help texts."""
    return f"{', '.join(MOVES)} (or {', '.join(SYNONYMS)}; optionally after {' or '.join(SPEEDS)})"


def _words(text: str) -> str:
    return _SPACES.sub(" ", text.lower()).strip()


def _part(words: str) -> MovePart | None:
    """A move with an optional speed word in front, exactly; None if ``words`` is anything else."""
    speed = ""
    first, _, rest = words.partition(" ")
    first = _SPEED_SYNONYMS.get(first, first)
    if first in SPEEDS and rest:
        speed, words = first, rest
    name = SYNONYMS.get(words, words)
    return MovePart(MOVES[name], speed) if name in MOVES else None


def parse_move(text: str) -> tuple[MovePart, ...]:
    """The moves in ``text`` ("slow push in, tilt up"); ValueError names a part that isn't one."""
    parts = []
    for piece in _PART_SPLIT.split(_words(text)):
        if not piece:
            continue
        part = _part(piece)
        if part is None:
            raise ValueError(f"camera move '{piece}' is unknown; use {move_names()}, separated by commas")
        parts.append(part)
    return tuple(parts)


def canonical_move(text: str) -> str:
    """``text`` in the one spelling a clip job carries ("slow dolly in, tilt up"); "" for none.

    Equal moves get equal text (and equal cache keys): synonyms become their move, "static"
    alone becomes "" (no move), and ValueError names a part that isn't a move.
    """
    parts = [p for p in parse_move(text) if p.move.axis != "none"]
    return ", ".join(p.text for p in parts)


def read_move(text: str) -> str:
    """The moves a director's free text names, canonical, ignoring the words that aren't moves.

    A shot's move field is free text ("slow push in on her hands, then tilt up"): each part
    contributes the longest move (with its speed word) found in it; parts naming none add nothing.
    """
    found = []
    for piece in _PART_SPLIT.split(_words(text)):
        tokens = piece.split()
        best: tuple[int, MovePart] | None = None
        for start in range(len(tokens)):
            for end in range(len(tokens), start, -1):
                part = _part(" ".join(tokens[start:end]))
                if part is not None and (best is None or end - start > best[0]):
                    best = (end - start, part)
                    break
        if best is not None:
            found.append(best[1].text)
    return canonical_move(", ".join(found))


# --- geometry ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Framing:
    """Where the camera is at one frame, relative to the picture: a scale about the centre, then a shift."""

    scale: float = 1.0
    shift_x: float = 0.0  # fraction of the frame width, positive: the picture moves right
    shift_y: float = 0.0

    @property
    def identity(self) -> bool:
        return self.scale == 1.0 and self.shift_x == 0.0 and self.shift_y == 0.0

    def matrix(self, width: int, height: int) -> np.ndarray:
        """The 2x3 affine matrix taking picture pixels to frame pixels."""
        # Pixel centres: scaling about (w-1)/2 keeps a symmetric picture symmetric.
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
        s = self.scale
        return np.array(
            [[s, 0.0, (1.0 - s) * cx + self.shift_x * width], [0.0, s, (1.0 - s) * cy + self.shift_y * height]],
            np.float64,
        )


def framing_at(parts: Sequence[MovePart], progress: float) -> Framing:
    """The framing ``progress`` clip-lengths from a pin (negative: before it) for these moves.

    Zoom grows geometrically (each frame the same ratio closer, which reads as an even push);
    shifts grow linearly. Parts add up, so "dolly in, pan left" does both.
    """
    log_scale = shift_x = shift_y = 0.0
    for part in parts:
        axis, amount = part.move.axis, part.move.amount
        if axis == "zoom":
            log_scale += math.log(amount) * part.factor * progress
        elif axis == "x":
            shift_x += amount * part.factor * progress
        elif axis == "y":
            shift_y += amount * part.factor * progress
    return Framing(math.exp(log_scale), shift_x, shift_y)


def move_progress(frame: int, pin_frames: Sequence[int], frame_count: int) -> float:
    """How far (in clip lengths) ``frame`` is from the pins the move is measured from.

    0 at every pin and between two pins; before the first pin negative, after the last positive.
    """
    first, last = min(pin_frames), max(pin_frames)
    span = max(1, frame_count - 1)
    if frame < first:
        return (frame - first) / span
    if frame > last:
        return (frame - last) / span
    return 0.0


def framings(move: str, pin_frames: Sequence[int], frame_count: int) -> list[Framing]:
    """The framing of every frame of a clip with pins at ``pin_frames`` (identity at each pin)."""
    if not pin_frames:
        raise ValueError("a camera move is measured from the pins; the clip has none")
    parts = parse_move(move)
    return [framing_at(parts, move_progress(f, pin_frames, frame_count)) for f in range(frame_count)]


def apply_camera_move(
    frames: np.ndarray,
    move: str,
    pin_frames: Sequence[int],
    check: Callable[[], None] | None = None,
) -> np.ndarray:
    """Move the camera over ``frames`` (N, H, W, 3 uint8) in place; pinned frames stay untouched.

    ``check`` is called once a frame (a cancelled job raises there).
    """
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected frames of shape (N, H, W, 3), got {frames.shape}")
    count, height, width = frames.shape[:3]
    pins = set(pin_frames)
    for index, framing in enumerate(framings(move, sorted(pins), count)):
        if framing.identity or index in pins:
            continue
        if check is not None:
            check()
        frames[index] = cv2.warpAffine(
            frames[index],
            framing.matrix(width, height),
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT_101,
        )
    return frames
