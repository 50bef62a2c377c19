"""Scenes and shots from a screenplay's elements: the rules every script format shares.

A parser (Fountain, Final Draft) turns its file into a flat sequence of :class:`Element`
records in reading order; :func:`build_scenes` groups them into scenes and shots, so both
formats split shots the same way:

- A scene starts at each scene heading. Material before the first heading that would make a
  shot becomes a scene with an empty heading (and a warning).
- A new shot starts at an explicit shot note (``[[SHOT: description]]``) or at a shot line
  (``CLOSE ON - HER HANDS``, ``WIDE``, ``INSERT - THE LETTER``, ``ZOË'S POV``...; see
  :func:`match_shot_line`), which also sets the shot's size (CU, WS, INS...) or camera angle.
  The first action paragraph after it (dialogue may come between) is that shot's action.
- Otherwise every action paragraph is a shot of its own.
- Dialogue attaches to the shot it falls in; dialogue before any shot of a scene opens a
  dialogue-only shot.
- Other notes go into the notes of the shot they fall in (or of the scene's first shot when
  they come before it). Transitions, centered text and lyrics outside dialogue make no shot:
  they are kept as notes the same way, so nothing the writer typed silently disappears.
  Transitions and titles typed as action ("FADE IN:", "CUT TO BLACK.", "SUPER: PARIS, 1944",
  "TITLE OVER:" with its words below) are no shots either: a transition that opens the picture
  ("FADE IN:") is a note of the shot after it, any other transition or title a note of the shot
  it follows (or of the scene's first shot), and above the first heading they open no scene.
- Synopses after a scene heading are the scene's synopsis; sections are structure only (a
  synopsis after a section belongs to the section and is skipped). Page breaks and boneyard
  never reach this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from app.document import CAMERA_ANGLES, SHOT_SIZES
from app.errors import ScriptError
from app.script.model import DialogueLine, ScriptScene, ScriptShot


class ScriptReadError(ScriptError):
    """A screenplay that can't be read; ``line`` is the 1-based line it failed on, where known
    (the message names it too), so a preview can point at it."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


ElementKind = Literal[
    "heading", "action", "shot", "note", "dialogue", "synopsis", "section", "transition", "centered", "lyrics"
]


@dataclass(frozen=True)
class Element:
    """One thing a screenplay says, format-independent.

    ``text`` is the element's text as written (for ``note``: the note without its ``[[ ]]``);
    ``number`` is a heading's scene number; ``dialogue`` holds a whole dialogue block (a cue
    with its parentheticals and lines, both sides of dual dialogue); ``forced`` marks action
    the writer forced, which stays action however much it looks like a shot line.
    """

    kind: ElementKind
    text: str = ""
    line: int = 0
    number: str = ""
    dialogue: tuple[DialogueLine, ...] = ()
    # Action the writer forced (Fountain's leading "!"): never read as a shot line.
    forced: bool = False


# --- shot lines ------------------------------------------------------------------------

# Shot terms as screenwriters type them, with the size (app.document.SHOT_SIZES) and camera
# angle (app.document.CAMERA_ANGLES) each implies; "" where the term says neither.
_SHOT_TERMS: dict[str, tuple[str, str]] = {}


def _terms(size: str, angle: str, *names: str) -> None:
    for name in names:
        _SHOT_TERMS[name] = (size, angle)


_terms("ECU", "", "EXTREME CLOSE UP", "EXTREME CLOSE-UP", "EXTREME CLOSEUP", "EXTREME CLOSE ON", "EXTREME CLOSE SHOT",
       "EXTREME CLOSE", "ECU", "XCU", "BIG CLOSE UP", "BIG CLOSE-UP")  # fmt: skip
_terms("MCU", "", "MEDIUM CLOSE UP", "MEDIUM CLOSE-UP", "MEDIUM CLOSEUP", "MEDIUM CLOSE SHOT", "MEDIUM CLOSE", "MCU")
_terms("CU", "", "CLOSE ON", "CLOSE UP", "CLOSE-UP", "CLOSEUP", "CLOSE SHOT", "CLOSER ON", "CLOSER", "TIGHT ON",
       "TIGHT SHOT", "CU")  # fmt: skip
