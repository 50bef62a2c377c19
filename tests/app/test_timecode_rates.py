"""Exact frame rates and durations (app/timecode.py): FrameRate, seconds <-> frames, parse_duration.

Expected values are published facts, written out literally (tests/app/timecode_facts.py),
or exact rational arithmetic done here; none share code or formulas with the module under test.
The timecode labels themselves are in test_timecode_dropframe.py.
"""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from app.errors import PinframeError, TimecodeError
from app.timecode import FrameRate, frames_to_timecode, parse_duration
from tests.app.timecode_facts import NTSC_24, NTSC_30, NTSC_60, RATE_FACTS, RATE_IDS, RATES, facts, tb_of


# --------------------------------------------------------------------------------------------
# FrameRate basics
# --------------------------------------------------------------------------------------------
def test_all_rates_are_exactly_the_supported_ones() -> None:
    assert {(r.num, r.den) for r in RATES} == set(RATE_FACTS)
    assert len(RATES) == len(RATE_FACTS)


@pytest.mark.parametrize("rate", RATES, ids=RATE_IDS)
def test_rate_properties(rate: FrameRate) -> None:
    timebase, ntsc, df, label, _ = facts(rate)
    assert rate.timebase == timebase
    assert type(rate.timebase) is int
    assert rate.is_ntsc is ntsc
    assert rate.supports_drop_frame is df
    assert rate.label == label
    assert rate.fps == Fraction(rate.num, rate.den)
    assert isinstance(rate.frame_duration, Fraction)
    assert rate.frame_duration == Fraction(rate.den, rate.num)
    assert rate.frame_duration * rate.fps == 1


@pytest.mark.parametrize(
    ("rate", "duration"),
    [
        (FrameRate(24), Fraction(1, 24)),
        (FrameRate(25), Fraction(1, 25)),
        (FrameRate(30), Fraction(1, 30)),
        (FrameRate(50), Fraction(1, 50)),
        (FrameRate(60), Fraction(1, 60)),
        (NTSC_24, Fraction(1001, 24000)),
        (NTSC_30, Fraction(1001, 30000)),
        (NTSC_60, Fraction(1001, 60000)),
    ],
    ids=str,
)
def test_frame_duration_literal(rate: FrameRate, duration: Fraction) -> None:
    assert rate.frame_duration == duration


def test_str_of_rates() -> None:
    assert str(FrameRate(24)) == "24"
    assert str(NTSC_24) == "24000/1001"
    assert str(NTSC_60) == "60000/1001"


@pytest.mark.parametrize(("num", "den"), [(0, 1), (-24, 1), (24, 0), (24, -1), (48, 1), (23, 1), (2997, 100)])
def test_constructor_rejects_unsupported(num: int, den: int) -> None:
    with pytest.raises(TimecodeError):
        FrameRate(num, den)


# --------------------------------------------------------------------------------------------
# FrameRate.parse
# --------------------------------------------------------------------------------------------
PARSE_CASES = [
    ("24", (24, 1)),
    ("25", (25, 1)),
    ("30", (30, 1)),
    ("50", (50, 1)),
    ("60", (60, 1)),
    ("24fps", (24, 1)),
    ("24 fps", (24, 1)),
    ("24FPS", (24, 1)),
    ("  25  ", (25, 1)),
    ("24.0", (24, 1)),
    ("48/2", (24, 1)),
    ("24000/1001", (24000, 1001)),
    ("30000/1001", (30000, 1001)),
    ("60000/1001", (60000, 1001)),
    ("23.976", (24000, 1001)),
    ("23.98", (24000, 1001)),
    ("23.976fps", (24000, 1001)),
    ("23.976 fps", (24000, 1001)),
    ("29.97", (30000, 1001)),
    ("29.97fps", (30000, 1001)),
    ("59.94", (60000, 1001)),
    ("59.94 FPS", (60000, 1001)),
]


