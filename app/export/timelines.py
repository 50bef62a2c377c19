"""Timeline files for editors, written through OpenTimelineIO's adapters.

Each writer is ``write_<format>(plan, export_dir, final_path) -> list[str]``: it writes one
file atomically and returns lines for the export report. Every timeline points at the
per-shot movies, which must already be in ``export_dir``.

Where an adapter leaves something out or gets it wrong, the writer fixes its output rather
than hand-writing the format, and says why next to the fix:

- FCP7 XML: the adapter leaves the sequence ``<format>`` empty, writes clip markers in
  absolute source frames (FCP7 counts them from the start of the media, like a clip's
  ``<in>``), drops marker comments, labels timecode drop-frame by rate alone, and puts a
  ``frameBlend="FALSE"`` attribute on every clip item, which Apple's xmeml v4 and v5 DTDs
  declare neither as an attribute nor as an element (clip items take only ``id``), so the
  file failed validation. Frame blending is off unless asked for, so the attribute is dropped.
- CMX3600 EDL: the adapter infers drop-frame from the rate (29.97 is always written
  drop-frame), starts record timecode at zero whatever the timeline's start, writes no
  ``FCM`` line, derives reel names from file names (``0011Amp4``), and writes names and
  comments as UTF-8 of any length. CMX3600 is 7-bit ASCII in 80-column lines, so every line
  is transliterated (``Ü`` -> ``U``, ``ß`` -> ``ss``, ``—`` -> ``-``; a character with no Latin
  spelling becomes ``?``, never silently dropped) and the title, clip-name and locator lines are
  cut to 80 columns, ending ``...`` where text was cut (the full text is in the FCP7 XML and
  OTIO). The ``* FROM CLIP:`` media URL is the exception: it is percent-encoded ASCII already,
  and a cut URL would point nowhere.

CMX3600 numbers events 001-999. Past 999 the EDL goes on with 1000, 1001... (the adapter's
``{:03d}``), which is what Adobe Premiere Pro writes for long lists (pycmx reads it as its
"long Adobe Premiere event numbers" form; see pycmx's ``tests/edls/adobe_dai109_test.txt``).
Wrapping to 001 instead would give two events one number, which tools that key events by
number (conforms, change lists) would silently merge; a strict 3-digit reader fails loudly
on 1000 instead. The report says so when a cut has more than 999 shots and points such
readers to the FCP7 XML.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import av
import opentimelineio as otio

from app.errors import ExportError
from app.export.files import atomic_file
from app.export.otio_aaf import write_aaf
from app.export.otio_timeline import build_timeline, clip_source_in, marker_text
from app.export.plan import ExportPlan, ExportShot

__all__ = [
    "edl_ascii",
    "edl_reel_name",
    "write_aaf",
    "write_edl",
    "write_fcp7",
    "write_otio",
    "write_otioz",
]

Writer = Callable[[ExportPlan, Path, Path], list[str]]


def check_movies(plan: ExportPlan, export_dir: Path, what: str) -> None:
    """Refuse to write a timeline whose media would be offline."""
    for shot in plan.shots:
        movie = Path(export_dir) / plan.movie_file(shot)
        if not movie.is_file():
            raise ExportError(
                f"can't write the {what}: the movie of shot {shot.number} ({movie}) is missing; "
                "timelines point at the per-shot movies, so export the movies with them"
            )


def _write_text(final_path: Path, text: str) -> None:
    with atomic_file(final_path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


# --- OpenTimelineIO --------------------------------------------------------------------


def write_otio(plan: ExportPlan, export_dir: Path, final_path: Path) -> list[str]:
    check_movies(plan, export_dir, "OpenTimelineIO file")
    timeline = build_timeline(plan, export_dir)
    _write_text(Path(final_path), otio.adapters.write_to_string(timeline, adapter_name="otio_json"))
    return [f"{Path(final_path).name}: OpenTimelineIO timeline, {len(plan.shots)} clips linked to media/"]


def write_otioz(plan: ExportPlan, export_dir: Path, final_path: Path) -> list[str]:
    check_movies(plan, export_dir, "OpenTimelineIO bundle")
    timeline = build_timeline(plan, export_dir)
    with atomic_file(final_path) as tmp:
        try:
            otio.adapters.write_to_file(timeline, str(tmp), adapter_name="otioz")
        except otio.exceptions.OTIOError as exc:
            raise ExportError(f"can't bundle the movies into {Path(final_path).name}: {exc}") from None
    return [f"{Path(final_path).name}: OpenTimelineIO bundle with the {len(plan.shots)} shot movies inside"]


# --- FCP7 XML (xmeml) ------------------------------------------------------------------


def write_fcp7(plan: ExportPlan, export_dir: Path, final_path: Path) -> list[str]:
    check_movies(plan, export_dir, "FCP7 XML")
    timeline = build_timeline(plan, export_dir)
    root = ET.fromstring(otio.adapters.write_to_string(timeline, adapter_name="fcp_xml"))
    _fix_xmeml(root, plan, Path(export_dir))
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    _write_text(Path(final_path), f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n{body}\n')
    return [f"{Path(final_path).name}: FCP7 XML for Premiere Pro and DaVinci Resolve (File > Import)"]


def _xml_bool(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _set_rate(rate_e: ET.Element, plan: ExportPlan) -> None:
    # The adapter derives these from a float rate; set them from the exact one.
    rate_e.clear()
    ET.SubElement(rate_e, "timebase").text = str(plan.rate.timebase)
    ET.SubElement(rate_e, "ntsc").text = _xml_bool(plan.rate.is_ntsc)


def _sample_characteristics(plan: ExportPlan, size: tuple[int, int] | None = None) -> ET.Element:
    width, height = size or (plan.width, plan.height)
    sc = ET.Element("samplecharacteristics")
    _set_rate(ET.SubElement(sc, "rate"), plan)
    ET.SubElement(sc, "width").text = str(width)
    ET.SubElement(sc, "height").text = str(height)
    ET.SubElement(sc, "anamorphic").text = "FALSE"
    ET.SubElement(sc, "pixelaspectratio").text = "square"
    ET.SubElement(sc, "fielddominance").text = "none"
    return sc


def _fix_xmeml(root: ET.Element, plan: ExportPlan, export_dir: Path) -> None:
    sequence = root.find("./project/children/sequence")
    if sequence is None:
        raise ExportError("OpenTimelineIO's FCP7 XML adapter wrote no sequence; the XML was not saved")
    for element in root.iter():
        element.attrib.pop("frameBlend", None)  # not in the xmeml DTD (see the module docstring)
    for rate_e in root.iter("rate"):
        _set_rate(rate_e, plan)
    for tc in root.iter("timecode"):
        # Timecode labels from app.timecode: drop-frame only where the plan asks for it.
        frame = int(tc.findtext("frame", "0"))
        _child(tc, "string").text = plan.timecode(frame)
        _child(tc, "displayformat").text = "DF" if plan.drop_frame else "NDF"

    _replace_child(sequence, "duration").text = str(plan.length)
    video = sequence.find("./media/video")
    if video is None:
        raise ExportError("OpenTimelineIO's FCP7 XML adapter wrote a sequence without video; the XML was not saved")
    fmt = _replace_child(video, "format", index=0)
    fmt.append(_sample_characteristics(plan))

    clipitems = video.findall("./track/clipitem")
    if len(clipitems) != len(plan.shots):
        raise ExportError(f"the FCP7 XML has {len(clipitems)} clips for {len(plan.shots)} shots; it was not saved")
    for item, shot in zip(clipitems, plan.shots, strict=True):
        _dedupe_rates(item)
        _fix_markers(item, shot)
        # A clipitem's <duration> is its source media's length (FCP7 and Premiere write it so);
        # the adapter writes the used length, which leaves <out> past <duration> with handles.
        duration = item.find("duration")
        if duration is not None:
            duration.text = str(shot.media_frames)
        file_e = item.find("file")
        if file_e is not None and file_e.find("pathurl") is not None:
            _fix_file_media(file_e, plan, export_dir / plan.movie_file(shot))


def _child(parent: ET.Element, tag: str) -> ET.Element:
    """``parent``'s ``tag`` element, which the adapter always writes."""
    child = parent.find(tag)
    if child is None:
        raise ExportError(
            f"OpenTimelineIO's FCP7 XML adapter wrote a <{parent.tag}> without <{tag}>; the XML was not saved"
        )
    return child


