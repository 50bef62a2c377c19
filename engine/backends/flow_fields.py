"""Per-pair flow fields for the flow in-betweener (engine/backends/flow.py): which pixels have a match
in the other pin, how far each vector is trusted, and where pixels go when they leave the frame.

All of them work on flow fields in pixels of the field's own size (HxWx2 float32, x then y).
"""

from __future__ import annotations

import cv2
import numpy as np

# Round trips may miss by this fraction of the squared vector lengths (plus half a pixel) and still match.
_ROUND_TRIP_TOLERANCE = 0.01

# A source pixel with no match in the other pin still fills holes, but loses to any pixel that has one.
_UNMATCHED_SPLAT_WEIGHT = 1e-3

# Grey levels of mismatch (after a 5x5 blur) at which a flow vector's projection weight halves.
_PHOTO_TOLERANCE = 4.0

# Half the baseline, in the field's pixels, over which flow slopes are measured for extending it out of frame.
_SLOPE_REACH = 6

_REMAP_RELATIVE = cv2.INTER_LINEAR | cv2.WARP_RELATIVE_MAP


def resized_flow(flow: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The flow field resampled to ``size``, its vectors rescaled with it."""
    height, width = flow.shape[:2]
    scale = np.array([size[0] / width, size[1] / height], np.float32)
    return cv2.resize(flow, size, interpolation=cv2.INTER_AREA) * scale


def inside_frame(offset: np.ndarray) -> np.ndarray:
    """1.0 where grid + offset lies inside the frame (edges at -0.5 and size - 0.5), else 0.0."""
    height, width = offset.shape[:2]
    x = offset[..., 0] + np.arange(width, dtype=np.float32)[None, :]
    y = offset[..., 1] + np.arange(height, dtype=np.float32)[:, None]
    return ((x >= -0.5) & (x <= width - 0.5) & (y >= -0.5) & (y <= height - 0.5)).astype(np.float32)


def unmatched_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Soft mask (0..1) of pixels whose forward flow the backward flow does not undo.

    Such a pixel is occluded in the other image or leaves its frame. The threshold grows with
    the motion, as in Sundaram et al. 2010, since long vectors are less precise.
    """
    back_at_target = cv2.remap(backward, forward, None, _REMAP_RELATIVE, borderMode=cv2.BORDER_REPLICATE)
    round_trip = _squared_length(forward + back_at_target)
    allowed = _ROUND_TRIP_TOLERANCE * (_squared_length(forward) + _squared_length(back_at_target)) + 0.5
    mask = ((round_trip > allowed) | (inside_frame(forward) == 0)).astype(np.float32)
    # Flow is blurred across motion edges; widen the mask a little so the blend trusts the clean side there.
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    return cv2.GaussianBlur(mask, (5, 5), 0)


def _squared_length(vectors: np.ndarray) -> np.ndarray:
    # Not np.sum(axis=2): numpy reduces a two-element last axis an order of magnitude slower than this.
    squares = vectors * vectors
    return squares[..., 0] + squares[..., 1]


def follow_out_of_frame(flow: np.ndarray, unmatched: np.ndarray) -> np.ndarray:
    """The flow, with pixels that leave the frame given the motion their matched neighbours imply.

    DIS has nothing to match a pixel that moves out of frame against, so its vector there is a
    guess; yet the pixel still shows in the frames on its way out (the edge a pan turns away
    from). The matched motion and its local slope are spread into the unmatched pixels (push-pull)
    and extended linearly, so a pan's perspective or a zoom's growth carries on to the edge; an
    unmatched pixel takes that motion if it carries the pixel out of frame. Other unmatched pixels
    (occlusions inside the frame) keep DIS's vector.
    """
    matched = unmatched < 0.5
    height, width = flow.shape[:2]
    # Only a pixel within the longest vector of an edge can leave; most pairs have none unmatched there.
    band = int(np.ceil(np.abs(flow).max())) + 1
    interior = ~matched[band:-band, band:-band] if min(height, width) > 2 * band else np.zeros(0, bool)
    if matched.all() or not matched.any() or np.count_nonzero(~matched) == np.count_nonzero(interior):
        return flow
    # Slopes are differences across 2 * _SLOPE_REACH pixels of a smoothed flow: DIS's per-pixel noise
    # would otherwise be multiplied by the distance they are extended over. They, and the motion they
    # extend, are read only where that whole neighbourhood is matched, away from occlusion edges.
    reach = _SLOPE_REACH
    core = cv2.erode(matched.astype(np.uint8), np.ones((2 * reach + 5, 2 * reach + 5), np.uint8)).astype(np.float32)
    if not core.any():
        return flow
    xs = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :], (height, width))
    ys = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], (height, width))
    smooth = cv2.blur(flow, (5, 5))
    slopes = np.zeros((height, width, 4), np.float32)  # d(fx)/dx, d(fx)/dy, d(fy)/dx, d(fy)/dy
    for axis in (0, 1):
        if min(height, width) > 2 * reach:
            slope_x = (smooth[:, 2 * reach :, axis] - smooth[:, : -2 * reach, axis]) / (2 * reach)
            slope_y = (smooth[2 * reach :, :, axis] - smooth[: -2 * reach, :, axis]) / (2 * reach)
            slopes[:, reach:-reach, 2 * axis] = slope_x
            slopes[reach:-reach, :, 2 * axis + 1] = slope_y
    spread = _push_pull(np.dstack([flow, xs, ys, slopes]), core)
    step_x, step_y = xs - spread[..., 2], ys - spread[..., 3]
    extended = np.stack(
        [
            spread[..., 0] + spread[..., 4] * step_x + spread[..., 5] * step_y,
            spread[..., 1] + spread[..., 6] * step_x + spread[..., 7] * step_y,
        ],
        axis=2,
    )
    leaves = (inside_frame(extended) == 0) & ~matched
    if not leaves.any():
        return flow
    return np.where(leaves[..., None], extended, flow)


def _push_pull(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """``values`` (HxWxC float32) filled where ``known`` is 0 from the known pixels around, nearest ones first.

    Filled at half size and upsampled: the callers read only pixels that are not known, several
    pixels away from the known ones, and the full-size level would cost as much as all the others.
    """
    levels = [cv2.pyrDown(np.dstack([values * known[..., None], known]))]
    while min(levels[-1].shape[:2]) > 4:
        levels.append(cv2.pyrDown(levels[-1]))
    channels = values.shape[2]
    filled = None
    for level in reversed(levels):
        weight = level[..., channels:]
        estimate = level[..., :channels] / np.maximum(weight, 1e-6)
        if filled is not None:
            coarse = cv2.resize(filled, (level.shape[1], level.shape[0]), interpolation=cv2.INTER_LINEAR)
            # A level that saw a quarter or more known pixels under a pixel trusts its own mean there.
            confidence = np.minimum(1.0, 4.0 * weight)
            estimate = confidence * estimate + (1.0 - confidence) * coarse.reshape(estimate.shape)
        filled = estimate
    height, width = values.shape[:2]
    return cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR).reshape(values.shape)


def projection_trust(unmatched: np.ndarray, source: np.ndarray, target: np.ndarray, flow: np.ndarray) -> np.ndarray:
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
