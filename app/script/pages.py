"""How much of a screenplay page a shot fills: the measure behind "one page, one minute".

A screenplay page is set in 12-point Courier (ten characters an inch, six lines an inch) and
holds about 55 lines. Elements have standard column widths: action and scene headings run
6 inches (60 characters), dialogue 3.5 inches (35), parentheticals about 2.5 inches (25);
character cues and transitions take one line each, and one blank line separates elements.
Counting a shot's lines that way gives its share of a page, and a page plays about a minute,
whatever the writer's style: a page of terse action and a page of banter both take a minute.

This is what a page count in a screenwriting program measures, less its page breaks (an
element that doesn't fit moves to the next page, which leaves a few lines empty at the
bottom of some pages): a layout estimate, good to a few percent on a feature.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from fractions import Fraction

from app.script.model import DialogueLine, ScriptShot
from app.script.shots import match_title, match_transition

LINES_PER_PAGE = 55
SECONDS_PER_PAGE = 60  # the rule of thumb every estimate here is calibrated to
ACTION_WIDTH = 60  # characters: action, scene headings, shot lines, titles
DIALOGUE_WIDTH = 35
PARENTHETICAL_WIDTH = 25  # the brackets included
_NOTE_PREFIXES = ("Centered: ", "Lyrics: ")  # notes app.script.shots made of printed text


@dataclass(frozen=True)
class ShotLines:
    """A shot's printed lines: ``action`` (headings, shot lines, action, transitions, titles) and ``dialogue``."""

    action: int = 0
    dialogue: int = 0

    @property
    def total(self) -> int:
        return self.action + self.dialogue

    @property
    def pages(self) -> Fraction:
        return Fraction(self.total, LINES_PER_PAGE)


def wrapped(text: str, width: int) -> int:
    """Lines ``text`` fills at ``width`` characters; a line break the writer typed starts a new line."""
    return sum(max(1, len(textwrap.wrap(line, width, break_on_hyphens=False))) for line in text.split("\n"))


def shot_lines(shot: ScriptShot, heading: str | None = None) -> ShotLines:
    """Printed lines of a shot, with the scene ``heading`` above it when it opens its scene.

    Every element counts one blank line before it. Notes hold what the script printed around
    the shot but didn't make a shot of: transitions ("CUT TO:") and titles ("SUPER: 1944")
    print; writers' ``[[notes]]`` don't.
    """
    action = 0
    if heading is not None:
        action += 1 + wrapped(heading or "SCENE", ACTION_WIDTH)
    if shot.shot_line and not shot.shot_line.startswith("[["):
        action += 1 + wrapped(shot.shot_line, ACTION_WIDTH)
    if shot.action.strip():
        action += 1 + wrapped(shot.action.strip(), ACTION_WIDTH)
    for note in shot.notes.split("\n"):
        note = note.strip()
        if match_transition(note):
            action += 2
        elif match_title(note) is not None:
            action += 1 + wrapped(note, ACTION_WIDTH)
        elif note.startswith(_NOTE_PREFIXES):
            action += 1 + wrapped(note.split(": ", 1)[1], ACTION_WIDTH)
    return ShotLines(action, dialogue_lines(shot.dialogue))


def dialogue_lines(lines: tuple[DialogueLine, ...]) -> int:
    """Printed lines of a shot's dialogue: each speech a blank line, its cue, its parentheticals and lines.

    A speech is a run of lines by the same character; dual dialogue prints beside the speech
    before it, so the pair takes the height of the longer side.
    """
    total = 0
    left = right = 0  # heights of the speech being read and of a dual speech beside it
    previous: DialogueLine | None = None
    for line in lines:
        body = (wrapped(f"({line.parenthetical})", PARENTHETICAL_WIDTH) if line.parenthetical else 0) + (
            wrapped(line.line, DIALOGUE_WIDTH) if line.line.strip() else 0
        )
        if previous is not None and (previous.character, previous.dual) == (line.character, line.dual):
            if line.dual:
                right += body
            else:
                left += body
        elif line.dual and previous is not None and not previous.dual:
            right = 1 + body  # the dual side's own cue
        else:
            if previous is not None:
                total += 1 + max(left, right)  # the blank line, then the speech before
            left, right = 1 + body, 0
        previous = line
    if previous is not None:
        total += 1 + max(left, right)
    return total
