"""File checks for the smoke test: is each exported file really what its name says?

Standard library only (the smoke test must not lean on the packages the bundle carries).
Each check returns a list of problems, empty when the file is right.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CFB_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # AAF is a Microsoft structured-storage file
MXF_PARTITION_KEY = bytes.fromhex("060e2b34020501010d010201")  # SMPTE 377 partition pack, first bytes


class StepFailed(Exception):
    pass


class StepSkipped(Exception):
    """The step can't run here (a tool is missing); says what would let it run."""


def _head(path: Path, n: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def exists(path: Path, min_bytes: int = 1) -> list[str]:
    if not path.is_file():
        return [f"{path.name}: missing"]
    if path.stat().st_size < min_bytes:
        return [f"{path.name}: {path.stat().st_size} bytes, expected at least {min_bytes}"]
    return []


def quicktime(path: Path) -> list[str]:
    """.mov/.mp4: an ISO base media file starts with a box whose type is 'ftyp' (or 'wide'/'moov' in old .mov)."""
    problems = exists(path, 1000)
    if not problems and _head(path, 8)[4:8] not in (b"ftyp", b"wide", b"moov", b"mdat"):
        problems.append(f"{path.name}: not a QuickTime/MP4 file")
    return problems


def mxf(path: Path) -> list[str]:
    problems = exists(path, 1000)
    if not problems and not _head(path, 12).startswith(MXF_PARTITION_KEY):
        problems.append(f"{path.name}: not an MXF file (no header partition pack)")
    return problems


def png(path: Path) -> list[str]:
    problems = exists(path, 60)
    if not problems and _head(path, 8) != PNG_MAGIC:
        problems.append(f"{path.name}: not a PNG")
    return problems


def xml_root(path: Path, tag: str) -> list[str]:
    problems = exists(path)
    if problems:
        return problems
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        return [f"{path.name}: not XML ({exc})"]
    return [] if root.tag == tag else [f"{path.name}: root element <{root.tag}>, expected <{tag}>"]


def clip_count(path: Path, expected: int) -> list[str]:
    """FCP7 XML: one <clipitem> per shot in the video track."""
    clips = ET.parse(path).getroot().findall(".//video/track/clipitem")
    return [] if len(clips) == expected else [f"{path.name}: {len(clips)} video clips, expected {expected}"]


def edl(path: Path, events: int) -> list[str]:
    problems = exists(path)
    if problems:
        return problems
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines or not lines[0].startswith("TITLE:"):
        return [f"{path.name}: no TITLE line, not a CMX3600 EDL"]
    found = sum(1 for line in lines if line[:3].isdigit() and " V " in line)
    return [] if found == events else [f"{path.name}: {found} video events, expected {events}"]


def otio(path: Path, clips: int) -> list[str]:
    problems = exists(path)
    if problems:
        return problems
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{path.name}: not JSON ({exc})"]
    if not str(data.get("OTIO_SCHEMA", "")).startswith("Timeline."):
        return [f"{path.name}: OTIO_SCHEMA is {data.get('OTIO_SCHEMA')!r}, expected a Timeline"]
    found = json.dumps(data).count('"OTIO_SCHEMA": "Clip.')
    return [] if found == clips else [f"{path.name}: {found} clips, expected {clips}"]


def otioz(path: Path, movies: int) -> list[str]:
    problems = exists(path)
    if problems:
        return problems
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except zipfile.BadZipFile:
        return [f"{path.name}: not a zip file"]
    if "content.otio" not in names:
        problems.append(f"{path.name}: no content.otio inside")
    inside = [n for n in names if n.startswith("media/")]
    if len(inside) != movies:
        problems.append(f"{path.name}: {len(inside)} media files inside, expected {movies}")
    return problems


def pdf(path: Path) -> list[str]:
    problems = exists(path, 1000)
    if problems:
        return problems
    data = path.read_bytes()
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        return [f"{path.name}: not a complete PDF"]
    return []


def shot_list(path: Path, shots: list[str]) -> list[str]:
    problems = exists(path)
    if problems:
        return problems
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    found = [row.get("Shot", "") for row in rows]
    return [] if found == shots else [f"{path.name}: shots {found}, expected {shots}"]


def aaf(path: Path) -> list[str]:
    problems = exists(path, 10_000)  # it carries the DNxHR media, so it can't be tiny
    if not problems and _head(path, 8) != CFB_MAGIC:
        problems.append(f"{path.name}: not a structured-storage (AAF) file")
    return problems