_terms("EWS", "", "EXTREME WIDE SHOT", "EXTREME WIDE", "EXTREME LONG SHOT", "ESTABLISHING SHOT", "ESTABLISHING",
       "EWS", "XWS", "ELS")  # fmt: skip
_terms("MWS", "", "MEDIUM WIDE SHOT", "MEDIUM WIDE", "MEDIUM LONG SHOT", "COWBOY SHOT", "MWS", "MLS")
_terms("WS", "", "WIDE SHOT", "WIDE ANGLE", "WIDE ON", "WIDER ON", "WIDER", "WIDE", "LONG SHOT", "WS", "LS")
_terms("FS", "", "FULL SHOT", "FULL FIGURE", "FS")
_terms("MS", "", "MEDIUM SHOT", "MEDIUM ON", "MEDIUM", "MID SHOT", "MID-SHOT", "MS")
_terms("OTS", "", "OVER THE SHOULDER", "OVER-THE-SHOULDER", "OVER SHOULDER", "OTS", "O.T.S.")
_terms("POV", "", "POINT OF VIEW", "P.O.V.", "POV")
_terms("INS", "", "INSERT SHOT", "INSERT")
_terms("2S", "", "TWO SHOT", "TWO-SHOT", "2 SHOT", "2-SHOT", "2S")
_terms("", "high", "HIGH ANGLE", "HIGH ANGLE ON")
_terms("", "low", "LOW ANGLE", "LOW ANGLE ON")
_terms("", "overhead", "OVERHEAD SHOT", "OVERHEAD", "BIRD'S EYE VIEW", "BIRD'S-EYE VIEW", "TOP SHOT")
_terms("", "aerial", "AERIAL SHOT", "AERIAL VIEW", "AERIAL")
_terms("", "dutch", "DUTCH ANGLE", "DUTCH TILT")
_terms("", "worm's eye", "WORM'S EYE VIEW", "WORM'S-EYE VIEW", "WORM'S EYE")
_terms("", "", "ANGLE ON", "NEW ANGLE", "ANOTHER ANGLE", "REVERSE ANGLE", "REVERSE SHOT", "REVERSE ON", "REVERSE",
       "BACK TO SCENE", "BACK TO PRESENT", "TRACKING SHOT", "MOVING SHOT", "HANDHELD", "SPLIT SCREEN")  # fmt: skip
assert all(s in SHOT_SIZES and a in CAMERA_ANGLES for s, a in _SHOT_TERMS.values())

_TERM_ALTERNATION = "|".join(re.escape(t) for t in sorted(_SHOT_TERMS, key=len, reverse=True))
# After the term: nothing, a separator and a subject ("CLOSE ON - HER HANDS", "ANGLE ON: the
# window"), or ON/OF/AT and a subject ("WIDE ON THE PLATFORM"). Anything else ("WIDE AWAKE,
# she sits up") is action.
_AFTER_TERM = r"(?:\s*[-–—:,]\s*(?P<sep>.*)|\s+(?i:ON|OF|AT)\b\s*(?P<prep>.*)|(?P<end>))"
_SHOT_LINE_RE = re.compile(rf"^(?P<term>{_TERM_ALTERNATION}){_AFTER_TERM}$")
_SHOT_LINE_ANY_CASE_RE = re.compile(rf"^(?P<term>{_TERM_ALTERNATION}){_AFTER_TERM}$", re.IGNORECASE)
_ON_SUBJECT_RE = re.compile(rf"^(?P<term>{_TERM_ALTERNATION})\s+(?P<subject>.+)$")
_ON_SUBJECT_ANY_CASE_RE = re.compile(rf"^(?P<term>{_TERM_ALTERNATION})\s+(?P<subject>.+)$", re.IGNORECASE)
# "ZOË'S POV", "THE GUARD'S P.O.V."; and "ON THE DOOR" (all caps) as a plain shot line.
_POV_TAIL = r"['’]S\s+(?:POV|P\.O\.V\.|POINT OF VIEW)$"
_POSSESSIVE_POV_RE = re.compile(rf"^(?P<subject>.+?){_POV_TAIL}")
_POSSESSIVE_POV_ANY_CASE_RE = re.compile(rf"^(?P<subject>.+?){_POV_TAIL}", re.IGNORECASE)
_ON_RE = re.compile(r"^ON\s+(?P<subject>.+)$")
# A shot line is a short line: a caps sentence of action is not one.
_MAX_SHOT_LINE = 80


