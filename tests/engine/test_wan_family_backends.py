"""Wan 2.2 (A14B two experts, TI2V-5B) and Wan VACE on tiny random-weight pipelines, end to end.

Each folder is built in memory, saved like a download, loaded through the engine's loader and rendered
through ``engine.runtime.render_clip``. The pipelines run for real; a test that needs to see what reached a
pipeline wraps its class's ``__call__`` to record the arguments and still calls through.
"""

from __future__ import annotations

import itertools
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch

from engine.backend_registry import classify_folder
from engine.backends.fit import fit_image, read_rgb, write_png
from engine.devices import DeviceSettings
from engine.errors import EngineError, JobCancelled, ModelFolderError
from engine.jobs import ClipJob, ClipResult, ModelSpec, PinImage
from engine.loader import load_backend
from engine.progress import StepReporter
from engine.runtime import render_clip
from tests.engine.test_runtime import pin_file
from tests.engine.tiny_wan_family import build_tiny_wan22, build_tiny_wan_vace

CPU = DeviceSettings(device="cpu")
WORK = 48 * 32  # work pixels: a 3:2 shot renders at 48x32 (A14B, VACE) or 64x32 (5B, sides of 32)


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    """Tiny tensors: one thread is fastest, and steady when other processes load the CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("wan-family")
    return {
        "a14b": build_tiny_wan22(root / "tiny-wan22-a14b"),
        "5b": build_tiny_wan22(root / "tiny-wan22-5b", five_b=True),
        "vace": build_tiny_wan_vace(root / "tiny-wan-vace"),
    }


def spec_for(models: dict[str, Path], which: str) -> ModelSpec:
    backend = "wan-vace" if which == "vace" else "wan22"
    return ModelSpec(backend, str(models[which]), f"tiny-{which}")


@pytest.fixture(scope="module")
def backends(models: dict[str, Path]) -> dict[str, Any]:
    return {which: load_backend(spec_for(models, which), CPU) for which in models}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The keyword arguments of every Wan pipeline call, and under "returned" the frames it made (uint8).

    The real pipeline still runs; only its arguments and result are looked at.
    """
    from diffusers import WanImageToVideoPipeline, WanVACEPipeline

    recorded: list[dict[str, Any]] = []
    for cls in (WanImageToVideoPipeline, WanVACEPipeline):
        real = cls.__call__

        def recording(self: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            recorded.append(dict(kwargs))
            result = _real(self, *args, **kwargs)
            recorded[-1]["returned"] = (np.clip(np.asarray(result.frames[0]), 0, 1) * 255 + 0.5).astype(np.uint8)
            return result

        monkeypatch.setattr(cls, "__call__", recording)
    return recorded


class Progress:
    """A reporter sink that keeps steps and previews, and can cancel the job at a given step."""

    def __init__(self, cancel_at: int = 0) -> None:
        self.cancel = threading.Event()
        self.cancel_at = cancel_at
        self.steps: list[tuple[int, int]] = []
        self.previews: list[np.ndarray] = []

    def __call__(self, step: int, total: int, eta: float | None, preview: np.ndarray | None) -> None:
        self.steps.append((step, total))
        if preview is not None:
            self.previews.append(preview)
        if step == self.cancel_at:
            self.cancel.set()

    def reporter(self) -> StepReporter:
        return StepReporter(self, self.cancel, preview_every=1)


def clip(tmp_path: Path, spec: ModelSpec, frames: int, pins: tuple[tuple[int, int], ...], **kw: Any) -> ClipJob:
    pin_images = tuple(PinImage(f, pin_file(tmp_path, f"p{f}_{s}.png", s)) for f, s in pins)
    base: dict[str, Any] = dict(prompt="a man walks in the rain", steps=2, work_pixels=WORK)
    return ClipJob(spec, frames, 16, 1, 96, 64, pin_images, **{**base, **kw})


def render(
    backend: Any, job: ClipJob, tmp_path: Path, progress: Progress | None = None
) -> tuple[ClipResult, np.ndarray]:
    staging = Path(tmp_path) / f"staging-{len(list(Path(tmp_path).glob('staging-*')))}"
    staging.mkdir()
    result = render_clip(backend, job, staging, (progress or Progress()).reporter())
    files = sorted(Path(result.frames_dir).glob("frame_*.png"))
    assert len(files) == job.frame_count == result.frame_count
    frames = np.stack([read_rgb(f) for f in files])
    assert frames.shape == (job.frame_count, job.height, job.width, 3)
    return result, frames


def pin_images(job: ClipJob) -> dict[int, np.ndarray]:
    return {p.frame: fit_image(read_rgb(p.path), job.width, job.height)[0] for p in job.pins}


def check_pins(frames: np.ndarray, job: ClipJob) -> None:
    for frame, image in pin_images(job).items():
        assert np.array_equal(frames[frame], image), f"pin at frame {frame}"


def nearest_pin(image: Any, job: ClipJob) -> int:
    """The frame of the pin that ``image`` (a PIL image the pipeline got) shows: the closest one, scaled down."""
    picture = np.asarray(image.convert("RGB"), dtype=np.float32)
    size = (picture.shape[1], picture.shape[0])

    def distance(pin: np.ndarray) -> float:
        return float(np.abs(cv2.resize(pin, size, interpolation=cv2.INTER_AREA).astype(np.float32) - picture).mean())

    pins = pin_images(job)
    return min(pins, key=lambda frame: distance(pins[frame]))


def nearest_frame(shot_frame: np.ndarray, rendered: np.ndarray) -> int:
    """Which frame of a render (at the model's size) a frame of the finished shot shows."""
    size = (rendered.shape[2], rendered.shape[1])
    small = cv2.resize(shot_frame, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    return int(np.argmin([np.abs(small - frame.astype(np.float32)).mean() for frame in rendered]))


@contextmanager
def expert_calls(pipe: Any) -> Iterator[dict[str, int]]:
    """Counts forward passes of each expert transformer while the caller renders."""
    counts = {"transformer": 0, "transformer_2": 0}
    handles = []
    for name in counts:

        def hook(module: Any, args: Any, output: Any, _name: str = name) -> None:
            counts[_name] += 1

        handles.append(getattr(pipe, name).register_forward_hook(hook))
    try:
        yield counts
    finally:
        for handle in handles:
            handle.remove()


# --- Wan 2.2 A14B -------------------------------------------------------------------------------------
def test_a14b_renders_pin_to_pin_segments_with_both_experts(backends, models, calls, tmp_path):
    backend = backends["a14b"]
    job = clip(tmp_path, spec_for(models, "a14b"), 16, ((2, 1), (7, 2), (15, 3)), params=(("guidance_2", 2.5),))
    progress = Progress()
    with expert_calls(backend.pipe) as counts:
        result, frames = render(backend, job, tmp_path, progress)

    check_pins(frames, job)
    lead_in, *pairs = calls
    # Before the first pin: a render onward from it, played backwards so it leads into the pin (not held).
    assert "last_image" not in lead_in and nearest_pin(lead_in["image"], job) == 2 and lead_in["num_frames"] == 5
    assert not np.array_equal(frames[0], frames[2]) and not np.array_equal(frames[1], frames[2])
    assert len(pairs) == 2, "one render per pair of neighbouring pins"
    for call, (first, last) in zip(pairs, ((2, 7), (7, 15)), strict=True):
        assert nearest_pin(call["image"], job) == first and nearest_pin(call["last_image"], job) == last
        assert call["num_frames"] == 9, "4k+1 covering 6 and 9 frames"
        assert call["guidance_scale_2"] == 2.5, "the low-noise expert's guidance reaches the pipeline"
        assert call["guidance_scale"] == 3.5, "guidance at the registry default"
        assert call["num_inference_steps"] == 2
        assert call["width"] % 16 == 0 and call["height"] % 16 == 0
    assert counts["transformer"] > 0 and counts["transformer_2"] > 0, f"both experts denoised: {counts}"
    assert "A14B" in result.notes and result.notes.count("frames") == 3, result.notes
    assert progress.steps == [(n, 6) for n in range(1, 7)], "steps counted across every render"
    assert progress.previews and all(p.ndim == 3 and p.shape[2] == 3 for p in progress.previews)


def test_a14b_one_pin_shot_moves_both_ways_from_the_pin(backends, models, calls, tmp_path):
    job = clip(tmp_path, spec_for(models, "a14b"), 12, ((4, 5),))
    result, frames = render(backends["a14b"], job, tmp_path)

    check_pins(frames, job)
    assert [("last_image" in c, nearest_pin(c["image"], job)) for c in calls] == [(False, 4), (False, 4)]
    assert [c["num_frames"] for c in calls] == [5, 9], "5 frames up to the pin, 8 after it (of 9)"
    for a, b in ((0, 4), (3, 4), (4, 5), (5, 11), (10, 11)):
        assert not np.array_equal(frames[a], frames[b]), f"frames {a} and {b} are the same picture: a still"
    backwards, forwards = (c["returned"] for c in calls)
    # After the pin, the render runs forwards frame for frame (its ninth frame, past the shot, is dropped);
    # before it, a render from the pin plays in reverse, so the frame just before the pin is its second frame.
    assert [nearest_frame(frames[f], forwards) for f in (5, 8, 11)] == [1, 4, 7]
    assert [nearest_frame(frames[f], backwards) for f in (0, 1, 2, 3)] == [4, 3, 2, 1]
    assert "reversed" in result.notes, result.notes


def test_a14b_cancel_stops_within_a_step_and_the_backend_renders_again(backends, models, calls, tmp_path):
    backend = backends["a14b"]
    job = clip(tmp_path, spec_for(models, "a14b"), 9, ((0, 1), (4, 2), (8, 3)), steps=6)
    progress = Progress(cancel_at=2)
    with pytest.raises(JobCancelled):
        render(backend, job, tmp_path, progress)
    assert max(step for step, _ in progress.steps) == 2, "stopped at the step it was cancelled on"
    assert len(calls) == 1, "the second segment never started"

    _, frames = render(backend, job, tmp_path)
    check_pins(frames, job)
    assert len(calls) == 3


def test_a14b_folder_missing_its_low_noise_expert_is_refused(models, tmp_path):
    broken = tmp_path / "wan22-one-expert"
    shutil.copytree(models["a14b"], broken)
    index = json.loads((broken / "model_index.json").read_text())
    index["transformer_2"] = [None, None]
    (broken / "model_index.json").write_text(json.dumps(index))
    shutil.rmtree(broken / "transformer_2")
    with pytest.raises(ModelFolderError, match="transformer_2"):
        load_backend(ModelSpec("wan22", str(broken)), CPU)


# --- Wan 2.2 TI2V-5B ----------------------------------------------------------------------------------
def test_5b_renders_each_segment_from_its_first_pin_and_says_so(backends, models, calls, tmp_path):
    job = clip(tmp_path, spec_for(models, "5b"), 12, ((0, 1), (5, 2), (11, 3)), params=(("guidance_2", 2.5),))
    result, frames = render(backends["5b"], job, tmp_path)

    check_pins(frames, job)
    assert [nearest_pin(c["image"], job) for c in calls] == [0, 5]
    assert not any("last_image" in c or "guidance_scale_2" in c for c in calls), "5B has one expert, no last frame"
    assert all(c["width"] % 32 == 0 and c["height"] % 32 == 0 for c in calls), "16x VAE x 2x2 patches"
    assert not np.array_equal(frames[1], frames[4]), "the segment moves"
    assert "TI2V-5B" in result.notes and "can't take a last frame" in result.notes, result.notes


# --- Wan VACE -----------------------------------------------------------------------------------------
def test_vace_conditions_every_pin_at_its_frame_in_one_pass(backends, models, calls, tmp_path):
    pins = ((1, 1), (6, 2), (10, 3))
    job = clip(tmp_path, spec_for(models, "vace"), 11, pins, params=(("conditioning_scale", 0.7),))
    progress = Progress()
    result, frames = render(backends["vace"], job, tmp_path, progress)

    check_pins(frames, job)
    (call,) = calls
    assert call["num_frames"] == 13, "the smallest 4k+1 covering 11 frames"
    assert len(call["video"]) == len(call["mask"]) == 13
    masks = [np.asarray(m) for m in call["mask"]]
    kept = [i for i, m in enumerate(masks) if (m == 0).all()]
    assert kept == [1, 6, 10], "mask 0 (keep) on the pin frames"
    assert all((masks[i] == 255).all() for i in range(13) if i not in kept), "mask 1 (generate) elsewhere"
    for frame in kept:
        assert nearest_pin(call["video"][frame], job) == frame
    for i in set(range(13)) - set(kept):
        video = np.asarray(call["video"][i])
        assert (video == video.flat[0]).all() and 120 <= video.flat[0] <= 136, f"frame {i} is neutral grey"
    assert call["conditioning_scale"] == 0.7
    assert call["reference_images"] is None
    assert call["width"] % 16 == 0 and call["height"] % 16 == 0
    assert not np.array_equal(frames[2], frames[5]), "the model made motion between the pins"
    shown = [nearest_frame(frames[f], call["returned"]) for f in range(11) if f not in kept]
    assert shown == [f for f in range(11) if f not in kept], "frames stay on their render frames; the tail is dropped"
    assert "2 extra tail frames dropped" in result.notes, result.notes
    assert progress.steps == [(1, 2), (2, 2)] and progress.previews


def test_vace_passes_reference_images_and_they_change_the_render(backends, models, calls, tmp_path):
    references = []
    for n, size in enumerate(((40, 40), (64, 24))):
        image = np.random.default_rng(100 + n).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        path = tmp_path / f"ref{n}.png"
        write_png(path, image)
        references.append(path)
    pins = ((0, 1), (8, 2))
    with_refs = clip(tmp_path, spec_for(models, "vace"), 9, pins, reference_images=tuple(map(str, references)))
    without = clip(tmp_path, spec_for(models, "vace"), 9, pins)
    result, frames = render(backends["vace"], with_refs, tmp_path)
    _, plain = render(backends["vace"], without, tmp_path)

    given = calls[0]["reference_images"]
    assert len(given) == 2
    for image, path in zip(given, references, strict=True):
        assert np.array_equal(np.asarray(image.convert("RGB")), read_rgb(path)), "the file's pixels, as read"
    assert calls[1]["reference_images"] is None
    check_pins(frames, with_refs)
    assert not np.array_equal(frames[1:8], plain[1:8]), "the references reached the model"
    assert "2 reference images" in result.notes, result.notes


def test_vace_shot_longer_than_one_pass_renders_in_segments_that_carry_across_the_seam(
    backends, models, calls, tmp_path
):
    job = clip(tmp_path, spec_for(models, "vace"), 90, ((0, 1), (45, 2), (89, 3)))
    result, frames = render(backends["vace"], job, tmp_path)

    check_pins(frames, job)
    first, second = calls
    # Two segments of one 4k+1 length overlapping by 5 frames cover the 90 (not 81 frames stretched).
    assert first["num_frames"] == second["num_frames"] == 49
    kept = [[i for i, m in enumerate(c["mask"]) if (np.asarray(m) == 0).all()] for c in calls]
    assert kept[0] == [0, 45], "the pins in the first segment, at their own frames"
    assert kept[1] == [0, 1, 2, 3, 4, 89 - 44], "the 5 carried frames (shot 44-48) and the last pin"
    for i in (0, 2, 3, 4):
        carried = np.asarray(second["video"][i].convert("RGB"))
        assert np.array_equal(carried, first["returned"][44 + i]), f"carried frame {i} is what the first segment made"
    assert nearest_pin(second["video"][1], job) == 45, "a pin in the overlap is carried as the pin"
    assert not any(np.array_equal(a, b) for a, b in itertools.pairwise(frames)), "no frame shown twice"
    assert "rendered in 2 segments of 49 frames, seam at 44" in result.notes, result.notes


def test_vace_cancel_stops_within_a_step_and_the_backend_renders_again(backends, models, tmp_path):
    job = clip(tmp_path, spec_for(models, "vace"), 9, ((0, 1), (8, 2)), steps=5)
    progress = Progress(cancel_at=1)
    with pytest.raises(JobCancelled):
        render(backends["vace"], job, tmp_path, progress)
    assert [step for step, _ in progress.steps] == [1]
    _, frames = render(backends["vace"], job, tmp_path)
    check_pins(frames, job)


# --- recognition --------------------------------------------------------------------------------------
def test_the_registry_tells_the_wan_folders_apart(models, tiny_wan_dir):
    kinds = {which: classify_folder(folder).backend.name for which, folder in models.items()}
    assert kinds == {"a14b": "wan22", "5b": "wan22", "vace": "wan-vace"}
    assert classify_folder(tiny_wan_dir).backend.name == "wan", "Wan 2.1 FLF2V stays with the wan backend"


def test_memory_counts_both_experts_and_close_lets_the_weights_go(models):
    backend = load_backend(spec_for(models, "a14b"), CPU)
    pipe = backend.pipe

    def weights(name: str) -> int:
        return sum(p.numel() * p.element_size() for p in getattr(pipe, name).parameters())

    assert backend.memory_bytes() >= weights("transformer") + weights("transformer_2") + weights("vae")
    backend.close()
    assert backend.pipe is None and backend.memory_bytes() == 0


def test_a_missing_reference_image_fails_naming_it(backends, models, tmp_path):
    job = clip(tmp_path, spec_for(models, "vace"), 9, ((0, 1),), reference_images=(str(tmp_path / "gone.png"),))
    with pytest.raises(EngineError, match=r"reference image .*gone\.png is missing"):
        render(backends["vace"], job, tmp_path)
