"""Shot numbers: the order they sort in, and free numbers that sort between two shots.

A first import letters each scene's shots after the scene (12A, 12B, ... 12Z, 12ZA, ...); a
re-import numbers a new shot between the shots around it (12A, new, 12B: 12AA), so sorting the
shots by number always gives their order in the project.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterable, Iterator


class NumberPool:
    """Shot numbers in use across the whole project, so a new shot never repeats one."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = set(taken)
        self._letters: dict[str, Iterator[str]] = {}
        self._next: dict[str, str] = {}  # each scene's next free lettered number, not yet claimed

    def preferred(self, scene_number: str, wanted: str = "") -> str:
        """The number a new shot of the scene would get on its own: ``wanted`` if free, else the next letter."""
        if wanted and wanted not in self.taken:
            return wanted
        number = self._next.get(scene_number)
        if number is None or number in self.taken:
            letters = self._letters.setdefault(scene_number, _letters())
            number = next(f"{scene_number}{s}" for s in letters if f"{scene_number}{s}" not in self.taken)
            self._next[scene_number] = number
        return number

    def claim(self, scene_number: str, wanted: str = "", before: str | None = None, after: str | None = None) -> str:
        """A free number for a new shot that sorts after ``before`` and ahead of ``after`` (the shots
        around it), or "" when none does (see :func:`_between`).

        A shot list's own number (``wanted``) is a person's choice and wins wherever it sorts.
        """
        if wanted and wanted not in self.taken:
            number = wanted
        else:
            number = self.preferred(scene_number)
            if not _sorts_between(number, before, after):
                number = next((c for c in _between(before, after) if c not in self.taken), "")
        if number:
            self.taken.add(number)
        return number


def shot_number_key(number: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key of a shot number: runs of digits by value, letters alphabetically.

    "12" < "12A" < "12AA" < "12B" < "13", and "9Z" < "10A".
    """
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t.casefold()) for t in re.findall(r"\d+|\D+", number))


def _sorts_between(number: str, before: str | None, after: str | None) -> bool:
    key = shot_number_key(number)
    return (before is None or shot_number_key(before) < key) and (after is None or key < shot_number_key(after))


def _between(before: str | None, after: str | None) -> Iterator[str]:
    """Numbers that sort between two shot numbers, the likeliest first: after 12 comes 12A, after 12A
    12B, and between 12A and 12B 12AA (a storyboard's inserted shots)."""
    if before is None:
        # Ahead of the first shot: 12 comes before 12A.
        stem = re.sub(r"[A-Z]+$", "", after or "")
        if stem and after is not None and _sorts_between(stem, None, after):
            yield stem
        return
    letters = before[len(before.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) :]
    stem = before[: len(before) - len(letters)]
    bumped = f"{stem}{letters[:-1]}{chr(ord(letters[-1]) + 1)}" if letters and letters[-1] != "Z" else f"{before}A"
    for candidate in (bumped, *(f"{before}{c}" for c in string.ascii_uppercase)):
        if _sorts_between(candidate, before, after):
            yield candidate


def _letters() -> Iterator[str]:
    """A, B, ... Z, ZA, ... ZZ, ZZA, ...: the letters of a scene's shots, in alphabetical order (never run out)."""
    for n in itertools.count(0):
        yield from ("Z" * n + c for c in string.ascii_uppercase)