@dataclass(frozen=True)
class ShotLine:
    """What a shot line says: the shot size and camera angle it implies (either may be "")."""

    size: str
    angle: str
    subject: str


def match_shot_line(line: str, *, any_case: bool = False) -> ShotLine | None:
    """The shot a line calls for, or None when the line is not a shot line.

    A shot line is the whole line, its shot term in capitals (``CLOSE ON``, ``WIDE``,
    ``INSERT``...), optionally followed by `` - subject``, ``: subject`` or ``ON subject``.
    ``any_case`` accepts lower-case terms, for the description of an explicit
    ``[[SHOT: wide of the platform]]`` note, where the note already says it is a shot.
    """
    text = line.strip()
    if not text or len(text) > _MAX_SHOT_LINE or "\n" in text:
        return None
    m = (_SHOT_LINE_ANY_CASE_RE if any_case else _SHOT_LINE_RE).match(text)
    if m:
        size, angle = _SHOT_TERMS[m.group("term").upper()]
        return ShotLine(size, angle, (m.group("sep") or m.group("prep") or "").strip())
    # A term that ends in ON takes its subject directly ("CLOSE ON the cup"); in a shot note
    # any term does ("[[SHOT: MCU Anna]]").
    m = (_ON_SUBJECT_ANY_CASE_RE if any_case else _ON_SUBJECT_RE).match(text)
    if m and (any_case or m.group("term").endswith(" ON")):
        size, angle = _SHOT_TERMS[m.group("term").upper()]
        return ShotLine(size, angle, m.group("subject").strip())
    m = (_POSSESSIVE_POV_ANY_CASE_RE if any_case else _POSSESSIVE_POV_RE).match(text)
    if m and (any_case or _is_caps(m.group("subject"))):
        return ShotLine("POV", "", m.group("subject"))
    m = _ON_RE.match(text)
    if m and not any_case and _is_caps(m.group("subject")):
        return ShotLine("", "", m.group("subject"))
    return None


def _is_caps(text: str) -> bool:
    return any(c.isalpha() for c in text) and text.upper() == text


_SHOT_NOTE_RE = re.compile(r"\s*SHOT\s*(?::(?P<description>.*))?", re.IGNORECASE | re.DOTALL)


def shot_note_description(note: str) -> str | None:
    """The description of an explicit shot note (``SHOT: wide of the platform``), else None."""
    m = _SHOT_NOTE_RE.fullmatch(note)
    # One line, however the note was wrapped: "[[SHOT: CU\non the dog]]" is a close-up.
    return None if m is None else " ".join((m.group("description") or "").split())


# --- transitions and titles -----------------------------------------------------------------

# "FADE IN:", "CUT TO BLACK.", "SMASH CUT TO:", "DISSOLVE TO:", "IRIS OUT." (in capitals, a line
# of its own): how one shot meets the next, not a shot. Fountain only recognises "... TO:".
_TRANSITION_RE = re.compile(
    r"^(?:(?:SMASH|MATCH|JUMP|HARD|QUICK|TIME|FLASH|RIPPLE|WHIP)\s+)?(?:CUT|FADE|DISSOLVE|WIPE|IRIS|FLASH|PAN)"
    r"(?:\s+(?:IN|OUT|UP|BACK|TO|FROM))*(?:\s+(?:BLACK|WHITE|SCENE|RED))?\s*[:.]?$"
    r"|^[A-Z][A-Z .'’-]{0,30}\sTO:$|^THE END\.?$"
)
# "FADE IN:" and "FADE UP FROM BLACK" open the picture that follows; other transitions end the one before.
_OPENING_RE = re.compile(r"\b(?:IN|UP|FROM)\b(?!.*\bTO\b)")
# "SUPER: Paris, 1944", "TITLE OVER:", "TITLE CARD - THREE YEARS LATER": text laid over a
# shot (or a card), a note for it rather than a shot of its own.
_TITLE_RE = re.compile(
    r"^(?P<term>(?:MAIN\s+|END\s+)?TITLES?(?:\s+(?:CARD|OVER|ON\s+SCREEN|UP|IN))?|SUPER(?:IMPOSED?)?(?:\s+OVER)?"
    r"|SUPERTITLE|CHYRON|CAPTION|SUBTITLE|INTERTITLE|CARD|ON[- ]SCREEN(?:\s+TEXT)?|TEXT\s+ON\s+SCREEN)"
    r"(?:\s*(?:[:\-–—])\s*(?P<text>.*))?$"
)


