"""Exact frame rates, timecode and frame arithmetic.

Everything here is integers and :class:`fractions.Fraction`; no float ever enters the timing
path, because a float 23.976 drifts by a frame within minutes and editors reject timelines
that are off by one frame.

Drop-frame timecode (29.97 and 59.94) skips frame *numbers*, never frames: at the start of
every minute except each tenth, 2 numbers (4 at 59.94) are left out so the timecode keeps
pace with the wall clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from app.errors import TimecodeError

# Decimal spellings people type for NTSC rates, mapped to their exact value.
_NTSC_ALIASES = {
    "23.976": (24000, 1001),
    "23.98": (24000, 1001),
    "29.97": (30000, 1001),
    "59.94": (60000, 1001),
}


@dataclass(frozen=True, order=True)
class FrameRate:
    """A frame rate as an exact rational ``num/den`` frames per second."""

    num: int
    den: int = 1

    def __post_init__(self) -> None:
        for part in (self.num, self.den):
            if not isinstance(part, int) or isinstance(part, bool):
                raise TimecodeError(f"frame rate parts must be whole numbers, got {self.num!r}/{self.den!r}")
        if self.num <= 0 or self.den <= 0:
            raise TimecodeError(f"frame rate {self.num}/{self.den} must be positive")
        if (self.num, self.den) not in _SUPPORTED_PAIRS:
            raise TimecodeError(
                f"'{self.num}/{self.den}' is not a supported frame rate; use one of {supported_rates_text()}"
            )

    @classmethod
    def parse(cls, text: str) -> FrameRate:
        """Read a rate as typed by a person: ``24``, ``25``, ``24000/1001``, ``23.976``..."""
        raw = str(text).strip().lower().removesuffix("fps").strip()
        if raw in _NTSC_ALIASES:
            return cls(*_NTSC_ALIASES[raw])
        try:
            if "/" in raw:
                num_text, den_text = raw.split("/", 1)
                value = Fraction(int(num_text), int(den_text))
            else:
                value = Fraction(raw)
        except (ValueError, ZeroDivisionError):
            raise TimecodeError(f"'{text}' is not a frame rate; use one of {supported_rates_text()}") from None
        for num, den in _SUPPORTED_PAIRS:
            if Fraction(num, den) == value:
                return cls(num, den)
        raise TimecodeError(f"'{text}' is not a supported frame rate; use one of {supported_rates_text()}")

    @property
    def fps(self) -> Fraction:
        return Fraction(self.num, self.den)

    @property
    def timebase(self) -> int:
        """The whole number timecode counts frames in (24 for 23.976, 30 for 29.97)."""
        return -(-self.num // self.den)

    @property
    def is_ntsc(self) -> bool:
        return self.den == 1001

    @property
    def supports_drop_frame(self) -> bool:
        return self.is_ntsc and self.timebase in (30, 60)

    @property
    def frame_duration(self) -> Fraction:
        """Seconds per frame, exactly (``1001/24000`` at 23.976)."""
        return Fraction(self.den, self.num)

    def __str__(self) -> str:
        return str(self.num) if self.den == 1 else f"{self.num}/{self.den}"

    @property
    def label(self) -> str:
        """How editors show the rate: ``23.976 fps``, ``25 fps``."""
        if self.den == 1:
            return f"{self.num} fps"
        for alias, pair in _NTSC_ALIASES.items():
            if pair == (self.num, self.den) and alias != "23.98":
                return f"{alias} fps"
        return f"{self} fps"

    def frames_to_seconds(self, frames: int) -> Fraction:
        if not isinstance(frames, int) or isinstance(frames, bool):
            raise TimecodeError(f"frame count must be an integer, got {frames!r}")
        return Fraction(frames) * self.frame_duration

    def seconds_to_frames(self, seconds: Fraction | int, *, rounding: str = "nearest") -> int:
        """Frames in ``seconds``; ``rounding`` is ``nearest`` (ties up), ``floor`` or ``ceil``."""
        if isinstance(seconds, float):
            raise TimecodeError("seconds must be exact (int or Fraction), not a float")
        exact = Fraction(seconds) * self.fps
        if rounding == "floor":
            return exact.numerator // exact.denominator
        if rounding == "ceil":
            return -(-exact.numerator // exact.denominator)
        if rounding == "nearest":
            return (2 * exact.numerator + exact.denominator) // (2 * exact.denominator)
        raise ValueError(f"unknown rounding {rounding!r}")


SUPPORTED_RATES: tuple[tuple[int, int], ...] = (
    (24, 1),
    (25, 1),
    (30, 1),
    (50, 1),
    (60, 1),
    (24000, 1001),
    (30000, 1001),
    (60000, 1001),
)
_SUPPORTED_PAIRS = frozenset(SUPPORTED_RATES)


def supported_rates_text() -> str:
    return "24, 25, 30, 50, 60, 24000/1001 (23.976), 30000/1001 (29.97), 60000/1001 (59.94)"


def all_rates() -> list[FrameRate]:
    return [FrameRate(n, d) for n, d in SUPPORTED_RATES]


def _check_drop_frame(rate: FrameRate, drop_frame: bool) -> None:
    if drop_frame and not rate.supports_drop_frame:
        raise TimecodeError(f"drop-frame timecode exists only at 29.97 and 59.94 fps, not at {rate.label}")


def _dropped_per_minute(rate: FrameRate) -> int:
    # SMPTE 12M: 2 numbers a minute at 29.97, 4 at 59.94.
    return rate.timebase // 15


def frames_to_timecode(frames: int, rate: FrameRate, *, drop_frame: bool = False) -> str:
    """Timecode label of a frame count, ``HH:MM:SS:FF`` (``HH:MM:SS;FF`` when drop-frame).

    Hours are not wrapped at 24 so that long running times stay readable.
    """
    if not isinstance(frames, int) or isinstance(frames, bool):
        raise TimecodeError(f"frame count must be an integer, got {frames!r}")
    if frames < 0:
        raise TimecodeError(f"frame count {frames} is negative; timecode starts at 00:00:00:00")
    _check_drop_frame(rate, drop_frame)
    tb = rate.timebase
    number = frames
    if drop_frame:
        drop = _dropped_per_minute(rate)
        per_minute = tb * 60 - drop
        per_ten = tb * 600 - 9 * drop
        tens, rem = divmod(frames, per_ten)
        number += 9 * drop * tens
        if rem >= drop:
            number += drop * ((rem - drop) // per_minute)
    ff = number % tb
    total_seconds = number // tb
    ss = total_seconds % 60
    mm = (total_seconds // 60) % 60
    hh = total_seconds // 3600
    sep = ";" if drop_frame else ":"
    width = 3 if tb > 99 else 2
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:0{width}d}"


_TC_RE = re.compile(r"^\s*(\d{1,4}):(\d{1,2}):(\d{1,2})([:;.,])(\d{1,3})\s*$")


def timecode_to_frames(text: str, rate: FrameRate, *, drop_frame: bool | None = None) -> int:
    """Frame count of a timecode label.

    ``drop_frame=None`` reads the separator: ``;`` (or ``,``) before the frames means
    drop-frame, as editors write it.
    """
    match = _TC_RE.match(str(text))
    if not match:
        raise TimecodeError(f"'{text}' is not a timecode; write it as HH:MM:SS:FF (e.g. 01:00:00:00)")
    hh, mm, ss, sep, ff = match.groups()
    h, m, s, f = int(hh), int(mm), int(ss), int(ff)
    if drop_frame is None:
        drop_frame = sep in ";," and rate.supports_drop_frame
        if sep in ";," and not rate.supports_drop_frame:
            raise TimecodeError(
                f"'{text}' is drop-frame timecode, which exists only at 29.97 and 59.94 fps, "
                f"not at {rate.label}; use ':' before the frames"
            )
    _check_drop_frame(rate, drop_frame)
    tb = rate.timebase
    if m >= 60 or s >= 60 or f >= tb:
        raise TimecodeError(
            f"'{text}' is out of range at {rate.label}: minutes and seconds go to 59, frames to {tb - 1}"
        )
    total_minutes = 60 * h + m
    frames = (h * 3600 + m * 60 + s) * tb + f
    if drop_frame:
        drop = _dropped_per_minute(rate)
        if s == 0 and f < drop and m % 10 != 0:
            raise TimecodeError(
                f"'{text}' does not exist in drop-frame timecode: frames 00-{drop - 1:02d} are skipped "
                "at the start of each minute not divisible by 10"
            )
        frames -= drop * (total_minutes - total_minutes // 10)
    return frames


def format_duration(frames: int, rate: FrameRate, *, drop_frame: bool = False) -> str:
    """A running time as timecode (the same label a duration column in an NLE shows)."""
    return frames_to_timecode(frames, rate, drop_frame=drop_frame)


def parse_duration(text: str, rate: FrameRate) -> int:
    """A duration typed as frames (``48``), seconds (``2s``, ``1.5s``) or timecode."""
    raw = str(text).strip()
    if re.fullmatch(r"\d+", raw):
        return int(raw)
    sec = re.fullmatch(r"(\d+(?:\.\d+)?)\s*s", raw)
    if sec:
        # Fraction parses the decimal text exactly; a float never appears.
        return rate.seconds_to_frames(Fraction(sec.group(1)))
    if _TC_RE.match(raw):
        return timecode_to_frames(raw, rate)
    raise TimecodeError(f"'{text}' is not a duration; give frames (48), seconds (2s) or timecode (00:00:02:00)")
