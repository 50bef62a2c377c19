"""Shots longer than one model pass: split into overlapping segments, then stitched back frame for frame.

A motion model renders at most its longest segment (the registry's :class:`FrameRule` maximum) in one pass,
and only frame counts the rule accepts. A longer shot is rendered in segments of one valid length that
overlap by a few frames. Every segment after the first is conditioned on the overlap, which an earlier
segment has already rendered, so motion carries across the seam; nothing is stretched, so no frame is
shown twice and none is skipped.

Segments are rendered outwards from the one that holds the shot's first pin (the *anchor*): the ones after
it carry their first frames from the segment before, the ones before it carry their last frames from the
segment after (they lead into the pin instead of starting from nothing). Each pin is a condition in the
segment whose newly rendered frames hold it; a pin in an overlap reaches the next segment through the
carried frames, which show it exactly.

A model that makes sound with the picture (LTX-2) renders a soundtrack per segment; :class:`SoundTrack` puts
each at its segment's time and cross-fades them over the overlaps, as :func:`stitch` does the frames.

Nothing here knows about a model: it plans frame numbers and stitches uint8 frames and float samples, so it
is tested alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.backend_registry import FrameRule


@dataclass(frozen=True)
class Segment:
    """One pass of the model: frames ``start .. start + frames - 1`` of the stretch it belongs to.

    ``keep`` leading frames are used (the rest is the tail a valid length added past the end, or what the
    next segment renders instead). ``lead`` leading or ``tail`` trailing kept frames are conditions carried
    from a segment rendered earlier; the frames between them are new.
    """

    start: int
    frames: int
    keep: int
    lead: int = 0
    tail: int = 0
    pins: tuple[int, ...] = ()  # frames (in the stretch's numbering) conditioned on a pin in this pass
    squeeze: bool = False  # the render is spread over ``keep`` frames: its last frame must land on ``end``

    @property
    def end(self) -> int:
        """The last frame this segment puts in the shot."""
        return self.start + self.keep - 1

    @property
    def carried(self) -> range:
        """Stretch frames this pass is conditioned on, taken from what an earlier pass rendered."""
        if self.lead:
            return range(self.start, self.start + self.lead)
        return range(self.end - self.tail + 1, self.end + 1)

    @property
    def carried_at(self) -> int:
        """Where the carried frames sit in this pass's render (0 for leading ones)."""
        return 0 if self.lead else self.keep - self.tail

    @property
    def new(self) -> range:
        """Stretch frames this pass renders fresh."""
        return range(self.start + self.lead, self.end + 1 - self.tail)

    def local(self, frame: int) -> int:
        """Where stretch frame ``frame`` is in this pass's render."""
        return frame - self.start


@dataclass(frozen=True)
class SegmentPlan:
    count: int  # frames in the stretch
    segments: tuple[Segment, ...]  # in frame order
    order: tuple[int, ...]  # indices into ``segments`` in the order they must be rendered

    def in_render_order(self) -> list[Segment]:
        return [self.segments[i] for i in self.order]

    @property
    def split(self) -> bool:
        return len(self.segments) > 1

    @property
    def seams(self) -> tuple[int, ...]:
        """The first frame each later segment shares with the one before it."""
        return tuple(s.start for s in self.segments[1:])

    def describe(self, shot_frame: Callable[[int], int] = int) -> str:
        """``rendered in 3 segments of 81 frames, seams at 77 and 154``, seams as ``shot_frame`` numbers them."""
        if not self.split:
            return f"rendered in one pass of {self.segments[0].frames} frames"
        lengths = sorted({s.frames for s in self.segments})
        of = " and ".join(str(n) for n in lengths)
        seams = [str(shot_frame(s)) for s in self.seams]
        where = seams[0] if len(seams) == 1 else ", ".join(seams[:-1]) + " and " + seams[-1]
        plural = "s" if len(seams) > 1 else ""
        text = f"rendered in {len(self.segments)} segments of {of} frames, seam{plural} at {where}"
        backwards = sum(1 for s in self.segments if s.tail)
        if backwards:
            text += f" ({backwards} before the first pin rendered back from it)"
        return text


def longest_valid(rule: FrameRule) -> int:
    """The longest frame count the rule accepts (0: no limit)."""
    if not rule.maximum:
        return 0
    longest = rule.maximum - (rule.maximum - 1) % rule.step
    if longest < rule.minimum:
        raise ValueError(
            f"frame rule '{rule.text()}' accepts no frame count: its longest segment {rule.maximum} is below its "
            f"minimum {rule.minimum}; fix the backend's entry in engine/backend_registry.py"
        )
    return longest


