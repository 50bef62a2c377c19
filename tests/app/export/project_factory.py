"""A small real project for export tests: rendered, stale, pinned and empty shots, and sound.

The bundle lives under a folder with a space and non-ASCII letters, so every writer is
exercised on the media paths that break naive file URLs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from app.bundle import Bundle
from app.document import AudioClip, Camera, ClipTake, KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.media_store import MediaStore
from app.render_inputs import shot_inputs_hash
from app.timecode import FrameRate
from app.video import encode_frames

# Shot numbers; the order of the cut.
NUMBERS = ("1A", "2", "3 Ü", "4")


@dataclass
class ExportProject:
    project: Project
    media: MediaStore
    bundle_path: Path


def clip_frame(index: int, width: int, height: int) -> np.ndarray:
    """Frame ``index`` of a rendered clip: a grey level that names the frame (survives lossy codecs)."""
    return np.full((height, width, 3), 20 + (index * 9) % 200, np.uint8)


def clip_level(frame: np.ndarray) -> int:
    """The index-level a decoded clip frame carries (inverse of :func:`clip_frame` up to codec noise)."""
    h, w = frame.shape[:2]
    return round(float(frame[h // 4 : -h // 4, w // 4 : -w // 4].mean()))


def keyframe_png(color: tuple[int, int, int], width: int, height: int) -> bytes:
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = color
    ok, data = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def sine_wav(path: Path, seconds: float, freq: float = 440.0, rate: int = 44100) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout="mono")
        t = np.arange(int(seconds * rate)) / rate
        samples = (np.sin(2 * np.pi * freq * t) * 12000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def make_export_project(
    root: Path,
    rate: FrameRate | None = None,
    *,
    width: int = 128,
    height: int = 72,
    handles: int = 0,
    drop_frame: bool = False,
    start_frame: int = 0,
    audio: bool = True,
) -> ExportProject:
    """Four shots in two scenes:

    1. ``1A`` (24 frames): a current rendered clip (with ``handles`` rendered each side), dialogue and notes.
    2. ``2`` (12 frames): a rendered clip made stale by a later prompt change, one pin.
    3. ``3 Ü`` (30 frames): two pins (frames 0 and 20), never rendered.
    4. ``4`` (6 frames): nothing pinned (a slate).
    Plus a 1-second 440 Hz tone starting at cut frame 6 when ``audio``.
    """
    rate = rate or FrameRate(24)
    folder = root / "Über Filme" / "my project.pinframe"
    folder.parent.mkdir(parents=True, exist_ok=True)
    empty = Project("Export Test", rate, width, height, start_frame=start_frame, drop_frame=drop_frame)
    bundle = Bundle.create(folder, empty)
    media = bundle.media
    try:
        red = KeyframeTake(new_id(), media.put_bytes(keyframe_png((200, 30, 30), width, height), "png"), width, height)
        blue = KeyframeTake(new_id(), media.put_bytes(keyframe_png((30, 30, 200), width, height), "png"), width, height)
        green = KeyframeTake(
            new_id(), media.put_bytes(keyframe_png((30, 200, 30), width, height), "png"), width, height
        )

        red3 = replace(red, id=new_id())  # the same picture, pinned again in another shot
        shot1 = Shot(new_id(), NUMBERS[0], 24, action="A door opens.", dialogue="ANNA: Who's there?",
                     notes="Hold on the door", prompt="a door", camera=Camera("MS", "low", 35, "dolly in"),
                     handles=handles, keyframe_takes=(red,), pins=(Pin(0, red.id),))  # fmt: skip
        shot2 = Shot(new_id(), NUMBERS[1], 12, prompt="a hall", keyframe_takes=(blue,), pins=(Pin(5, blue.id),))
        shot3 = Shot(new_id(), NUMBERS[2], 30, action="Wide of the street.", keyframe_takes=(red3, green),
                     pins=(Pin(0, red3.id), Pin(20, green.id)))  # fmt: skip
        shot4 = Shot(new_id(), NUMBERS[3], 6, action="Black.")
        project = replace(empty, scenes=(
            Scene(new_id(), "INT. HOUSE - NIGHT", shots=(shot1, shot2)),
            Scene(new_id(), "EXT. STREET - DAY", shots=(shot3, shot4)),
        ))  # fmt: skip

        tmp = root / "clips"
        tmp.mkdir(exist_ok=True)
        fps = Fraction(rate.num, rate.den)
        shots = []
        for shot in (shot1, shot2):
            count = shot.duration + 2 * shot.handles
            path = tmp / f"{shot.id}.mp4"
            encode_frames((clip_frame(i, width, height) for i in range(count)), path, fps)
            take = ClipTake(new_id(), media.put_file(path), shot_inputs_hash(shot, project), count, backend="flow")
            shots.append(replace(shot, clip_takes=(take,), current_clip=take.id))
        shots[1] = replace(shots[1], prompt="a long hall")  # now stale
        scenes = (replace(project.scenes[0], shots=tuple(shots)), project.scenes[1])
        project = replace(project, scenes=scenes)
        if audio:
            ref = media.put_file(sine_wav(tmp / "tone.wav", 1.0))
            project = replace(project, audio=(AudioClip(new_id(), ref, 6, "tone"),))
        bundle.save(project)
    finally:
        bundle.close()
    return ExportProject(project, MediaStore(folder), folder)
