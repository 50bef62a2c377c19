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
2. Everything after the flow works on a motion grid whose long side is at most ``MOTION_MAX_SIDE``
   (480x270 at 1080p, a sixteenth of the pixels); the flows are averaged down to it.
3. Forward-backward consistency (Sundaram et al. 2010) marks the pixels of A that have no match in
   B (occluded there, or moved out of frame), and the pixels of B with no match in A. Unmatched
   pixels that leave the frame get the motion their matched neighbours imply, extended linearly:
   DIS has nothing to match them against, yet they show on their way out (the edge a pan turns
   away from).
4. The flow *at the in-between time t* is not known; it is approximated by flow projection. Every
   pixel p of A is pushed to where it is at t, p + t·F01(p), and every pixel of B to p + (1-t)·F10(p),
   each carrying its A->B motion; a grid pixel takes the weighted mean of the motions that land on
   it and near it (normalized convolution, sigma 1.5 grid pixels). Sources from the nearer pin weigh
   more; sources with no match in the other pin weigh almost nothing, so they only fill what no
   matched pixel covers (mostly uncovered background); sources whose vector lands on a different
   grey level weigh less, which decides the cases where only one direction went wrong. A pixel
   nothing lands near takes Super SloMo's linear-motion approximation, the two flows read at the
   same place: (1-t)·F01(x) - t·F10(x). Projection puts motion boundaries where the objects are at t,
   instead of where they were in A or in B.
5. Backward warping at full size with cv2.remap: A is sampled at x - t·M(x) and B at x + (1-t)·M(x),
   M upsampled from the grid once per frame.
6. Blend with weights 1-t and t, each cut to zero where that pin's sample falls outside its frame or
   where the *other* pin's sample (inside its frame) lands on a pixel that the first pin does not
   show. Where both are cut, a small floor leaves a crossfade. Those cuts touch a fraction of the
   frame (its edges, occlusions), so the frame is blended by position in one pass and only the tiles
   where B's share differs from t are blended again with per-pixel shares.

benchmarks/flow_quality.py measures all this on photographs under real camera moves against
ffmpeg's minterpolate; benchmarks/RESULTS-flow.md has the figures.

Pins smaller than 16 pixels on a side are crossfaded (DIS needs room for its patches). Where DIS
cannot follow the motion (it loses small objects that move far for their size) the consistency
check marks both pins unmatched there and the frame degrades toward a crossfade, not a tear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import cv2
import numpy as np

from engine.backends import flow_fields
from engine.progress import StepReporter

MODES = ("hold", "crossfade", "flow")

# Flow is computed at most this big (long side); 1920x1080 pins get their flow at 960x540.
FLOW_MAX_SIDE = 960
# The motion at each in-between time is projected on a grid at most this big (long side): the splat
# is the costliest per-frame step, and motion fields are smooth enough for 480x270 at 1080p (384 or
# 320 lose 0.1-0.35 dB around a moving object: benchmarks/RESULTS-flow.md).
MOTION_MAX_SIDE = 480

# MEDIUM over FAST: at 960x540 it costs ~40 ms more per pair of pins (paid once, not per frame) and
# halves the error around a moving object in benchmarks/flow_inbetween.py (its finer last scale).
_DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM

# DIS refuses images smaller than its patches; pins this small are crossfaded instead.
_MIN_FLOW_SIDE = 16

# Keeps blend weights positive where both pins' samples look occluded, so such pixels crossfade.
_BLEND_WEIGHT_FLOOR = 1e-3