def smallest_valid(rule: FrameRule, count: int) -> int:
    """The smallest count the rule accepts that covers ``count`` (ignoring the maximum)."""
    k = max(0, -(-(count - 1) // rule.step))
    return max(rule.minimum + (-(rule.minimum - 1)) % rule.step, rule.step * k + 1)


def plan_segments(
    count: int, rule: FrameRule, *, overlap: int, pins: Sequence[int] = (), fixed_end: bool = False
) -> SegmentPlan:
    """Split a stretch of ``count`` frames into passes of one valid length, overlapping by ``overlap``.

    ``pins`` are frames (0-based, in the stretch) the model is conditioned on. ``fixed_end``: the last pass
    must end exactly on the stretch's last frame (a first/last-frame model ending on a pin); a stretch that
    fits one pass but isn't a valid length is then rendered at the next valid length and spread over it
    (``squeeze``), where otherwise the extra tail is dropped.
    """
    if count < 1:
        raise ValueError(f"a stretch to render needs at least one frame, got {count}")
    bad = [p for p in pins if not 0 <= p < count]
    if bad:
        raise ValueError(f"pins at frames {bad} are outside the stretch's frames 0..{count - 1}")
    if fixed_end and pins:
        raise ValueError("a stretch with a fixed end is rendered from its end pins; give it no other pins")
    longest = longest_valid(rule)
    if overlap < 0 or (longest and overlap >= longest):
        raise ValueError(
            f"segments overlap by {overlap} frames, which needs a longest segment of more than that; "
            f"this backend's is {longest} (its frame rule: {rule.text()})"
        )
    pins = tuple(sorted(pins))
    if not longest or count <= longest:
        frames = min(smallest_valid(rule, count), longest) if longest else smallest_valid(rule, count)
        single = Segment(0, frames, count, pins=pins, squeeze=fixed_end and frames != count)
        return SegmentPlan(count, (single,), (0,))

    stride = longest - overlap
    passes = 1 + -(-(count - longest) // stride)
    # The same valid length for every pass, as short as covers the stretch: the balance costs no extra pass.
    target = -(-(count + (passes - 1) * overlap) // passes)
    length = smallest_valid(rule, target)
    stride = length - overlap
    starts = [i * stride for i in range(passes)]
    if fixed_end:
        starts[-1] = count - length
    keeps = [starts[i + 1] + overlap - starts[i] for i in range(passes - 1)] + [count - starts[-1]]

    anchor = 0
    if pins:
        anchor = next(i for i, s in enumerate(starts) if s <= pins[0] < s + length)
    segments = []
    for i, (start, keep) in enumerate(zip(starts, keeps, strict=True)):
        lead = overlap if i > anchor else 0
        tail = overlap if i < anchor else 0
        inside = tuple(p for p in pins if start + lead <= p < start + length - tail)
        segments.append(Segment(start, length, keep, lead, tail, inside))
    order = (*range(anchor, passes), *range(anchor - 1, -1, -1))
    return SegmentPlan(count, tuple(segments), order)


def spread(rendered: np.ndarray, count: int) -> np.ndarray:
    """``count`` frames picked evenly from ``rendered`` (at least as many), first and last kept."""
    n = rendered.shape[0]
    if n == count:
        return rendered
    if count == 1:
        return rendered[:1]
    return rendered[[round(i * (n - 1) / (count - 1)) for i in range(count)]]


def stitch(buffer: np.ndarray, segment: Segment, rendered: np.ndarray) -> None:
    """Put one pass's render into the stretch ``buffer`` (frames along the first axis, already at its size).

    New frames are written as rendered. The carried frames are cross-faded from what the earlier pass made
    towards this pass's own take on them, so a seam is a blend over the overlap instead of a jump between
    two frames.
    """
    kept = spread(rendered, segment.keep) if segment.squeeze else rendered[: segment.keep]
    if kept.shape[0] != segment.keep:
        raise ValueError(f"a pass planned as {segment.frames} frames returned {rendered.shape[0]}")
    start = segment.start
    new = segment.new
    buffer[new.start : new.stop] = kept[new.start - start : new.stop - start]
    carried = segment.carried
    if not len(carried):
        return
    # Weight of this pass on each carried frame: highest next to its new frames.
    ramp = np.arange(1, len(carried) + 1, dtype=np.float32) / (len(carried) + 1)
    weights = ramp if segment.lead else ramp[::-1]
    earlier = buffer[carried.start : carried.stop].astype(np.float32)
    own = kept[carried.start - start : carried.stop - start].astype(np.float32)
    shape = (-1,) + (1,) * (buffer.ndim - 1)
    blended = earlier + (own - earlier) * weights.reshape(shape)
    buffer[carried.start : carried.stop] = np.clip(blended + 0.5, 0, 255).astype(buffer.dtype)


class SoundTrack:
    """A shot's sound from its segments' sound: each placed at its segment's time, cross-faded over the overlaps."""

    def __init__(self, frame_count: int, fps: float) -> None:
        self.frame_count = frame_count
        self.fps = fps
        self.samples: np.ndarray | None = None
        self.rate = 0

    def add(self, segment: Segment, samples: np.ndarray, rate: int) -> None:
        """``samples`` (channels x samples, from the segment's first frame) into the track."""
        if self.samples is None:
            self.rate = rate
            length = round(self.frame_count / self.fps * rate)
            self.samples = np.zeros((samples.shape[0], length), dtype=np.float32)
        track = self.samples

        def at(frame: int) -> int:
            return min(track.shape[1], round(frame / self.fps * self.rate))

        begin, stop = at(segment.start), at(segment.end + 1)
        own = np.zeros((samples.shape[0], stop - begin), dtype=np.float32)
        available = min(samples.shape[1], stop - begin)  # a short decode leaves silence, never a shift
        own[:, :available] = samples[:, :available]
        weight = np.ones(stop - begin, dtype=np.float32)
        carried = segment.carried
        if len(carried):
            first, last = at(carried.start) - begin, at(carried.stop) - begin
            ramp = np.linspace(0.0, 1.0, last - first + 2, dtype=np.float32)[1:-1]
            weight[first:last] = ramp if segment.lead else ramp[::-1]
        region = track[:, begin:stop]
        region += (own - region) * weight

    def result(self) -> tuple[np.ndarray, int]:
        assert self.samples is not None, "no segment was added"
        return self.samples, self.rate
