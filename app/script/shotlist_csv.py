"""Reading a shot list CSV back as a script: the export's own columns, or a hand-made sheet.

The result is a :class:`ScriptDocument` whose shots carry the decisions a person already made
(number, duration, prompt, camera), so the script importer treats a shot list like a
screenplay and the round trip export -> edit in a spreadsheet -> import keeps every field.

Columns are matched case-insensitively, ignoring ``.``, ``:`` and ``_``; see ``COLUMN_ALIASES``.
Rows form scenes by their Scene number, or by Heading where no number is given; a row with
neither belongs to the scene above it (sheets often fill the scene in only on its first shot).
A blank Prompt cell means nobody wrote one (``prompt=None``), so the importer drafts it.

Encoding: UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's "Unicode text"),
and Windows-1252 when the bytes aren't UTF-8, since that is what Excel on Western Windows
writes for plain "CSV"; the document then carries a warning saying so. Separators: comma,
semicolon (Excel in locales with a decimal comma) or tab, whichever makes the header row
match the most known columns; an Excel ``sep=;`` first line is honoured.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from app.document import CAMERA_ANGLES, SHOT_SIZES
from app.errors import ScriptError, TimecodeError
from app.export.shotlist import FORMULA_GUARD, needs_formula_guard
from app.script.model import DialogueLine, ScriptDocument, ScriptScene, ScriptShot, parse_heading
from app.script.read import FileTooBig, NotARegularFile, read_limited
from app.timecode import FrameRate, parse_duration

MAX_BYTES = 32 * 1024 * 1024  # ~30,000 rows of long text; anything bigger is the wrong file
MAX_ERRORS_SHOWN = 10
HEADER_SEARCH_ROWS = 10  # a sheet may have a title or a blank line or two above its header


# Canonical field -> header spellings (normalized: lower case, no ".", ":" or "_", single spaces).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "number": ("shot", "shot #", "#", "shot no", "shot number", "shot num", "shot nr", "shot id", "number", "no"),
    "scene": ("scene", "scene #", "scene no", "scene number", "scene num", "scene nr", "sc"),
    "heading": ("heading", "scene heading", "slugline", "slug line", "slug"),
    "action": ("action", "description", "shot description", "desc", "what we see", "visual", "visuals"),
    "dialogue": ("dialogue", "dialog", "lines"),
    "notes": ("notes", "note", "comments", "comment", "remarks"),
    "prompt": ("prompt", "image prompt", "keyframe prompt"),
    "negative_prompt": ("negative prompt", "negative"),
    "duration_frames": ("duration (frames)", "frames", "length (frames)", "duration frames", "frame count"),
    "duration": ("duration", "length", "dur", "running time"),
    "duration_seconds": ("duration (seconds)", "duration (s)", "duration (sec)", "duration seconds", "seconds",
                         "secs", "length (s)", "length (seconds)"),
    "duration_timecode": ("duration (timecode)", "duration (tc)", "duration timecode", "timecode duration"),
    "size": ("size", "shot size", "shot type", "type", "framing"),
    "angle": ("angle", "camera angle"),
    "lens": ("lens", "lens (mm)", "lens mm", "focal length", "focal length (mm)", "mm"),
    "move": ("move", "movement", "camera move", "camera movement", "camera motion"),
}  # fmt: skip
# Columns the export writes that describe the cut, not the shot; read past without a warning.
EXPORT_ONLY_COLUMNS = frozenset({"record in", "record out", "handles", "pins (frames)", "source", "movie"})
# The first filled duration column in this order is the shot's duration; the others are checked against it.
_DURATION_ORDER = ("duration_frames", "duration", "duration_seconds", "duration_timecode")
_DESCRIBING = ("number", "action", "prompt", "dialogue")

_SIZE_ALIASES = {
    "els": "EWS", "xws": "EWS", "vws": "EWS", "extreme long": "EWS", "very wide": "EWS",
    "ls": "WS", "long": "WS", "full body": "FS", "mls": "MWS", "medium long": "MWS", "medium full": "MWS",
    "cowboy": "MWS", "mid": "MS", "closeup": "CU", "close": "CU", "medium closeup": "MCU",
    "xcu": "ECU", "bcu": "ECU", "extreme closeup": "ECU", "big close up": "ECU",
    "over shoulder": "OTS", "point of view": "POV", "insert": "INS", "two": "2S", "2": "2S", "2 shot": "2S",
}  # fmt: skip
_ANGLE_ALIASES = {
    "eye": "eye level", "eyelevel": "eye level", "birds eye": "overhead", "top down": "overhead", "top": "overhead",
    "worms eye": "worm's eye", "dutch tilt": "dutch", "canted": "dutch", "drone": "aerial",
}  # fmt: skip


def _norm_header(text: str) -> str:
    text = re.sub(r"[.:]", "", text.replace("\ufeff", "").casefold()).replace("_", " ")
    return " ".join(text.split())


def _norm_value(text: str, suffixes: tuple[str, ...]) -> str:
    text = text.casefold().replace("’", "'").replace("'", "").replace(".", "")
    text = " ".join(re.sub(r"[-_/]", " ", text).split())
    for suffix in suffixes:
        text = text.removesuffix(f" {suffix}")
    return text


_HEADER_FIELDS = {alias: name for name, aliases in COLUMN_ALIASES.items() for alias in aliases}
_SIZE_LOOKUP = {_norm_value(k, ("shot",)): k for k in SHOT_SIZES if k}
_SIZE_LOOKUP |= {_norm_value(v, ("shot",)): k for k, v in SHOT_SIZES.items() if k}
_SIZE_LOOKUP |= _SIZE_ALIASES
_ANGLE_SUFFIXES = ("angle", "shot", "view")
_ANGLE_LOOKUP = {_norm_value(a, _ANGLE_SUFFIXES): a for a in CAMERA_ANGLES if a} | _ANGLE_ALIASES


@dataclass
class _Row:
    """Where a row sits, for messages: the spreadsheet row (header = 1 when it is first) and file line."""

    row: int
    line: int
    cells: dict[str, str]
    columns: dict[str, str]  # field -> header as written

    def where(self, name: str, column: str | None = None) -> str:
        at = f"{name}, row {self.row}" + (f" (line {self.line})" if self.line != self.row else "")
        return at + (f", column '{self.columns[column]}'" if column else "")


@dataclass
class _SceneDraft:
    number: str
    heading: str
    line: int
    shots: list[ScriptShot] = field(default_factory=list)
    last_row: int = 0


def read_shot_list_csv(source: str | os.PathLike[str] | bytes, rate: FrameRate, *, name: str = "") -> ScriptDocument:
    """Read a shot list. ``source`` is a file path, the file's bytes, or CSV text (a str with a line break).

    ``rate`` turns seconds and timecode into frames. ``name`` labels messages (default: the file name).
    """
    data, name = _load(source, name)
    text, warnings = _decode(data, name)
    return _parse(text, rate, name, warnings)


def _load(source: str | os.PathLike[str] | bytes, name: str) -> tuple[bytes, str]:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str) and ("\n" in source or "\r" in source):
        return source.encode("utf-8"), name or "the shot list"
    else:
        path = Path(source)
        name = name or path.name
        try:
            data = read_limited(path, MAX_BYTES)  # at most MAX_BYTES + 1: the size of a device or pipe lies
        except FileTooBig as exc:
            raise ScriptError(
                f"{name} is {exc.size / 2**20:.0f} MB; a shot list is rarely over {MAX_BYTES // 2**20} MB, "
                "so this is probably not one. Choose the shot list CSV."
            ) from None
        except NotARegularFile as exc:
            raise ScriptError(f"{path} is {exc.kind}, not a file; choose the shot list CSV file") from None
        except FileNotFoundError:
            raise ScriptError(f"{path} does not exist; check the path and import again") from None
        except IsADirectoryError:
            raise ScriptError(f"{path} is a folder; choose the shot list CSV file inside it") from None
        except OSError as exc:
            raise ScriptError(f"{path} can't be read ({exc.strerror or exc}); check it and import again") from None
    if len(data) > MAX_BYTES:
        raise ScriptError(f"{name or 'the shot list'} is over {MAX_BYTES // 2**20} MB; that is not a shot list")
    return data, name or "the shot list"


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise ScriptError(
                f"{name} says it is UTF-16 text but isn't; save it as 'CSV UTF-8' and import again"
            ) from None
    if data.startswith(b"PK\x03\x04"):
        raise ScriptError(f"{name} is a zip file (an Excel or Numbers workbook?); save it as 'CSV UTF-8' first")
    if b"\x00" in data[:65536]:
        raise ScriptError(f"{name} is not a CSV file: it holds binary data. Export the shot list as CSV")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise ScriptError(
            f"{name}, line {line}: the text is neither UTF-8 nor Windows-1252; save it as 'CSV UTF-8' and import again"
        ) from None
    line = data[: utf8_error.start].count(b"\n") + 1
    return text, [
        f"{name} is not UTF-8 (first at line {line}); read it as Windows-1252, as Excel writes it. "
        "If letters look wrong, save the sheet as 'CSV UTF-8' and import again."
    ]


def _match_header(header: list[str]) -> dict[int, str]:
    return {i: _HEADER_FIELDS[_norm_header(h)] for i, h in enumerate(header) if _norm_header(h) in _HEADER_FIELDS}


def _first_rows(text: str, delimiter: str) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            if any(c.strip() for c in row):
                rows.append(row)
            if len(rows) == HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        pass
    return rows


def _choose_delimiter(text: str) -> tuple[str, str, int]:
    """(delimiter, text without an Excel ``sep=`` line, lines removed)."""
    sep = re.match(r"\A\s*sep=(.)[ \t]*\r?\n", text)
    if sep:
        return sep.group(1), text[sep.end() :], 1
    best = max((",", ";", "\t"), key=lambda d: max((len(_match_header(r)) for r in _first_rows(text, d)), default=0))
    return best, text, 0


def _records(text: str, name: str) -> list[tuple[int, int, list[str]]]:
    """(spreadsheet row, first file line, cells) of every non-blank row."""
    delimiter, text, line_offset = _choose_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    records: list[tuple[int, int, list[str]]] = []
    row = 0
    try:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            row += 1  # blank rows count: a spreadsheet shows them too
            if any(c.strip() for c in cells):
                records.append((row, line + line_offset, cells))
    except csv.Error as exc:
        raise ScriptError(
            f"{name}, line {reader.line_num + line_offset}: {exc}. The quoting is broken (a stray '\"'?) "
            "or this is not a CSV file."
        ) from None
    return records


def _parse(text: str, rate: FrameRate, name: str, warnings: list[str]) -> ScriptDocument:
    records = _records(text, name) if text.strip() else []
    if not records:
        raise ScriptError(
            f"{name} is empty; a shot list needs a header row (Shot, Scene, Action...) and one row a shot"
        )
    position = _header_position(records, name)
    if position:
        warnings.append(f"{name}: skipped {position} row(s) above the header row (row {records[position][0]})")
    header = records[position][2]
    columns = _columns(header, name, warnings)

    errors: list[str] = []
    scenes: dict[str, _SceneDraft] = {}
    current: _SceneDraft | None = None
    seen_numbers: dict[str, int] = {}
    for row_number, line, cells in records[position + 1 :]:
        row = _Row(row_number, line, {}, {f: header[i].strip() for f, i in columns.items()})
        for f, i in columns.items():
            row.cells[f] = (
                _unguard(cells[i].replace("\r\n", "\n").replace("\r", "\n").strip()) if i < len(cells) else ""
            )
        if any(c.strip() for c in cells[len(header) :]):
            warnings.append(f"{row.where(name)} has more cells than the header has columns; ignored the extra ones")
        try:
            shot = _shot(row, rate, name, warnings)
            current = _scene_for(row, scenes, current, name, warnings)
        except ScriptError as exc:
            errors.append(str(exc))
            continue
        current.shots.append(shot)
        current.last_row = row.row
        if shot.number in seen_numbers:
            warnings.append(f"{row.where(name)}: shot {shot.number} is also on row {seen_numbers[shot.number]}; "
                            "the import gives this one a new number")  # fmt: skip
        elif shot.number:
            seen_numbers[shot.number] = row.row
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise ScriptError("; ".join(errors[:MAX_ERRORS_SHOWN]) + more + ". Fix the sheet and import again.")
    if not scenes:
        raise ScriptError(f"{name} has a header but no shots; add one row a shot")
    doc_scenes = tuple(
        ScriptScene(heading=d.heading, number=d.number, shots=tuple(d.shots), line_number=d.line)
        for d in scenes.values()
    )
    title = Path(name).stem if name != "the shot list" else ""
    return ScriptDocument(title=title, scenes=doc_scenes, source_format="csv", warnings=tuple(warnings))


def _header_position(records: list[tuple[int, int, list[str]]], name: str) -> int:
    """Index of the header: the first row naming shot columns (a title row above it is common)."""
    for position, (_, _, cells) in enumerate(records[:HEADER_SEARCH_ROWS]):
        if {"number", "action", "prompt"} & set(_match_header(cells).values()):
            return position
    shown = ", ".join(repr(h.strip()) for h in records[0][2][:6] if h.strip())
    raise ScriptError(
        f"{name} is not a shot list: its first row has {shown}, none of which names shots. "
        "Give it a header row with at least Shot or Action (see the shot list the export writes)."
    )


def _columns(header: list[str], name: str, warnings: list[str]) -> dict[str, int]:
    """Field -> column index; unknown and doubled columns become warnings."""
    columns: dict[str, int] = {}
    for i, f in _match_header(header).items():
        if f in columns:
            first, what = header[columns[f]].strip(), f.replace("_", " ")
            warnings.append(f"{name}: columns '{first}' and '{header[i].strip()}' both give the {what}; used '{first}'")
        else:
            columns[f] = i
    known = set(_match_header(header))
    ignored = [h.strip() for i, h in enumerate(header)
               if i not in known and h.strip() and _norm_header(h) not in EXPORT_ONLY_COLUMNS]  # fmt: skip
    if ignored:
        warnings.append(f"{name}: ignored column(s) {', '.join(repr(h) for h in ignored)}")
    return columns


def _scene_for(row: _Row, scenes: dict[str, _SceneDraft], current: _SceneDraft | None, name: str,
               warnings: list[str]) -> _SceneDraft:  # fmt: skip
    """The scene a row belongs to.

    A scene number names one scene wherever its rows are. A heading without a number continues
    the scene above when that has the same heading, and otherwise starts a new scene, as a
    repeated heading does in a screenplay. A row with neither continues the scene above.
    """
    number = re.sub(r"^(scene|sc\.?)\s*", "", row.cells.get("scene", ""), flags=re.IGNORECASE)
    heading = row.cells.get("heading", "")
    if number and not heading and parse_heading(number)[0]:
        number, heading = "", number  # a heading written in the Scene column
    same_heading = current is not None and _fold(heading) == _fold(current.heading)
    if not number and (not heading or same_heading):
        if current is None:
            current = scenes.setdefault(f"row {row.row}", _SceneDraft("", heading, row.line))
        return current
    if not number:
        return scenes.setdefault(f"row {row.row}", _SceneDraft("", heading, row.line))
    draft = scenes.get(f"#{_fold(number)}")
    if draft is None:
        draft = scenes[f"#{_fold(number)}"] = _SceneDraft(number, heading, row.line)
        return draft
    if heading and not draft.heading:
        draft.heading = heading
    elif heading and _fold(heading) != _fold(draft.heading):
        raise ScriptError(
            f"{row.where(name, 'heading')}: scene {number} is '{draft.heading}' on an earlier row but '{heading}' "
            "here; give each scene one heading, or the new scene its own number"
        )
    if draft is not current:
        warnings.append(f"{row.where(name)}: scene {number} continues after other scenes; "
                        f"its shots are kept together with those from row {draft.last_row}")  # fmt: skip
    return draft


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _shot(row: _Row, rate: FrameRate, name: str, warnings: list[str]) -> ScriptShot:
    cells = row.cells
    if not any(cells.get(f) for f in _DESCRIBING):
        raise ScriptError(f"{row.where(name)} has no shot number and no description; fill in Shot or Action, "
                          "or delete the row")  # fmt: skip
    prompt = cells.get("prompt", "")
    return ScriptShot(
        action=cells.get("action", ""),
        dialogue=parse_dialogue(cells.get("dialogue", "")),
        notes=cells.get("notes", ""),
        line_number=row.line,
        number=cells.get("number", ""),
        duration=_duration(row, rate, name, warnings),
        # A blank prompt cell means "nobody wrote one": the importer drafts one from the action.
        prompt=prompt or None,
        negative_prompt=cells.get("negative_prompt", ""),
        size=_size(row, name),
        angle=_angle(row, name),
        lens_mm=_lens(row, name),
        move=" ".join(cells.get("move", "").split()),
    )


# --- cells ---------------------------------------------------------------------------------------
def _duration(row: _Row, rate: FrameRate, name: str, warnings: list[str]) -> int | None:
    filled = [f for f in _DURATION_ORDER if row.cells.get(f)]
    if not filled:
        return None
    frames = _duration_cell(row, filled[0], rate, name)
    for other in filled[1:]:
        try:
            check = _duration_cell(row, other, rate, name)
        except ScriptError:
            check = None
        if check != frames:
            warnings.append(
                f"{row.where(name)}: '{row.columns[filled[0]]}' gives {frames} frames but "
                f"'{row.columns[other]}' ({row.cells[other]}) doesn't agree at {rate.label}; used {frames} frames. "
                "Was the sheet made at another frame rate?"
            )
    return frames


def _duration_cell(row: _Row, column: str, rate: FrameRate, name: str) -> int:
    raw = row.cells[column]
    where = row.where(name, column)
    text = raw.strip().lower()
    if text.startswith("-"):
        raise ScriptError(f"{where}: '{raw}' is negative; a shot lasts at least 1 frame")
    if column == "duration_frames":
        if not re.fullmatch(r"\d+(\.0*)?", text):
            raise ScriptError(f"{where}: '{raw}' is not a whole number of frames")
        frames = int(text.split(".")[0])
    elif column == "duration_seconds" or re.fullmatch(r"\d+(?:[.,]\d+)?\s*(s|sec|secs|seconds?)", text):
        number = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(s|sec|secs|seconds?)?", text)
        if not number:
            raise ScriptError(f"{where}: '{raw}' is not a number of seconds (write 2.5 or 2.5s)")
        frames = rate.seconds_to_frames(Fraction(number.group(1).replace(",", ".")))
    elif re.fullmatch(r"\d+[.,]\d+", text):
        raise ScriptError(
            f"{where}: '{raw}' could be seconds or frames; write {text.replace(',', '.')}s for seconds, "
            "a whole number for frames, or timecode like 00:00:02:12"
        )
    else:
        try:
            frames = parse_duration(text, rate)
        except TimecodeError as exc:
            raise ScriptError(f"{where}: {exc}") from None
    if frames < 1:
        raise ScriptError(f"{where}: '{raw}' is {frames} frames at {rate.label}; a shot lasts at least 1 frame")
    return frames


def _size(row: _Row, name: str) -> str:
    raw = row.cells.get("size", "")
    if not raw:
        return ""
    if raw.upper() in SHOT_SIZES:
        return raw.upper()
    found = _SIZE_LOOKUP.get(_norm_value(raw, ("shot",)))
    if found is None:
        allowed = ", ".join(f"{k} ({v})" for k, v in SHOT_SIZES.items() if k)
        raise ScriptError(f"{row.where(name, 'size')}: '{raw}' is not a shot size; use one of {allowed}")
    return found


def _angle(row: _Row, name: str) -> str:
    raw = row.cells.get("angle", "")
    if not raw:
        return ""
    found = _ANGLE_LOOKUP.get(_norm_value(raw, _ANGLE_SUFFIXES))
    if found is None:
        allowed = ", ".join(a for a in CAMERA_ANGLES if a)
        raise ScriptError(f"{row.where(name, 'angle')}: '{raw}' is not a camera angle; use one of {allowed}")
    return found


def _lens(row: _Row, name: str) -> float | None:
    raw = row.cells.get("lens", "")
    if not raw:
        return None
    match = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(mm)?", raw.strip().lower())
    if not match:
        raise ScriptError(
            f"{row.where(name, 'lens')}: '{raw}' is not a focal length; write millimetres like 35 or 35mm"
        )
    value = float(match.group(1).replace(",", "."))
    if not 1 <= value <= 2000:
        raise ScriptError(f"{row.where(name, 'lens')}: {raw} is out of range; give a focal length from 1 to 2000 mm")
    return value


# "ANNA: line", "ANNA (V.O.): line", "ANNA (V.O.) (quietly): line", as DialogueLine.text() writes them.
_SPEAKER_RE = re.compile(r"^(?P<who>[^\W\d_][\w.'’#\- ]{0,39}?)\s*(?P<groups>(?:\([^()]*\)\s*){0,2}):\s+(?P<line>.*)$")
_PAREN_RE = re.compile(r"\(([^()]*)\)")


def parse_dialogue(text: str) -> tuple[DialogueLine, ...]:
    """One :class:`DialogueLine` per non-blank line of a Dialogue cell.

    "NAME: line" names the speaker (up to four words before the colon); a parenthetical group
    in capitals after the name is an extension ("V.O."), otherwise a parenthetical. A line
    without a speaker gets character "".
    """
    lines = []
    for raw in text.splitlines():
        raw = raw.strip()
        if not raw:
            continue
        match = _SPEAKER_RE.match(raw)
        if not match or len(match.group("who").split()) > 4:
            lines.append(DialogueLine("", raw))
            continue
        groups = [g.strip() for g in _PAREN_RE.findall(match.group("groups"))]
        extension = parenthetical = ""
        if len(groups) == 2:
            extension, parenthetical = groups
        elif groups and groups[0] == groups[0].upper() and any(c.isalpha() for c in groups[0]):
            extension = groups[0]
        elif groups:
            parenthetical = groups[0]
        line = match.group("line").strip()
        lead = re.match(r"^\(([^()]*)\)\s*", line)  # "ANNA: (quietly) Who's there?"
        if lead and not parenthetical:
            parenthetical, line = lead.group(1).strip(), line[lead.end() :]
        lines.append(DialogueLine(match.group("who").strip(), line, parenthetical, extension))
    return tuple(lines)


def _unguard(cell: str) -> str:
    """Undo the export's formula guard: one leading ' before what a spreadsheet would run as a formula."""
    if cell.startswith(FORMULA_GUARD) and needs_formula_guard(cell[1:]):
        return cell[1:]
    return cell
