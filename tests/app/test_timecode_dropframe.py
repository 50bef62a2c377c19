"""SMPTE timecode labels, drop-frame and non-drop (app/timecode.py): frames <-> timecode.

Expected values come from two places only:

* published SMPTE 12M facts (29.97 DF drops labels ;00 and ;01 at each minute not divisible
  by 10, one hour of 29.97 DF is 107892 frames, ...), written out literally, and
* independent reference counters defined in this file: one walks timecode labels one frame
  at a time the way a timecode generator does, skipping dropped labels; the other adds up
  minute lengths. Neither shares code or formulas with the module under test.
"""

from __future__ import annotations

import bisect
import random
import re
from fractions import Fraction

import pytest

from app.errors import TimecodeError
from app.timecode import FrameRate, format_duration, frames_to_timecode, timecode_to_frames
from tests.app.timecode_facts import (
    NTSC_24,
    NTSC_30,
    NTSC_60,
    RATE_FACTS,
    RATE_IDS,
    RATES,
    drop_of,
    facts,
    tb_of,
)

# Every (rate, drop_frame) combination that exists.
MODES = [(r, False) for r in RATES] + [(r, True) for r in RATES if RATE_FACTS[(r.num, r.den)][2]]
MODE_IDS = [f"{r}-{'df' if df else 'ndf'}" for r, df in MODES]


# --------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------
def fmt(h: int, m: int, s: int, f: int, drop_frame: bool) -> str:
    return f"{h:02d}:{m:02d}:{s:02d}{';' if drop_frame else ':'}{f:02d}"


def is_dropped_label(m: int, s: int, f: int, drop: int) -> bool:
    """SMPTE 12M: labels FF < drop at second 00 of each minute not divisible by 10 don't exist."""
    return drop > 0 and s == 0 and f < drop and m % 10 != 0


def next_label(h: int, m: int, s: int, f: int, tb: int) -> tuple[int, int, int, int]:
    """Advance a label by one count, as a counter with carries does (ignores dropping)."""
    f += 1
    if f == tb:
        f, s = 0, s + 1
    if s == 60:
        s, m = 0, m + 1
    if m == 60:
        m, h = 0, h + 1
    return h, m, s, f


def walk_labels(tb: int, drop: int, count: int) -> list[tuple[int, int, int, int]]:
    """The first ``count`` labels a timecode generator emits, skipping dropped labels."""
    labels = []
    label = (0, 0, 0, 0)
    for _ in range(count):
        labels.append(label)
        label = next_label(*label, tb)
        while is_dropped_label(label[1], label[2], label[3], drop):
            label = next_label(*label, tb)
    return labels


def minute_starts(tb: int, drop: int, minutes: int) -> list[int]:
    """Frame number at which each minute's label begins, by adding up minute lengths."""
    starts = [0]
    for minute in range(minutes):
        length = tb * 60
        if drop and minute % 10 != 0:
            length -= drop
        starts.append(starts[-1] + length)
    return starts


# 26 hours of minutes, enough to cover the 24-hour values and the random samples.
_MINUTES = 26 * 60
_STARTS_CACHE: dict[tuple[int, int], list[int]] = {}


def starts_for(tb: int, drop: int) -> list[int]:
    key = (tb, drop)
    if key not in _STARTS_CACHE:
        _STARTS_CACHE[key] = minute_starts(tb, drop, _MINUTES)
    return _STARTS_CACHE[key]


def reference_label(frames: int, rate: FrameRate, drop_frame: bool) -> str:
    """Label of ``frames`` found by locating its minute in the table of minute lengths."""
    tb = tb_of(rate)
    drop = drop_of(rate, drop_frame)
    starts = starts_for(tb, drop)
    assert frames < starts[-1], "reference table too short"
    minute = bisect.bisect_right(starts, frames) - 1
    offset = frames - starts[minute]
    if drop and minute % 10 != 0:
        offset += drop  # the first labels of this minute were skipped
    s, f = divmod(offset, tb)
    h, m = divmod(minute, 60)
    assert s < 60
    return fmt(h, m, s, f, drop_frame)


def reference_frames(label: str, rate: FrameRate, drop_frame: bool) -> int:
    h, m, s, f = (int(x) for x in re.split(r"[:;]", label))
    tb = tb_of(rate)
    drop = drop_of(rate, drop_frame)
    minute = 60 * h + m
    offset = s * tb + f
    if drop and minute % 10 != 0:
        offset -= drop
    return starts_for(tb, drop)[minute] + offset