@pytest.mark.parametrize(("text", "pair"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse_accepts(text: str, pair: tuple[int, int]) -> None:
    rate = FrameRate.parse(text)
    assert (rate.num, rate.den) == pair
    assert rate == FrameRate(*pair)


@pytest.mark.parametrize("rate", RATES, ids=RATE_IDS)
def test_parse_round_trips_str_and_label(rate: FrameRate) -> None:
    assert FrameRate.parse(str(rate)) == rate
    assert FrameRate.parse(rate.label) == rate


BAD_RATES = ["23", "abc", "0", "-24", "24/0", "", "48", "   ", "24/", "/1001", "0/0", "29.970", "30001/1001", "fps"]


@pytest.mark.parametrize("text", BAD_RATES, ids=[repr(t) for t in BAD_RATES])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(TimecodeError) as excinfo:
        FrameRate.parse(text)
    assert isinstance(excinfo.value, PinframeError)
    assert f"'{text}'" in str(excinfo.value)


def test_timecode_error_is_a_pinframe_error() -> None:
    assert issubclass(TimecodeError, PinframeError)


# --------------------------------------------------------------------------------------------
# seconds <-> frames, exactly
# --------------------------------------------------------------------------------------------
def test_frames_to_seconds_exact_at_23976() -> None:
    seconds = NTSC_24.frames_to_seconds(1001)
    assert isinstance(seconds, Fraction)
    assert seconds == Fraction(1001 * 1001, 24000)
    assert NTSC_24.frames_to_seconds(24000) == 1001
    assert NTSC_24.frames_to_seconds(24) == Fraction(1001, 1000)


@pytest.mark.parametrize("rate", RATES, ids=RATE_IDS)
def test_frames_seconds_round_trip(rate: FrameRate) -> None:
    # num frames take exactly den seconds
    assert rate.frames_to_seconds(rate.num) == rate.den
    assert rate.frames_to_seconds(0) == 0
    assert rate.seconds_to_frames(rate.den) == rate.num
    rng = random.Random(7 + rate.num)
    for n in [0, 1, 2, rate.num - 1, rate.num + 1, *(rng.randrange(10**7) for _ in range(300))]:
        seconds = rate.frames_to_seconds(n)
        assert isinstance(seconds, Fraction)
        assert seconds == Fraction(n * rate.den, rate.num)
        for rounding in ("nearest", "floor", "ceil"):
            assert rate.seconds_to_frames(seconds, rounding=rounding) == n


def test_one_hour_of_wall_clock_at_2997() -> None:
    # 3600 s * 30000/1001 = 108000000/1001 = 107892.107892...
    assert Fraction(3600) * Fraction(30000, 1001) == Fraction(108000000, 1001)
    assert NTSC_30.seconds_to_frames(3600, rounding="floor") == 107892
    assert NTSC_30.seconds_to_frames(3600, rounding="ceil") == 107893
    assert NTSC_30.seconds_to_frames(3600, rounding="nearest") == 107892
    assert NTSC_30.seconds_to_frames(3600) == 107892
    assert NTSC_30.seconds_to_frames(Fraction(3600)) == 107892
    # ... which is also exactly where drop-frame timecode reads 01:00:00;00
    assert frames_to_timecode(107892, NTSC_30, drop_frame=True) == "01:00:00;00"
    # 59.94: 3600 * 60000/1001 = 215784.215...
    assert NTSC_60.seconds_to_frames(3600, rounding="floor") == 215784
    assert NTSC_60.seconds_to_frames(3600, rounding="ceil") == 215785


@pytest.mark.parametrize("rate", RATES, ids=RATE_IDS)
def test_seconds_to_frames_rounding(rate: FrameRate) -> None:
    fps = Fraction(rate.num, rate.den)
    for k in (0, 1, 47, 1000):
        # exactly k + 1/2 frames: ties go up
        tie = (k + Fraction(1, 2)) / fps
        assert rate.seconds_to_frames(tie) == k + 1
        assert rate.seconds_to_frames(tie, rounding="floor") == k
        assert rate.seconds_to_frames(tie, rounding="ceil") == k + 1
        # a hair either side of the tie
        eps = Fraction(1, 10**9)
        assert rate.seconds_to_frames(tie - eps) == k
        assert rate.seconds_to_frames(tie + eps) == k + 1
        # a hair above an exact frame
        above = (k + Fraction(1, 1000)) / fps
        assert rate.seconds_to_frames(above, rounding="floor") == k
        assert rate.seconds_to_frames(above, rounding="ceil") == k + 1
        assert rate.seconds_to_frames(above) == k


@pytest.mark.parametrize("rate", RATES, ids=RATE_IDS)
def test_seconds_to_frames_rejects_float(rate: FrameRate) -> None:
    for bad in (1.0, 0.5, 3600.0, float("nan")):
        with pytest.raises(TimecodeError):
            rate.seconds_to_frames(bad)  # type: ignore[arg-type]
        with pytest.raises(TimecodeError):
            rate.seconds_to_frames(bad, rounding="floor")  # type: ignore[arg-type]


def test_seconds_to_frames_rejects_unknown_rounding() -> None:
    with pytest.raises(ValueError, match="rounding"):
        NTSC_24.seconds_to_frames(1, rounding="up")


# --------------------------------------------------------------------------------------------
# parse_duration
# --------------------------------------------------------------------------------------------
def half_up(x: Fraction) -> int:
    """Round half up, by hand: the integer part of x + 1/2 for x >= 0."""
    y = x + Fraction(1, 2)
    return y.numerator // y.denominator


@pytest.mark.parametrize("rate", RATES, ids=RATE_IDS)
def test_parse_duration(rate: FrameRate) -> None:
    fps = Fraction(rate.num, rate.den)
    tb = tb_of(rate)
    assert parse_duration("48", rate) == 48
    assert parse_duration(" 0 ", rate) == 0
    assert parse_duration("2s", rate) == half_up(2 * fps)
    assert parse_duration("2 s", rate) == half_up(2 * fps)
    assert parse_duration("1.5s", rate) == half_up(Fraction(3, 2) * fps)
    assert parse_duration("0.1s", rate) == half_up(Fraction(1, 10) * fps)
    assert parse_duration("00:00:02:00", rate) == 2 * tb
    assert parse_duration("00:01:00:00", rate) == 60 * tb


def test_parse_duration_literal_values() -> None:
    assert parse_duration("2s", FrameRate(24)) == 48
    assert parse_duration("1.5s", FrameRate(24)) == 36
    assert parse_duration("1.5s", FrameRate(25)) == 38  # 37.5 rounds up
    assert parse_duration("2s", NTSC_24) == 48  # 47.952...
    assert parse_duration("3600s", NTSC_30) == 107892
    assert parse_duration("00:00:02:00", FrameRate(25)) == 50
    assert parse_duration("00:01:00;02", NTSC_30) == 1800
    assert parse_duration("01:00:00;00", NTSC_60) == 215784


@pytest.mark.parametrize("text", ["two seconds", "", "2m", "-2s", "1.5", "s", "2ss", "1/2s", "00:00:02;00"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(TimecodeError):
        parse_duration(text, FrameRate(25))


def test_parse_duration_rejects_dropped_label() -> None:
    with pytest.raises(TimecodeError):
        parse_duration("00:01:00;00", NTSC_30)
