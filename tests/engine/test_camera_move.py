"""Camera moves on the model-free backends: a one-pin shot that pushes in, pans or holds still."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from engine.backends.cpu_motion import CrossfadeMotion, FlowMotion, HoldMotion
from engine.backends.fit import read_rgb, write_png
from engine.cache import job_key
from engine.camera_move import MOVES, apply_camera_move, canonical_move, read_move
from engine.devices import DeviceSettings
from engine.events import Finished
from engine.jobs import ClipJob, ModelSpec, PinImage, job_from_dict, job_to_dict
from engine.progress import StepReporter
from engine.runtime import Engine
from tests.engine.test_runtime import pin_file, run

WIDTH, HEIGHT = 96, 64


def target_image(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A white square on flat grey: its area gives the scale of a frame, its centre the shift."""
    image = np.full((height, width, 3), 90, np.uint8)
    side = height // 3
    top, left = (height - side) // 2, (width - side) // 2
    image[top : top + side, left : left + side] = 255
    return image


def measured(frame: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """(scale, centre x shift, centre y shift) of the white square in ``frame`` against ``reference``."""

    def square(image: np.ndarray) -> tuple[float, float, float]:
        # Brightness above the grey, so an edge pixel the warp blends counts for its share of the square.
        mass = np.clip(image[..., 0].astype(np.float64) - 90.0, 0.0, None)
        ys, xs = np.indices(mass.shape)
        total = mass.sum()
        return total, float((xs * mass).sum() / total), float((ys * mass).sum() / total)

    area, x, y = square(frame)
    area0, x0, y0 = square(reference)
    return math.sqrt(area / area0), (x - x0) / frame.shape[1], (y - y0) / frame.shape[0]


def flow_job(tmp_path: Path, frames: int, pins: tuple[tuple[int, str], ...], move: str = "", backend="flow"):
    return ClipJob(
        ModelSpec(backend), frames, 24, 1, WIDTH, HEIGHT, tuple(PinImage(f, p) for f, p in pins), camera_move=move
    )


def render(job: ClipJob, backend_class=FlowMotion) -> np.ndarray:
    pins = [(p.frame, read_rgb(p.path)) for p in job.pins]
    return backend_class().render(job, pins, StepReporter())


@pytest.fixture
def target(tmp_path: Path) -> str:
    path = tmp_path / "target.png"
    write_png(path, target_image())
    return str(path)


@pytest.fixture
def engine(tmp_path: Path):
    e = Engine(tmp_path / "cache", DeviceSettings(device="cpu"), budget_bytes=1 << 30)
    yield e
    e.shutdown()


def test_a_one_pin_slow_push_in_moves_in_and_keeps_its_pin(engine, tmp_path, target):
    job = flow_job(tmp_path, 25, ((0, target),), read_move("Slow push-in on the square"))
    assert job.camera_move == "slow dolly in"
    events = run(engine, job)
    assert isinstance(events[-1], Finished), events[-1]
    result = events[-1].outputs[0]
    frames = [read_rgb(result.frame_path(i)) for i in range(result.frame_count)]
    pin = read_rgb(target)
    assert np.array_equal(frames[0], pin), "the pinned frame is the keyframe, exactly"
    assert not np.array_equal(frames[-1], pin), "a push in is not a still"
    scales = [measured(f, pin)[0] for f in frames]
    assert all(b >= a - 0.01 for a, b in itertools.pairwise(scales)), scales  # grows frame by frame
    assert scales[12] > 1.02 and scales[-1] > scales[12] + 0.02
    # "slow" is half a dolly in: the scale at the end is the square root of the full move's.
    assert scales[-1] == pytest.approx(math.sqrt(MOVES["dolly in"].amount), abs=0.03)
    assert "camera slow dolly in" in result.notes


def test_static_and_no_move_leave_a_one_pin_shot_still_and_say_how_to_move_it(tmp_path, target):
    pin = read_rgb(target)
    for move in ("static", "", read_move("locked off, handheld")):
        backend = FlowMotion()
        job = flow_job(tmp_path, 12, ((0, target),), read_move(move))
        frames = backend.render(job, [(0, pin)], StepReporter())
        assert all(np.array_equal(f, pin) for f in frames), move
        assert "one pin and no camera move, so a held picture" in backend.last_notes, move
        assert "camera move" in backend.last_notes and "video model" in backend.last_notes
    moving = FlowMotion()
    moving.render(flow_job(tmp_path, 12, ((0, target),), "dolly in"), [(0, pin)], StepReporter())
    assert "held picture" not in moving.last_notes


def test_the_speed_follows_the_shot_length(tmp_path, target):
    pin = read_rgb(target)
    short = render(flow_job(tmp_path, 13, ((0, target),), "dolly in"))
    long = render(flow_job(tmp_path, 25, ((0, target),), "dolly in"))
    short_scales = [measured(f, pin)[0] for f in short]
    long_scales = [measured(f, pin)[0] for f in long]
    # Both end on the same framing; the longer shot gets there at half the speed.
    assert short_scales[-1] == pytest.approx(long_scales[-1], abs=0.02)
    assert short_scales[-1] == pytest.approx(MOVES["dolly in"].amount, abs=0.03)
    assert short_scales[6] == pytest.approx(long_scales[12], abs=0.02)
    assert short_scales[6] > long_scales[6] + 0.03
    fast = render(flow_job(tmp_path, 13, ((0, target),), "fast dolly in"))
    assert math.log(measured(fast[-1], pin)[0]) == pytest.approx(2 * math.log(short_scales[-1]), rel=0.1)


@pytest.mark.parametrize(
    ("move", "dx", "dy"), [("pan left", 1, 0), ("truck right", -1, 0), ("tilt up", 0, 1), ("crane down", 0, -1)]
)
def test_pans_and_tilts_move_the_picture_the_way_the_camera_turns(tmp_path, target, move, dx, dy):
    frames = render(flow_job(tmp_path, 11, ((0, target),), move), HoldMotion)
    _, shift_x, shift_y = measured(frames[-1], read_rgb(target))
    assert (np.sign(round(shift_x, 2)), np.sign(round(shift_y, 2))) == (dx, dy)
    assert abs(shift_x) + abs(shift_y) == pytest.approx(abs(MOVES[move].amount), abs=0.02)


def test_a_pin_at_the_end_is_arrived_at(tmp_path, target):
    frames = render(flow_job(tmp_path, 9, ((8, target),), "zoom in"), CrossfadeMotion)
    pin = read_rgb(target)
    scales = [measured(f, pin)[0] for f in frames]
    assert np.array_equal(frames[-1], pin)
    assert scales[0] == pytest.approx(1 / MOVES["zoom in"].amount, abs=0.03)
    assert all(b > a for a, b in itertools.pairwise(scales)), scales


def test_between_two_pins_the_pins_carry_the_move(tmp_path):
    """The camera moves from each outer pin outward; between pins the flow in-betweens are untouched."""
    a, b = pin_file(tmp_path, "a.png", 1, (WIDTH, HEIGHT)), pin_file(tmp_path, "b.png", 2, (WIDTH, HEIGHT))
    pins = ((4, a), (12, b))
    still = render(flow_job(tmp_path, 17, pins))
    moving = render(flow_job(tmp_path, 17, pins, "dolly in, pan right"))
    assert np.array_equal(moving[4], read_rgb(a)) and np.array_equal(moving[12], read_rgb(b))
    assert all(np.array_equal(moving[i], still[i]) for i in range(4, 13))
    assert all(not np.array_equal(moving[i], still[i]) for i in (*range(4), *range(13, 17)))


def test_the_move_is_part_of_a_flow_jobs_cache_key(tmp_path, target):
    keys = {m: job_key(flow_job(tmp_path, 12, ((0, target),), m)) for m in ("", "dolly in", "slow dolly in")}
    assert len(set(keys.values())) == 3
    # The same move in other words is the same job; the prompt still isn't part of a flow key.
    assert job_key(flow_job(tmp_path, 12, ((0, target),), "Push In")) == keys["dolly in"]
    assert job_key(flow_job(tmp_path, 12, ((0, target),), "static")) == keys[""]


def test_a_clip_job_refuses_a_move_it_does_not_know_and_keeps_one_it_does(tmp_path, target):
    with pytest.raises(ValueError, match=r"camera move 'spin' is unknown; use static, pan left"):
        flow_job(tmp_path, 12, ((0, target),), "dolly in, spin")
    job = flow_job(tmp_path, 12, ((0, target),), "fast zoom out + tilt down")
    assert job.camera_move == "fast zoom out, tilt down"
    assert job_from_dict(job_to_dict(job)) == job


def test_free_text_moves_are_read_part_by_part():
    assert read_move("slow push in on her hands, then tilt up") == "slow dolly in, tilt up"
    assert read_move("Pull-out and pan left") == "dolly out, pan left"
    assert read_move("she pushes the door open") == ""
    assert read_move("orbit") == "" == canonical_move("steadicam")


def test_a_cancelled_move_stops_within_a_frame(target):
    frames = np.repeat(target_image()[None], 10, axis=0)
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        apply_camera_move(frames, "dolly in", [0], check)
    assert len(calls) == 3
    assert np.array_equal(frames[5], target_image()), "frames after the cancel are left alone"
