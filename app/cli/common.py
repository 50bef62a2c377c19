"""What the command-line modules share: exit codes, range-checked argparse types, shot lookup, status lines."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable

from app.document import Project, Shot
from app.errors import PinframeError

EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


def int_in(option: str, low: int, high: int, note: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high``, else an error that gives the range."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} '{text}' is not a whole number; use {low} to {high}{note}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{option} {value} is out of range; use {low} to {high}{note}")
        return value

    parse.__name__ = "whole number"
    return parse


def float_in(
    option: str, low: float, high: float, *, above_low: bool = False, note: str = ""
) -> Callable[[str], float]:
    """An argparse ``type``: a finite number from ``low`` (or more than it) up to ``high``, else the range."""
    span = f"more than {low:g} up to {high:g}" if above_low else f"{low:g} to {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} '{text}' is not a number; use {span}{note}") from None
        inside = value > low if above_low else value >= low
        if not (math.isfinite(value) and inside and value <= high):
            raise argparse.ArgumentTypeError(f"{option} {text.strip()} is out of range; use {span}{note}")
        return value

    parse.__name__ = "number"
    return parse


def find_shot(project: Project, number: str) -> Shot:
    matches = [s for s in project.shots() if s.number == number]
    if not matches:
        numbers = ", ".join(s.number for s in project.shots()) or "none"
        raise PinframeError(f"there is no shot '{number}' in {project.name}; shots: {numbers}")
    return matches[0]


def status(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
