"""How long a script shot plays: from its share of a screenplay page, or from its words.

The screenwriting rule of thumb is "one page, one minute". An import times each shot by the
lines it fills on a page (:mod:`app.script.pages`), so a feature's shots add up to about its
page count in minutes (:func:`screen_seconds`); the words-a-second settings are the pace,
relative to their defaults (reading action at half the default rate plays its lines twice as
long). The estimate by words alone (:func:`estimate_seconds`) remains for one shot without its
script around it. A page holds roughly 150-250 words of mixed action and dialogue, and film
dialogue is spoken at about 150-170 words a minute (2.5-2.8 words a second). Action reads
faster on the page than it plays ("They fight." can be half a minute), so per shot we use a
slightly slower rate for action than for dialogue, add a short pause for every change of
speaker, and keep every shot on screen long enough to read. The result is a first cut for a
storyboard, made to be retimed by a person.

All arithmetic is in :class:`fractions.Fraction`; settings given as floats are read through
their decimal spelling (2.7 becomes 27/10, not the binary 2.70000000000000017...), so the same
settings give the same frame count on every machine and at every rate.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction

from app.errors import ScriptError
from app.script.model import DialogueLine, ScriptShot
from app.script.pages import LINES_PER_PAGE, SECONDS_PER_PAGE, shot_lines
from app.timecode import FrameRate


class TimingError(ScriptError):
    """Timing settings or a shot duration that can't be used."""


# Scripts written without spaces between words count characters. Spoken Mandarin runs about
# 4-5 characters a second and Japanese about 5-7 (kana are syllables), against 2.5-3 English
# words a second: about 1.5-2 characters per English word. 1.5 errs long for Japanese, the
# safer side for a first cut. Thai, Lao, Khmer and Burmese words average about 4 letters
# (combining vowel and tone marks not counted); that one is a rough figure.
CJK_CHARS_PER_WORD = Fraction(3, 2)
SOUTHEAST_ASIAN_CHARS_PER_WORD = Fraction(4)

_CJK_RANGES = (
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
_SEA_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
)
_UNSPACED = "".join(f"{chr(a)}-{chr(b)}" for a, b in _CJK_RANGES + _SEA_RANGES)
# A run of spaced-script text between spaces and unspaced letters: one word if it has a letter or digit.
_SPACED_RUN_RE = re.compile(rf"[^\s{_UNSPACED}]+")
_BEAT_RE = re.compile(r"\b(beat|pause|silence|beats)\b", re.IGNORECASE)


def _in(ranges: tuple[tuple[int, int], ...], ch: str) -> bool:
    code = ord(ch)
    return any(a <= code <= b for a, b in ranges)


def count_words(text: str) -> Fraction:
    """Words in ``text``, as an exact number (unspaced scripts give fractions of words).

    Tokens without a letter or digit ("--", "...") are not words; "rain-soaked" and "1984" are one.
    """
    words = Fraction(sum(1 for run in _SPACED_RUN_RE.findall(text) if any(c.isalnum() for c in run)))
    cjk = sea = 0
    for ch in text:
        if ch.isspace() or not unicodedata.category(ch).startswith(("L", "N")):
            continue  # punctuation (。「」) and combining marks are not spoken letters
        if _in(_CJK_RANGES, ch):
            cjk += 1
        elif _in(_SEA_RANGES, ch):
            sea += 1
    return words + cjk / CJK_CHARS_PER_WORD + sea / SOUTHEAST_ASIAN_CHARS_PER_WORD