# Gaussian sigma, in motion-grid pixels, of the normalized convolution that cleans the projected motion.
_MOTION_SMOOTHING = 1.5
# B's share of a blended pixel may differ from t by this much before its tile is blended on its own.
_SHARE_TOLERANCE = 1 / 512
# Side, in motion-grid pixels, of the tiles that are blended on their own (64 full-size pixels at 1080p).
_TILE = 16
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
    progress = _Progress(reporter, frame_count, out)

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
    """Forwards per-frame progress and cancel checks to an optional reporter, with a finished frame as the
    job's live preview now and then (the engine shrinks it to a thumbnail)."""

    # Frames between previews for each step the engine's ``preview_every`` asks of a model: a flow
    # frame takes milliseconds, not a diffusion step's seconds, so a preview every frame would flood the
    # window with thumbnails.
    FRAMES_PER_PREVIEW_STEP = 6

    def __init__(self, reporter: StepReporter | None, total: int, frames: np.ndarray | None = None) -> None:
        self._reporter = reporter
        self._total = total
        self._frames = frames
        every = reporter.preview_every if reporter is not None else 0
        self._preview_every = every * self.FRAMES_PER_PREVIEW_STEP if every > 0 and frames is not None else 0

    def frame_done(self, frame: int) -> None:
        if self._reporter is not None:
            frames = self._frames
            due = frames is not None and self._preview_every and (frame + 1) % self._preview_every == 0
            self._reporter.step(frame + 1, self._total, frames[frame] if due and frames is not None else None)

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

    The per-frame work is split by size: the motion at t and the blend shares are found on a small
    motion grid (a sixteenth of the pixels at 1080p), and only warping and blending touch full-size
    frames, through buffers allocated once per pair (about 63 MiB at 1080p).
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, check: Callable[[], None]) -> None:
        height, width = a.shape[:2]
        self._full_size = (width, height)
        flow_size = _fitted_size(width, height, FLOW_MAX_SIDE)
        grey_a, grey_b = _flow_grey(a, flow_size), _flow_grey(b, flow_size)
        dis = cv2.DISOpticalFlow.create(_DIS_PRESET)
        f01 = dis.calc(grey_a, grey_b, None)
        check()  # each calc is the single longest piece of work; don't make a cancel wait for both
        f10 = dis.calc(grey_b, grey_a, None)
        check()

        # Everything from here on works on the motion grid. Masks found there score the same PSNR in
        # benchmarks/flow_quality.py as masks found at flow size and averaged down, at a quarter of the cost.
        grid = _fitted_size(width, height, MOTION_MAX_SIDE)
        if grid != flow_size:
            f01, f10 = flow_fields.resized_flow(f01, grid), flow_fields.resized_flow(f10, grid)
            grey_a, grey_b = (cv2.resize(grey, grid, interpolation=cv2.INTER_AREA) for grey in (grey_a, grey_b))
        unmatched_a, unmatched_b = flow_fields.unmatched_mask(f01, f10), flow_fields.unmatched_mask(f10, f01)
        trust_a = flow_fields.projection_trust(unmatched_a, grey_a, grey_b, f01)
        trust_b = flow_fields.projection_trust(unmatched_b, grey_b, grey_a, f10)
        f01, f10 = flow_fields.follow_out_of_frame(f01, unmatched_a), flow_fields.follow_out_of_frame(f10, unmatched_b)
        self._grid = grid
        # Per-axis, since rounding the grid size can stretch x and y slightly differently.
        self._scale = np.array([width / grid[0], height / grid[1]], np.float32)
        self._unmatched_a, self._unmatched_b = unmatched_a, unmatched_b
        self._f01, self._f10 = cv2.split(f01), cv2.split(f10)
        # Each pin's pixels carry their A->B motion to where they are at t; B's run backwards, hence -f10.
        self._sources_a = _Sources(self._f01, self._f01, trust_a)
        self._sources_b = _Sources(self._f10, tuple(-plane for plane in self._f10), trust_b)

        # Four channels: OpenCV's remap has a vectorized path for them, not for three (about 2x faster).
        self._a = cv2.cvtColor(a, cv2.COLOR_RGB2RGBA)
        self._b = cv2.cvtColor(b, cv2.COLOR_RGB2RGBA)
        self._offsets = np.empty((height, width, 2), np.float32)
        self._warped_a = np.empty_like(self._a)
        self._warped_b = np.empty_like(self._b)
        self._blended = np.empty_like(self._a)
        self._share_full = np.empty((height, width), np.float32)

    def render(self, t: float, dst: np.ndarray) -> None:
        """Write the frame at time t in (0, 1) into ``dst`` (HxWx3 uint8)."""
        motion = self._motion_at(t)
        share_b = self._share_b(motion, t)
        # A is sampled at x - t*M(x) and B at x + (1-t)*M(x): one upsampled field, rescaled in place for B
        # (cheaper than upsampling twice; both are linear, so the result is the same).
        offsets = cv2.resize(motion * (self._scale * np.float32(-t)), self._full_size, dst=self._offsets)
        cv2.remap(self._a, offsets, None, _REMAP_RELATIVE, dst=self._warped_a, borderMode=cv2.BORDER_REPLICATE)
        np.multiply(offsets, np.float32(-(1.0 - t) / t), out=offsets)
        cv2.remap(self._b, offsets, None, _REMAP_RELATIVE, dst=self._warped_b, borderMode=cv2.BORDER_REPLICATE)
        # Most pixels blend by position alone; only tiles near occlusions and frame edges need their own shares.
        cv2.addWeighted(self._warped_a, 1.0 - t, self._warped_b, t, 0.0, dst=self._blended)
        self._blend_uneven_tiles(share_b, t)
        cv2.cvtColor(self._blended, cv2.COLOR_RGBA2RGB, dst=dst)

    def _motion_at(self, t: float) -> np.ndarray:
        """A->B motion (grid pixels, HxWx2 float32) of whatever is at each pixel at time t, by flow projection."""
        grid_w, grid_h = self._grid
        sums = np.zeros((3, grid_h * grid_w), np.float64)  # weight, weight * motion x, weight * motion y
        self._sources_a.splat(sums, t, 1.0 - t)
        self._sources_b.splat(sums, 1.0 - t, t)

        # Normalized convolution: smooths the nearest-pixel splat and its rounding, fills small holes, and
        # lets trusted neighbours outvote a pixel whose only sources are unmatched or photometrically poor.
        weight, motion_x, motion_y = (
            cv2.GaussianBlur(plane.reshape(grid_h, grid_w).astype(np.float32), (0, 0), _MOTION_SMOOTHING)
            for plane in sums
        )
        landed = weight > 1e-6
        np.divide(motion_x, weight, out=motion_x, where=landed)
        np.divide(motion_y, weight, out=motion_y, where=landed)
        if not landed.all():
            # Where nothing landed nearby, read both flows in place (Super SloMo's linear-motion approximation).
            (f01x, f01y), (f10x, f10y) = self._f01, self._f10
            hole = ~landed
            motion_x[hole] = ((1.0 - t) * f01x - t * f10x)[hole]
            motion_y[hole] = ((1.0 - t) * f01y - t * f10y)[hole]
        return cv2.merge([motion_x, motion_y])

    def _share_b(self, motion: np.ndarray, t: float) -> np.ndarray:
        """B's share (0..1, grid-size float32) of each blended pixel; A gets the rest."""
        offset_a, offset_b = motion * -t, motion * (1.0 - t)
        inside_a, inside_b = flow_fields.inside_frame(offset_a), flow_fields.inside_frame(offset_b)
        # Where A's sample is a pixel that B does not show, B's sample shows something else: trust A only.
        # A sample outside its pin's frame shows nothing, so it takes no weight from the other pin.
        a_not_in_b = inside_a * cv2.remap(
            self._unmatched_a, offset_a, None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE
        )
        b_not_in_a = inside_b * cv2.remap(
            self._unmatched_b, offset_b, None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE
        )
        weight_a = (1.0 - t) * (inside_a * (1.0 - b_not_in_a) + _BLEND_WEIGHT_FLOOR)
        weight_b = t * (inside_b * (1.0 - a_not_in_b) + _BLEND_WEIGHT_FLOOR)
        return (weight_b / (weight_a + weight_b)).astype(np.float32)

    def _blend_uneven_tiles(self, share_b: np.ndarray, t: float) -> None:
        """Re-blend, with B's own share, each tile of the even blend where that share is not t."""
        # Half a grey level at most: a share this close to t changes no 8-bit value by more than rounding.
        uneven = (np.abs(share_b - np.float32(t)) > _SHARE_TOLERANCE).astype(np.uint8)
        if not uneven.any():
            return
        # Upsampling reads one grid pixel around each, so a tile needs its own blend one pixel early.
        uneven = cv2.dilate(uneven, np.ones((3, 3), np.uint8))
        cv2.resize(share_b, self._full_size, dst=self._share_full, interpolation=cv2.INTER_LINEAR)
        width, height = self._full_size
        scale_x, scale_y = (float(s) for s in self._scale)
        for row_top, col_left, col_right in _uneven_runs(uneven, _TILE):
            top, bottom = int(row_top * scale_y), min(height, int(np.ceil((row_top + _TILE) * scale_y)))
            left, right = int(col_left * scale_x), min(width, int(np.ceil(col_right * scale_x)))
            share = self._share_full[top:bottom, left:right]
            cv2.blendLinear(
                self._warped_a[top:bottom, left:right],
                self._warped_b[top:bottom, left:right],
                1.0 - share,
                share,
                dst=self._blended[top:bottom, left:right],
            )


