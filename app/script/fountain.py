"""Fountain screenplays (https://fountain.io) into a ScriptDocument, through fountain-py.

fountain-py (MIT, typed, pure Python, no dependencies) does the Fountain grammar: title page,
scene headings (forced ``.``, scene numbers ``#12A#``), action, cues with extensions, forced
``@`` cues, dual dialogue ``^``, parentheticals, transitions, centered text, lyrics, sections,
synopses, page breaks, boneyard, notes; and it gives every element its source line. This
module only adapts its elements to :mod:`app.script.shots`, with three additions:

- **Non-ASCII cues.** fountain-py recognises a character cue by an ``[A-Z]``-only pattern, so
  ``ZOË`` or ``JÜRGEN`` followed by dialogue would read as action. Fountain's rule is "all
  capitals", so :class:`_Parser` widens the library's own cue patterns from A–Z to every
  Unicode capital letter; the library still applies its rules (blank line before, dialogue
  after, not a heading). Names in scripts without capitals (東京) need ``@``, as the spec says.
- **Time.** Some of fountain-py's steps take time that grows with the square of the input
  (thousands of leading notes took minutes). :func:`_check_size` bounds the input, and
  :class:`_Parser` replaces four steps with linear ones giving the same elements (the tests
  compare them with the library's on generated scripts); it keeps no emphasis spans.
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
from itertools import accumulate, takewhile
from typing import Any

from fountain import ElementType, FountainDocument, FountainElement, FountainParser
from fountain.elements import FormatSpan, FormatType

from app.script.model import DialogueLine, ScriptDocument, parse_heading
from app.script.shots import (
    Element,
    ElementKind,
    ScriptReadError,
    build_scenes,
    dialogue_block,
    match_shot_line,
    match_title,
    match_transition,
    normalize_extension,
    shot_note_description,
    split_cue,
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

        # Four of fountain-py 0.3.0's steps, made linear with the same results (the tests
        # compare them with the library's own on many generated scripts).
        _invisible = 0  # leading elements known to be notes or boneyards

        def parse(self, text: str) -> FountainDocument:
            self._invisible = 0
            return super().parse(text)

        def _has_visible_content(self) -> bool:
            # The library scans every element from the first each time, so a script opening
            # with thousands of notes took minutes. Elements are only appended while parsing,
            # so the leading notes and boneyards counted once stay counted.
            elements = self.elements
            while self._invisible < len(elements):
                if elements[self._invisible].type not in (ElementType.NOTE, ElementType.BONEYARD):
                    return True
                self._invisible += 1
            return False

        def _find_emphasis_spans_in_line(self, formatting_text: str) -> list[FormatSpan]:
            return _emphasis_spans(self._scan_delimiter_runs(formatting_text))

        def _extract_inline(self, text: str) -> tuple[str, list[FormatSpan]]:
            # The text without emphasis markers, and no spans: nothing here renders them, and
            # the library concatenates a paragraph's span list once per line, which made a
            # long paragraph of *emphasis* take time quadratic in its length.
            if "*" not in text and "_" not in text and "\\" not in text:
                return text, []  # what the library returns for it, without its loops over every character
            return super()._extract_inline(text)[0], []

        def _process_dual_dialogue(self) -> None:
            self.elements = _pair_dual_dialogue(self.elements)

    return _Parser


def _emphasis_spans(runs: list[Any]) -> list[FormatSpan]:
    """fountain-py's delimiter-stack emphasis matching, with the nearest opener of the closer's
    character found in one step: the library searched the whole stack for it, so a line of
    many ``_`` openers followed by ``*`` closers took time quadratic in its length.

    Every opener on the stack has delimiters left (an opener is pushed with some and popped
    when it has none), so "the nearest opener with the same character" is the top of that
    character's own stack of positions.
    """
    spans: list[FormatSpan] = []
    openers: list[Any] = []  # fountain-py's private _DelimiterRun records
    positions: dict[str, list[int]] = {"*": [], "_": []}  # indices into openers, per character
    for run in runs:
        if run.can_close:
            mine = positions[run.char]
            other = positions["_" if run.char == "*" else "*"]
            while run.available > 0 and mine:
                match_index = mine[-1]
                opener = openers[match_index]
                del openers[match_index + 1 :]  # openers inside the new pair can't span it
                while other and other[-1] > match_index:
                    other.pop()
                width, format_type = _emphasis_width(run.char, min(opener.available, run.available))
                start = opener.position + opener.length - opener.right_used - width
                opener.right_used += width
                end = run.position + run.left_used + width
                run.left_used += width
                spans.append(FormatSpan(start, end, format_type))
                if opener.available == 0:
                    openers.pop()
                    mine.pop()
        if run.available > 0 and run.can_open:
            positions[run.char].append(len(openers))
            openers.append(run)
    return spans


def _emphasis_width(char: str, pair: int) -> tuple[int, FormatType]:
    if char == "_":
        return 1, "underline"
    if pair >= 3:
        return 3, "bold_italic"
    return (2, "bold") if pair >= 2 else (1, "italic")


def _pair_dual_dialogue(elements: list[FountainElement]) -> list[FountainElement]:
    """fountain-py's dual dialogue pairing in one pass.

    The library copies the rest of the element list for every ``^`` cue and searches back
    for the cue before it, so thousands of dual cues took time quadratic in the script's
    length. As there, a ``^`` cue pairs with the nearest earlier cue after the last heading or
    action when both have dialogue; the pair replaces both speeches (and anything between
    them), and an unpaired cue loses its dual flag.
    """
    out: list[FountainElement] = []
    cues: list[int] = []  # positions in out of the cues since the last heading or action
    i = 0
    while i < len(elements):
        element = elements[i]
        if element.type == ElementType.CHARACTER and element.metadata.get("dual_dialogue"):
            if cues:
                left_at = cues[-1]
                left = list(takewhile(_in_dialogue, (out[k] for k in range(left_at + 1, len(out)))))
                right = list(takewhile(_in_dialogue, (elements[k] for k in range(i + 1, len(elements)))))
                if left and right:
                    left_cue = out[left_at]
                    left_cue.metadata.pop("dual_dialogue", None)
                    dual = FountainElement(
                        type=ElementType.DUAL_DIALOGUE,
                        text="",
                        formatting=[],
                        line_number=element.line_number,
                        metadata={
                            "left_character": left_cue,
                            "left_dialogue": left,
                            "right_character": element,
                            "right_dialogue": right,
                        },
                    )
                    del out[left_at:]
                    cues.pop()
                    out.append(dual)
                    i += len(right) + 1
                    continue
            element.metadata.pop("dual_dialogue", None)
        if element.type == ElementType.CHARACTER:
            cues.append(len(out))
        elif element.type in (ElementType.SCENE_HEADING, ElementType.ACTION):
            cues.clear()
        out.append(element)
        i += 1
    return out


def _in_dialogue(element: FountainElement) -> bool:
    return element.type in (ElementType.DIALOGUE, ElementType.PARENTHETICAL)


@dataclass(frozen=True)
class _Note:
    line: int  # 1-based line where "[[" is
    text: str  # without the brackets


# The most fountain-py is given (see _check_size). A feature film is a few thousand lines and
# 200,000 characters. The paragraph limit: a long monologue typed with hard line breaks is a
# couple of hundred lines; no paragraph, title page or song in a real screenplay comes near it.
# Measured (read_script_text, 2-core build machine, Python 3.11) on scripts filled to these
# limits with each kind of element: the slowest were 2 million characters dense with *emphasis*
# (2.1 s) or inline notes (1.3 s); 50,000 lines of dual dialogue, cues, shot lines or short
# action took 0.3-0.6 s; 1,000-line paragraphs, notes or boneyard leading 50,000 lines well
# under 1 s; 50,000 lines of an ordinary screenplay 0.4 s.
MAX_FOUNTAIN_LINES = 50_000
MAX_FOUNTAIN_CHARS = 2_000_000
MAX_PARAGRAPH_LINES = 1_000

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
    _check_size(text, lines, name)
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


def _check_size(text: str, lines: list[str], name: str) -> None:
    """Refuse, before fountain-py reads it, a script it would take long to read.

    fountain-py spends about 20 microseconds on a line and up to a microsecond on a
    character, so the size is bounded in both (see MAX_FOUNTAIN_LINES). It joins a
    paragraph's lines one at a time (copying the text so far each time) and looks back over
    runs of notes and lyrics line by line, so its time grows with the square of a
    paragraph's length (one 400,000-line paragraph took 52 s): paragraphs are bounded too.
    """
    line_count = len(lines) - (lines[-1] == "")  # a final line break ends the last line
    if len(text) > MAX_FOUNTAIN_CHARS or line_count > MAX_FOUNTAIN_LINES:
        size = (
            f"{len(text) / 1e6:.1f} million characters" if len(text) > MAX_FOUNTAIN_CHARS else f"{line_count:,} lines"
        )
        raise ScriptReadError(
            f"{name} is {size}; Pinframe reads Fountain screenplays of up to {MAX_FOUNTAIN_LINES:,} lines and "
            f"{MAX_FOUNTAIN_CHARS / 1e6:.0f} million characters (a feature film is a few thousand lines and about "
            "0.2 million characters). Import it in parts (an episode or an act to a file), or check that this is "
            "the script."
        )
    run = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            run = 0
            continue
        run += 1
        if run > MAX_PARAGRAPH_LINES:
            start = number - run + 1
            raise ScriptReadError(
                f"{name} line {start}: more than {MAX_PARAGRAPH_LINES:,} lines follow one another without a blank "
                f"line; a screenplay paragraph is a few lines long. Put a blank line between paragraphs (after each "
                "speech and each action paragraph), or check that this file is the screenplay.",
                start,
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
                out[-1] = Element("action", f"{prev.text} {el.text}", prev.line, forced=prev.forced)
            elif not el.metadata.get("forced") and (shouted := _shouted_speech(el)) is not None:
                out.append(shouted)
            else:
                # "!CLOSE ON THE DOOR. It opens." is action: "!" is how Fountain forces it.
                out.append(Element("action", el.text, el.line_number, forced=bool(el.metadata.get("forced"))))
        elif kind in _PLAIN_KINDS:
            out.append(Element(_PLAIN_KINDS[kind], el.text, el.line_number))
        # NOTE (see _scan_notes), BONEYARD, PAGE_BREAK and stray dialogue lines make nothing.
        i += 1
    return out


_PLAIN_KINDS: dict[ElementType, ElementKind] = {
    ElementType.TRANSITION: "transition",
    ElementType.CENTERED: "centered",
    ElementType.LYRICS: "lyrics",
    ElementType.SYNOPSIS: "synopsis",
    ElementType.SECTION: "section",
}


def _shouted_speech(el: FountainElement) -> Element | None:
    """A cue over lines all in capitals ("ANNA" / "GET OUT"), which fountain-py reads as action.

    Fountain makes any capitals line with text right under it a cue, so shouting stays
    dialogue; a first line that is a shot line, transition or title is not a cue.
    """
    lines = el.text.split("\n")
    cue = lines[0].strip()
    parser = _parser_class()
    if len(lines) < 2 or not any(p.match(cue) for p in (parser.CHARACTER_PATTERN, parser.CHARACTER_EXTENSION_PATTERN)):
        return None
    if match_shot_line(cue) or match_transition(cue) or match_title(cue) is not None or parse_heading(cue)[0]:
        return None
    if any(match_transition(line) for line in lines[1:]):
        return None  # "CUT TO:" under a capitals line is a transition, not a shout
    name, extension, dual = split_cue(cue)
    parts = [("parenthetical" if re.fullmatch(r"\(.*\)", line.strip()) else "line", line) for line in lines[1:]]
    return Element("dialogue", line=el.line_number, dialogue=dialogue_block(name, extension, dual, parts))


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
