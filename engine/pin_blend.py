"""Seamless pins: each pinned frame shows its keyframe exactly, and the frames around it lead into it.

A model conditions on the pins in latent space, but what it decodes at a pin's frame is near the
keyframe, not the keyframe. Pasting the keyframe over that frame pops: the step into the pin is the
model's motion plus the whole difference. Here the difference (the residual: keyframe minus the
rendered frame) is faded into the neighbouring frames with a raised-cosine weight, 1 at the pin and
0 a window's length away, so it arrives over many frames instead of landing on one.

Each side of a pin gets its own window:

- as long as it takes for the fade to add at most ``SPREAD`` of the side's own frame-to-frame motion
  to any one step (a raised cosine over ``w`` frames changes by at most pi / 2w a frame);
- never reaching another pin: the weight is 0 at the next pin, so that pin stays exact and only the
  two pins' fades meet between them;
- cut short by the clip's ends (frames past the end don't exist, nothing to fade to);
- none at all on a side whose next frame already leads into the keyframe rather than into the
  model's frame (the frames Wan holds before its first pin, a pin next to another pin).

A pin whose rendered frame already is the keyframe (the model-free backends) has no residual, and
nothing changes. Frames are only read and written near pins that have one, in float32 a frame at a
time, so a long 1080p clip costs a few milliseconds a touched frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

# The most the fade adds to one frame step, as a share of the motion the model rendered there:
# the step into a pin then stays within 1.5x of the clip's own steps.
SPREAD = 0.5
# Windows never go below this (a residual too small to need one still fades over two frames,
# not one) nor above ``MAX_WINDOW`` frames a side (a second at 24 fps: enough for a model drift many
# times its motion, and it bounds the frames a long clip's blend has to touch).
MIN_WINDOW = 3
MAX_WINDOW = 24
# Motion and residual sizes are estimated on a grid of about this many pixels on the short side.
_SAMPLE_SIDE = 128

Pins = Sequence[tuple[int, np.ndarray]]


@dataclass(frozen=True)
class Fade:
    """The residual of the pin at ``pin`` faded into the frames on one side of it."""

    pin: int
    step: int  # -1: the frames before the pin, +1: the frames after it
    window: int  # the weight is 0 this many frames from the pin

    def frames(self, frame_count: int) -> range:
        """The frames this fade changes (the pin itself is pasted, not faded)."""
        if self.step > 0:
            return range(self.pin + 1, min(self.pin + self.window, frame_count))
        return range(max(self.pin - self.window + 1, 0), self.pin)

    def weight(self, frame: int) -> float:
        """Raised cosine: 1 at the pin, 0 at ``window`` frames, flat at both ends (no kink at the pin)."""
        distance = abs(frame - self.pin)
        return 0.5 * (1.0 + math.cos(math.pi * distance / self.window)) if distance < self.window else 0.0


def blend_pins(frames: np.ndarray, pins: Pins, *, max_window: int = MAX_WINDOW) -> np.ndarray:
    """Paste each pin into ``frames`` (in place, uint8 ``(n, h, w, 3)``) and fade its residual around it.

    ``pins`` are ``(frame, image)`` with images the clip's size; of two pins at one frame the later
    wins. Returns ``frames``. Frames farther than a window from every pin are left as they were.
    """
    keyframes = _checked(frames, pins)
    fades = plan_fades(frames, keyframes, max_window=max_window)
    _apply(frames, keyframes, fades)
    for frame, image in keyframes.items():
        # The pins are the contract between the two stages: the keyframe shows, exactly.
        frames[frame] = image
    return frames


def plan_fades(frames: np.ndarray, keyframes: dict[int, np.ndarray], *, max_window: int = MAX_WINDOW) -> list[Fade]:
    """The fades for the frames as rendered (before any pin is pasted), in frame order."""
    if max_window < 1:
        raise ValueError(f"max_window must be at least 1 frame, got {max_window}")
    order = sorted(keyframes)
    stride = max(1, min(frames.shape[1:3]) // _SAMPLE_SIDE)
    fades: list[Fade] = []
    for index, pin in enumerate(order):
        image, rendered = keyframes[pin], frames[pin]
        if np.array_equal(image, rendered):
            continue  # the backend rendered the keyframe itself: nothing to spread
        residual = _mean_abs(image[::stride, ::stride], rendered[::stride, ::stride])
        for step in (-1, 1):
            neighbour = index + step
            bound = order[neighbour] if 0 <= neighbour < len(order) else None
            window = _side_window(frames, image, pin, step, bound, residual, stride, max_window)
            if window > 1:
                fades.append(Fade(pin, step, window))
    return sorted(fades, key=lambda f: (f.pin, f.step))


def _side_window(
    frames: np.ndarray,
    image: np.ndarray,
    pin: int,
    step: int,
    bound: int | None,
    residual: float,
    stride: int,
    max_window: int,
) -> int:
    """How many frames the residual takes to fade out on one side of ``pin`` (1 or less: no fade)."""
    reach = _reach(len(frames), pin, step, bound)
    if reach < 1:
        return 0
    span = min(reach, max_window)
    # The pin's frame and the span after it in that direction, sampled once: a strided read of a
    # 1080p frame costs more than the arithmetic on it.
    lo, hi = sorted((pin, pin + step * span))
    side = frames[lo : hi + 1, ::stride, ::stride].astype(np.int16)
    if step < 0:
        side = side[::-1]
    first, keyframe = side[1], image[::stride, ::stride]
    if _mean_abs(first, keyframe) <= _mean_abs(first, side[0]):
        return 0  # this side already leads into the keyframe, not into the model's frame
    motion = float(np.median(np.abs(np.diff(side, axis=0)).mean(axis=(1, 2, 3))))
    # A raised cosine over w frames changes by at most pi / 2w per frame.
    wanted = max_window if motion <= 0 else math.ceil(math.pi * residual / (2 * SPREAD * motion))
    window = min(max(wanted, MIN_WINDOW), max_window)
    if bound is not None:
        window = min(window, abs(bound - pin))  # weight 0 at the next pin: it stays exact
    return window


def _reach(frame_count: int, pin: int, step: int, bound: int | None) -> int:
    """How many frames lie on one side of ``pin``: up to the next pin (``bound``) or the clip's end."""
    if bound is not None:
        return abs(bound - pin) - 1
    return pin if step < 0 else frame_count - 1 - pin