def _replace_child(parent: ET.Element, tag: str, index: int | None = None) -> ET.Element:
    old = parent.find(tag)
    position = list(parent).index(old) if old is not None else len(parent)
    if old is not None:
        parent.remove(old)
    new = ET.Element(tag)
    parent.insert(position if index is None else index, new)
    return new


def _dedupe_rates(item: ET.Element) -> None:
    # The adapter appends the clip's <rate> twice; one is enough.
    for extra in item.findall("rate")[1:]:
        item.remove(extra)


def _fix_markers(item: ET.Element, shot: ExportShot) -> None:
    markers = item.findall("marker")
    if len(markers) != len(shot.markers):
        raise ExportError(f"the FCP7 XML lost markers of shot {shot.number}; it was not saved")
    media_in = int(item.findtext("in", "0"))
    for element, marker in zip(markers, shot.markers, strict=True):
        _child(element, "in").text = str(media_in + marker.frame)
        _child(element, "out").text = "-1"  # a point marker, as FCP7 writes it
        if marker.comment:
            ET.SubElement(element, "comment").text = marker.comment


def _fix_file_media(file_e: ET.Element, plan: ExportPlan, movie: Path) -> None:
    # The movie's own size: DNxHR has a minimum size, so a tiny project's movies can be larger.
    try:
        with av.open(str(movie)) as container:
            stream = container.streams.video[0]
            size = (stream.width, stream.height)
            has_audio = bool(container.streams.audio)
    except (av.FFmpegError, IndexError) as exc:
        raise ExportError(f"can't read the movie {movie} ({exc}); export the movies again") from None
    media = _replace_child(file_e, "media")
    ET.SubElement(media, "video").append(_sample_characteristics(plan, size))
    # The adapter always declares an audio stream; a silent shot movie would then import
    # with empty audio channels.
    if has_audio:
        ET.SubElement(media, "audio")


