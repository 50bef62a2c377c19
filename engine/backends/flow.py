"""CPU in-betweening that needs no model: hold, crossfade or optical-flow interpolation between pins.

The pins are the contract (see DESIGN.md): every pinned frame comes back exactly as given, frames
before the first pin hold the first pin and frames after the last pin hold the last. Between two
neighbouring pins the modes differ:

- ``hold``: the most recent pin (a stepped animatic).
- ``crossfade``: a linear blend by position.
- ``flow``: both pins are warped toward the in-between time along dense optical flow and blended by
  position, preferring whichever pin actually shows a pixel where the other one hides it.

Flow, for neighbouring pins A (time 0) and B (time 1):

1. OpenCV DIS optical flow A->B (F01) and B->A (F10), once per pair, on grey images downscaled so
   the long side is at most ``FLOW_MAX_SIDE``: flow fields are smooth, so at 1080p this costs little
   quality and saves most of the time. Vectors are scaled back up with the field.
2. Forward-backward consistency (Sundaram et al. 2010) marks the pixels of A that have no match in
   B (occluded there, or moved out of frame), and the pixels of B with no match in A.
3. The flow *at the in-between time t* is not known; it is approximated by flow projection. Every
   pixel p of A is pushed to where it is at t, p + t·F01(p), and every pixel of B to p + (1-t)·F10(p),
   each carrying its A->B motion; a pixel of the t-grid takes the weighted mean of the motions that
   land on it and near it (normalized convolution, sigma 1.5 flow pixels). Sources from the nearer
   pin weigh more; sources with no match in the other pin weigh almost nothing, so they only fill
   what no matched pixel covers (mostly uncovered background); sources whose vector lands on a
   different grey level weigh less, which decides the cases where only one direction went wrong.
   A pixel nothing lands near takes Super SloMo's linear-motion approximation, the two flows read at
   the same place: (1-t)·F01(x) - t·F10(x). Projection puts motion boundaries where the objects are
   at t, instead of where they were in A or in B.
4. Backward warping with cv2.remap: A is sampled at x - t·M(x) and B at x + (1-t)·M(x).
5. Blend with weights 1-t and t, each cut to zero where that pin's sample falls outside its frame or
   where the *other* pin's sample lands on a pixel that the first pin does not show. Where both are
   cut, a small floor leaves a crossfade.

Pins smaller than 16 pixels on a side are crossfaded (DIS needs room for its patches). Where DIS
cannot follow the motion (it loses small objects that move far for their size) the consistency
check marks both pins unmatched there and the frame degrades toward a crossfade, not a tear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import cv2
import numpy as np

from engine.progress import StepReporter

MODES = ("hold", "crossfade", "flow")

# Flow is computed at most this big (long side); 1920x1080 pins get their flow at 960x540.
FLOW_MAX_SIDE = 960

# MEDIUM over FAST: at 960x540 it costs ~40 ms more per pair of pins (paid once, not per frame) and
# halves the error around a moving object in benchmarks/flow_inbetween.py (its finer last scale).
_DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM

# DIS refuses images smaller than its patches; pins this small are crossfaded instead.
_MIN_FLOW_SIDE = 16

# A source pixel with no match in the other pin still fills holes, but loses to any pixel that has one.
_UNMATCHED_SPLAT_WEIGHT = 1e-3

# Keeps blend weights positive where both pins' samples look occluded, so such pixels crossfade.
_BLEND_WEIGHT_FLOOR = 1e-3

# Grey levels of mismatch (after a 5x5 blur) at which a flow vector's projection weight halves.
_PHOTO_TOLERANCE = 4.0
# Gaussian sigma, in flow-size pixels, of the normalized convolution that cleans the projected motion.
_MOTION_SMOOTHING = 1.5
# Source rows splatted at a time; bounds the temporaries at a few MiB at any size.
_SPLAT_BAND_ROWS = 128
_REMAP_RELATIVE = cv2.INTER_LINEAR | cv2.WARP_RELATIVE_MAP


def inbetween(
    pins: Sequence[tuple[int, np.ndarray]],
    frame_count: int,
    *,
    mode: str = "flow",
    reporter: StepReporter | None = None,
) -> np.ndarray:
    """Render ``frame_count`` RGB uint8 frames, shape (frame_count, H, W, 3), through the pins.

    ``pins`` are (frame index, RGB uint8 HxWx3 image) pairs in any order, all the same size, at
    distinct frames inside [0, frame_count). ``reporter.step`` is called once per finished frame,
    so a cancelled job stops within a frame (it raises :class:`~engine.errors.JobCancelled`).
    """
    if mode not in MODES:
        raise ValueError(f"unknown in-between mode {mode!r}: use one of {', '.join(MODES)}")
    ordered = _validated_pins(pins, frame_count)
    height, width = ordered[0][1].shape[:2]
    out = np.empty((frame_count, height, width, 3), np.uint8)
    progress = _Progress(reporter, frame_count)

    first_frame, first_image = ordered[0]
    for frame in range(first_frame + 1):
        out[frame] = first_image
        progress.frame_done(frame)
    for (start, a), (end, b) in pairwise(ordered):
        _fill_between(out, start, a, end, b, mode, progress)
        out[end] = b
        progress.frame_done(end)
    last_frame, last_image = ordered[-1]
    for frame in range(last_frame + 1, frame_count):
        out[frame] = last_image
        progress.frame_done(frame)
    return out


class _Progress:
    """Forwards per-frame progress and cancel checks to an optional reporter."""

    def __init__(self, reporter: StepReporter | None, total: int) -> None:
        self._reporter = reporter
        self._total = total

    def frame_done(self, frame: int) -> None:
        if self._reporter is not None:
            self._reporter.step(frame + 1, self._total)

    def check(self) -> None:
        if self._reporter is not None:
            self._reporter.check()


def _validated_pins(pins: Sequence[tuple[int, np.ndarray]], frame_count: int) -> list[tuple[int, np.ndarray]]:
    """The pins sorted by frame, images as contiguous arrays; ValueError says what is wrong with which pin."""
    if isinstance(frame_count, bool) or not isinstance(frame_count, int | np.integer) or frame_count < 1:
        raise ValueError(f"frame_count must be a whole number of frames >= 1, got {frame_count!r}")
    if len(pins) == 0:
        raise ValueError("in-betweening needs at least one pin (a frame index and an image)")
    checked: dict[int, np.ndarray] = {}
    for frame, image in pins:
        if isinstance(frame, bool) or not isinstance(frame, int | np.integer):
            raise ValueError(f"pin frame index must be a whole number, got {frame!r}")
        frame = int(frame)
        if not 0 <= frame < frame_count:
            raise ValueError(
                f"pin at frame {frame} is outside the shot: its {frame_count} frames are 0..{frame_count - 1}"
            )
        if frame in checked:
            raise ValueError(f"two pins at frame {frame}: a frame takes at most one pin")
        checked[frame] = _validated_image(frame, image)
    sizes = {frame: f"{image.shape[1]}x{image.shape[0]}" for frame, image in checked.items()}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"frame {frame} is {size}" for frame, size in sorted(sizes.items()))
        raise ValueError(f"pin images differ in size ({listed}); resize them to the shot's resolution")
    return sorted(checked.items())


def _validated_image(frame: int, image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise ValueError(
            f"pin at frame {frame}: expected an RGB uint8 image of shape (H, W, 3), "
            f"got {image.dtype} with shape {image.shape}"
        )
    return np.ascontiguousarray(image)


def _fill_between(
    out: np.ndarray, start: int, a: np.ndarray, end: int, b: np.ndarray, mode: str, progress: _Progress
) -> None:
    """Write the frames strictly between the pins at ``start`` (image ``a``) and ``end`` (``b``)."""
    span = end - start
    if span < 2:
        return
    render = _renderer(a, b, mode, progress)
    for frame in range(start + 1, end):
        render((frame - start) / span, out[frame])
        progress.frame_done(frame)


_Renderer = Callable[[float, np.ndarray], None]  # (t in (0, 1), destination frame) -> None


def _renderer(a: np.ndarray, b: np.ndarray, mode: str, progress: _Progress) -> _Renderer:
    if mode == "hold":
        return lambda _t, dst: np.copyto(dst, a)
    if mode == "flow" and min(a.shape[:2]) >= _MIN_FLOW_SIDE:
        return _FlowPair(a, b, progress.check).render
    return lambda t, dst: _crossfade(a, b, t, dst)


def _crossfade(a: np.ndarray, b: np.ndarray, t: float, dst: np.ndarray) -> None:
    # addWeighted works in float and rounds once, so the midpoint is the rounded mean of the pins.
    cv2.addWeighted(a, 1.0 - t, b, t, 0.0, dst=dst)


class _FlowPair:
    """Optical flow between two neighbouring pins, computed once and rendered at any in-between t.

    Everything it keeps is at flow size (a quarter of the pixels at 1080p): the two flows as x and
    y planes, the unmatched masks and the projection trust, about 17 MiB at 1080p.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, check: Callable[[], None]) -> None:
        self._a = a
        self._b = b
        height, width = a.shape[:2]
        self._full_size = (width, height)
        self._small_size = _flow_size(width, height)
        small_w, small_h = self._small_size
        # Per-axis, since rounding the flow size can stretch x and y slightly differently.
        self._scale = np.array([width / small_w, height / small_h], np.float32)
        self._xs = np.arange(small_w, dtype=np.float32)[None, :]
        self._ys = np.arange(small_h, dtype=np.float32)[:, None]

        grey_a, grey_b = _flow_grey(a, self._small_size), _flow_grey(b, self._small_size)
        dis = cv2.DISOpticalFlow_create(_DIS_PRESET)
        f01 = dis.calc(grey_a, grey_b, None)
        check()  # each calc is the single longest piece of work; don't make a cancel wait for both
        f10 = dis.calc(grey_b, grey_a, None)
        check()

        self._unmatched_a = self._unmatched(f01, f10)
        self._unmatched_b = self._unmatched(f10, f01)
        self._trust_a = _projection_trust(self._unmatched_a, grey_a, grey_b, f01)
        self._trust_b = _projection_trust(self._unmatched_b, grey_b, grey_a, f10)
        # Separate contiguous x and y planes: the per-frame splat reads them many times.
        self._f01 = cv2.split(f01)
        self._f10 = cv2.split(f10)

    def render(self, t: float, dst: np.ndarray) -> None:
        """Write the frame at time t in (0, 1) into ``dst`` (HxWx3 uint8)."""
        motion = self._motion_at(t)
        weight_a, weight_b = self._blend_weights(motion, t)
        # The full-size offset maps are the biggest temporaries; each lives only through its remap.
        warped_a = cv2.remap(
            self._a, self._full_offsets(motion, -t), None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE
        )
        warped_b = cv2.remap(
            self._b, self._full_offsets(motion, 1.0 - t), None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE
        )
        cv2.blendLinear(warped_a, warped_b, self._full(weight_a), self._full(weight_b), dst=dst)

    def _motion_at(self, t: float) -> np.ndarray:
        """A->B motion (flow-size pixels, HxWx2 float32) of whatever is at each pixel at time t, by flow projection."""
        small_w, small_h = self._small_size
        sums = np.zeros((3, small_h, small_w), np.float32)  # weight, weight * motion x, weight * motion y
        (f01x, f01y), (f10x, f10y) = self._f01, self._f10
        self._splat(sums, t * f01x, t * f01y, f01x, f01y, (1.0 - t) * self._trust_a)
        self._splat(sums, (1.0 - t) * f10x, (1.0 - t) * f10y, -f10x, -f10y, t * self._trust_b)

        # Normalized convolution: smooths the nearest-pixel splat and its rounding, fills small holes, and
        # lets trusted neighbours outvote a pixel whose only sources are unmatched or photometrically poor.
        for plane in sums:
            cv2.GaussianBlur(plane, (0, 0), _MOTION_SMOOTHING, dst=plane)
        weight, motion_x, motion_y = sums
        landed = weight > 0
        np.divide(motion_x, weight, out=motion_x, where=landed)
        np.divide(motion_y, weight, out=motion_y, where=landed)
        if not landed.all():
            # Where nothing landed nearby, read both flows in place (Super SloMo's linear-motion approximation).
            hole = ~landed
            motion_x[hole] = ((1.0 - t) * f01x - t * f10x)[hole]
            motion_y[hole] = ((1.0 - t) * f01y - t * f10y)[hole]
        return cv2.merge([motion_x, motion_y])

    def _splat(
        self,
        sums: np.ndarray,
        shift_x: np.ndarray,
        shift_y: np.ndarray,
        motion_x: np.ndarray,
        motion_y: np.ndarray,
        weights: np.ndarray,
    ) -> None:
        """Add each source pixel's weighted motion at the grid pixel nearest to where the shift moves it."""
        small_w, small_h = self._small_size
        size = small_w * small_h
        flat_sums = sums.reshape(3, size)
        # In bands of source rows: bincount's int64 and float64 copies would otherwise be the peak.
        for top in range(0, small_h, _SPLAT_BAND_ROWS):
            rows = slice(top, top + _SPLAT_BAND_ROWS)
            to_x = np.rint(shift_x[rows] + self._xs).astype(np.intp)
            to_y = np.rint(shift_y[rows] + self._ys[rows]).astype(np.intp)
            inside = (to_x >= 0) & (to_x < small_w) & (to_y >= 0) & (to_y < small_h)
            index = (to_y * small_w + to_x)[inside]
            band_weights = weights[rows][inside]
            flat_sums[0] += np.bincount(index, band_weights, size)
            flat_sums[1] += np.bincount(index, band_weights * motion_x[rows][inside], size)
            flat_sums[2] += np.bincount(index, band_weights * motion_y[rows][inside], size)

    def _blend_weights(self, motion: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Flow-size blend weights (float32) for the warped A and the warped B."""
        offset_a, offset_b = motion * -t, motion * (1.0 - t)
        # Where A's sample is a pixel that B does not show, B's sample shows something else: trust A only.
        a_not_in_b = cv2.remap(self._unmatched_a, offset_a, None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE)
        b_not_in_a = cv2.remap(self._unmatched_b, offset_b, None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE)
        weight_a = (1.0 - t) * (self._inside(offset_a) * (1.0 - b_not_in_a) + _BLEND_WEIGHT_FLOOR)
        weight_b = t * (self._inside(offset_b) * (1.0 - a_not_in_b) + _BLEND_WEIGHT_FLOOR)
        return weight_a.astype(np.float32), weight_b.astype(np.float32)

    def _inside(self, offset: np.ndarray) -> np.ndarray:
        """1.0 where grid + offset lies inside the flow-size frame (edges at -0.5 and size - 0.5), else 0.0."""
        small_w, small_h = self._small_size
        x = offset[..., 0] + self._xs
        y = offset[..., 1] + self._ys
        return ((x >= -0.5) & (x <= small_w - 0.5) & (y >= -0.5) & (y <= small_h - 0.5)).astype(np.float32)

    def _unmatched(self, forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
        """Soft mask (0..1) of pixels whose forward flow the backward flow does not undo.

        Such a pixel is occluded in the other image or leaves its frame. The threshold grows with
        the motion, as in Sundaram et al. 2010, since long vectors are less precise.
        """
        back_at_target = cv2.remap(backward, forward, None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE)
        round_trip = np.sum((forward + back_at_target) ** 2, axis=2)
        allowed = 0.01 * (np.sum(forward**2, axis=2) + np.sum(back_at_target**2, axis=2)) + 0.5
        mask = ((round_trip > allowed) | (self._inside(forward) == 0)).astype(np.float32)
        # Flow is blurred across motion edges; widen the mask a little so the blend trusts the clean side there.
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        return cv2.GaussianBlur(mask, (5, 5), 0)

    def _full_offsets(self, motion: np.ndarray, factor: float) -> np.ndarray:
        """Full-size sampling offsets: the flow-size motion times ``factor``, upscaled with its vectors."""
        return self._full(motion * (self._scale * np.float32(factor)))

    def _full(self, field: np.ndarray) -> np.ndarray:
        if self._small_size == self._full_size:
            return field
        return cv2.resize(field, self._full_size, interpolation=cv2.INTER_LINEAR)


def _flow_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) to compute flow at: the frame itself, or shrunk so its long side is FLOW_MAX_SIDE."""
    long_side = max(width, height)
    if long_side <= FLOW_MAX_SIDE:
        return width, height
    scale = FLOW_MAX_SIDE / long_side
    return max(_MIN_FLOW_SIDE, round(width * scale)), max(_MIN_FLOW_SIDE, round(height * scale))


def _flow_grey(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if (grey.shape[1], grey.shape[0]) == size:
        return grey
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def _projection_trust(unmatched: np.ndarray, source: np.ndarray, target: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Per source pixel (HxW float32): how much its flow counts when projecting motion to time t.

    Unmatched pixels count almost nothing. Among the rest, a vector that lands on a different grey
    level counts less, which settles the case where the consistency check fails because only one
    of the two directions went wrong.
    """
    matched = np.where(unmatched > 0.5, np.float32(_UNMATCHED_SPLAT_WEIGHT), np.float32(1.0))
    reached = cv2.remap(target, flow, None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE)
    mismatch = cv2.GaussianBlur(cv2.absdiff(source, reached), (5, 5), 0).astype(np.float32)
    photometric = 1.0 / (1.0 + (mismatch / np.float32(_PHOTO_TOLERANCE)) ** 2)
    return matched * photometric
