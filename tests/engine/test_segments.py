"""Planning and stitching long shots in overlapping segments (engine.backends.segments), without a model."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from engine.backend_registry import FrameRule, get_backend
from engine.backends.segments import Segment, SoundTrack, longest_valid, plan_segments, spread, stitch

WAN = FrameRule(step=4, minimum=5, maximum=81)
LTX = FrameRule(step=8, minimum=9, maximum=257)


def made_by(plan) -> dict[int, int]:
    """Which segment (index in frame order) renders each frame fresh; fails on a frame made twice."""
    owner: dict[int, int] = {}
    for i, segment in enumerate(plan.segments):
        for frame in segment.new:
            assert frame not in owner, f"frame {frame} is new in segments {owner[frame]} and {i}"
            owner[frame] = i
    return owner


def check_plan(plan, count: int, rule: FrameRule, overlap: int, pins: tuple[int, ...]) -> None:
    longest = longest_valid(rule)
    owner = made_by(plan)
    assert sorted(owner) == list(range(count)), "every frame made exactly once: none dropped, none twice"
    lengths = {s.frames for s in plan.segments}
    assert len(lengths) == 1, "every pass one length"
    for segment in plan.segments:
        assert rule.valid(segment.frames), f"{segment.frames} frames breaks {rule.text()}"
        assert segment.keep <= segment.frames or segment.squeeze
        assert segment.lead in (0, overlap) and segment.tail in (0, overlap) and not (segment.lead and segment.tail)
    if plan.split:
        # Fewest passes: one pass fewer, even of the longest length, wouldn't cover the stretch.
        assert longest + (len(plan.segments) - 2) * (longest - overlap) < count
    # Render order: every carried frame was made by a pass rendered earlier.
    done: set[int] = set()
    for segment in plan.in_render_order():
        assert set(segment.carried) <= done, f"segment at {segment.start} carries frames not yet rendered"
        done |= set(segment.new) | set(segment.carried)
    assert sorted(plan.order) == list(range(len(plan.segments)))
    # Every pin is a condition in exactly one pass, the one that renders it fresh.
    listed = [(pin, i) for i, s in enumerate(plan.segments) for pin in s.pins]
    assert sorted(pin for pin, _ in listed) == sorted(pins)
    for pin, i in listed:
        assert owner[pin] == i, f"pin {pin} is conditioned in segment {i} but made in {owner[pin]}"


def test_a_stretch_that_fits_one_pass_drops_the_tail_the_frame_rule_adds():
    plan = plan_segments(23, LTX, overlap=9, pins=(0, 11, 22))
    (segment,) = plan.segments
    assert (segment.start, segment.frames, segment.keep, segment.pins) == (0, 25, 23, (0, 11, 22))
    assert not segment.squeeze and not plan.split and plan.order == (0,)
    assert plan.describe() == "rendered in one pass of 25 frames"
    # The model's own minimum: a 3-frame stretch renders at 5 and keeps 3.
    assert plan_segments(3, WAN, overlap=1).segments[0].frames == 5


def test_the_example_from_the_issue_three_passes_of_81_with_seams_at_77_and_154():
    plan = plan_segments(235, WAN, overlap=4)
    assert [(s.start, s.frames, s.keep, s.lead) for s in plan.segments] == [
        (0, 81, 81, 0),
        (77, 81, 81, 4),
        (154, 81, 81, 4),
    ]
    assert plan.seams == (77, 154)
    assert plan.describe() == "rendered in 3 segments of 81 frames, seams at 77 and 154"
    check_plan(plan, 235, WAN, 4, ())


def test_passes_are_balanced_rather_than_a_long_one_and_a_scrap():
    # 90 frames don't fit 81: two passes of 49 (5 frames shared), not 81 + 13.
    plan = plan_segments(90, WAN, overlap=5)
    assert [(s.start, s.frames, s.keep) for s in plan.segments] == [(0, 49, 49), (44, 49, 46)]
    check_plan(plan, 90, WAN, 5, ())


@pytest.mark.parametrize(
    ("rule", "overlap"),
    [(WAN, 1), (WAN, 5), (LTX, 9), (FrameRule(8, 9, 25), 9), (FrameRule(4, 5, 17), 5), (FrameRule(1, 1, 10), 3)],
)
def test_every_plan_covers_its_stretch_frame_for_frame(rule, overlap):
    rng = random.Random(f"{rule}{overlap}")
    for count in [*range(1, 120), *rng.sample(range(120, 2000), 40)]:
        pins = tuple(sorted(rng.sample(range(count), min(count, rng.randint(1, 4)))))
        check_plan(plan_segments(count, rule, overlap=overlap, pins=pins), count, rule, overlap, pins)
        check_plan(plan_segments(count, rule, overlap=overlap), count, rule, overlap, ())


def test_passes_lead_out_of_the_first_pin_both_ways():
    rule = FrameRule(4, 5, 81)
    plan = plan_segments(300, rule, overlap=5, pins=(200, 260))
    starts = [s.start for s in plan.segments]
    assert starts == [0, 76, 152, 228]
    anchor = plan.segments[2]
    assert plan.order == (2, 3, 1, 0), "the pass with the first pin first, then onward, then back to frame 0"
    assert (anchor.lead, anchor.tail, anchor.pins) == (0, 0, (200,))
    after, before = plan.segments[3], plan.segments[1]
    assert (after.lead, after.carried_at, after.pins) == (5, 0, (260,))
    # A pass before the first pin carries its last frames from the pass after it, at the end of its render.
    assert (before.tail, before.carried, before.carried_at) == (5, range(152, 157), 76)
    assert "(2 before the first pin rendered back from it)" in plan.describe()
    check_plan(plan, 300, rule, 5, (200, 260))


def test_a_fixed_end_lands_the_last_pass_exactly_on_the_last_frame():
    # A first/last-frame model: the last pass ends on the next pin, so its length must be valid as it stands.
    plan = plan_segments(100, WAN, overlap=1, fixed_end=True)
    first, last = plan.segments
    assert (last.start, last.frames, last.keep, last.end) == (47, 53, 53, 99)
    assert (first.frames, first.keep) == (53, 48), "the earlier pass hands over where the last one starts"
    check_plan(plan, 100, WAN, 1, ())
    # Within one pass, an invalid length is rendered at the next valid one and spread over the stretch.
    (squeezed,) = plan_segments(14, WAN, overlap=1, fixed_end=True).segments
    assert (squeezed.frames, squeezed.keep, squeezed.squeeze) == (17, 14, True)
    assert not plan_segments(13, WAN, overlap=1, fixed_end=True).segments[0].squeeze


def test_the_registry_rules_plan_their_longest_shots():
    for name in ("ltx", "ltx2", "wan", "wan22", "wan-vace"):
        rule = get_backend(name).frame_rule
        assert longest_valid(rule) == rule.maximum, f"{name}'s longest segment is itself a valid length"
        check_plan(plan_segments(3 * rule.maximum, rule, overlap=9, pins=(5,)), 3 * rule.maximum, rule, 9, (5,))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: plan_segments(0, WAN, overlap=1), "at least one frame"),
        (lambda: plan_segments(10, WAN, overlap=1, pins=(10,)), r"pins at frames \[10\] are outside"),
        (lambda: plan_segments(100, FrameRule(4, 5, 9), overlap=9), "overlap by 9 frames.*this backend's is 9"),
        (lambda: plan_segments(100, WAN, overlap=-1), "overlap by -1"),
        (lambda: plan_segments(10, WAN, overlap=1, pins=(3,), fixed_end=True), "fixed end"),
        (lambda: plan_segments(10, FrameRule(8, 9, 8), overlap=1), "accepts no frame count.*backend_registry"),
    ],
)
def test_bad_plans_are_refused_naming_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def frames_of(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.uint8)[:, None, None, None].repeat(2, axis=1).repeat(3, axis=3)


def test_stitch_writes_new_frames_as_rendered_and_fades_across_the_carried_ones():
    buffer = np.zeros((12, 2, 1, 3), dtype=np.uint8)
    first = Segment(0, 9, 9)
    stitch(buffer, first, frames_of([10, 20, 30, 40, 50, 60, 70, 80, 90]))
    second = Segment(6, 9, 6, lead=3)
    # The second pass's own take on the three frames it carried (70, 80, 90), then its new frames.
    stitch(buffer, second, frames_of([66, 76, 86, 100, 110, 120, 130, 140, 150]))
    values = buffer[:, 0, 0, 0].tolist()
    assert values[:6] == [10, 20, 30, 40, 50, 60], "the first pass's frames, untouched"
    # Weights 1/4, 2/4, 3/4 of the second pass, growing towards its new frames.
    assert values[6:9] == [round(70 - 0.25 * 4), round(80 - 0.5 * 4), round(90 - 0.75 * 4)]
    assert values[9:] == [100, 110, 120], "new frames as rendered, the tail past the shot dropped"
    assert all(a != b for a, b in itertools.pairwise(values))


def test_stitch_fades_a_pass_that_leads_into_later_frames_the_other_way():
    buffer = np.zeros((8, 1, 1, 3), dtype=np.uint8)
    buffer[4:] = frames_of([200, 210, 220, 230])[:, :1]
    stitch(buffer, Segment(0, 6, 6, tail=2), frames_of([0, 40, 80, 120, 160, 200])[:, :1])
    values = buffer[:, 0, 0, 0].tolist()
    # The pass's weight is 2/3 next to its new frames, 1/3 at the far end of the overlap.
    assert values == [0, 40, 80, 120, round(200 + (160 - 200) * 2 / 3), round(210 + (200 - 210) / 3), 220, 230]


def test_a_squeezed_pass_is_spread_over_its_frames_first_and_last_kept():
    buffer = np.zeros((5, 1, 1, 3), dtype=np.uint8)
    stitch(buffer, Segment(0, 9, 5, squeeze=True), frames_of(list(range(0, 90, 10)))[:, :1])
    assert buffer[:, 0, 0, 0].tolist() == [0, 20, 40, 60, 80]
    assert spread(np.arange(9), 1).tolist() == [0]


def test_stitch_refuses_a_render_of_the_wrong_length():
    with pytest.raises(ValueError, match="planned as 9 frames returned 5"):
        stitch(np.zeros((9, 1, 1, 3), np.uint8), Segment(0, 9, 9), frames_of([1, 2, 3, 4, 5])[:, :1])


def test_a_sound_track_places_each_segments_sound_at_its_time_and_fades_over_the_overlap():
    plan = plan_segments(40, FrameRule(8, 9, 25), overlap=9)
    first, second = plan.segments
    assert (first.start, second.start, second.lead) == (0, 16, 9)
    track = SoundTrack(40, fps=10.0)  # 10 samples a frame at 100 Hz
    for segment, level in zip(plan.in_render_order(), (1.0, -1.0), strict=True):  # the order they're rendered in
        track.add(segment, np.full((2, 250), level), 100)
    samples, rate = track.result()
    assert rate == 100 and samples.shape == (2, 400), "exactly the shot's duration"
    # The first pass's sound up to the overlap (frames 16-24), a fade across it, then the second's to the end.
    assert (samples[:, :160] == 1).all() and (samples[:, 250:] == -1).all()
    fade = samples[0, 160:250]
    assert (np.diff(fade) < 0).all() and -1 < fade[-1] < fade[0] < 1


def test_a_short_segment_sound_leaves_silence_instead_of_shifting_what_follows():
    (only,) = plan_segments(20, FrameRule(4, 5, 81), overlap=1).segments
    track = SoundTrack(20, fps=10.0)
    track.add(only, np.ones((1, 150)), 100)
    samples, _ = track.result()
    assert samples.shape == (1, 200) and (samples[0, :150] == 1).all() and (samples[0, 150:] == 0).all()
