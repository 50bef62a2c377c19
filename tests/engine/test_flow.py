"""The model-free in-betweener: pin contract, hold/crossfade semantics, flow quality on known motion, cancel."""

from __future__ import annotations

import threading
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from engine.backends.flow import MODES, inbetween
from engine.errors import JobCancelled
from engine.progress import StepReporter

WIDTH, HEIGHT = 256, 192


def texture(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth RGB noise with detail at several scales, so flow has something to lock on to at every level."""
    rng = np.random.default_rng(seed)
    total = np.zeros((height, width, 3), np.float32)
    for sigma in (1.5, 4.0, 12.0):
        layer = cv2.GaussianBlur(rng.random((height, width, 3), dtype=np.float32), (0, 0), sigma)
        total += (layer - layer.mean()) / layer.std()
    total = (total - total.mean()) / total.std()
    return np.clip(128 + 45 * total, 0, 255).astype(np.uint8)


def translated(image: np.ndarray, dx: float, dy: float, width: int, height: int) -> np.ndarray:
    """The width x height window of ``image`` whose top-left corner is at (dx, dy)."""
    shift = np.float32([[1, 0, -dx], [0, 1, -dy]])
    return cv2.warpAffine(image, shift, (width, height), flags=cv2.INTER_LINEAR)


def pan(times: list[float], shift: tuple[float, float], width: int = WIDTH, height: int = HEIGHT) -> list[np.ndarray]:
    """A camera panning over a still texture: the crop at time t is moved by t * shift."""
    margin = 40
    canvas = texture(height + 2 * margin, width + 2 * margin, seed=1)
    return [translated(canvas, margin + shift[0] * t, margin + shift[1] * t, width, height) for t in times]


def moving_square(times: list[float], shift: tuple[float, float]) -> list[np.ndarray]:
    """A textured square sliding over a different still texture: occlusion on one side, reveal on the other."""
    background = texture(HEIGHT, WIDTH, seed=2)
    size = 64
    square = texture(size, size, seed=3)
    frames = []
    for t in times:
        place = np.float32([[1, 0, 80 + shift[0] * t], [0, 1, 60 + shift[1] * t]])
        cover = cv2.warpAffine(np.ones((size, size), np.float32), place, (WIDTH, HEIGHT))[..., None]
        moved = cv2.warpAffine(square, place, (WIDTH, HEIGHT))
        frames.append(np.rint(background * (1 - cover) + moved * cover).astype(np.uint8))
    return frames


def random_image(seed: int, width: int = 32, height: int = 24) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def mean_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


# --- the pin contract, every mode ---------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_frame_count_and_pinned_frames_are_exact(mode: str) -> None:
    a, b, c = random_image(1), random_image(2), random_image(3)
    out = inbetween([(2, a), (6, b), (9, c)], 12, mode=mode)
    assert out.shape == (12, 24, 32, 3)
    assert out.dtype == np.uint8
    for frame, image in ((2, a), (6, b), (9, c)):
        np.testing.assert_array_equal(out[frame], image)


@pytest.mark.parametrize("mode", MODES)
def test_frames_before_the_first_pin_and_after_the_last_hold_them(mode: str) -> None:
    a, b = random_image(1), random_image(2)
    out = inbetween([(3, a), (7, b)], 11, mode=mode)
    for frame in range(3):
        np.testing.assert_array_equal(out[frame], a)
    for frame in range(8, 11):
        np.testing.assert_array_equal(out[frame], b)


@pytest.mark.parametrize("mode", MODES)
def test_single_pin_fills_every_frame(mode: str) -> None:
    a = random_image(4)
    out = inbetween([(5, a)], 9, mode=mode)
    assert out.shape == (9, 24, 32, 3)
    assert all(np.array_equal(frame, a) for frame in out)
    np.testing.assert_array_equal(inbetween([(0, a)], 1, mode=mode)[0], a)


@pytest.mark.parametrize("mode", MODES)
def test_pins_at_first_and_last_frame(mode: str) -> None:
    a, b = random_image(5), random_image(6)
    out = inbetween([(0, a), (7, b)], 8, mode=mode)
    np.testing.assert_array_equal(out[0], a)
    np.testing.assert_array_equal(out[7], b)


@pytest.mark.parametrize("mode", MODES)
def test_pin_order_does_not_matter(mode: str) -> None:
    a, b, c = (texture(48, 64, seed) for seed in (7, 8, 9))
    ordered = inbetween([(0, a), (4, b), (9, c)], 10, mode=mode)
    shuffled = inbetween([(9, c), (0, a), (4, b)], 10, mode=mode)
    np.testing.assert_array_equal(ordered, shuffled)


@pytest.mark.parametrize("mode", MODES)
def test_neighbouring_pins_leave_nothing_between(mode: str) -> None:
    a, b = random_image(10), random_image(11)
    out = inbetween([(np.int64(1), a), (2, b)], 3, mode=mode)
    np.testing.assert_array_equal(out, np.stack([a, a, b]))


# --- hold and crossfade semantics --------------------------------------------------------------


def test_hold_shows_the_most_recent_pin() -> None:
    a, b, c = random_image(1), random_image(2), random_image(3)
    out = inbetween([(2, a), (5, b), (8, c)], 11, mode="hold")
    expected = [a, a, a, a, a, b, b, b, c, c, c]
    for frame, image in enumerate(expected):
        np.testing.assert_array_equal(out[frame], image, err_msg=f"frame {frame}")


def test_crossfade_blends_by_position() -> None:
    a, b = random_image(12), random_image(13)
    out = inbetween([(0, a), (4, b)], 5, mode="crossfade")
    fa, fb = a.astype(np.float64), b.astype(np.float64)
    for frame in (1, 2, 3):
        t = frame / 4
        expected = (1 - t) * fa + t * fb
        # One rounding from float: never more than half a level off the exact blend.
        assert np.abs(out[frame] - expected).max() <= 0.5 + 1e-4, f"frame {frame}"
    midpoint_error = 2 * out[2].astype(int) - (a.astype(int) + b.astype(int))
    assert np.abs(midpoint_error).max() <= 1  # the midpoint is the mean of the pins, rounded


def test_crossfade_spreads_evenly_over_an_uneven_gap() -> None:
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((4, 4, 3), 210, np.uint8)
    out = inbetween([(0, a), (7, b)], 8, mode="crossfade")
    assert [int(frame[0, 0, 0]) for frame in out] == [0, 30, 60, 90, 120, 150, 180, 210]


def test_flow_on_pins_too_small_for_dis_is_a_crossfade() -> None:
    a, b = random_image(14, 12, 8), random_image(15, 12, 8)
    flow = inbetween([(0, a), (4, b)], 5, mode="flow")
    np.testing.assert_array_equal(flow, inbetween([(0, a), (4, b)], 5, mode="crossfade"))


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pins", "frame_count", "mode", "message"),
    [
        ([], 5, "flow", "at least one pin"),
        ([(0, random_image(1))], 0, "flow", "frame_count"),
        ([(5, random_image(1))], 5, "flow", r"frame 5 is outside the shot: its 5 frames are 0\.\.4"),
        ([(-1, random_image(1))], 5, "flow", "frame -1 is outside"),
        ([(1.5, random_image(1))], 5, "flow", "whole number"),
        ([(2, random_image(1)), (2, random_image(2))], 5, "flow", "two pins at frame 2"),
        ([(0, random_image(1, 32, 24)), (3, random_image(2, 40, 30))], 5, "flow", "frame 0 is 32x24, frame 3 is 40x30"),
        ([(0, random_image(1).astype(np.float32))], 5, "flow", "pin at frame 0: expected an RGB uint8"),
        ([(0, np.zeros((24, 32), np.uint8))], 5, "flow", r"shape \(24, 32\)"),
        ([(0, np.zeros((24, 32, 4), np.uint8))], 5, "hold", r"shape \(24, 32, 4\)"),
        ([(0, random_image(1))], 5, "morph", "unknown in-between mode 'morph': use one of hold, crossfade, flow"),
    ],
)
def test_bad_input_says_what_is_wrong(pins: list, frame_count: int, mode: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        inbetween(pins, frame_count, mode=mode)


# --- flow quality on motion with a known answer ---------------------------------------------------


def errors_against_truth(pins: list[np.ndarray], truths: dict[int, np.ndarray], span: int) -> list[tuple[float, float]]:
    """(flow error, crossfade error) for each frame of ``truths``, with the pins at 0 and ``span``."""
    keyed = [(0, pins[0]), (span, pins[1])]
    flow = inbetween(keyed, span + 1, mode="flow")
    crossfade = inbetween(keyed, span + 1, mode="crossfade")
    return [(mean_abs_error(flow[f], truth), mean_abs_error(crossfade[f], truth)) for f, truth in truths.items()]


def test_flow_recovers_a_pan() -> None:
    a, quarter, middle, three_quarters, b = pan([0, 0.25, 0.5, 0.75, 1], shift=(12, 7))
    results = errors_against_truth([a, b], {1: quarter, 2: middle, 3: three_quarters}, span=4)
    for (flow_err, crossfade_err), frame in zip(results, (1, 2, 3), strict=True):
        print(f"pan frame {frame}/4: flow MAE {flow_err:.2f}, crossfade MAE {crossfade_err:.2f}")
        assert flow_err < 0.5 * crossfade_err
        assert flow_err < 2.0  # a pan is flow's best case: close to exact, not merely better than a fade


def test_flow_recovers_an_object_moving_over_a_background() -> None:
    a, middle, b = moving_square([0, 0.5, 1], shift=(12, 7))
    ((flow_err, crossfade_err),) = errors_against_truth([a, b], {1: middle}, span=2)
    print(f"moving square midpoint: flow MAE {flow_err:.2f}, crossfade MAE {crossfade_err:.2f}")
    assert flow_err < 0.5 * crossfade_err


def test_flow_on_a_large_frame_scales_the_downsized_flow_back_up() -> None:
    # Long side over 960: flow runs at reduced size and its vectors must be scaled back exactly.
    a, middle, b = pan([0, 0.5, 1], shift=(20, -10), width=1200, height=160)
    ((flow_err, crossfade_err),) = errors_against_truth([a, b], {1: middle}, span=2)
    print(f"1200x160 pan midpoint: flow MAE {flow_err:.2f}, crossfade MAE {crossfade_err:.2f}")
    assert flow_err < 0.2 * crossfade_err


# --- flow quality under real camera moves, against a floor measured from a real transform --------
#
# The floor: how close the true in-between is to the same camera view moved by half a pixel. An
# in-between that can't beat that is visibly misregistered, so the bar moves with the picture's own
# detail instead of being a number tuned to this implementation's output.


# t -> (zoom, roll in degrees, shift in pixels) of a camera at time t.
CameraMove = Callable[[float], tuple[float, float, tuple[float, float]]]


def camera_view(
    source: np.ndarray, width: int, height: int, zoom: float, roll: float, shift: tuple[float, float]
) -> np.ndarray:
    """The width x height frame a camera sees of ``source``: magnified ``zoom`` about its centre,
    rolled ``roll`` degrees and moved by ``shift`` pixels (a flat scene, so no parallax)."""
    source_h, source_w = source.shape[:2]
    to_frame = cv2.getRotationMatrix2D((source_w / 2, source_h / 2), roll, zoom)
    to_frame[:, 2] += np.array([width / 2 - source_w / 2, height / 2 - source_h / 2]) - np.asarray(shift)
    return cv2.warpAffine(source, to_frame, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def psnr(image: np.ndarray, truth: np.ndarray) -> float:
    mse = float(np.mean((image.astype(np.float64) - truth.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / mse)


def middle_and_floor(
    source: np.ndarray, width: int, height: int, move: CameraMove
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flow's middle in-between, the true middle frame, the true middle frame half a pixel off) for a
    camera whose (zoom, roll, shift) at time t is ``move(t)``, pinned at t = 0 and t = 1."""
    first, middle, last = (camera_view(source, width, height, *move(t)) for t in (0.0, 0.5, 1.0))
    out = inbetween([(0, first), (4, last)], 5, mode="flow")
    zoom, roll, (shift_x, shift_y) = move(0.5)
    half_pixel_off = camera_view(source, width, height, zoom, roll, (shift_x + 0.5, shift_y))
    return out[2], middle, half_pixel_off


def astronaut() -> np.ndarray:
    from skimage import data  # a real photograph, shipped inside scikit-image (requirements-dev.txt)

    return np.ascontiguousarray(data.astronaut())


@pytest.mark.parametrize(
    "move",
    [
        pytest.param(lambda t: (1.0, 0.0, (30.0 * t, 6.0 * t)), id="truck"),
        pytest.param(lambda t: (1.0 / (1.0 - 0.1 * t), 0.0, (0.0, 0.0)), id="dolly-in"),
        pytest.param(lambda t: (1.0, 4.0 * t, (0.0, 0.0)), id="roll"),
    ],
)
def test_flow_on_a_photograph_beats_half_a_pixel_of_misregistration(move: CameraMove) -> None:
    flow_frame, truth, floor = middle_and_floor(astronaut(), 320, 192, move)
    print(f"flow PSNR {psnr(flow_frame, truth):.2f} dB, half-pixel floor {psnr(floor, truth):.2f} dB")
    assert psnr(flow_frame, truth) > psnr(floor, truth)


def test_flow_follows_pixels_out_of_frame_at_both_edges() -> None:
    # A 60-pixel truck over a frame wider than both working sizes (flow 960, motion grid 480, neither
    # a whole fraction of 999): at t=0.5 a 30-pixel strip on the left shows only the first pin and one
    # on the right only the last. DIS has nothing to match there, so the motion must be carried out.
    canvas = texture(600, 1200, seed=5)
    flow_frame, truth, floor = middle_and_floor(canvas, 999, 333, lambda t: (1.0, 0.0, (60.0 * t, 6.0 * t)))
    for side, strip in (("left", np.s_[:, :60]), ("right", np.s_[:, -60:])):
        flow_psnr, floor_psnr = psnr(flow_frame[strip], truth[strip]), psnr(floor[strip], truth[strip])
        print(f"{side} edge: flow PSNR {flow_psnr:.2f} dB, half-pixel floor {floor_psnr:.2f} dB")
        assert flow_psnr > floor_psnr, f"the {side} edge strip is misregistered"


def test_flow_keeps_every_edge_of_a_zoom_in() -> None:
    # A zoom lens (magnification linear in time, so the motion is too): every pin-A pixel near an edge
    # leaves the frame, and the pin-B pixels next to it are easy to mistake for unmatched ones. A pin's
    # sample that falls outside its frame must not take the blend away from the other pin's sample.
    flow_frame, truth, floor = middle_and_floor(astronaut(), 384, 216, lambda t: (1.0 + 0.1 * t, 0.0, (0.0, 0.0)))
    for side, strip in (
        ("left", np.s_[:, :24]),
        ("right", np.s_[:, -24:]),
        ("top", np.s_[:16]),
        ("bottom", np.s_[-16:]),
    ):
        flow_psnr, floor_psnr = psnr(flow_frame[strip], truth[strip]), psnr(floor[strip], truth[strip])
        print(f"{side} edge: flow PSNR {flow_psnr:.2f} dB, half-pixel floor {floor_psnr:.2f} dB")
        assert flow_psnr > floor_psnr, f"the {side} edge strip is misregistered"


# --- progress and cancel -------------------------------------------------------------------------


def test_reports_one_step_per_frame() -> None:
    steps: list[tuple[int, int]] = []
    reporter = StepReporter(lambda step, total, _eta, _preview: steps.append((step, total)))
    a, b = pan([0, 1], shift=(4, 2))
    inbetween([(2, a), (6, b)], 9, reporter=reporter)
    assert steps == [(step, 9) for step in range(1, 10)]


def test_cancel_stops_within_a_frame() -> None:
    cancel = threading.Event()
    steps: list[int] = []

    def sink(step: int, _total: int, _eta: float | None, _preview: np.ndarray | None) -> None:
        steps.append(step)
        if len(steps) == 3:
            cancel.set()

    a, b = pan([0, 1], shift=(12, 7))
    with pytest.raises(JobCancelled):
        inbetween([(0, a), (40, b)], 41, reporter=StepReporter(sink, cancel))
    assert steps == [1, 2, 3]


def test_cancel_before_start_renders_nothing() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        inbetween([(0, random_image(1)), (5, random_image(2))], 6, reporter=StepReporter(None, cancel))


def test_writing_frames_leaves_none_alone(tmp_path):
    """Regression: ndarray.tofile in numpy 2.4.6 over-releases None (0.5 to 3 references a call),
    which crashed the app ("deallocating None") partway through long renders."""
    import sys

    from engine.backends.fit import write_png

    frame = np.random.default_rng(0).integers(0, 255, (90, 160, 3), dtype=np.uint8)
    before = sys.getrefcount(None)
    for i in range(300):
        write_png(tmp_path / f"f{i % 3}.png", frame)
    assert sys.getrefcount(None) - before > -30, "writing PNGs released None references it never held"
