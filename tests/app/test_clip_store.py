"""Storing rendered clips: near-lossless, exact frame count, size and rate, all or nothing.

Real parts throughout: the engine renders with its model-free flow backend and writes its
frame files, store_clip encodes them into a real bundle, and the clip is read back through
app.video (the viewer's and the exporters' reader) and through a real shot-movie export.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from app import engine_service as S
from app.bundle import Bundle
from app.clip_store import INCOMING
from app.document import ClipTake, KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.errors import MediaError
from app.export.plan import ExportOptions
from app.export.run import export_project
from app.media_store import TMP_PREFIX
from app.render_inputs import shot_inputs_hash
from app.timecode import FrameRate
from app.video import encode_clip, probe, read_frames
from engine.backends.fit import fit_image, read_rgb
from engine.clip_frames import write_clip_frame
from engine.devices import DeviceSettings
from engine.events import Finished
from engine.jobs import ClipJob, ClipResult, ModelSpec, PinImage, frame_name
from engine.runtime import Engine

W, H = 160, 96
PINS_DB = 45.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def picture(seed: int, width: int = W, height: int = H) -> np.ndarray:
    """A photo-like frame: soft shapes over a gradient, with fine texture (not flat, not noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([x / width * 180 + 40, y / height * 150 + 50, 120 + 60 * np.sin(x / 17 + seed)], axis=2)
    image += cv2.GaussianBlur(rng.normal(0, 30, (height, width, 3)).astype(np.float32), (0, 0), 1.2)
    canvas = np.clip(image, 0, 255).astype(np.uint8)
    for _ in range(6):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(canvas, centre, int(rng.integers(2, max(3, height // 3))), color, -1, lineType=cv2.LINE_AA)
    return canvas


def frames_on_disk(folder: Path, frames: list[np.ndarray], rate: Fraction = Fraction(24)) -> ClipResult:
    """A clip's frames as the engine hands them over (its own frame writer and file names)."""
    folder.mkdir(parents=True)
    for index, frame in enumerate(frames):
        write_clip_frame(folder / frame_name(index), frame)
    height, width = frames[0].shape[:2]
    return ClipResult(str(folder), len(frames), width, height, rate.numerator, rate.denominator, "flow")


def panned(count: int, width: int = W, height: int = H) -> list[np.ndarray]:
    """``count`` frames of a camera pan across one picture: every frame differs, like a render."""
    wide = picture(7, width * 2, height)
    return [np.ascontiguousarray(wide[:, i * width // count : i * width // count + width]) for i in range(count)]


@pytest.fixture
def bundle(tmp_path: Path):
    b = Bundle.create(tmp_path / "Store.pinframe", Project("Store", FrameRate(24), W, H))
    yield b
    b.close()


def media_files(bundle: Bundle) -> list[Path]:
    return [p for p in bundle.media.root.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClipJob, ClipResult]:
    """A flow render by the real engine: 30 frames at 24000/1001 with pins at 0, 14 and 29."""
    folder = tmp_path_factory.mktemp("render")
    pins = []
    for frame, seed in ((0, 1), (14, 2), (29, 3)):
        path = folder / f"pin{frame}.png"
        cv2.imwrite(str(path), cv2.cvtColor(picture(seed, 200, 120), cv2.COLOR_RGB2BGR))  # fitted to 160x96
        pins.append(PinImage(frame, str(path)))
    job = ClipJob(ModelSpec("flow"), 30, 24000, 1001, W, H, tuple(pins))
    engine = Engine(folder / "cache", DeviceSettings(device="cpu"), budget_bytes=1 << 30)
    try:
        stream = engine.events()
        job_id = engine.submit(job)
        events = [e for e in stream.until_done({job_id}, timeout=120) if e.job_id == job_id]
        stream.close()
    finally:
        engine.shutdown()
    assert isinstance(events[-1], Finished), events[-1]
    return job, events[-1].outputs[0]


def test_a_rendered_clip_is_stored_with_its_frame_count_size_and_pins(rendered, bundle):
    job, result = rendered
    stored = S.store_clip(bundle, result)
    path = bundle.media.path(stored.ref)
    info = probe(path)
    assert (stored.frame_count, info.frame_count, info.width, info.height) == (30, 30, W, H)
    assert info.rate == Fraction(24000, 1001)
    decoded = list(read_frames(path))
    for pin in job.pins:
        expected, _ = fit_image(read_rgb(pin.path), W, H)
        assert psnr(decoded[pin.frame], expected) >= PINS_DB, f"pin at frame {pin.frame}"
    # Every frame, not only the pins: the stored clip is the master exports are made from.
    worst = min(psnr(decoded[i], read_rgb(result.frame_path(i))) for i in range(result.frame_count))
    assert worst >= PINS_DB
    assert [p.relative_to(bundle.path).as_posix() for p in media_files(bundle)] == [stored.ref.relpath]


@pytest.mark.parametrize("rate", [Fraction(24), Fraction(25), Fraction(24000, 1001), Fraction(30000, 1001)])
def test_the_frame_rate_and_count_are_exact(tmp_path, bundle, rate):
    result = frames_on_disk(tmp_path / "frames", panned(13), rate)
    stored = S.store_clip(bundle, result)
    info = probe(bundle.media.path(stored.ref))
    assert (info.rate, info.frame_count, stored.frame_count) == (rate, 13, 13)


def test_noisy_and_smooth_frames_survive_the_handoff_files_exactly(tmp_path):
    # Grain is kept uncompressed and smooth pictures deflated; both must read back bit for bit.
    rng = np.random.default_rng(0)
    grain = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    smooth = cv2.GaussianBlur(picture(4), (0, 0), 3)
    for name, frame in (("grain.png", grain), ("smooth.png", smooth)):
        write_clip_frame(tmp_path / name, frame)
        assert np.array_equal(read_rgb(tmp_path / name), frame), name
    assert (tmp_path / "smooth.png").stat().st_size < (tmp_path / "grain.png").stat().st_size / 2


def test_a_shot_movie_export_reads_the_stored_clip(tmp_path, bundle):
    frames = panned(20)
    stored = S.store_clip(bundle, frames_on_disk(tmp_path / "frames", frames))
    pin_png = cv2.imencode(".png", cv2.cvtColor(frames[0], cv2.COLOR_RGB2BGR))[1].tobytes()
    key = KeyframeTake(new_id(), bundle.media.put_bytes(pin_png, "png"), W, H)
    shot = Shot(new_id(), "1", 20, prompt="a pan", keyframe_takes=(key,), pins=(Pin(0, key.id),))
    project = Project("Store", FrameRate(24), W, H, scenes=(Scene(new_id(), "EXT. HILLS", shots=(shot,)),))
    take = ClipTake(new_id(), stored.ref, shot_inputs_hash(shot, project), stored.frame_count, backend="flow")
    shot = replace(shot, clip_takes=(take,), current_clip=take.id)
    project = replace(project, scenes=(replace(project.scenes[0], shots=(shot,)),))

    out = tmp_path / "export"
    report = export_project(project, bundle.media, out, ExportOptions(formats=frozenset({"movies"}), codec="h264"))
    assert report.stand_ins == {}, "the stored clip itself went out, not a pin preview"
    (movie,) = (out / "media").glob("*.mp4")
    exported = list(read_frames(movie))
    assert len(exported) == 20
    # The moving frames, not just the pinned first one (which a pin preview would also show).
    assert min(psnr(exported[i], frames[i]) for i in (5, 10, 19)) >= 30


def test_a_missing_frame_stores_nothing_and_names_the_frame(tmp_path, bundle):
    result = frames_on_disk(tmp_path / "frames", panned(12))
    Path(result.frame_path(7)).unlink()
    with pytest.raises(MediaError, match=r"frame 7 of the rendered clip .*frame_000007\.png.* is missing"):
        S.store_clip(bundle, result)
    assert media_files(bundle) == []


@pytest.mark.parametrize("damage", ["not a png", "wrong size"])
def test_an_unreadable_or_wrong_size_frame_stores_nothing(tmp_path, bundle, damage):
    result = frames_on_disk(tmp_path / "frames", panned(12))
    bad = Path(result.frame_path(3))
    if damage == "not a png":
        bad.write_bytes(b"\x89PNG half a file")
        message = r"frame 3 of the rendered clip .* is not a readable PNG"
    else:
        write_clip_frame(bad, picture(5, 32, 16))
        message = rf"frame 3 of the rendered clip .* is 32x16, not the clip's {W}x{H}"
    with pytest.raises(MediaError, match=message):
        S.store_clip(bundle, result)
    assert media_files(bundle) == []


def test_a_store_cut_short_by_a_crash_is_swept_when_the_project_opens(tmp_path, bundle):
    leftover = bundle.media.root / INCOMING / f"{TMP_PREFIX}crashed.mp4"
    leftover.parent.mkdir(parents=True)
    encode_clip(panned(3), leftover, Fraction(24))  # as a killed store would leave it
    path = bundle.path
    bundle.close()
    reopened, _, _ = Bundle.open(path)
    try:
        assert media_files(reopened) == []
    finally:
        reopened.close()


def test_encode_clip_refuses_a_frame_of_another_size(tmp_path):
    frames = [picture(1), picture(2), picture(3, 64, 48)]
    with pytest.raises(MediaError, match=rf"frame 2 .* is 64x48, not {W}x{H}"):
        encode_clip(iter(frames), tmp_path / "clip.mp4", Fraction(24))
