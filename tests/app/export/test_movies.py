"""Per-shot movies and PNG sequences: encoded for real, decoded back with PyAV, checked frame by frame."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app.errors import ExportCancelled, ExportError
from app.export.files import Progress, partial_path
from app.export.frames import shot_frames
from app.export.movies import CODECS, png_name, write_movie, write_png_sequence
from app.export.plan import ExportOptions, build_plan
from app.timecode import FrameRate
from tests.app.export.project_factory import clip_frame, clip_level, make_export_project

RATES = [FrameRate(24), FrameRate(25), FrameRate(24000, 1001), FrameRate(30000, 1001)]
# DNxHR refuses pictures under 256x120, so it gets the smallest size it takes.
SIZES = {"prores": (128, 72), "h264": (128, 72), "dnxhr": (256, 144)}
EXT = {"prores": "mov", "h264": "mp4", "dnxhr": "mxf"}
COUNT = 14


def embedded_timecode(path: Path) -> str | None:
    """The start timecode a reader finds: the tmcd track (MOV/MP4) or the MXF timecode component."""
    with av.open(str(path)) as container:
        for stream in container.streams.data:
            if "timecode" in stream.metadata:
                return stream.metadata["timecode"]
        if container.format.name == "mxf":
            return container.metadata.get("timecode")
    return None


def decoded(path: Path) -> tuple[av.VideoStream, list[tuple[int, Fraction, int]]]:
    """(stream facts, [(pts, time base, level)]) of every decoded frame."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [(f.pts, f.time_base, clip_level(f.to_ndarray(format="rgb24"))) for f in container.decode(stream)]
        facts = (stream.codec_context.name, stream.codec_context.pix_fmt, Fraction(stream.average_rate))
    return facts, frames


def assert_levels(levels: list[int], clip_indices: list[int]) -> None:
    # Neighbouring clip frames differ by 9 levels, so a tolerance of 4 still catches any off-by-one.
    expected = [20 + (j * 9) % 200 for j in clip_indices]
    assert all(abs(a - b) <= 4 for a, b in zip(levels, expected, strict=True)), (levels, expected)


@pytest.mark.parametrize("rate", RATES, ids=str)
@pytest.mark.parametrize("codec", list(CODECS))
def test_codec_rate_round_trip(tmp_path: Path, codec: str, rate: FrameRate) -> None:
    width, height = SIZES[codec]
    final = tmp_path / f"shot 1 Ü.{EXT[codec]}"
    timecode = "00:59:59;28" if rate.supports_drop_frame else "00:59:59:20"
    progress = Progress()
    frames = (clip_frame(i, width, height) for i in range(COUNT))
    write_movie(frames, final, rate, codec, timecode, progress, COUNT)

    (name, pix_fmt, avg_rate), got = decoded(final)
    assert (name, pix_fmt) == (CODECS[codec].decoder, CODECS[codec].pix_fmt)
    assert avg_rate == rate.fps
    assert len(got) == COUNT
    # Exact times: frame i starts at i / fps, no rounding drift at NTSC rates.
    assert [Fraction(pts) * tb for pts, tb, _ in got] == [Fraction(i) / rate.fps for i in range(COUNT)]
    assert_levels([level for *_, level in got], list(range(COUNT)))
    assert embedded_timecode(final) == timecode
    assert progress.done == COUNT
    assert sorted(p.name for p in tmp_path.iterdir()) == [final.name]


@pytest.mark.parametrize("codec", ["prores", "dnxhr"])
def test_non_drop_timecode_at_2997_stays_non_drop(tmp_path: Path, codec: str) -> None:
    width, height = SIZES[codec]
    final = tmp_path / f"a.{EXT[codec]}"
    write_movie((clip_frame(i, width, height) for i in range(3)), final, FrameRate(30000, 1001), codec,
                "10:00:00:00", Progress(), 3)  # fmt: skip
    assert embedded_timecode(final) == "10:00:00:00"


def embedded_reels(path: Path) -> set[str]:
    """Every reel name a reader finds: the tmcd track's name (MOV) or the MXF tape package's name."""
    with av.open(str(path)) as container:
        found = {s.metadata["reel_name"] for s in container.streams if "reel_name" in s.metadata}
        if "reel_name" in container.metadata:
            found.add(container.metadata["reel_name"])
    return found


@pytest.mark.parametrize("codec", list(CODECS))
def test_reel_name_is_embedded_where_the_container_has_a_place(tmp_path: Path, codec: str) -> None:
    width, height = SIZES[codec]
    final = tmp_path / f"reel.{EXT[codec]}"
    write_movie((clip_frame(i, width, height) for i in range(3)), final, FrameRate(24), codec,
                "01:00:00:00", Progress(), 3, reel="0033U")  # fmt: skip
    # MP4 has no tape name (FFmpeg writes the tmcd name only in QuickTime mode).
    assert embedded_reels(final) == (set() if codec == "h264" else {"0033U"})
    assert embedded_timecode(final) == "01:00:00:00"