def boundary_frames(rate: FrameRate, drop_frame: bool) -> list[int]:
    """0, 1, frames either side of every minute start in the first 70 minutes, 1 h and 24 h."""
    tb = tb_of(rate)
    drop = drop_of(rate, drop_frame)
    starts = starts_for(tb, drop)
    out = {0, 1, 2, 3, 4, 5, tb - 1, tb, tb + 1}
    for minute in range(1, 71):
        for delta in range(-3, 6):
            out.add(starts[minute] + delta)
    for hours in (1, 2, 10, 23, 24, 25):
        for delta in (-1, 0, 1):
            out.add(starts[hours * 60] + delta)
    return sorted(out)


# --------------------------------------------------------------------------------------------
# The reference itself must agree with published facts, or it would prove nothing.
# --------------------------------------------------------------------------------------------
def test_reference_agrees_with_published_values() -> None:
    s30 = minute_starts(30, 2, 24 * 60)
    assert s30[1] == 1800
    assert s30[10] == 17982
    assert s30[60] == 107892
    assert s30[24 * 60] == 2589408
    assert minute_starts(60, 4, 60)[60] == 215784
    assert minute_starts(24, 0, 60)[60] == 86400
    labels = walk_labels(30, 2, 17983)
    assert labels[1800] == (0, 1, 0, 2)
    assert labels[17982] == (0, 10, 0, 0)
    assert (0, 1, 0, 0) not in labels and (0, 1, 0, 1) not in labels


# --------------------------------------------------------------------------------------------
# frames -> timecode -> frames
# --------------------------------------------------------------------------------------------
LABEL_RE = {
    False: re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d:\d{2}$"),
    True: re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d;\d{2}$"),
}


@pytest.mark.parametrize(("rate", "drop_frame"), MODES, ids=MODE_IDS)
def test_boundaries_match_reference_and_round_trip(rate: FrameRate, drop_frame: bool) -> None:
    for n in boundary_frames(rate, drop_frame):
        label = frames_to_timecode(n, rate, drop_frame=drop_frame)
        assert label == reference_label(n, rate, drop_frame), n
        assert LABEL_RE[drop_frame].match(label), label
        assert timecode_to_frames(label, rate) == n
        assert timecode_to_frames(label, rate, drop_frame=drop_frame) == n
        assert format_duration(n, rate, drop_frame=drop_frame) == label


@pytest.mark.parametrize(("rate", "drop_frame"), MODES, ids=MODE_IDS)
def test_random_frames_match_reference_and_round_trip(rate: FrameRate, drop_frame: bool) -> None:
    rng = random.Random(20240611 + rate.num + drop_frame)
    limit = starts_for(tb_of(rate), drop_of(rate, drop_frame))[25 * 60]  # up to 25 hours
    for _ in range(3000):
        n = rng.randrange(limit)
        label = frames_to_timecode(n, rate, drop_frame=drop_frame)
        assert label == reference_label(n, rate, drop_frame), n
        assert timecode_to_frames(label, rate, drop_frame=drop_frame) == n


@pytest.mark.parametrize(("rate", "drop_frame"), MODES, ids=MODE_IDS)
def test_labels_walked_one_frame_at_a_time(rate: FrameRate, drop_frame: bool) -> None:
    """Brute force: the generator's label sequence, compared label by label."""
    tb = tb_of(rate)
    drop = drop_of(rate, drop_frame)
    # 21 minutes for drop-frame (covers two 10-minute blocks), 3 minutes otherwise.
    minutes = 21 if drop_frame else 3
    count = minutes * 60 * tb + 10
    for n, (h, m, s, f) in enumerate(walk_labels(tb, drop, count)):
        label = fmt(h, m, s, f, drop_frame)
        assert frames_to_timecode(n, rate, drop_frame=drop_frame) == label, n
        assert timecode_to_frames(label, rate, drop_frame=drop_frame) == n, label


@pytest.mark.parametrize(("rate", "drop_frame"), MODES, ids=MODE_IDS)
def test_label_reference_agrees_with_walk_over_a_long_stretch(rate: FrameRate, drop_frame: bool) -> None:
    """The two references agree, so the minute-table one is trustworthy for random/large values."""
    tb = tb_of(rate)
    drop = drop_of(rate, drop_frame)
    for n, (h, m, s, f) in enumerate(walk_labels(tb, drop, 12 * 60 * tb)):
        if n % 97 == 0 or (s == 0 and f <= drop):
            assert reference_label(n, rate, drop_frame) == fmt(h, m, s, f, drop_frame)


