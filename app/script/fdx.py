"""Final Draft ``.fdx`` screenplays into a ScriptDocument.

FDX is XML: ``<FinalDraft><Content>`` holds ``<Paragraph Type="...">`` elements in script
order, each with its text in one or more ``<Text>`` runs (one per style change, so they are
joined). Scene headings carry their scene number in ``Number`` and may hold a scene summary in
``<SceneProperties><Summary>``; dual dialogue is a paragraph holding a ``<DualDialogue>`` with
the two speeches' paragraphs inside.

Script notes come in two shapes: older files (and converters) put a ``<ScriptNote>`` inside
the paragraph it is about; Final Draft 10+ lists them in ``<ScriptNotes>`` after the content,
each with ``Range="start,end"``, character offsets into the script's text in which every
paragraph counts its text plus one for its break, and an embedded block (dual dialogue, an
omitted scene) counts two. A note whose text starts with ``SHOT:`` is an explicit shot note,
like Fountain's ``[[SHOT: ...]]``; literal ``[[...]]`` notes typed in the text count too.

The XML is read by the standard library's expat through ElementTree's TreeBuilder, which also
gives each paragraph its source line. A DOCTYPE or ENTITY declaration is refused before and
while parsing: Final Draft never writes one, and entities are how XML files expand to
gigabytes or pull in other files.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from bisect import bisect_right
from dataclasses import dataclass, field
from xml.parsers import expat

from app.script.model import DialogueLine, ScriptDocument
from app.script.shots import Element, ScriptReadError, build_scenes, dialogue_block, shot_note_description, split_cue

# Paragraph types Final Draft shows in capitals when the file has no ElementSettings to say.
_DEFAULT_CAPS = frozenset({"Scene Heading", "Character", "Transition", "Shot"})
_SPEECH = frozenset({"Character", "Parenthetical", "Dialogue", "Singing"})
# Structure, not content: no shot, no note.
_STRUCTURE = frozenset({"New Act", "End of Act", "Act Break", "Cast List", "Outline", "Outline 1", "Outline 2"})
_DECLARATION_RE = re.compile(r"<!(DOCTYPE|ENTITY)\b", re.IGNORECASE)
_INLINE_NOTE_RE = re.compile(r"\[\[((?:[^\]]|\](?!\]))*)\]\]")


class _Refused(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def parse_fdx(text: str, name: str = "script.fdx") -> ScriptDocument:
    """A Final Draft file's text as a ScriptDocument; ScriptError names the line when it can't be read."""
    _refuse_declarations(text, name)
    root, lines = _parse_xml(text, name)
    if root.tag != "FinalDraft":
        raise ScriptReadError(
            f"{name} is XML but not a Final Draft script: its root element is <{root.tag}>, not <FinalDraft>. "
            "Export the script from your writing app as Final Draft (.fdx) or Fountain.",
            lines.get(root),
        )
    content = root.find("Content")
    if content is None:
        raise ScriptReadError(f"{name} is a Final Draft file with no <Content>: it holds no script to import.")
    reader = _Reader(lines, _caps_types(root))
    paragraphs = [p for p in content if p.tag == "Paragraph"]
    notes = _range_notes(root, paragraphs, lines, reader.warnings)
    for index, paragraph in enumerate(paragraphs):
        reader.paragraph(paragraph, notes.get(index, []))
    reader.end_speech()
    scenes, warnings = build_scenes(reader.elements)
    return ScriptDocument(
        title=_title(root), scenes=scenes, source_format="fdx", warnings=tuple(reader.warnings) + warnings
    )


def _refuse_declarations(text: str, name: str) -> None:
    m = _DECLARATION_RE.search(text)
    if m:
        line = text.count("\n", 0, m.start()) + 1
        raise ScriptReadError(
            f"{name} line {line}: the file declares a {m.group(1).upper()}, which Final Draft never writes; "
            "Pinframe refuses it because XML declarations can expand to huge text or read other files. "
            "Re-export the script from Final Draft.",
            line,
        )


def _parse_xml(text: str, name: str) -> tuple[ET.Element, dict[ET.Element, int]]:
    builder = ET.TreeBuilder()
    lines: dict[ET.Element, int] = {}
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def start(tag: str, attrs: dict[str, str]) -> None:
        lines[builder.start(tag, attrs)] = parser.CurrentLineNumber

    def refuse(*_: object) -> None:
        raise _Refused(parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(text, True)
    except _Refused as refused:
        raise ScriptReadError(
            f"{name} line {refused.line}: the file declares a DOCTYPE or ENTITY, which Final Draft never writes; "
            "Pinframe refuses it. Re-export the script from Final Draft.",
            refused.line,
        ) from None
    except expat.ExpatError as e:
        raise ScriptReadError(
            f"{name} line {e.lineno}, column {e.offset + 1}: the file is not well-formed XML "
            f"({expat.ErrorString(e.code)}), so it is damaged or not a Final Draft file. "
            "Open it in Final Draft and save it again, or export it as Fountain.",
            e.lineno,
        ) from None
    return builder.close(), lines


def _caps_types(root: ET.Element) -> frozenset[str]:
    settings = root.findall("ElementSettings")
    if not settings:
        return _DEFAULT_CAPS
    caps = set()
    for s in settings:
        font = s.find("FontSpec")
        if font is not None and "AllCaps" in font.get("Style", ""):
            caps.add(s.get("Type", ""))
    return frozenset(caps)


def _text(paragraph: ET.Element, upper: bool = False) -> str:
    """The paragraph's own text: its direct <Text> runs joined (not text inside notes or summaries)."""
    runs = []
    for run in paragraph.findall("Text"):
        piece = "".join(run.itertext())
        runs.append(piece.upper() if upper or "AllCaps" in run.get("Style", "") else piece)
    return "".join(runs).strip()


