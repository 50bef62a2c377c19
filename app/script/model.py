"""A screenplay as Pinframe reads it: scenes of shots, whatever file format it came from.

Parsers (Fountain, Final Draft) turn a file into a :class:`ScriptDocument`; the importer turns
that into project scenes and shots, and on re-import matches scenes by ``key`` and compares
``content_hash`` to tell changed scenes from untouched ones. Everything here is a frozen value.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class DialogueLine:
    character: str  # as written, without extensions: "ANNA"
    line: str
    parenthetical: str = ""  # "(quietly)" without the brackets
    extension: str = ""  # "V.O.", "O.S.", "CONT'D"
    dual: bool = False  # the right-hand side of dual dialogue

    def text(self) -> str:
        """ "ANNA (V.O.) (quietly): Who's there?"; just the line when nobody is named."""
        who = f"{self.character} ({self.extension})" if self.extension else self.character
        how = f" ({self.parenthetical})" if self.parenthetical else ""
        return f"{who}{how}: {self.line}" if who or how else self.line


@dataclass(frozen=True)
class ScriptShot:
    """One shot: the action it shows and the dialogue spoken in it."""

    action: str = ""
    dialogue: tuple[DialogueLine, ...] = ()
    # A shot line or explicit shot note that opened this shot ("CLOSE ON", "[[SHOT: ...]]"), as written.
    shot_line: str = ""
    # Shot size abbreviation from app.document.SHOT_SIZES implied by the shot line ("CU" for CLOSE ON).
    size: str = ""
    notes: str = ""  # [[notes]] that fell in this shot, joined
    line_number: int = 0  # 1-based line in the source file where the shot starts
    # Set by a shot list import, where a person already decided them; a screenplay leaves
    # them empty and the importer numbers the shot, estimates its duration and drafts its prompt.
    number: str = ""
    duration: int | None = None  # frames
    prompt: str | None = None
    negative_prompt: str = ""
    angle: str = ""
    lens_mm: float | None = None
    move: str = ""

    @property
    def key(self) -> str:
        """Identity of the shot's content: equal keys mean the script didn't change this shot."""
        return _digest({"a": _norm(self.action), "d": [asdict(d) for d in self.dialogue], "s": _norm(self.shot_line),
                        "t": _norm(self.notes),
                        "x": [self.number, self.duration, self.prompt, self.negative_prompt, self.size, self.angle,
                              self.lens_mm, self.move]})  # fmt: skip


@dataclass(frozen=True)
class ScriptScene:
    heading: str  # "INT. KITCHEN - NIGHT" (forcing "." removed)
    number: str = ""  # scene number written in the script ("12A" from "#12A#"), or ""
    synopsis: str = ""
    shots: tuple[ScriptShot, ...] = ()
    line_number: int = 0

    @property
    def content_hash(self) -> str:
        """Hash of everything imported from this scene, its number aside (renumbering isn't an edit)."""
        return _digest({"h": _norm(self.heading), "y": _norm(self.synopsis), "s": [s.key for s in self.shots]})

    @property
    def setting(self) -> tuple[str, str, str]:
        """(interior/exterior, place, time of day) from the heading: ("INT.", "KITCHEN", "NIGHT")."""
        return parse_heading(self.heading)


@dataclass(frozen=True)
class ScriptDocument:
    title: str = ""
    scenes: tuple[ScriptScene, ...] = ()
    source_format: str = ""  # "fountain", "fdx"
    warnings: tuple[str, ...] = field(default=())  # things skipped or guessed, with line numbers


_HEADING_RE = re.compile(
    r"^\s*(?P<ie>INT\./EXT\.|INT/EXT\.?|I/E\.?|EXT\./INT\.|EXT/INT\.?|INT\.?|EXT\.?|EST\.?)\s+(?P<rest>.*)$",
    re.IGNORECASE,
)
_TIME_SPLIT_RE = re.compile(r"\s+[-–—]\s+")


def parse_heading(heading: str) -> tuple[str, str, str]:
    """Split a scene heading into (INT./EXT., place, time of day); missing parts are ""."""
    text = heading.strip().lstrip(".").strip()
    m = _HEADING_RE.match(text)
    ie, rest = (m.group("ie").upper(), m.group("rest")) if m else ("", text)
    parts = _TIME_SPLIT_RE.split(rest)
    if len(parts) > 1:
        return ie, " - ".join(parts[:-1]).strip(), parts[-1].strip()
    return ie, rest.strip(), ""


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _digest(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]
