"""Fountain screenplays (https://fountain.io) into a ScriptDocument, through fountain-py.

fountain-py (MIT, typed, pure Python, no dependencies) does the Fountain grammar: title page,
scene headings (forced ``.``, scene numbers ``#12A#``), action, cues with extensions, forced
``@`` cues, dual dialogue ``^``, parentheticals, transitions, centered text, lyrics, sections,
synopses, page breaks, boneyard, notes; and it gives every element its source line. This
module only adapts its elements to :mod:`app.script.shots`, with two small additions:

- **Non-ASCII cues.** fountain-py recognises a character cue by an ``[A-Z]``-only pattern, so
  ``ZOË`` or ``JÜRGEN`` followed by dialogue would read as action. Fountain's rule is "all
  capitals", so :class:`_Parser` widens the library's own cue patterns from A–Z to every
  Unicode capital letter; the library still applies its rules (blank line before, dialogue
  after, not a heading). Names in scripts without capitals (東京) need ``@``, as the spec says.
- **Notes.** fountain-py keeps a note that stands on its own lines as a NOTE element but
  strips a note inside a paragraph (``She waits. [[SHOT: CU on her hands]]``). Shot notes must
  survive, so :func:`_scan_notes` finds every ``[[...]]`` in the source with the parser's note
  pattern (outside ``/* boneyard */``), and places each at the paragraph it is in; the
  library's NOTE elements are not used, so a note is never counted twice.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from fountain import ElementType, FountainElement, FountainParser

from app.script.model import DialogueLine, ScriptDocument
from app.script.shots import (
    Element,
    ScriptReadError,
    build_scenes,
    dialogue_block,
    match_shot_line,
    normalize_extension,
    shot_note_description,
)

# fountain-py's note patterns, changed so that a note can't contain "[[" and a seam starts at
# the start of a run of blanks. Both keep every real note the same and make matching linear:
# with the originals a long line of unclosed "[[" (or of spaces) took minutes.
_NOTE_BODY = r"\[\[(?:[^\[\]]|\[(?!\[)|\](?!\]))*\]\]"
_NOTE_RE = re.compile(_NOTE_BODY)
_NOTE_SEAM_RE = re.compile(rf"(?<![ \t])[ \t]*{_NOTE_BODY}[ \t]*")


@cache
def _capitals() -> str:
    """A regex character class body holding every Unicode capital letter (as ranges)."""
    ranges: list[list[int]] = []
    for code in range(0x110000):
        if chr(code).isupper():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


@cache
def _parser_class() -> type[FountainParser]:
    # The same patterns as fountain-py 0.3.0's, with A-Z widened to all capitals; and with the
    # runs before "(" and "#" matched possessively ("*+", the library strips the names after),
    # because with the originals a long line took time quadratic in its length.
    caps = _capitals()
    char = rf"[{caps}0-9\s_.'#-]"
    name = rf"(?={char}*[{caps}])[{caps}0-9]{char}*+"

    class _Parser(FountainParser):
        NOTE_PATTERN = _NOTE_RE
        NOTE_SEAM_PATTERN = _NOTE_SEAM_RE
        CHARACTER_PATTERN = re.compile(rf"^{name}$")
        DUAL_CHARACTER_PATTERN = re.compile(rf"^{name}\^+\s*$")
        CHARACTER_EXTENSION_PATTERN = re.compile(rf"^({name})\s*\((.+)\)\s*(\^+)?\s*$")
        FORCED_EXTENSION_PATTERN = re.compile(r"^([^(]*+)\s*\((.+)\)$")
        SCENE_NUMBER_PATTERN = re.compile(r"(?<!\s)\s*#([A-Za-z0-9.-]+)#\s*$")
        CUE_PATTERNS = (
            CHARACTER_PATTERN,
            DUAL_CHARACTER_PATTERN,
            FountainParser.FORCED_CHARACTER_PATTERN,
            CHARACTER_EXTENSION_PATTERN,
        )

    return _Parser


@dataclass(frozen=True)
class _Note:
    line: int  # 1-based line where "[[" is
    text: str  # without the brackets


_BONEYARD_RE = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")


def _scan_notes(text: str) -> list[_Note]:
    """Every ``[[note]]`` in the source, outside the boneyard, with its line.

    A note may span lines but not a blank line (fountain-py, like the spec, ends an open note
    there), so a match holding a blank line is skipped.
    """
    hidden = [(m.start(), m.end()) for m in _BONEYARD_RE.finditer(text)]
    hidden_starts = [a for a, _ in hidden]
    notes: list[_Note] = []
    line, counted = 1, 0
    for m in _NOTE_RE.finditer(text):
        at = bisect_right(hidden_starts, m.start()) - 1
        if (at >= 0 and m.start() < hidden[at][1]) or _BLANK_LINE_RE.search(m.group()):
            continue
        line += text.count("\n", counted, m.start())
        counted = m.start()
        notes.append(_Note(line, m.group()[2:-2].strip()))
    return notes


def parse_fountain(text: str, name: str = "script.fountain") -> ScriptDocument:
    """A Fountain screenplay (already decoded, any line endings) as a ScriptDocument.

    ``name`` names the file in the rare error (the parser reads any text as some screenplay).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    try:
        parsed = _parser_class()().parse(text)
    except RecursionError:
        # fountain-py recurses once per /* */ on a line; a line with hundreds of them is no script.
        worst = max(range(len(lines)), key=lambda n: lines[n].count("/*"))
        raise ScriptReadError(
            f"{name} line {worst + 1} has {lines[worst].count('/*')} boneyard comments (/* */), more than the Fountain "
            "parser can follow; split it over several lines or remove the comments.",
            worst + 1,
        ) from None
    for el in parsed.elements:
        # fountain-py can number text recovered after an unclosed boneyard one past the end.
        el.line_number = min(max(el.line_number, 1), len(lines))
    elements = _merge_notes(_elements(parsed.elements, lines), _scan_notes(text), lines)
    scenes, warnings = build_scenes(elements)
    issues = tuple(f"line {issue.line_number}: {issue.message}" for issue in parsed.issues if issue.severity == "error")
    return ScriptDocument(
        title=_title(parsed.metadata.get("title")),
        scenes=scenes,
        source_format="fountain",
        warnings=issues + warnings,
    )