def test_clip_frames_arrive_at_their_indices_with_handles_held(tmp_path: Path) -> None:
    ep = make_export_project(tmp_path, FrameRate(24000, 1001), handles=2)
    for handles, note in [(4, "shot 1A: 2 handle frames each side held (the clip was rendered with 2)"), (1, None)]:
        plan = build_plan(ep.project, ExportOptions(handles=handles))
        shot = plan.shots[0]
        frames = shot_frames(plan, shot, ep.media)
        final = tmp_path / f"h{handles}.mov"
        write_movie(frames, final, plan.rate, "prores", plan.timecode(plan.source_start(shot)), Progress(),
                    shot.media_frames)  # fmt: skip
        _, got = decoded(final)
        clip_len = shot.duration + 2 * 2
        wanted = [min(max(i - handles + 2, 0), clip_len - 1) for i in range(shot.media_frames)]
        assert_levels([level for *_, level in got], wanted)
        assert frames.notes == ([note] if note else [])
        assert embedded_timecode(final) == plan.timecode(plan.source_start(shot))


def test_cancel_mid_movie_leaves_nothing(tmp_path: Path) -> None:
    cancel = threading.Event()

    def on_progress(done: int, total: int, stage: str) -> None:
        if done >= 5:
            cancel.set()

    final = tmp_path / "cut.mov"
    with pytest.raises(ExportCancelled):
        write_movie((clip_frame(i, 128, 72) for i in range(40)), final, FrameRate(24), "prores", "01:00:00:00",
                    Progress(40, on_progress, cancel), 40)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux) to fill a disk for real")
def test_full_disk_gives_a_clear_error(tmp_path: Path) -> None:
    # The movie's temporary file is a link to /dev/full, where every write fails with ENOSPC.
    final = tmp_path / "cut.mov"
    partial_path(final).symlink_to("/dev/full")
    with pytest.raises(ExportError, match="disk is full") as info:
        write_movie((clip_frame(i, 128, 72) for i in range(60)), final, FrameRate(24), "prores", "01:00:00:00",
                    Progress(), 60)  # fmt: skip
    assert "cut.mov" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_dnxhr_refuses_tiny_projects_with_advice(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"at least 256x120.*choose ProRes or H\.264"):
        write_movie((clip_frame(i, 128, 72) for i in range(3)), tmp_path / "a.mxf", FrameRate(24), "dnxhr",
                    "01:00:00:00", Progress(), 3)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_drop_frame_timecode_at_25_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="drop-frame"):
        write_movie((clip_frame(i, 128, 72) for i in range(3)), tmp_path / "a.mov", FrameRate(25), "prores",
                    "01:00:00;00", Progress(), 3)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_wrong_frame_count_is_an_error_not_a_short_movie(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="only 3 of 5"):
        write_movie((clip_frame(i, 128, 72) for i in range(3)), tmp_path / "a.mp4", FrameRate(24), "h264",
                    "01:00:00:00", Progress(), 5)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_png_sequence_names_count_and_pixels(tmp_path: Path) -> None:
    ep = make_export_project(tmp_path, FrameRate(25), handles=1, audio=False)
    plan = build_plan(ep.project, ExportOptions(handles=1))
    shot = plan.shots[0]
    folder = tmp_path / "png" / shot.media_name
    folder.parent.mkdir()
    progress = Progress()
    count = write_png_sequence(shot_frames(plan, shot, ep.media), folder, progress, start_number=90000)
    assert count == progress.done == shot.media_frames == 26
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"001_1A.{n:07d}.png" for n in range(90000, 90026)]
    assert names[0] == png_name(shot.media_name, 90000)
    with av.open(str(folder / names[5])) as container:
        picture = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert picture.shape == (72, 128, 3)
    assert abs(clip_level(picture) - (20 + 5 * 9)) <= 4  # PNG of frame 5 = clip frame 5 (1 handle of 1)
    assert sorted(p.name for p in folder.parent.iterdir()) == [shot.media_name]


def test_cancelled_png_sequence_leaves_no_folder(tmp_path: Path) -> None:
    cancel = threading.Event()
    frames = (np.zeros((8, 8, 3), np.uint8) for _ in range(10))

    def on_progress(done: int, total: int, stage: str) -> None:
        if done == 3:
            cancel.set()

    with pytest.raises(ExportCancelled):
        write_png_sequence(frames, tmp_path / "seq", Progress(10, on_progress, cancel))
    assert list(tmp_path.iterdir()) == []