class _Sources:
    """One pin's pixels as splat sources: where each goes per unit of t, and what it carries there."""

    def __init__(self, shift: Sequence[np.ndarray], motion: Sequence[np.ndarray], trust: np.ndarray) -> None:
        self._shift_x, self._shift_y = shift
        height, width = trust.shape
        self._size = (width, height)
        self._xs = np.arange(width, dtype=np.float32)[None, :]
        self._ys = np.arange(height, dtype=np.float32)[:, None]
        # bincount wants float64 weights; converting them once per pair instead of once per frame.
        self._carried = [
            trust.astype(np.float64).ravel(),
            (trust * motion[0]).astype(np.float64).ravel(),
            (trust * motion[1]).astype(np.float64).ravel(),
        ]

    def splat(self, sums: np.ndarray, shift: float, weight: float) -> None:
        """Add ``weight`` x each source's carried values at the grid pixel nearest to where ``shift`` moves it."""
        width, height = self._size
        to_x = np.rint(self._shift_x * np.float32(shift) + self._xs).astype(np.intp)
        to_y = np.rint(self._shift_y * np.float32(shift) + self._ys).astype(np.intp)
        index = to_y * width + to_x
        # Sources that leave the grid go to one extra bin that is dropped, cheaper than masking them out.
        index[(to_x < 0) | (to_x >= width) | (to_y < 0) | (to_y >= height)] = width * height
        index = index.ravel()
        for total, carried in zip(sums, self._carried, strict=True):
            total += weight * np.bincount(index, carried, width * height + 1)[:-1]