def _title(value: object) -> str:
    if not isinstance(value, str):
        return ""
    # Title page values keep Fountain's emphasis markers ("_**BRICK & STEEL**_"): drop them
    # where they wrap words, and join a title written over several lines.
    words = re.sub(r"(?<![^\s])[*_]+|[*_]+(?![^\s])", "", value)
    return " ".join(words.split())


class _Paragraphs:
    """Which source lines share a paragraph (no blank line between them)."""

    def __init__(self, lines: list[str]) -> None:
        # Fountain's "two spaces" line keeps dialogue together, so it is not a break.
        self._breaks_before = [0]
        for line in lines:
            blank = not line.strip() and line != "  "
            self._breaks_before.append(self._breaks_before[-1] + blank)

    def same(self, first_line: int, later_line: int) -> bool:
        """Whether 1-based ``later_line`` is in the paragraph that ``first_line`` is in."""
        if later_line < first_line:
            return False
        return self._breaks_before[later_line] == self._breaks_before[first_line - 1]


def _elements(parsed: list[FountainElement], lines: list[str]) -> list[Element]:
    paragraphs = _Paragraphs(lines)
    out: list[Element] = []
    i = 0
    while i < len(parsed):
        el = parsed[i]
        kind = el.type
        if kind == ElementType.CHARACTER:
            block = [el]
            while i + 1 < len(parsed) and _in_speech(parsed[i + 1], block[-1]):
                i += 1
                block.append(parsed[i])
            out.extend(_speech(block))
        elif kind == ElementType.DUAL_DIALOGUE:
            left, right = el.dual_dialogue_columns()
            lines_ = _speech_lines(left, dual=False) + _speech_lines(right, dual=True)
            out.append(Element("dialogue", line=left[0].line_number, dialogue=lines_))
        elif kind == ElementType.SCENE_HEADING:
            out.append(Element("heading", el.text, el.line_number, number=str(el.metadata.get("scene_number") or "")))
        elif kind == ElementType.ACTION:
            prev = out[-1] if out else None
            if prev is not None and prev.kind == "action" and paragraphs.same(prev.line, el.line_number):
                # One paragraph that fountain-py split around a multi-line note or a boneyard.
                out[-1] = Element("action", f"{prev.text} {el.text}", prev.line)
            else:
                out.append(Element("action", el.text, el.line_number))
        elif kind in _PLAIN_KINDS:
            out.append(Element(_PLAIN_KINDS[kind], el.text, el.line_number))
        # NOTE (see _scan_notes), BONEYARD, PAGE_BREAK and stray dialogue lines make nothing.
        i += 1
    return out