def _exact(name: str, value: object) -> Fraction:
    """A setting as an exact number, read through its decimal spelling."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise TimingError(f"timing setting {name} must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise TimingError(f"timing setting {name} must be a finite number, got {value!r}")
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class TimingSettings:
    """Words per second for action and dialogue, and the limits every estimate stays within."""

    action_wps: float = 2.5  # action words read as screen time per second
    dialogue_wps: float = 2.7  # spoken words per second (about 160 a minute)
    minimum_seconds: float = 1.5  # long enough to take in a picture, even for "Black."
    # A storyboard shot longer than this wants splitting: the one definition of the default
    # longest shot, read by the CLI and the import dialog.
    maximum_seconds: float | None = 30.0
    line_pause_seconds: float = 0.25  # breath / cut between speakers, once per dialogue turn
    beat_seconds: float = 1.0  # a "(beat)" or "(pause)" parenthetical

    def __post_init__(self) -> None:
        for name, low, high in (("action_wps", 0.1, 20), ("dialogue_wps", 0.1, 20)):
            value = _exact(name, getattr(self, name))
            if not low <= value <= high:
                raise TimingError(
                    f"timing setting {name} = {getattr(self, name)} is out of range; "
                    f"give {low} to {high} words a second (speech is about 2.5)"
                )
        minimum = _exact("minimum_seconds", self.minimum_seconds)
        if not 0 < minimum <= 60:
            raise TimingError(
                f"minimum shot length {self.minimum_seconds} s is out of range; give more than 0 and at most 60 seconds"
            )
        if self.maximum_seconds is not None:
            maximum = _exact("maximum_seconds", self.maximum_seconds)
            if not minimum <= maximum <= 3600:
                raise TimingError(
                    f"maximum shot length {self.maximum_seconds} s is out of range; give at least the minimum "
                    f"({self.minimum_seconds} s) and at most 3600 seconds, or no maximum"
                )
        for name in ("line_pause_seconds", "beat_seconds"):
            if not 0 <= _exact(name, getattr(self, name)) <= 10:
                raise TimingError(
                    f"timing setting {name} = {getattr(self, name)} is out of range; give 0 to 10 seconds"
                )

    def exact(self, name: str) -> Fraction:
        return _exact(name, getattr(self, name))


def _line_seconds(line: DialogueLine, settings: TimingSettings) -> Fraction:
    seconds = count_words(line.line) / settings.exact("dialogue_wps")
    if _BEAT_RE.search(line.parenthetical):
        seconds += settings.exact("beat_seconds")
    return seconds


def _dialogue_seconds(lines: tuple[DialogueLine, ...], settings: TimingSettings) -> Fraction:
    """Dialogue time: turns one after another, but dual dialogue's two sides spoken at once."""
    turns: list[Fraction] = []
    left: Fraction | None = None  # the left-hand side a following dual block overlaps
    right = Fraction(0)
    for line in lines:
        seconds = _line_seconds(line, settings)
        if line.dual and left is not None:
            right += seconds
            turns[-1] = max(left, right)
            continue
        turns.append(seconds)
        left, right = seconds, Fraction(0)
    pause = settings.exact("line_pause_seconds")
    return sum(turns, Fraction(0)) + pause * len(turns)


def estimate_seconds(shot: ScriptShot, settings: TimingSettings | None = None) -> Fraction:
    """Screen time of a shot from its words, within the settings' minimum and maximum.

    The shot line ("CLOSE ON") and notes are directions, not screen time, so they don't count.
    """
    settings = settings or TimingSettings()
    seconds = count_words(shot.action) / settings.exact("action_wps")
    seconds += _dialogue_seconds(shot.dialogue, settings)
    seconds = max(seconds, settings.exact("minimum_seconds"))
    if settings.maximum_seconds is not None:
        seconds = min(seconds, settings.exact("maximum_seconds"))
    return seconds


def estimate_frames(shot: ScriptShot, rate: FrameRate, settings: TimingSettings | None = None) -> int:
    """Duration of a shot in whole frames; a duration the shot list already gives wins."""
    if shot.duration is not None:
        if isinstance(shot.duration, bool) or not isinstance(shot.duration, int) or shot.duration < 1:
            where = f" (line {shot.line_number})" if shot.line_number else ""
            raise TimingError(
                f"shot {shot.number or '(unnumbered)'}{where} has a duration of {shot.duration!r} frames; "
                "give at least 1 frame"
            )
        return shot.duration
    return max(1, rate.seconds_to_frames(estimate_seconds(shot, settings)))


_DEFAULTS = TimingSettings()


def screen_seconds(shot: ScriptShot, settings: TimingSettings | None = None, heading: str | None = None) -> Fraction:
    """Screen time of a script shot from the page lines it fills (a page a minute at the default pace).

    ``heading`` is the scene heading printed above the shot when it opens its scene. The result
    is at least the minimum shot length and not yet limited to the maximum: see :func:`limit`,
    so an import can say which shots the maximum clipped.
    """
    settings = settings or _DEFAULTS
    lines = shot_lines(shot, heading)
    per_line = Fraction(SECONDS_PER_PAGE, LINES_PER_PAGE)
    action = lines.action * per_line * _DEFAULTS.exact("action_wps") / settings.exact("action_wps")
    dialogue = lines.dialogue * per_line * _DEFAULTS.exact("dialogue_wps") / settings.exact("dialogue_wps")
    return max(action + dialogue, settings.exact("minimum_seconds"))


def limit(seconds: Fraction, settings: TimingSettings) -> tuple[Fraction, bool]:
    """``seconds`` within the maximum shot length, and whether the maximum clipped it."""
    if settings.maximum_seconds is None or seconds <= settings.exact("maximum_seconds"):
        return seconds, False
    return settings.exact("maximum_seconds"), True


def format_running_time(seconds: Fraction | float) -> str:
    """``1:42:10`` (or ``4:05`` under an hour), to the nearest second."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
