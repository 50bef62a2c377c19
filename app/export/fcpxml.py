"""FCPXML 1.10 for Final Cut Pro (10.6+) and DaVinci Resolve (18+), written directly.

OpenTimelineIO's FCPXML adapter writes an empty frame duration at 23.976 and needs ffprobe,
so this writer builds the document itself from the :class:`ExportPlan`:

- one ``<format>`` (the project's size and exact frame duration),
- one ``<asset>`` per shot movie, its ``start`` the movie's embedded start timecode and its
  ``duration`` the plan's ``media_frames`` (shot plus handles; the movie need not exist yet),
- a ``<library><event><project><sequence>`` whose ``<spine>`` holds one ``<asset-clip>`` per
  shot, named by shot number, trimmed past the handles, with dialogue and notes in a
  ``<note>`` and dialogue, notes and pins as ``<marker>`` children.

Every time is a whole number of frames written as a reduced rational (``1001/24000s``,
``1/2s``, ``3s``, ``0s``): FCP rejects times that fall between frames. Element order inside
each element follows Apple's DTD (tests validate against FCPXMLv1_10.dtd and newer).
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Protocol

from app.errors import ExportError
from app.export.files import atomic_file
from app.export.plan import ExportPlan, ExportShot, Marker
from app.timecode import FrameRate

FCPXML_VERSION = "1.10"

# FCP's own format names, used only where size and rate match one of its presets; any
# other size gets a nameless <format>, which FCP and Resolve read as a custom format.
_FORMAT_SIZES: dict[tuple[int, int], str] = {
    (640, 480): "640x480",
    (960, 540): "960x540",
    (1280, 720): "720",
    (1920, 1080): "1080",
    (1440, 1080): "1440x1080",
    (2048, 1080): "2048x1080",
    (3840, 2160): "3840x2160",
    (4096, 2160): "4096x2160",
}
_FORMAT_RATES: dict[Fraction, str] = {
    Fraction(24000, 1001): "2398",
    Fraction(24): "24",
    Fraction(25): "25",
    Fraction(30000, 1001): "2997",
    Fraction(30): "30",
    Fraction(50): "50",
    Fraction(60000, 1001): "5994",
    Fraction(60): "60",
}
_SD_RATES = frozenset({"2398", "24", "25", "2997", "30"})  # FCP has no 50/60p presets below 720p

# XML 1.0 cannot carry these code points at all, not even escaped.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class MovieAudioFacts(Protocol):
    """What this writer reads from a probed shot movie (the movie writer's facts satisfy it)."""

    @property
    def has_audio(self) -> bool: ...


def fcp_time(frames: int, rate: FrameRate) -> str:
    """``frames`` as FCPXML time: reduced rational seconds, ``Ns`` for whole seconds, ``0s`` for zero."""
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 0:
        raise ExportError(f"FCPXML time must be a whole, non-negative frame count, got {frames!r}")
    seconds = rate.frames_to_seconds(frames)  # a Fraction, already reduced
    if seconds.denominator == 1:
        return f"{seconds.numerator}s"
    return f"{seconds.numerator}/{seconds.denominator}s"


def frame_duration_text(rate: FrameRate) -> str:
    """The ``<format frameDuration>`` spelling FCP itself writes: ``100/2400s``, ``1001/24000s``."""
    if rate.den == 1:
        return f"100/{rate.num * 100}s"
    return f"{rate.den}/{rate.num}s"


def format_name(width: int, height: int, rate: FrameRate) -> str | None:
    """FCP's preset name (``FFVideoFormat1080p2398``) for a standard size and rate, else None."""
    size = _FORMAT_SIZES.get((width, height))
    suffix = _FORMAT_RATES.get(rate.fps)
    if size is None or suffix is None or (height < 720 and suffix not in _SD_RATES):
        return None
    return f"FFVideoFormat{size}p{suffix}"


def write_fcpxml(
    plan: ExportPlan,
    export_dir: Path,
    final_path: Path,
    media_info: Mapping[str, MovieAudioFacts] | None = None,
) -> list[str]:
    """Write ``final_path`` (atomically) pointing at the shot movies under ``export_dir``.

    ``media_info`` (optional, keyed by ``ExportShot.media_name``) says which movies carry
    sound; without it every movie is taken as picture only, as the per-shot movies are.
    Asset durations and start timecodes always come from the plan, never from the files.
    Returns lines for the export report.
    """
    if not plan.shots:
        raise ExportError("the project has no shots, so there is no FCPXML timeline to write; add a shot first")
    data = fcpxml_bytes(plan, export_dir, media_info)
    with atomic_file(final_path) as tmp:
        tmp.write_bytes(data)
    notes = [
        f"FCPXML {FCPXML_VERSION}: {len(plan.shots)} clips, {plan.rate.label}, "
        f"{'drop' if plan.drop_frame else 'non-drop'}-frame timecode from {plan.record_timecode(0)}; "
        "media are linked by absolute path, so keep the export folder where it is or relink after moving it"
    ]
    if plan.audio:
        notes.append("FCPXML: the timeline carries picture only; the sound is in the reference movie")
    return notes


def fcpxml_bytes(plan: ExportPlan, export_dir: Path, media_info: Mapping[str, MovieAudioFacts] | None = None) -> bytes:
    """The whole document, UTF-8 encoded, with the XML declaration and DOCTYPE FCP expects."""
    root = build_fcpxml(plan, export_dir, media_info)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n{body}\n'.encode()


def build_fcpxml(
    plan: ExportPlan, export_dir: Path, media_info: Mapping[str, MovieAudioFacts] | None = None
) -> ET.Element:
    rate = plan.rate
    media_info = media_info or {}
    export_dir = Path(export_dir).resolve()  # asset URLs must be absolute

    root = ET.Element("fcpxml", version=FCPXML_VERSION)
    resources = ET.SubElement(root, "resources")
    format_id = "r1"
    fmt = ET.SubElement(resources, "format", id=format_id)
    name = format_name(plan.width, plan.height, rate)
    if name:
        fmt.set("name", name)
    fmt.set("frameDuration", frame_duration_text(rate))
    fmt.set("width", str(plan.width))
    fmt.set("height", str(plan.height))

    asset_ids: dict[int, str] = {}
    for shot in plan.shots:
        asset_id = f"r{shot.index + 2}"
        asset_ids[shot.index] = asset_id
        _asset(resources, plan, shot, asset_id, format_id, export_dir, media_info.get(shot.media_name))

    library = ET.SubElement(root, "library")
    event = ET.SubElement(library, "event", name=_text(plan.name) or "Pinframe")
    project = ET.SubElement(event, "project", name=_text(plan.name) or "Pinframe")
    sequence = ET.SubElement(
        project,
        "sequence",
        format=format_id,
        duration=fcp_time(plan.length, rate),
        tcStart=fcp_time(plan.start_frame, rate),
        tcFormat="DF" if plan.drop_frame else "NDF",
        audioLayout="stereo",
        audioRate="48k",
    )
    spine = ET.SubElement(sequence, "spine")
    for shot in plan.shots:
        _asset_clip(spine, plan, shot, asset_ids[shot.index])
    return root


def _asset(
    resources: ET.Element,
    plan: ExportPlan,
    shot: ExportShot,
    asset_id: str,
    format_id: str,
    export_dir: Path,
    facts: MovieAudioFacts | None,
) -> None:
    path = export_dir / plan.movie_file(shot)
    asset = ET.SubElement(
        resources, "asset", id=asset_id, name=_text(shot.media_name), uid=_asset_uid(plan, shot, path)
    )
    asset.set("start", fcp_time(plan.source_start(shot), plan.rate))
    asset.set("duration", fcp_time(shot.media_frames, plan.rate))
    asset.set("hasVideo", "1")
    asset.set("format", format_id)
    if facts is not None and facts.has_audio:
        asset.set("hasAudio", "1")
        asset.set("audioSources", "1")
    asset.set("videoSources", "1")
    # as_uri percent-encodes the UTF-8 bytes, so spaces and non-ASCII letters survive.
    ET.SubElement(asset, "media-rep", kind="original-media", src=path.as_uri())
    metadata = ET.SubElement(asset, "metadata")
    ET.SubElement(metadata, "md", key="com.apple.proapps.studio.scene", value=str(shot.scene_number))


def _asset_uid(plan: ExportPlan, shot: ExportShot, path: Path) -> str:
    """A stable uid per movie content: FCP relinks an imported asset to a library clip with the same uid,
    so re-importing the same export reuses the clips, while a changed shot never matches a stale one."""
    facts = (
        str(path), plan.rate, plan.width, plan.height, plan.source_start(shot), shot.media_frames,
        shot.source, shot.shot.current_clip, tuple((p.frame, p.image.sha256) for p in shot.pinned),
    )  # fmt: skip
    return hashlib.md5(repr(facts).encode(), usedforsecurity=False).hexdigest().upper()


def _asset_clip(spine: ET.Element, plan: ExportPlan, shot: ExportShot, asset_id: str) -> None:
    rate = plan.rate
    clip_start = plan.source_start(shot) + shot.handles  # the asset's own time of the shot's first frame
    clip = ET.SubElement(
        spine,
        "asset-clip",
        ref=asset_id,
        offset=fcp_time(plan.start_frame + shot.record_in, rate),
        name=_text(shot.number) or f"Shot {shot.index + 1}",
        start=fcp_time(clip_start, rate),
        duration=fcp_time(shot.duration, rate),
        tcFormat="DF" if plan.drop_frame else "NDF",
    )
    # DTD order for asset-clip: note first, markers after the (absent) adjustments.
    note = _clip_note(shot)
    if note:
        ET.SubElement(clip, "note").text = note
    for frame, group in _markers_by_frame(shot.markers):
        marker = ET.SubElement(clip, "marker", start=fcp_time(clip_start + frame, rate), duration=fcp_time(1, rate))
        marker.set("value", _text(" / ".join(m.name for m in group)))
        comment = _marker_note(group)
        if comment:
            marker.set("note", comment)


def _markers_by_frame(markers: tuple[Marker, ...]) -> list[tuple[int, list[Marker]]]:
    """Markers grouped by frame, in order: Resolve keeps only one marker per frame of a clip,
    so dialogue, a note and a pin on the same frame travel as one marker naming all three."""
    groups: dict[int, list[Marker]] = {}
    for marker in markers:
        groups.setdefault(marker.frame, []).append(marker)
    return sorted(groups.items())


def _marker_note(group: list[Marker]) -> str:
    if len(group) == 1:
        return _text(group[0].comment)
    return _text("\n".join(f"{m.name}: {m.comment}" for m in group if m.comment))


def _clip_note(shot: ExportShot) -> str:
    """The clip's note: scene heading, then dialogue and notes, which FCP shows in the Notes column."""
    lines = [f"Scene {shot.scene_number}: {shot.scene_heading}".rstrip(": ")]
    for marker in shot.markers:
        if marker.kind in ("dialogue", "note") and marker.comment:
            lines.append(f"{marker.name}: {marker.comment}")
    return _text("\n".join(lines))


def _text(value: str) -> str:
    return _XML_INVALID.sub("", value)