_PLAIN_KINDS = {
    ElementType.TRANSITION: "transition",
    ElementType.CENTERED: "centered",
    ElementType.LYRICS: "lyrics",
    ElementType.SYNOPSIS: "synopsis",
    ElementType.SECTION: "section",
}


def _in_speech(el: FountainElement, previous: FountainElement) -> bool:
    # Lyrics belong to the speech only when they follow it directly (a character sings);
    # a lyric after a blank line is a song on its own.
    if el.type == ElementType.LYRICS:
        return el.line_number == previous.line_number + 1
    return el.type in (ElementType.PARENTHETICAL, ElementType.DIALOGUE)


def _speech(block: list[FountainElement]) -> list[Element]:
    cue = block[0]
    found = None if cue.metadata.get("forced") else match_shot_line(cue.text)
    if found is not None and "extension" not in cue.metadata:
        # "INSERT - THE LETTER" with text right under it reads as a cue to fountain-py;
        # a shot line is never a character, so it is the shot and its action.
        action = "\n".join(p.text for p in block[1:] if p.text.strip())
        shot = [Element("shot", cue.text, cue.line_number)]
        return shot + ([Element("action", action, cue.line_number + 1)] if action else [])
    return [Element("dialogue", line=cue.line_number, dialogue=_speech_lines(block, dual=None))]


def _speech_lines(block: list[FountainElement], dual: bool | None) -> tuple[DialogueLine, ...]:
    cue = block[0]
    is_dual = bool(cue.metadata.get("dual_dialogue")) if dual is None else dual
    extension = normalize_extension(str(cue.metadata.get("extension") or ""))
    parts = [("parenthetical" if p.type == ElementType.PARENTHETICAL else "line", p.text) for p in block[1:]]
    return dialogue_block(cue.text.strip(), extension, is_dual, parts)


def _merge_notes(elements: list[Element], notes: list[_Note], lines: list[str]) -> list[Element]:
    """Elements and notes in reading order.

    A note inside a paragraph belongs to that paragraph: a shot note goes just before it (the
    paragraph is the shot's action or dialogue, and the shot starts at its first line), any
    other note just after it (it lands in that paragraph's shot). A note standing alone goes
    where it is.
    """
    paragraphs = _Paragraphs(lines)
    # The furthest line reached so far, never decreasing, to bisect the elements by line.
    reach = list(accumulate((e.line for e in elements), max))
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for i, e in enumerate(elements):
        first.setdefault(e.line, i)
        last[e.line] = i
    # (position in elements, before 0 / at 1 / after 2, order among notes, element)
    keyed: list[tuple[int, int, int, Element]] = [(i, 1, 0, e) for i, e in enumerate(elements)]
    for n, note in enumerate(notes):
        at = bisect_right(reach, note.line) - 1  # the nearest element starting at or above the note
        owner = elements[at].line if at >= 0 else 0
        if at >= 0 and paragraphs.same(owner, note.line):
            if shot_note_description(note.text) is not None:
                keyed.append((first[owner], 0, n, Element("note", note.text, owner)))
            else:
                keyed.append((last[owner], 2, n, Element("note", note.text, owner)))
        else:
            keyed.append((at + 1, 0, n, Element("note", note.text, note.line)))
    keyed.sort(key=lambda k: k[:3])
    return [k[3] for k in keyed]