@pytest.mark.parametrize(("rate", "drop_frame"), MODES, ids=MODE_IDS)
def test_labels_increase_without_gaps_or_repeats(rate: FrameRate, drop_frame: bool) -> None:
    tb = tb_of(rate)
    previous = frames_to_timecode(0, rate, drop_frame=drop_frame)
    for n in range(1, 11 * 60 * tb, 7):
        label = frames_to_timecode(n, rate, drop_frame=drop_frame)
        assert timecode_to_frames(label, rate, drop_frame=drop_frame) == n
        assert label.replace(";", ":") > previous.replace(";", ":")
        previous = label


# --------------------------------------------------------------------------------------------
# Published drop-frame / non-drop values
# --------------------------------------------------------------------------------------------
PUBLISHED = [
    # 29.97 drop-frame
    (NTSC_30, True, 0, "00:00:00;00"),
    (NTSC_30, True, 1799, "00:00:59;29"),
    (NTSC_30, True, 1800, "00:01:00;02"),
    (NTSC_30, True, 3597, "00:01:59;29"),
    (NTSC_30, True, 3598, "00:02:00;02"),
    (NTSC_30, True, 17981, "00:09:59;29"),
    (NTSC_30, True, 17982, "00:10:00;00"),
    (NTSC_30, True, 17983, "00:10:00;01"),
    (NTSC_30, True, 19782, "00:11:00;02"),
    (NTSC_30, True, 107892, "01:00:00;00"),
    (NTSC_30, True, 107891, "00:59:59;29"),
    (NTSC_30, True, 2589408, "24:00:00;00"),
    # 59.94 drop-frame
    (NTSC_60, True, 3599, "00:00:59;59"),
    (NTSC_60, True, 3600, "00:01:00;04"),
    (NTSC_60, True, 35964, "00:10:00;00"),
    (NTSC_60, True, 215784, "01:00:00;00"),
    (NTSC_60, True, 215783, "00:59:59;59"),
    # non-drop at NTSC rates counts whole timebase labels per second
    (NTSC_24, False, 24, "00:00:01:00"),
    (NTSC_24, False, 23, "00:00:00:23"),
    (NTSC_24, False, 86400, "01:00:00:00"),
    (NTSC_30, False, 1800, "00:01:00:00"),
    (NTSC_30, False, 108000, "01:00:00:00"),
    (NTSC_60, False, 216000, "01:00:00:00"),
    # integer rates
    (FrameRate(24), False, 86400, "01:00:00:00"),
    (FrameRate(25), False, 90000, "01:00:00:00"),
    (FrameRate(25), False, 2160000, "24:00:00:00"),
    (FrameRate(30), False, 108000, "01:00:00:00"),
    (FrameRate(50), False, 49, "00:00:00:49"),
    (FrameRate(60), False, 216000, "01:00:00:00"),
]


@pytest.mark.parametrize(
    ("rate", "drop_frame", "frames", "label"), PUBLISHED, ids=[f"{r}-{lbl}" for r, _, _, lbl in PUBLISHED]
)
def test_published_values(rate: FrameRate, drop_frame: bool, frames: int, label: str) -> None:
    assert frames_to_timecode(frames, rate, drop_frame=drop_frame) == label
    assert timecode_to_frames(label, rate) == frames


def test_comma_separator_means_drop_frame() -> None:
    assert timecode_to_frames("00:01:00,02", NTSC_30) == 1800
    assert timecode_to_frames("  01:00:00;00  ", NTSC_30) == 107892


def test_colon_at_drop_rate_reads_non_drop() -> None:
    assert timecode_to_frames("01:00:00:00", NTSC_30) == 108000
    assert timecode_to_frames("00:01:00:00", NTSC_30) == 1800
    # an explicit drop_frame=True reads a ':' label as drop-frame
    assert timecode_to_frames("00:01:00:02", NTSC_30, drop_frame=True) == 1800