def match_transition(line: str) -> bool:
    """Whether ``line`` is a transition ("CUT TO:", "FADE OUT.", "CUT TO BLACK."), not action."""
    text = line.strip()
    return bool(text) and _is_caps(text) and _TRANSITION_RE.match(text) is not None


def opens_picture(transition: str) -> bool:
    """Whether a transition belongs to the shot after it ("FADE IN:") rather than the one before."""
    return _OPENING_RE.search(transition.strip().upper()) is not None


def match_title(line: str) -> str | None:
    """The text of a title line ("SUPER: Paris" -> "Paris"; "TITLE OVER:" -> ""), or None for other lines."""
    text = line.strip()
    m = _TITLE_RE.match(text)
    if m is None or not _is_caps(m.group("term")):
        return None
    rest = m.group("text")
    if rest is None and text != m.group("term"):
        return None
    return (rest or "").strip()


# --- dialogue ----------------------------------------------------------------------------

# One or more "(...)" groups; no nesting, so it matches in linear time.
_EXTENSIONS_RE = re.compile(r"(?:\([^()]*\)\s*)+")


def split_cue(cue: str) -> tuple[str, str, bool]:
    """(name, extension, dual) of a character cue as typed: ``ANNA (V.O.) ^`` → ("ANNA", "V.O.", True)."""
    text = cue.strip()
    dual = text.endswith("^")
    if dual:
        text = text[:-1].rstrip()
    name, paren, rest = text.partition("(")
    extensions = paren + rest
    if extensions and not _EXTENSIONS_RE.fullmatch(extensions):
        # Unbalanced parentheses: keep the cue whole rather than guess.
        return cue.strip().lstrip("@").strip(), "", False
    return name.lstrip("@").strip(), normalize_extension(extensions), dual


def normalize_extension(extension: str) -> str:
    """One extension string from ``(V.O.) (CONT'D)``, ``V.O.) (CONT'D`` or ``V.O.``: ``V.O., CONT'D``."""
    parts = [p.strip() for p in re.split(r"[()]", extension)]
    return ", ".join(p for p in parts if p)


def dialogue_block(
    character: str, extension: str, dual: bool, parts: Iterable[tuple[str, str]]
) -> tuple[DialogueLine, ...]:
    """The lines of one speech. ``parts`` are ("parenthetical" | "line", text) in order.

    A parenthetical starts a new DialogueLine, so ``(quiet) Hello. (louder) HELLO!`` keeps
    each direction with the words it directs; consecutive lines join with a newline.
    """
    lines: list[DialogueLine] = []
    paren: str | None = None
    words: list[str] = []

    def flush() -> None:
        if paren is not None or words:
            lines.append(DialogueLine(character, "\n".join(words), paren or "", extension, dual))

    for kind, text in parts:
        text = text.strip()
        if kind == "parenthetical":
            flush()
            paren, words = text.removeprefix("(").removesuffix(")").strip(), []
        elif text:
            words.append(text)
    flush()
    if not lines:  # a cue with nothing under it still says who is in the shot
        lines.append(DialogueLine(character, "", "", extension, dual))
    return tuple(lines)


# --- scenes and shots ---------------------------------------------------------------------


