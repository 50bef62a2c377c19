"""The reference movie: the whole cut with burn-ins and sound, decoded back and listened to."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app.audio_mix import AudioMix
from app.errors import ExportCancelled
from app.export.files import Progress
from app.export.frames import shot_frames
from app.export.plan import ExportOptions, build_plan
from app.export.reference import write_reference_movie
from app.timecode import FrameRate
from tests.app.export.project_factory import ExportProject, make_export_project

AAC_FRAME = 1024  # samples in one AAC frame: the sound may end within one of these of the picture


def decode_all(path: Path) -> tuple[list[np.ndarray], np.ndarray, dict]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        facts = {
            "codec": video.codec_context.name,
            "rate": Fraction(video.average_rate),
            "audio_codec": audio.codec_context.name,
            "sample_rate": audio.rate,
            "channels": audio.channels,
            "timecode": next((s.metadata.get("timecode") for s in container.streams.data), None),
        }
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video)]
        container.seek(0)
        chunks = [f.to_ndarray() for f in container.decode(audio)]
    return frames, np.concatenate(chunks, axis=1).T, facts


def unburned(ep: ExportProject, plan, shot_index: int, frame: int) -> np.ndarray:
    for i, picture in enumerate(shot_frames(plan, plan.shots[shot_index], ep.media, handles=0)):
        if i == frame:
            return picture.astype(np.int16)
    raise AssertionError("frame outside the shot")


def changed_pixels(a: np.ndarray, b: np.ndarray, rows: slice, cols: slice) -> int:
    return int((np.abs(a[rows, cols].astype(np.int16) - b[rows, cols]).max(axis=2) > 60).sum())


def region_diff(a: np.ndarray, b: np.ndarray, rows: slice, cols: slice) -> float:
    return float(np.abs(a[rows, cols].astype(np.int16) - b[rows, cols]).mean())


@pytest.mark.parametrize(
    ("rate", "drop", "start"),
    [(FrameRate(24), False, 86400), (FrameRate(30000, 1001), True, 107892)],  # 01:00:00:00 / 01:00:00;00
    ids=["24", "29.97DF"],
)
def test_reference_movie_picture_sound_and_timecode(tmp_path: Path, rate: FrameRate, drop: bool, start: int) -> None:
    ep = make_export_project(tmp_path, rate, handles=2, drop_frame=drop, start_frame=start)
    plan = build_plan(ep.project, ExportOptions(handles=3))
    final = tmp_path / "reference.mp4"
    progress = Progress()
    notes = write_reference_movie(plan, ep.media, final, progress, AudioMix(ep.media))

    frames, sound, facts = decode_all(final)
    assert len(frames) == plan.length == progress.done == 72  # the cut only: no handles
    assert (facts["codec"], facts["rate"]) == ("h264", rate.fps)
    assert (facts["audio_codec"], facts["sample_rate"], facts["channels"]) == ("aac", 48000, 2)
    assert facts["timecode"] == plan.record_timecode(0) == ("01:00:00;00" if drop else "01:00:00:00")

    picture_samples = Fraction(plan.length) / rate.fps * 48000
    assert abs(len(sound) - picture_samples) <= AAC_FRAME

    # The 1 s tone starts at cut frame 6: silence before, tone during, silence after.
    onset = int(Fraction(6) / rate.fps * 48000)
    left = sound[:, 0]
    assert np.abs(left[: onset - AAC_FRAME]).max() < 0.01
    tone = left[onset + AAC_FRAME : onset + 48000 - AAC_FRAME]
    assert np.sqrt(np.mean(tone**2)) > 0.1  # 12000/32768 sine, RMS 0.26, spread over 2 channels: ~0.18
    assert np.abs(left[onset + 48000 + AAC_FRAME :]).max() < 0.01

    # Shot 1A's rendered clip shows from its first frame after its two rendered handles (between
    # the top labels and the subtitle, where nothing is burned in).
    assert [round(f[20:36, 40:88].mean()) for f in frames[:3]] == pytest.approx([38, 47, 56], abs=4)
    assert notes == [
        "shot 2: the rendered clip is stale (the shot changed since it was rendered); exported the pin preview",
        "shot 3 Ü: not rendered yet; exported the pin preview",
        "shot 4: nothing rendered or pinned; exported a slate",
    ]


def test_burn_ins_are_drawn_in_the_corners_and_dialogue_at_the_bottom(tmp_path: Path) -> None:
    ep = make_export_project(tmp_path, FrameRate(25), audio=False)
    h, w = 72, 128
    corners = {
        "top-left": (slice(0, h // 6), slice(0, w // 4)),
        "top-right": (slice(0, h // 6), slice(w - w // 4, w)),
        "bottom-left": (slice(h - h // 6, h), slice(0, w // 4)),
    }
    subtitle = (slice(h // 2, h * 3 // 4), slice(w // 3, w * 2 // 3))
    centre = (slice(h // 3, h // 2), slice(w // 3, w * 2 // 3))
    for burn in (True, False):
        plan = build_plan(ep.project, ExportOptions(burn_dialogue=burn))
        final = tmp_path / f"ref-{burn}.mp4"
        write_reference_movie(plan, ep.media, final, Progress(), AudioMix(ep.media))
        frames, _, _ = decode_all(final)
        # Shot 2 (a held blue pin, no dialogue) at its frame 5, cut frame 29.
        burned, clean = frames[24 + 5], unburned(ep, plan, 1, 5)
        for name, (rows, cols) in corners.items():
            assert region_diff(burned, clean, rows, cols) > 20, name
        assert region_diff(burned, clean, *centre) < 6
        # Shot 1A ("ANNA: Who's there?") at its frame 3.
        burned, clean = frames[3], unburned(ep, plan, 0, 3)
        assert (region_diff(burned, clean, *subtitle) > 15) == burn


def test_timecode_burn_in_changes_every_frame(tmp_path: Path) -> None:
    ep = make_export_project(tmp_path, FrameRate(24), audio=False)
    plan = build_plan(ep.project)
    final = tmp_path / "ref.mp4"
    write_reference_movie(plan, ep.media, final, Progress(), AudioMix(ep.media))
    frames, _, _ = decode_all(final)
    top_right = (slice(0, 12), slice(64, 128))
    bottom_left = (slice(60, 72), slice(0, 48))
    # Within the held pin of shot 3 (cut frames 36..) only the burned-in timecode and counter move.
    a, b = frames[60].astype(np.int16), frames[61]
    assert changed_pixels(b, a, *top_right) >= 5  # 00:00:02:12 -> 00:00:02:13
    assert changed_pixels(b, a, *bottom_left) >= 5  # frame 24 -> frame 25
    assert changed_pixels(b, a, slice(16, 56), slice(0, 128)) == 0


def test_cancel_mid_reference_movie_leaves_nothing(tmp_path: Path) -> None:
    ep = make_export_project(tmp_path, FrameRate(24))
    plan = build_plan(ep.project)
    out = tmp_path / "export"
    out.mkdir()
    cancel = threading.Event()

    def on_progress(done: int, total: int, stage: str) -> None:
        if done >= 30:
            cancel.set()

    with pytest.raises(ExportCancelled):
        write_reference_movie(plan, ep.media, out / "ref.mp4", Progress(72, on_progress, cancel), AudioMix(ep.media))
    assert list(out.iterdir()) == []


def test_missing_sound_file_is_silence_and_a_note(tmp_path: Path) -> None:
    ep = make_export_project(tmp_path, FrameRate(24))
    plan = build_plan(ep.project)
    ep.media.path(plan.audio[0].media).unlink()  # the file is gone from the bundle
    final = tmp_path / "ref.mp4"
    notes = write_reference_movie(plan, ep.media, final, Progress(), AudioMix(ep.media))
    _, sound, _ = decode_all(final)
    assert np.abs(sound).max() < 0.01
    assert any(n.startswith("sound 'tone':") and "missing" in n for n in notes)