# --- CMX3600 EDL -----------------------------------------------------------------------

# Event numbers have 3 digits up to 999 and more after (see the module docstring).
_EVENT_RE = re.compile(r"^(?P<num>\d{3,})(?P<mid>\s+.{8}\s+V\s+C\s+)(?:\S+ ){3}\S+$")
_LOC_RE = re.compile(r"^\* LOC: \S+ (?P<rest>.*)$")
CMX_MAX_EVENTS = 999
REEL_LENGTH = 8
EDL_COLUMNS = 80  # CMX3600 line length
_MEDIA_URL_PREFIXES = ("* FROM CLIP: ", "* FROM FILE: ")  # never cut: a cut URL points nowhere

# Letters and punctuation that Unicode decomposition (NFKD) leaves non-ASCII.
_ASCII_SPELLING = str.maketrans({
    "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "ı": "i",
    "‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "•": "*", "·": ".",
    "½": "1/2", "¼": "1/4", "¾": "3/4", "×": "x", "©": "(C)", "®": "(R)", "™": "TM", "€": "EUR",
    "£": "GBP", "¥": "JPY",
})  # fmt: skip


def edl_ascii(text: str) -> str:
    """``text`` in printable 7-bit ASCII, for an EDL: accents dropped, common letters and
    punctuation spelled out, control characters as spaces and anything else as ``?``."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text.translate(_ASCII_SPELLING)):
        if " " <= ch <= "~":
            out.append(ch)
        elif ch.isascii() or ch.isspace():
            out.append(" ")
        elif unicodedata.combining(ch):
            continue  # the accent of a letter already written
        else:
            out.append("?")
    return "".join(out)


def _edl_line(line: str) -> str:
    line = edl_ascii(line)
    if len(line) > EDL_COLUMNS and not line.startswith(_MEDIA_URL_PREFIXES) and not _EVENT_RE.match(line):
        line = line[: EDL_COLUMNS - 3].rstrip() + "..."
    return line


def edl_reel_name(plan: ExportPlan, shot: ExportShot) -> str:
    """An 8-character CMX3600 reel: the cut position, then the shot number's letters.

    CMX reels allow only 8 letters or digits, so ``3 Ü`` becomes ``0033U``. The position has
    the same number of digits for every shot of the plan (3, or 4 from 1,000 shots on), so
    reels stay unique even when shot numbers only differ by what gets stripped or cut off:
    with positions of mixed widths ``100`` + ``01A`` and ``1000`` + ``1A`` would meet. The
    full shot number travels in the ``* FROM CLIP NAME:`` comment, and the same reel is
    embedded in the shot's MOV or MXF movie.
    """
    width = max(3, len(str(len(plan.shots))))
    letters = re.sub(r"[^A-Za-z0-9]", "", edl_ascii(shot.number)).upper()
    return f"{shot.index + 1:0{width}d}{letters}"[:REEL_LENGTH]


def write_edl(plan: ExportPlan, export_dir: Path, final_path: Path) -> list[str]:
    check_movies(plan, export_dir, "EDL")
    timeline = build_timeline(plan, export_dir)
    clips = list(timeline.find_clips())
    for clip, shot in zip(clips, plan.shots, strict=True):
        clip.metadata["cmx_3600"] = {"reel": edl_reel_name(plan, shot)}
        for marker, m in zip(clip.markers, shot.markers, strict=True):
            # The adapter writes only a marker's name as the locator text.
            marker.name = marker_text(m)
    text = otio.adapters.write_to_string(timeline, adapter_name="cmx_3600", style="avid")
    _write_text(Path(final_path), _fix_edl(text, plan))
    fcm = "drop-frame" if plan.drop_frame else "non-drop-frame"
    notes = [f"{Path(final_path).name}: CMX3600 EDL, {len(plan.shots)} events, {fcm} timecode, locators for markers"]
    if len(plan.shots) > CMX_MAX_EVENTS:
        notes.append(
            f"{Path(final_path).name}: events past {CMX_MAX_EVENTS} are numbered 1000 and up, as Premiere Pro "
            f"writes them; an editor that reads only 3-digit CMX3600 event numbers should import the FCP7 XML"
        )
    return notes


def _fix_edl(text: str, plan: ExportPlan) -> str:
    """Relabel every timecode from the plan and add the FCM line the adapter leaves out."""
    lines = text.splitlines()
    out: list[str] = []
    shot: ExportShot | None = None
    markers: list = []
    events = 0
    for line in lines:
        event = _EVENT_RE.match(line)
        loc = _LOC_RE.match(line)
        if line.startswith("TITLE:"):
            out.append(line)
            out.append("FCM: DROP FRAME" if plan.drop_frame else "FCM: NON-DROP FRAME")
        elif event:
            shot = plan.shots[events]
            events += 1
            markers = list(shot.markers)
            src_in = clip_source_in(plan, shot)
            times = (src_in, src_in + shot.duration,
                     plan.start_frame + shot.record_in, plan.start_frame + shot.record_out)  # fmt: skip
            out.append(f"{event['num']}{event['mid']}{' '.join(plan.timecode(t) for t in times)}")
        elif loc and shot is not None and markers:
            marker = markers.pop(0)
            # Source and record timecode agree, so the locator reads right either way.
            out.append(f"* LOC: {plan.timecode(clip_source_in(plan, shot) + marker.frame)} {loc['rest']}")
        else:
            out.append(line)
    if events != len(plan.shots):
        raise ExportError(f"the EDL has {events} events for {len(plan.shots)} shots; it was not saved")
    return "\n".join(_edl_line(line) for line in out) + "\n"
