"""Reading a screenplay file: pick the parser by extension and refuse what isn't a script.

Every failure is a :class:`ScriptError` whose message names the file (and the line where there
is one) and says what to do; nothing here raises a bare OSError, UnicodeError or XML error.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from pathlib import Path

from app.errors import ScriptError
from app.script.fdx import parse_fdx
from app.script.fountain import parse_fountain
from app.script.model import ScriptDocument
from app.script.shots import ScriptReadError

__all__ = [
    "FORMATS",
    "MAX_SCRIPT_BYTES",
    "FileTooBig",
    "NotARegularFile",
    "ScriptError",
    "ScriptReadError",
    "decode_script",
    "read_limited",
    "read_script",
    "read_script_text",
]

# A feature film in Fountain is about 200 KB; 20 MB leaves room for anything real (Final Draft
# XML is verbose) and keeps a wrong pick (a video, a disk image) from being read into memory.
# Fountain text is bounded more tightly, by what fountain-py reads in a few seconds (fountain.py).
MAX_SCRIPT_BYTES = 20 * 1024 * 1024
FORMATS: dict[str, str] = {".fountain": "fountain", ".spmd": "fountain", ".txt": "fountain", ".fdx": "fdx"}
_EXPORT_HINT = "Export the script from your writing app as Fountain (.fountain) or Final Draft (.fdx) and import that."

# File signatures of things people pick by mistake.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (Word .docx, Highland and Fade In files are ZIP archives too)"),
    (b"{\\rtf", "an RTF document"),
    (b"\xd0\xcf\x11\xe0", "a Microsoft Office document"),
)
# Byte-order marks, longest first (UTF-32 LE starts like UTF-16 LE).
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_XML_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def read_script(path: str | Path) -> ScriptDocument:
    """The screenplay at ``path`` (Fountain: .fountain, .spmd, .txt; Final Draft: .fdx)."""
    path = Path(path)
    name = str(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        kinds = ", ".join(FORMATS)
        what = f"has the extension '{path.suffix}'" if path.suffix else "has no extension"
        raise ScriptReadError(f"{name} {what}; Pinframe imports screenplays ending in {kinds}. {_EXPORT_HINT}")
    too_big = (
        f"Pinframe reads screenplays up to {MAX_SCRIPT_BYTES // 1024 // 1024} MB (a feature film is well under 1 MB). "
        "Check that this is the script."
    )
    try:
        data = read_limited(path, MAX_SCRIPT_BYTES)
        if len(data) > MAX_SCRIPT_BYTES:
            raise ScriptReadError(f"{name} is over {MAX_SCRIPT_BYTES // 1024 // 1024} MB; {too_big}")
    except FileTooBig as e:
        raise ScriptReadError(f"{name} is {e.size / 1024 / 1024:.1f} MB; {too_big}") from None
    except IsADirectoryError:
        raise ScriptReadError(f"{name} is a folder, not a screenplay file; pick the script file inside it.") from None
    except NotARegularFile as e:
        raise ScriptReadError(
            f"{name} is {e.kind}, not a file; Pinframe reads screenplays from ordinary files. Pick the script file."
        ) from None
    except FileNotFoundError:
        raise ScriptReadError(f"{name} was not found; check the path and the file name.") from None
    except PermissionError:
        raise ScriptReadError(f"{name} can't be read: permission denied. Check the file's permissions.") from None
    except OSError as e:
        raise ScriptReadError(f"{name} can't be read: {e.strerror or e}. Check the file and try again.") from None
    return read_script_text(decode_script(data, name, fmt), fmt, name)


class NotARegularFile(OSError):
    """A path that names a device, a pipe or a socket: reading one may never end."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class FileTooBig(OSError):
    """A file known to be over the limit from its size, so it was not read."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


_SPECIAL_FILES = (
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a disk device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def read_limited(path: str | Path, limit: int) -> bytes:
    """The bytes of the ordinary file at ``path``, at most ``limit + 1`` of them: more than
    ``limit`` means the file is too big (it grew after it was measured).

    The file's size is not trusted: a link to /dev/zero reports 0 bytes and never ends, and
    opening a FIFO waits for a writer. So a device, pipe or socket is refused before it is
    opened (:class:`NotARegularFile`), and again after, in case the path changed between;
    a file known to be over ``limit`` raises :class:`FileTooBig` unread. A folder raises
    IsADirectoryError; other OSErrors pass through.
    """
    _check_regular(os.stat(path))
    # O_NONBLOCK: should the path become a FIFO after the check, opening it doesn't wait.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as f:
        _check_regular(os.fstat(f.fileno()))
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise FileTooBig(size)
        return f.read(limit + 1)


def _check_regular(info: os.stat_result) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError("is a folder")
    for test, kind in _SPECIAL_FILES:
        if test(info.st_mode):
            raise NotARegularFile(kind)
    if not stat.S_ISREG(info.st_mode):
        raise NotARegularFile("not an ordinary file")


def decode_script(data: bytes, name: str, fmt: str = "fountain") -> str:
    """Text of a script file: UTF-8 (with or without BOM), UTF-16/32 with a BOM, or the encoding
    an .fdx declares. Anything else is refused with the offset and line of the first bad byte."""
    if not data.strip():
        raise ScriptReadError(f"{name} is empty; there is no script in it to import.")
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise ScriptReadError(f"{name} is {what}, not a screenplay. {_EXPORT_HINT}")
    codec, label, start = "utf-8", "UTF-8", 0
    for bom, bom_codec, bom_label in _BOMS:
        if data.startswith(bom):
            codec, label, start = bom_codec, bom_label, len(bom)
            break
    else:
        declared = _XML_ENCODING_RE.match(data[:200]) if fmt == "fdx" else None
        if declared:
            codec, label = _known_codec(declared.group(1).decode("ascii")) or (codec, label)
        if codec == "utf-8" and b"\x00" in data:
            offset = data.index(b"\x00")
            raise ScriptReadError(
                f"{name} holds binary data (a zero byte at offset {offset}), not screenplay text. "
                f"If it is text in UTF-16 without a byte-order mark, save it as UTF-8. {_EXPORT_HINT}"
            )
    try:
        text = data[start:].decode(codec)
    except UnicodeDecodeError as e:
        offset = start + e.start
        line = data[start:offset].decode(codec, errors="replace").count("\n") + 1
        legacy = ""
        if codec == "utf-8" and _decodes(data, "cp1252"):
            legacy = " It looks like a legacy encoding such as Windows-1252 or Latin-1."
        raise ScriptReadError(
            f"{name} line {line}: byte 0x{data[offset]:02X} at offset {offset} is not valid {label} text.{legacy} "
            "Save the script as UTF-8 (in most editors: Save As, Encoding: UTF-8) and import it again.",
            line,
        ) from None
    if not text.strip():
        raise ScriptReadError(f"{name} is empty; there is no script in it to import.")
    return text


def _known_codec(declared: str) -> tuple[str, str] | None:
    try:
        return codecs.lookup(declared).name, declared.upper()
    except LookupError:
        return None


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def read_script_text(text: str, fmt: str, name: str = "script") -> ScriptDocument:
    """A screenplay from text already in memory (``fmt``: "fountain" or "fdx"), checked like a file."""
    if fmt not in ("fountain", "fdx"):
        raise ScriptReadError(f"{name}: unknown script format '{fmt}'; use 'fountain' or 'fdx'.")
    if len(text) > MAX_SCRIPT_BYTES:
        raise ScriptReadError(
            f"{name} is {len(text) / 1024 / 1024:.1f} million characters; Pinframe reads screenplays up to "
            f"{MAX_SCRIPT_BYTES // 1024 // 1024} MB. Check that this is the script."
        )
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ScriptReadError(f"{name} is empty; there is no script in it to import.")
    _refuse_other_formats(text, name, fmt)
    document = parse_fountain(text, name) if fmt == "fountain" else parse_fdx(text, name)
    if not any(scene.heading for scene in document.scenes) and not any(
        shot.dialogue for scene in document.scenes for shot in scene.shots
    ):
        how = (
            "no Scene Heading and no Dialogue paragraphs"
            if fmt == "fdx"
            else "no scene headings (lines starting with INT. or EXT.) and no dialogue"
        )
        raise ScriptReadError(
            f"{name} doesn't look like a screenplay: it has {how}. If it is a Fountain script, put a blank line "
            "before and after each scene heading, or force one with a leading '.' (.FLASHBACK)."
            if fmt == "fountain"
            else f"{name} doesn't look like a screenplay: it has {how}. Open it in Final Draft and check the "
            "paragraph types."
        )
    return document


def _refuse_other_formats(text: str, name: str, fmt: str) -> None:
    """Clear words for a data file picked by mistake, rather than "no scene headings"."""
    head = text.lstrip()[:200]
    if head[:1] in "{[":
        try:
            json.loads(text)
        except ValueError:
            pass
        else:
            raise ScriptReadError(f"{name} is JSON data, not a screenplay. {_EXPORT_HINT}")
    if fmt == "fountain" and head.startswith("<"):
        if "<FinalDraft" in text[:4096]:
            raise ScriptReadError(
                f"{name} is a Final Draft file with a Fountain extension; rename it to end in .fdx and import it again."
            )
        if re.match(r"<(\?xml|!doctype html|html)\b", head, re.IGNORECASE):
            raise ScriptReadError(f"{name} is XML or HTML, not a Fountain screenplay. {_EXPORT_HINT}")