# --------------------------------------------------------------------------------------------
# timecode_to_frames rejections
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("rate", "drop"), [(NTSC_30, 2), (NTSC_60, 4)], ids=["29.97", "59.94"])
def test_every_dropped_label_is_rejected(rate: FrameRate, drop: int) -> None:
    for hour in (0, 1, 23):
        for minute in range(60):
            for f in range(drop):
                label = fmt(hour, minute, 0, f, True)
                if minute % 10 == 0:
                    timecode_to_frames(label, rate)  # exists
                else:
                    with pytest.raises(TimecodeError) as excinfo:
                        timecode_to_frames(label, rate)
                    assert label in str(excinfo.value)
            # the first label that survives in every minute exists
            timecode_to_frames(fmt(hour, minute, 0, drop, True), rate)


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("00:01:00;00", NTSC_30),
        ("00:01:00;01", NTSC_30),
        ("00:11:00;00", NTSC_30),
        ("01:01:00;01", NTSC_30),
        ("00:01:00;00", NTSC_60),
        ("00:01:00;03", NTSC_60),
        ("00:09:00;02", NTSC_60),
    ],
)
def test_nonexistent_drop_frame_labels(text: str, rate: FrameRate) -> None:
    with pytest.raises(TimecodeError):
        timecode_to_frames(text, rate)
    with pytest.raises(TimecodeError):
        timecode_to_frames(text.replace(";", ":"), rate, drop_frame=True)


def test_tenth_minutes_keep_their_first_labels() -> None:
    assert timecode_to_frames("00:10:00;00", NTSC_30) == 17982
    assert timecode_to_frames("00:10:00;01", NTSC_30) == 17983
    assert timecode_to_frames("00:00:00;00", NTSC_30) == 0
    assert timecode_to_frames("00:10:00;00", NTSC_60) == 35964
    assert timecode_to_frames("00:10:00;03", NTSC_60) == 35967
    # non-drop at 29.97 has every label
    assert timecode_to_frames("00:01:00:00", NTSC_30) == 1800


@pytest.mark.parametrize("rate", RATES, ids=RATE_IDS)
def test_out_of_range_fields(rate: FrameRate) -> None:
    tb = tb_of(rate)
    sep = ";" if facts(rate)[2] else ":"
    for text in (
        f"00:00:00{sep}{tb:02d}",
        f"00:00:00{sep}{tb + 1:02d}",
        f"00:00:00{sep}99",
        f"00:00:60{sep}00",
        f"00:60:00{sep}00",
        f"00:99:00{sep}00",
        f"00:00:99{sep}00",
    ):
        with pytest.raises(TimecodeError) as excinfo:
            timecode_to_frames(text, rate)
        assert text in str(excinfo.value)
    # the last frame number is fine
    assert timecode_to_frames(f"00:00:00{sep}{tb - 1:02d}", rate) == tb - 1


@pytest.mark.parametrize("rate", [r for r in RATES if not RATE_FACTS[(r.num, r.den)][2]], ids=str)
def test_drop_frame_at_non_drop_rate(rate: FrameRate) -> None:
    for text in ("00:00:01;00", "01:00:00;00", "00:00:01,00"):
        with pytest.raises(TimecodeError) as excinfo:
            timecode_to_frames(text, rate)
        assert text in str(excinfo.value)
    with pytest.raises(TimecodeError):
        timecode_to_frames("00:00:01:00", rate, drop_frame=True)
    with pytest.raises(TimecodeError):
        frames_to_timecode(100, rate, drop_frame=True)


GARBAGE = ["", "abc", "1:2", "00:00:00", "00:00:00:00:00", "aa:bb:cc:dd", "-1:00:00:00", "00:00:00-00", "01h00m00s"]


@pytest.mark.parametrize("text", GARBAGE, ids=[repr(t) for t in GARBAGE])
@pytest.mark.parametrize("rate", [FrameRate(25), NTSC_30], ids=str)
def test_garbage_timecode(text: str, rate: FrameRate) -> None:
    with pytest.raises(TimecodeError) as excinfo:
        timecode_to_frames(text, rate)
    assert f"'{text}'" in str(excinfo.value)


# --------------------------------------------------------------------------------------------
# frames_to_timecode input checks
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1, -1000, 1.0, 1.5, "12", None, True, False, Fraction(3)], ids=repr)
@pytest.mark.parametrize(("rate", "drop_frame"), MODES, ids=MODE_IDS)
def test_frames_to_timecode_rejects_bad_counts(rate: FrameRate, drop_frame: bool, bad: object) -> None:
    with pytest.raises(TimecodeError):
        frames_to_timecode(bad, rate, drop_frame=drop_frame)  # type: ignore[arg-type]
