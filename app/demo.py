"""The bundled demo project: ``resources/demo/demo.json`` plus its keyframe pictures."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np

from app.bundle import BUNDLE_SUFFIX, Bundle
from app.document import AudioClip, Camera, KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.errors import BundleError
from app.paths import resources_dir
from app.timecode import FrameRate, timecode_to_frames

DEMO_DIR = resources_dir() / "demo"
DEMO_BUNDLE_NAME = "Demo" + BUNDLE_SUFFIX


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (the IHDR chunk always comes first)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", data[16:24])


def platform_ambience(seconds, rate: int = 24000) -> bytes:
    """A WAV soundtrack for the demo, synthesized so the repository carries no audio file:
    a low tunnel rumble, the station clock ticking, and a train arriving in the last seconds."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    rng = np.random.default_rng(1959)
    # Rumble: noise smoothed to its lows, swelling as the train comes in.
    rumble = np.convolve(rng.standard_normal(n), np.ones(400) / 400, mode="same") * 6.0
    arrival = np.clip((t - (seconds - 5.0)) / 4.0, 0.0, 1.0)
    rumble *= 0.25 + 1.5 * arrival
    ticks = np.zeros(n)
    for second in range(int(seconds)):
        start = second * rate
        length = min(rate // 50, n - start)
        if length > 0:
            ticks[start : start + length] = np.sin(2 * np.pi * 1800 * t[:length]) * np.exp(-t[:length] * 250)
    horn = sum(np.sin(2 * np.pi * f * t) for f in (311.1, 370.0, 466.2)) / 3 * arrival * (t > seconds - 2.5)
    mix = 0.5 * rumble + 0.3 * ticks + 0.2 * horn
    pcm = (np.clip(mix, -1, 1) * 32767).astype("<i2").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, rate,
                         rate * 2, 2, 16, b"data", len(pcm))  # fmt: skip
    return header + pcm


def demo_target(directory: str | Path) -> Path:
    """Where `pinframe demo DIR` writes: DIR itself if it ends in .pinframe, else DIR/Demo.pinframe."""
    path = Path(directory)
    return path if path.suffix == BUNDLE_SUFFIX else path / DEMO_BUNDLE_NAME


def write_demo(directory: str | Path) -> Path:
    target = demo_target(directory)
    if not target.parent.exists():
        try:
            target.parent.mkdir(parents=True)
        except OSError as exc:
            raise BundleError(f"can't create folder '{target.parent}': {exc.strerror or exc}") from None
    spec = json.loads((DEMO_DIR / "demo.json").read_text(encoding="utf-8"))
    rate = FrameRate.parse(spec["fps"])
    width, height = spec["size"]
    empty = Project(
        name=spec["name"],
        rate=rate,
        width=width,
        height=height,
        start_frame=timecode_to_frames(spec["start_timecode"], rate),
    )
    bundle = Bundle.create(target, empty)
    try:
        scenes = []
        for scene_spec in spec["scenes"]:
            shots = []
            for s in scene_spec["shots"]:
                takes, pins = [], []
                for frame, picture in s.get("pins", []):
                    data = (DEMO_DIR / "keyframes" / picture).read_bytes()
                    w, h = png_size(data)
                    take = KeyframeTake(new_id(), bundle.media.put_bytes(data, "png"), w, h, imported_from=picture)
                    takes.append(take)
                    pins.append(Pin(frame, take.id))
                cam = s.get("camera", {})
                shots.append(
                    Shot(
                        id=new_id(),
                        number=s["number"],
                        duration=s["duration"],
                        action=s.get("action", ""),
                        dialogue=s.get("dialogue", ""),
                        notes=s.get("notes", ""),
                        prompt=s.get("prompt", ""),
                        negative_prompt=s.get("negative_prompt", ""),
                        style=s.get("style", ""),
                        camera=Camera(
                            cam.get("size", ""), cam.get("angle", ""), cam.get("lens_mm"), cam.get("move", "")
                        ),
                        handles=s.get("handles", 0),
                        pins=tuple(pins),
                        keyframe_takes=tuple(takes),
                    )
                )
            scenes.append(Scene(new_id(), scene_spec["heading"], scene_spec.get("synopsis", ""), tuple(shots)))
        running = sum(shot.duration for scene in scenes for shot in scene.shots)
        ambience = bundle.media.put_bytes(platform_ambience(rate.frames_to_seconds(running)), "wav")
        audio = (AudioClip(new_id(), ambience, 0, "platform ambience (synthesized)", -3.0),)
        bundle.save(replace(empty, scenes=tuple(scenes), audio=audio))
    finally:
        bundle.close()
    return target