def _uneven_runs(uneven: np.ndarray, tile: int) -> list[tuple[int, int, int]]:
    """(top row, first column, end column) in grid pixels of each horizontal run of tiles holding a nonzero pixel."""
    height, width = uneven.shape
    rows, cols = -(-height // tile), -(-width // tile)
    padded = np.zeros((rows * tile, cols * tile), np.uint8)
    padded[:height, :width] = uneven
    marked = np.asarray(padded.reshape(rows, tile, cols, tile).any(axis=(1, 3)))
    runs: list[tuple[int, int, int]] = []
    for row in range(rows):
        # Run starts and ends are where the row's marks change.
        edges = np.flatnonzero(np.diff(marked[row].astype(np.int16), prepend=0, append=0))
        starts, ends = edges[::2], edges[1::2]
        runs.extend((row * tile, start * tile, min(width, end * tile)) for start, end in zip(starts, ends, strict=True))
    return runs


def _fitted_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) to work at: the frame itself, or shrunk so its long side is ``max_side``."""
    long_side = max(width, height)
    if long_side <= max_side:
        return width, height
    scale = max_side / long_side
    return max(_MIN_FLOW_SIDE, round(width * scale)), max(_MIN_FLOW_SIDE, round(height * scale))


def _flow_grey(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if (grey.shape[1], grey.shape[0]) == size:
        return grey
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
