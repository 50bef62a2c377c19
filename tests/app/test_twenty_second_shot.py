"""Issue 15's "done when": a 20 s shot with three pins and a slow push in, rendered by every motion backend.

The director's path from the command line (``app.cli.main`` in this process): a project at 24 fps with
12 handle frames a side, one 480-frame shot pinned at its first frame, its middle and its last frame,
camera move "slow push in"; the model folders are tiny random-weight diffusers pipelines added with
``models add``, the work size small so the models' many segments stay quick on a CPU. Each stored clip is
decoded with PyAV and must have exactly the shot's frames plus its handles, each pin on its frame
near-losslessly (≥ 45 dB after the store), and no jump at a pin larger than the motion between
neighbouring frames. What the engine handed to the store is recorded (``engine.runtime``'s clip contract
is wrapped and still runs) to check that no frame is shown twice in a row (hold excepted: holding a pin is
what it is for) and that the handles move: a slow push in moves a small frame by hundredths of a pixel
a frame near its pins, which H.264 rounds away even at the store's near-lossless quality.

Random weights make no coherent video: a tiny Wan VAE decodes a latent's first frame unlike the frames
after it, so the model's own frames can already jump at a pin. The seam measure therefore allows a pin
the step the model itself rendered there: pinning may not add a pop, and the blend may not make one.
"""

from __future__ import annotations

import itertools
import statistics
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import torch

from app.bundle import Bundle
from app.cli import main
from app.document import Camera, KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.timecode import FrameRate
from app.video import probe, read_frames
from engine import backend_registry
from engine.backends.fit import fit_image, read_rgb, write_png
from tests.app.test_cli_engine import reopen

DURATION, HANDLES, RATE = 20 * 24, 12, 24
SIZE = (320, 180)
PINS = (0, 240, DURATION - 1)
MOVE = "slow push in"
# Keyframes are photographs (scikit-image ships them): full-range pictures, as a director's keyframes are,
# so a crossfade over 240 frames still changes some pixels every frame.
PHOTOS = ("astronaut", "coffee", "chelsea")
MODEL_FOLDERS = {
    "ltx": "tiny_ltx_dir",
    "ltx2": "tiny_ltx2_dir",
    "wan": "tiny_wan_dir",
    "wan22": "tiny_wan22_dir",
    "wan-vace": "tiny_vace_dir",
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread is fastest, and steady when other processes load the CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PINFRAME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def twenty_second_project(path: Path, scratch: Path) -> Path:
    bundle = Bundle.create(path, Project("Harbour", FrameRate(RATE), width=SIZE[0], height=SIZE[1]))
    takes = []
    for name in PHOTOS:
        picture = getattr(skimage.data, name)()
        write_png(scratch / f"{name}.png", picture)
        takes.append(KeyframeTake(new_id(), bundle.media.put_file(str(scratch / f"{name}.png")), *picture.shape[1::-1]))
    shot = Shot(
        new_id(),
        "1",
        DURATION,
        prompt="a woman waits at the end of a harbour wall",
        camera=Camera(move=MOVE),
        handles=HANDLES,
        keyframe_takes=tuple(takes),
        pins=tuple(Pin(frame, take.id) for frame, take in zip(PINS, takes, strict=True)),
    )
    scene = Scene(new_id(), "EXT. HARBOUR - DAY", shots=(shot,))
    bundle.save(Project("Harbour", FrameRate(RATE), width=SIZE[0], height=SIZE[1], scenes=(scene,)))
    bundle.close()
    return path


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


MOTION_BACKENDS = backend_registry.backend_names("motion")


@pytest.fixture
def contracted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each clip as the backend rendered it and as the runtime's contract (pins, blend) leaves it."""
    from engine import runtime

    recorded: list[tuple[np.ndarray, np.ndarray]] = []
    real = runtime.enforce_clip_contract

    def recording(frames: np.ndarray, job, pins) -> np.ndarray:
        rendered = frames.copy()
        out = real(frames, job, pins)
        recorded.append((rendered, out.copy()))
        return out

    monkeypatch.setattr(runtime, "enforce_clip_contract", recording)
    return recorded


@pytest.mark.parametrize("backend", MOTION_BACKENDS)
def test_a_twenty_second_three_pin_slow_push_in_renders_with_every_motion_backend(
    user_dirs: Path, request: pytest.FixtureRequest, backend: str, contracted, capsys
) -> None:
    path = twenty_second_project(user_dirs / "Harbour.pinframe", user_dirs)
    choice = backend
    if backend in MODEL_FOLDERS:
        folder: Path = request.getfixturevalue(MODEL_FOLDERS[backend])
        assert main(["models", "add", str(folder)]) == 0
        choice = capsys.readouterr().out.split()[1].rstrip(":")
    assert main(["motion", str(path), choice]) == 0
    assert main(["render", str(path), "--steps", "2", "--work-pixels", "1024"]) == 0, capsys.readouterr().err

    project = reopen(path)
    shot = next(project.shots())
    clip = shot.current_clip_take
    assert clip.backend == backend
    stored = path / clip.media.relpath
    assert probe(stored).frame_count == DURATION + 2 * HANDLES, "the shot's frames and its handles, exactly"
    frames = np.stack(list(read_frames(stored)))
    assert frames.shape == (DURATION + 2 * HANDLES, SIZE[1], SIZE[0], 3)

    takes = {t.id: t for t in shot.keyframe_takes}
    at = [pin.frame + HANDLES for pin in shot.pins]
    for pin, index in zip(shot.pins, at, strict=True):
        picture = fit_image(read_rgb(path / takes[pin.take_id].image.relpath), *SIZE)[0]
        assert psnr(frames[index], picture) >= 45, f"pin at shot frame {pin.frame}"

    ((rendered, handed),) = contracted
    assert handed.shape == frames.shape
    held = [i for i, (a, b) in enumerate(itertools.pairwise(handed)) if np.array_equal(a, b)]
    if backend != "hold":
        assert not held, f"frames {held[:10]} are shown twice in a row: held or stretched, not rendered"
    # Handles are motion: the frames before the first pin and after the last are not one held picture.
    assert not [i for i in held if i < HANDLES or i >= HANDLES + DURATION - 1], f"held handle frames {held}"

    # Seamless pins, in the stored clip: no step into or out of a pin is larger than 1.5 times the clip's
    # median step, unless the model itself rendered a step that large there.
    steps = [mad(a, b) for a, b in itertools.pairwise(frames)]
    usual = statistics.median(s for s in steps if s > 0)
    for index in at:
        for i in (index - 1, index):
            own = mad(rendered[i], rendered[i + 1])
            assert steps[i] <= max(1.5 * usual, 1.05 * own + 0.5), (
                f"step {i}->{i + 1} at the pin on frame {index}: {steps[i]:.1f}, usual {usual:.1f}, "
                f"the model's own {own:.1f}"
            )