def _note_text(note: ET.Element) -> str:
    """A script note's text: the <Text> of the paragraphs inside it."""
    texts = [_text(p) for p in note.iter("Paragraph")]
    return " ".join(t for t in texts if t)


def _title(root: ET.Element) -> str:
    page = root.find("TitlePage/Content")
    if page is None:
        return ""
    # Final Draft's title page is free text; its first non-empty line is the title.
    return next((t for t in (_text(p) for p in page.iter("Paragraph")) if t), "")


def _range_notes(
    root: ET.Element, paragraphs: list[ET.Element], lines: dict[ET.Element, int], warnings: list[str]
) -> dict[int, list[str]]:
    """Final Draft 10+ notes (``<ScriptNotes>``), by the index of the paragraph each starts in."""
    holder = root.find("ScriptNotes")
    if holder is None:
        return {}
    ends = []  # offset just past each paragraph's break
    offset = 0
    for p in paragraphs:
        blocks = sum(1 for child in p if child.tag in ("DualDialogue", "OmittedScene"))
        offset += len(_text(p)) + 2 * blocks + 1
        ends.append(offset)
    found: dict[int, list[str]] = {}
    for note in holder.findall("ScriptNote"):
        text = _note_text(note)
        m = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*", note.get("Range", ""))
        if not text:
            continue
        if m is None or not paragraphs:
            warnings.append(f"line {lines.get(note, 0)}: script note '{text[:40]}' has no readable position; skipped")
            continue
        start = int(m.group(1))
        index = min(bisect_right(ends, start), len(paragraphs) - 1)
        found.setdefault(index, []).append(text)
    return found


