"""Issue 18 item 13: the AAF is written at every supported rate, with tape timecode readers agree on.

Read back with pyaaf2 slot by slot (composition, master, file and tape mobs) and with
OpenTimelineIO's AAF reader. The tape rule checked is the AAF model's: a file's first frame
sits ``StartTime`` frames into its tape, whose timecode starts at the Timecode component's
``Start``; the shown source timecode is the sum. Before the fix both held the clip's start, so
a 01:00:00:00 clip showed 02:00:00:00 (a 10:00:00:00 one 20:00:00:00), the sequence length
was 0, and 23.976 / 29.97 were refused.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import aaf2
import opentimelineio as otio
import pytest

from app.export.otio_aaf import aaf_refusal, write_aaf
from app.export.otio_timeline import clip_source_in
from app.export.plan import ExportOptions, day_frames
from app.timecode import FrameRate
from tests.app.export.test_timelines import Case, Export, check_record_points, frames, make_export

AAF_CASES = [
    # Starts at midnight with handles: shot 1A's movie starts the day before (23:59:59:22).
    Case(FrameRate(24), "00:00:00:00", handles=2),
    Case(FrameRate(24), "01:00:00:00", handles=2),
    Case(FrameRate(25), "10:00:00:00", handles=2),
    Case(FrameRate(24000, 1001), "01:00:00:00", handles=2),
    Case(FrameRate(30000, 1001), "01:00:00:00", handles=1),
    Case(FrameRate(30000, 1001), "01:00:00;00", drop_frame=True, handles=2),
]


@pytest.fixture(scope="module", params=AAF_CASES, ids=lambda c: c.id)
def aaf_export(request, tmp_path_factory) -> Export:
    return make_export(tmp_path_factory.mktemp("aaf"), request.param, codec="dnxhr", width=256, height=144)


def shown_source_timecode(file_mob) -> tuple[int, object]:
    """(frame count the reader shows for the file's first frame, the tape's Timecode component)."""
    tape_clip = file_mob.slots[0].segment
    tape = tape_clip.mob
    assert isinstance(tape.descriptor, aaf2.essence.TapeDescriptor)
    timecodes = [s.segment for s in tape.slots if isinstance(s.segment, aaf2.components.Timecode)]
    assert len(timecodes) == 1
    tc = timecodes[0]
    assert tc.start <= tape_clip.start and tape_clip.start + tape_clip.length <= tc.start + tc.length
    return tc.start + tape_clip.start, tc


def test_aaf_at_every_rate_reads_back_slot_by_slot(aaf_export: Export, tmp_path: Path) -> None:
    plan = aaf_export.plan
    rate = Fraction(plan.rate.num, plan.rate.den)
    assert aaf_refusal(plan) is None
    target = tmp_path / "cut.aaf"
    report = write_aaf(plan, aaf_export.export_dir, target)
    assert "embedded" in report[0]

    with aaf2.open(str(target)) as f:
        # Every slot of every mob runs at the exact project rate (not 24 for 23.976).
        for mob in f.content.mobs:
            for slot in mob.slots:
                assert Fraction(slot.edit_rate) == rate, (mob.name, slot.slot_id, slot.edit_rate)

        composition = next(f.content.toplevel())
        picture = next(s for s in composition.slots if s.media_kind == "Picture")
        assert picture.segment.length == plan.length > 0
        tc = next(s.segment for s in composition.slots if isinstance(s.segment, aaf2.components.Timecode))
        assert (tc.start, tc.fps, bool(tc.drop)) == (plan.start_frame, plan.rate.timebase, plan.drop_frame)
        assert plan.timecode(tc.start) == aaf_export.case.start  # the sequence starts at 01:00:00:00

        clips = list(picture.segment.components)
        assert len(clips) == len(plan.shots)
        for clip, shot in zip(clips, plan.shots, strict=True):
            assert (clip.start, clip.length) == (shot.handles, shot.duration)
            master_slot = clip.mob.slots[0]
            assert (master_slot["MarkIn"].value, master_slot["MarkOut"].value) == (
                shot.handles,
                shot.handles + shot.duration,
            )
            file_mob = master_slot.segment.mob
            descriptor = file_mob.descriptor
            assert Fraction(descriptor["SampleRate"].value) == rate
            assert descriptor["Length"].value == file_mob.slots[0].segment.length == shot.media_frames
            shown, tape_tc = shown_source_timecode(file_mob)
            assert (tape_tc.fps, bool(tape_tc.drop)) == (plan.rate.timebase, plan.drop_frame)
            # Source timecode of the movie's first frame, as the movie and the EDL carry it.
            assert plan.timecode(shown) == plan.timecode(plan.source_start(shot))
            assert shown == plan.source_start(shot) % day_frames(plan.rate, plan.drop_frame)
        first_shot_source = shown_source_timecode(clips[0].mob.slots[0].segment.mob)[0] + clips[0].start
        # The cut's first frame shows its source timecode: the record start (01:00:00:00, not
        # 02:00:00:00; 10:00:00:00, not 20:00:00:00), an hour on where the cut starts at midnight
        # (the plan's source offset, so handles don't start a movie the day before).
        assert first_shot_source == clip_source_in(plan, plan.shots[0])
        assert plan.timecode(first_shot_source - plan.source_offset) == aaf_export.case.start

    timeline = otio.adapters.read_from_file(str(target), adapter_name="AAF")
    assert frames(timeline.global_start_time) == plan.start_frame
    check_record_points(timeline, plan)
    for clip, shot in zip(timeline.find_clips(), plan.shots, strict=True):
        assert clip.source_range.duration.rate == pytest.approx(float(rate))
        assert frames(clip.source_range.start_time) == clip_source_in(plan, shot)
        assert frames(clip.source_range.duration) == shot.duration


def test_ntsc_dnxhr_plans_are_no_longer_refused(aaf_export: Export) -> None:
    from dataclasses import replace

    as_dnxhr = replace(aaf_export.plan, options=ExportOptions(codec="dnxhr"))
    assert aaf_refusal(as_dnxhr) is None