@dataclass
class _Shot:
    line: int
    action: str = ""
    dialogue: list[DialogueLine] = field(default_factory=list)
    shot_line: str = ""
    size: str = ""
    angle: str = ""
    notes: list[str] = field(default_factory=list)
    # Opened by a shot line or note and still waiting for the action paragraph it frames.
    awaiting_action: bool = False

    def freeze(self) -> ScriptShot:
        return ScriptShot(
            action=self.action,
            dialogue=tuple(self.dialogue),
            shot_line=self.shot_line,
            size=self.size,
            angle=self.angle,
            notes="\n".join(self.notes),
            line_number=self.line,
        )


@dataclass
class _Scene:
    heading: str
    number: str
    line: int
    synopsis: list[str] = field(default_factory=list)
    shots: list[_Shot] = field(default_factory=list)
    pending_notes: list[tuple[str, int]] = field(default_factory=list)
    takes_synopsis: bool = True
    # A title cue ("TITLE OVER:") whose words are the next paragraph.
    awaiting_title: str | None = None

    @property
    def current(self) -> _Shot | None:
        return self.shots[-1] if self.shots else None

    def open(self, shot: _Shot) -> None:
        shot.notes = [text for text, _ in self.pending_notes] + shot.notes
        self.pending_notes.clear()
        self.shots.append(shot)

    def action(self, text: str, line: int, *, forced: bool = False) -> None:
        # Shot lines at the top of a paragraph ("WIDE\nCLOSE ON - HER HANDS\nShe shakes.")
        # each open a shot; the rest is the last one's action. A loop, not recursion: a
        # paragraph may have a thousand lines.
        lines = text.strip().split("\n")
        at = 0
        if not forced and self.awaiting_title is not None:
            # "TITLE OVER:" with its words in the next paragraph.
            self.title(f"{self.awaiting_title} {' '.join(' '.join(lines).split())}", line)
            return
        while not forced:
            while at < len(lines) and not lines[at].strip():
                at += 1
            if at == len(lines):
                return
            if match_transition(lines[at]):
                self.transition(lines[at].strip(), line + at)
                at += 1
                continue
            title = match_title(lines[at])
            if title is not None:
                # The title's words: on its line, or the rest of the paragraph, or the next paragraph.
                words = title or " ".join(" ".join(lines[at + 1 :]).split())
                if not words:
                    self.awaiting_title = lines[at].strip()
                    return
                self.title(lines[at].strip() if title else f"{lines[at].strip()} {words}", line + at)
                if title:
                    at += 1
                    continue
                return
            found = match_shot_line(lines[at])
            if found is None:
                break
            shot = _Shot(line, shot_line=lines[at].strip(), size=found.size, angle=found.angle, awaiting_action=True)
            self.open(shot)
            at, line = at + 1, line + 1
        text = "\n".join(lines[at:])
        cur = self.current
        if cur is not None and cur.awaiting_action:
            cur.action = text.strip()
            cur.awaiting_action = False
        else:
            self.open(_Shot(line, action=text.strip()))

    def transition(self, text: str, line: int) -> None:
        self.add_note(text, line, ahead=opens_picture(text))

    def title(self, text: str, line: int) -> None:
        self.awaiting_title = None
        self.add_note(text, line)

    def shot(self, text: str, line: int) -> None:
        found = match_shot_line(text) or match_shot_line(text, any_case=True)
        size, angle = (found.size, found.angle) if found else ("", "")
        self.open(_Shot(line, shot_line=text.strip(), size=size, angle=angle, awaiting_action=True))

    def note(self, text: str, line: int) -> None:
        description = shot_note_description(text)
        if description is None:
            self.add_note(" ".join(text.split()), line)
            return
        found = match_shot_line(description, any_case=True)
        size, angle = (found.size, found.angle) if found else ("", "")
        shot_line = f"[[SHOT: {' '.join(description.split())}]]" if description else "[[SHOT]]"
        self.open(_Shot(line, shot_line=shot_line, size=size, angle=angle, awaiting_action=True))

    def dialogue(self, lines: tuple[DialogueLine, ...], line: int) -> None:
        if self.current is None:
            self.open(_Shot(line))
        assert self.current is not None
        self.current.dialogue.extend(lines)

    def add_note(self, text: str, line: int, *, ahead: bool = False) -> None:
        """A note for the shot it falls in; ``ahead``: for the next shot ("FADE IN:")."""
        if not text:
            return
        if self.current is not None and not ahead:
            self.current.notes.append(text)
        else:
            self.pending_notes.append((text, line))

    def freeze(self, warnings: list[str]) -> ScriptScene:
        if self.awaiting_title is not None:
            self.add_note(self.awaiting_title, self.line)
        if self.shots:  # "FADE IN:" or a title at the scene's end: the last shot is the neighbour
            self.shots[-1].notes.extend(text for text, _ in self.pending_notes)
            self.pending_notes.clear()
        for text, line in self.pending_notes:  # a scene with no shot to hold them
            warnings.append(f"line {line}: '{_short(text)}' is in a scene with no action or dialogue; it was skipped")
        return ScriptScene(
            heading=self.heading,
            number=self.number,
            synopsis="\n".join(self.synopsis),
            shots=tuple(s.freeze() for s in self.shots),
            line_number=self.line,
        )


