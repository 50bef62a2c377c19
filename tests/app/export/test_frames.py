"""Which picture each export frame shows: clips, held and crossfaded pins, slates, missing media."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.export.frames import MISSING_BG, shot_frames
from app.export.plan import ExportOptions, build_plan
from app.timecode import FrameRate
from tests.app.export.project_factory import clip_level, make_export_project

RED, GREEN, BLUE = (200, 30, 30), (30, 200, 30), (30, 30, 200)


@pytest.fixture
def ep(tmp_path: Path):
    return make_export_project(tmp_path, FrameRate(24), handles=2, audio=False)


def colours(frames) -> list[tuple[int, ...]]:
    return [tuple(int(v) for v in f[36, 64]) for f in frames]


def test_every_shot_gives_exactly_its_media_frames_at_the_project_size(ep) -> None:
    plan = build_plan(ep.project, ExportOptions(handles=5))
    for shot in plan.shots:
        frames = list(shot_frames(plan, shot, ep.media))
        assert len(frames) == shot.media_frames == shot.duration + 10
        assert all(f.shape == (72, 128, 3) and f.dtype == np.uint8 for f in frames)
        assert not any(f.flags.writeable for f in frames)  # shared, held frames must not be drawn on
    small = list(shot_frames(plan, plan.shots[0], ep.media, 64, 36, handles=0))
    assert len(small) == 24 and small[0].shape == (36, 64, 3)


def test_clip_with_fewer_export_handles_skips_rendered_ones(ep) -> None:
    plan = build_plan(ep.project, ExportOptions(handles=0))
    frames = shot_frames(plan, plan.shots[0], ep.media)
    levels = [clip_level(f) for f in frames]
    assert levels == pytest.approx([20 + (i + 2) * 9 % 200 for i in range(24)], abs=4)
    assert frames.notes == []


def test_pins_hold_and_crossfade_and_handles_hold_the_ends(ep) -> None:
    plan = build_plan(ep.project, ExportOptions(handles=2))
    shot = plan.shots[2]  # pins: frame 0 red, frame 20 green; 30 frames
    got = colours(shot_frames(plan, shot, ep.media))
    assert len(got) == 34
    assert got[:3] == [RED] * 3  # two handles and frame 0
    assert got[2 + 10] == (115, 115, 30)  # halfway between the pins
    assert got[2 + 5] == (158, 72, 30)  # a quarter of the way: 0.75 red + 0.25 green
    assert got[2 + 20 :] == [GREEN] * 12  # the last pin holds through the tail handles
    stale = plan.shots[1]  # stale clip: its one pin (frame 5, blue) holds for the whole shot
    assert colours(shot_frames(plan, stale, ep.media)) == [BLUE] * stale.media_frames


def test_slate_is_a_card_with_the_shot_number(ep) -> None:
    plan = build_plan(ep.project)
    frames = shot_frames(plan, plan.shots[3], ep.media)
    first = next(frames)
    assert first.mean() < 60  # a dark card...
    assert first.max() > 200  # ...with light text on it
    assert len(list(frames)) == 5
    assert frames.notes == ["shot 4: nothing rendered or pinned; exported a slate"]


def test_missing_clip_falls_back_to_pins_and_says_so(ep) -> None:
    shot = ep.project.scenes[0].shots[0]
    ep.media.path(shot.current_clip_take.media).unlink()
    plan = build_plan(ep.project)
    frames = shot_frames(plan, plan.shots[0], ep.media)
    assert colours(frames) == [RED] * plan.shots[0].media_frames
    assert len(frames.notes) == 1
    assert frames.notes[0].startswith("shot 1A: the rendered clip (media/")
    assert frames.notes[0].endswith("is missing from the project; exported the pin preview")


def test_missing_keyframe_is_a_red_placeholder_and_a_note(ep) -> None:
    shot = ep.project.scenes[0].shots[1]
    ep.media.path(shot.keyframe_takes[0].image).unlink()
    plan = build_plan(ep.project)
    frames = shot_frames(plan, plan.shots[1], ep.media)
    pictures = list(frames)
    assert len(pictures) == 12
    assert tuple(pictures[0][2, 2]) == MISSING_BG
    assert any("pinned keyframe" in n and "missing from the project" in n for n in frames.notes)


def test_short_clip_holds_its_last_frame_and_says_so(ep) -> None:
    # A clip take that claims the shot but holds fewer frames (a render cut short).
    plan = build_plan(ep.project, ExportOptions(handles=2))
    longer = replace(plan.shots[0], shot=replace(plan.shots[0].shot, duration=40))
    frames = shot_frames(plan, longer, ep.media)
    levels = [clip_level(f) for f in frames]
    assert len(levels) == 44
    assert levels[27:] == pytest.approx([20 + 27 * 9 % 200] * 17, abs=4)  # clip has 28 frames
    assert frames.notes == [
        "shot 1A: the rendered clip has 28 frames, fewer than the shot's 40 (+2 handles); its last frame is held"
        " to the end"
    ]


def test_undecodable_clip_is_a_placeholder_and_a_note(ep) -> None:
    shot = ep.project.scenes[0].shots[0]
    path = ep.media.path(shot.current_clip_take.media)
    path.chmod(0o644)
    path.write_bytes(b"not a movie at all" * 100)  # damaged on disk after it was stored
    plan = build_plan(ep.project)
    frames = shot_frames(plan, plan.shots[0], ep.media)
    pictures = list(frames)
    assert len(pictures) == 28
    assert all(tuple(p[2, 2]) == MISSING_BG for p in pictures)
    assert len(frames.notes) == 1 and "can't be decoded" in frames.notes[0]
