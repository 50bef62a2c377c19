"""The export plan: names that are safe on every drive, start timecode, source timecode offsets."""

from __future__ import annotations

import pytest

from app.export.plan import MAX_NAME_BYTES, ExportOptions, build_plan, safe_name
from app.timecode import FrameRate, frames_to_timecode, timecode_to_frames
from tests.app.export.project_factory import make_export_project


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Szene 12Ä", "Szene 12Ä"),
        ("../escape", "escape"),
        ("a/b\\c", "a-b-c"),
        ("a\x7fb\u202ec", "a-b-c"),  # DEL and a right-to-left override
        ("CON", "CON_"),
        ("lpt1.edl", "lpt1.edl_"),
        ("  .. ", "shot"),
    ],
)
def test_safe_name(text, expected):
    assert safe_name(text) == expected


def test_safe_name_fits_file_name_limits_in_bytes():
    name = safe_name("東京" * 100)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.startswith("東京") and "\ufffd" not in name


def test_overriding_drop_frame_keeps_the_start_timecode_label(tmp_path):
    rate = FrameRate(30000, 1001)
    start = timecode_to_frames("01:00:00:00", rate, drop_frame=False)
    made = make_export_project(tmp_path, rate, start_frame=start, audio=False)
    as_df = build_plan(made.project, ExportOptions(drop_frame=True))
    assert as_df.record_timecode(0) == "01:00:00;00"
    assert build_plan(made.project).record_timecode(0) == "01:00:00:00"


def test_handles_before_midnight_move_source_timecode_an_hour_on_instead_of_wrapping(tmp_path):
    made = make_export_project(tmp_path, FrameRate(25), handles=5, audio=False)  # starts 00:00:00:00
    plan = build_plan(made.project)
    first = plan.shots[0]
    assert plan.source_offset == 25 * 3600
    assert plan.timecode(plan.source_start(first)) == "00:59:59:20"  # 01:00:00:00 less 5 handles
    assert plan.record_timecode(first.record_in) == "00:00:00:00"
    assert any("one hour" in note for note in plan.notes)
    later = make_export_project(tmp_path / "b", FrameRate(25), handles=5, audio=False, start_frame=25 * 3600)
    plan = build_plan(later.project)
    assert plan.source_offset == 0 and not plan.notes
    assert frames_to_timecode(plan.source_start(plan.shots[0]), FrameRate(25)) == "00:59:59:20"