def _apply(frames: np.ndarray, keyframes: dict[int, np.ndarray], fades: list[Fade]) -> None:
    """Add each fade's weighted residual to its frames; frames between two close pins take both."""
    by_frame: dict[int, list[Fade]] = {}
    for fade in fades:
        for frame in fade.frames(len(frames)):
            by_frame.setdefault(frame, []).append(fade)
    residuals: dict[int, np.ndarray] = {}
    last_use = {fade.pin: 0 for fade in fades}
    for frame, touching in by_frame.items():
        for fade in touching:
            last_use[fade.pin] = max(last_use[fade.pin], frame)
    for frame in sorted(by_frame):
        touching = by_frame[frame]
        for fade in touching:
            if fade.pin not in residuals:
                residuals[fade.pin] = cv2.subtract(keyframes[fade.pin], frames[fade.pin], dtype=cv2.CV_32F)
        if len(touching) == 1:
            fade = touching[0]
            correction, weight = residuals[fade.pin], fade.weight(frame)
        else:
            correction = touching[0].weight(frame) * residuals[touching[0].pin]
            for f in touching[1:]:
                correction += f.weight(frame) * residuals[f.pin]
            weight = 1.0
        # One pass: uint8 + weight * float32, rounded and saturated back to uint8; straight into
        # the frame where OpenCV can write it (a backend may hand back a strided view).
        target = frames[frame]
        if target.flags.c_contiguous:
            cv2.addWeighted(target, 1.0, correction, weight, 0.0, dst=target, dtype=cv2.CV_8U)
        else:
            target[...] = cv2.addWeighted(target, 1.0, correction, weight, 0.0, dtype=cv2.CV_8U)
        for pin in [p for p in residuals if last_use[p] <= frame]:
            del residuals[pin]  # a 1080p residual is 25 MB: keep only the ones still fading


def _checked(frames: np.ndarray, pins: Pins) -> dict[int, np.ndarray]:
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 RGB of shape (n, height, width, 3), got {frames.dtype} {frames.shape}")
    if not frames.flags.writeable:
        raise ValueError("frames are read-only; pass a copy to blend pins into")
    keyframes: dict[int, np.ndarray] = {}
    for frame, image in pins:
        if not 0 <= frame < len(frames):
            raise ValueError(f"a pin at frame {frame} is outside the clip's frames 0..{len(frames) - 1}")
        if image.shape != frames.shape[1:] or image.dtype != np.uint8:
            raise ValueError(
                f"the pin at frame {frame} is {image.dtype} {image.shape}, not uint8 {frames.shape[1:]}; "
                "fit it to the clip's size first"
            )
        keyframes[frame] = image
    return keyframes


def _mean_abs(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 images, 0..255."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())