@dataclass
class _Reader:
    lines: dict[ET.Element, int]
    caps: frozenset[str]
    elements: list[Element] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The speech being read: its cue paragraph's line and its parts, and the notes on it.
    _cue: tuple[str, int] | None = None
    _parts: list[tuple[str, str]] = field(default_factory=list)
    _after: list[Element] = field(default_factory=list)
    _unknown: set[str] = field(default_factory=set)

    def paragraph(self, p: ET.Element, range_notes: list[str]) -> None:
        kind = p.get("Type", "")
        line = self.lines.get(p, 0)
        dual = p.find("DualDialogue")
        if dual is not None:
            self.end_speech()
            before, after = self._notes(p, range_notes)
            self.elements.extend(before)
            self._dual(dual)
            self.elements.extend(after)
            return
        text = _text(p, upper=kind in self.caps)
        text, inline = _strip_inline_notes(text)
        before, after = self._notes(p, range_notes, inline)
        if kind in _SPEECH and not (kind == "Singing" and self._cue is None):
            if kind == "Character":
                self.end_speech()
                self._cue = (text, line)
            elif self._cue is None:  # a line with no cue above it: keep its words as action
                self.elements.extend([*before, Element("action", text, line), *after])
                return
            else:
                self._parts.append(("parenthetical" if kind == "Parenthetical" else "line", text))
            # Notes on any paragraph of a speech go around the whole speech.
            self.elements.extend(before)
            self._after.extend(after)
            return
        self.end_speech()
        self.elements.extend(before)
        self.elements.extend(self._element(p, kind, text, line))
        self.elements.extend(after)

    def _element(self, p: ET.Element, kind: str, text: str, line: int) -> list[Element]:
        if kind.startswith("Scene Heading"):
            if not text:  # an empty heading paragraph names no scene
                return []
            out = [Element("heading", text, line, number=p.get("Number", ""))]
            summary = " ".join(t for t in (_text(q) for q in p.findall("SceneProperties/Summary/Paragraph")) if t)
            return out + ([Element("synopsis", summary, line)] if summary else [])
        if not text:
            return []
        if kind in ("Action", "General", ""):
            centered = p.get("Alignment") == "Center"
            return [Element("centered" if centered else "action", text, line)]
        if kind == "Transition":
            return [Element("transition", text, line)]
        if kind == "Shot":
            return [Element("shot", text, line)]
        if kind == "Singing":
            return [Element("lyrics", text, line)]
        if kind in _STRUCTURE:
            return [Element("section", text, line)]
        if kind not in self._unknown:
            self._unknown.add(kind)
            self.warnings.append(f"line {line}: paragraph type '{kind}' is not a screenplay element; read as action")
        return [Element("action", text, line)]

    def _notes(
        self, p: ET.Element, range_notes: list[str], inline: list[str] | None = None
    ) -> tuple[list[Element], list[Element]]:
        """Notes on a paragraph: shot notes (which open the shot it is in) and the others.

        Each takes the paragraph's line: that is where the shot is, wherever the note is stored.
        """
        line = self.lines.get(p, 0)
        texts = [_note_text(n) for n in p.findall("ScriptNote")] + (inline or []) + range_notes
        before: list[Element] = []
        after: list[Element] = []
        for text in texts:
            if text:
                is_shot = shot_note_description(text) is not None
                (before if is_shot else after).append(Element("note", text, line))
        return before, after

    def _dual(self, dual: ET.Element) -> None:
        speeches: list[tuple[str, list[tuple[str, str]]]] = []
        line = 0
        for q in dual.findall("Paragraph"):
            kind = q.get("Type", "")
            text = _text(q, upper=kind in self.caps)
            if kind == "Character":
                speeches.append((text, []))
                line = line or self.lines.get(q, 0)
            elif speeches and kind in _SPEECH:
                speeches[-1][1].append(("parenthetical" if kind == "Parenthetical" else "line", text))
        lines: list[DialogueLine] = []
        for n, (cue, parts) in enumerate(speeches):
            name, extension, _ = split_cue(cue)
            lines.extend(dialogue_block(name, extension, n > 0, parts))
        if lines:
            self.elements.append(Element("dialogue", line=line, dialogue=tuple(lines)))

    def end_speech(self) -> None:
        if self._cue is None:
            return
        cue, line = self._cue
        name, extension, dual = split_cue(cue)
        speech = dialogue_block(name, extension, dual, self._parts)
        self.elements.append(Element("dialogue", line=line, dialogue=speech))
        self.elements.extend(self._after)
        self._cue, self._parts, self._after = None, [], []


def _strip_inline_notes(text: str) -> tuple[str, list[str]]:
    """The text without literal ``[[notes]]`` typed in it (converters from Fountain leave them), and the notes."""
    notes = [m.group(1).strip() for m in _INLINE_NOTE_RE.finditer(text)]
    if not notes:
        return text, []
    return " ".join(_INLINE_NOTE_RE.sub(" ", text).split()), notes