_MAKES_SHOTS = frozenset({"action", "shot", "dialogue"})


def build_scenes(elements: Iterable[Element]) -> tuple[tuple[ScriptScene, ...], tuple[str, ...]]:
    """Scenes with their shots from a screenplay's elements, and warnings (with line numbers)."""
    scenes: list[_Scene] = []
    warnings: list[str] = []
    # Notes, transitions... seen before the first heading: kept only if that material
    # turns out to hold a shot (a script that starts without a heading).
    before_first: list[Element] = []
    scene: _Scene | None = None

    for el in elements:
        if el.kind in ("heading", "shot") and match_transition(el.text):
            # "FADE IN:" typed in a Final Draft Scene Heading or Shot paragraph is still a transition.
            el = Element("transition", el.text.strip(), el.line)
        if el.kind == "heading":
            scene = _Scene(el.text.strip(), el.number.strip(), el.line)
            scenes.append(scene)
            if len(scenes) == 1:
                # "FADE IN:" above the first heading opens its first shot, not a scene of its own.
                for early in before_first:
                    if early.kind == "transition" or early.kind == "action":
                        _apply(scene, early)
                before_first.clear()
            continue
        if scene is None:
            if el.kind == "action" and not el.forced and _makes_no_shot(el.text):
                before_first.append(el)
                continue
            if el.kind not in _MAKES_SHOTS and not (el.kind == "note" and shot_note_description(el.text) is not None):
                before_first.append(el)
                continue
            first_line = next((e.line for e in before_first if e.kind not in ("section", "synopsis")), el.line)
            scene = _Scene("", "", first_line, takes_synopsis=False)
            scenes.append(scene)
            warnings.append(
                f"line {first_line}: text before the first scene heading was imported as a scene without a heading; "
                "add a scene heading (INT./EXT. ...) above it to name it"
            )
            for early in before_first:
                _apply(scene, early)
            before_first.clear()
        _apply(scene, el)

    return tuple(s.freeze(warnings) for s in scenes), tuple(warnings)


def _makes_no_shot(text: str) -> bool:
    """A paragraph of transitions and titles only ("FADE IN:", "SUPER: 1944"): it opens no scene."""
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and (all(match_transition(line) for line in lines) or match_title(lines[0]) is not None)


def _apply(scene: _Scene, el: Element) -> None:
    kind = el.kind
    if kind == "action":
        if el.text.strip():
            scene.action(el.text, el.line, forced=el.forced)
    elif kind == "shot":
        scene.shot(el.text, el.line)
    elif kind == "note":
        scene.note(el.text, el.line)
    elif kind == "dialogue":
        scene.dialogue(el.dialogue, el.line)
    elif kind == "synopsis":
        if scene.takes_synopsis and el.text.strip():
            scene.synopsis.append(el.text.strip())
    elif kind == "section":
        scene.takes_synopsis = False
    elif kind == "transition":
        scene.transition(el.text.strip(), el.line)
    elif kind == "centered":
        scene.add_note(f"Centered: {el.text.strip()}", el.line)
    elif kind == "lyrics":
        scene.add_note(f"Lyrics: {el.text.strip()}", el.line)


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
