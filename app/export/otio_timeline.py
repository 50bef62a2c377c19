"""The cut as an OpenTimelineIO timeline: the one model every timeline writer starts from.

One video track, one clip per shot in cut order, named by shot number. Each clip points at
its shot's movie in the export folder (an absolute, percent-encoded ``file://`` URL); the
movie's available range is the whole file (handles included) and the clip uses the shot
without its handles. Source timecode equals record timecode (see ``ExportPlan.source_start``),
so an editor can conform by timecode alone.

OTIO stores rates as floats. ``24000 / 1001`` is the float nearest the exact rate, and frame
counts are stored as whole-number values at that rate, so ``to_frames()`` reads back the same
integers; nothing here ever converts through seconds.
"""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio

from app.export.plan import ExportPlan, ExportShot, Marker
from app.timecode import FrameRate

# Namespace of Pinframe's own metadata on clips and markers (adapters ignore it).
META = "pinframe"

# Marker colours by kind; all are colours Avid, Premiere and Resolve can show.
MARKER_COLORS = {
    "pin": otio.schema.MarkerColor.GREEN,
    "note": otio.schema.MarkerColor.BLUE,
    "dialogue": otio.schema.MarkerColor.YELLOW,
}


def otio_rate(rate: FrameRate) -> float:
    return rate.num / rate.den


def rational_time(frames: int, rate: FrameRate) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, otio_rate(rate))


def time_range(start: int, duration: int, rate: FrameRate) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(rational_time(start, rate), rational_time(duration, rate))


def movie_url(path: Path) -> str:
    """Absolute ``file://`` URL with spaces and non-ASCII letters percent-encoded (UTF-8).

    ``otio.url_utils.url_from_filepath`` leaves them as they are in OTIO 0.18, which
    Premiere and Resolve read as a missing file.
    """
    return Path(path).absolute().as_uri()


def clip_source_in(plan: ExportPlan, shot: ExportShot) -> int:
    """Source frame (timecode as a frame count) of the shot's first frame after its handles."""
    return plan.source_start(shot) + shot.handles


def marker_text(marker: Marker) -> str:
    """One-line text of a marker for formats that carry a single string (EDL locators)."""
    text = f"{marker.name}: {marker.comment}" if marker.comment else marker.name
    return " ".join(text.split())


def build_timeline(plan: ExportPlan, export_dir: Path) -> otio.schema.Timeline:
    rate = plan.rate
    timeline = otio.schema.Timeline(name=plan.name, global_start_time=rational_time(plan.start_frame, rate))
    timeline.metadata[META] = {
        "rate": str(rate),
        "drop_frame": plan.drop_frame,
        "width": plan.width,
        "height": plan.height,
        "start_timecode": plan.timecode(plan.start_frame),
    }
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.append(track)
    for shot in plan.shots:
        track.append(_clip(plan, shot, Path(export_dir)))
    # No audio track: the sound lives in the project bundle, not the export folder, and the
    # reference movie carries the mix for the editor to lay in as a guide track.
    return timeline


def _clip(plan: ExportPlan, shot: ExportShot, export_dir: Path) -> otio.schema.Clip:
    rate = plan.rate
    movie = export_dir / plan.movie_file(shot)
    reference = otio.schema.ExternalReference(
        target_url=movie_url(movie),
        available_range=time_range(plan.source_start(shot), shot.media_frames, rate),
    )
    reference.name = movie.name
    source_in = clip_source_in(plan, shot)
    clip = otio.schema.Clip(
        name=shot.number,
        media_reference=reference,
        source_range=time_range(source_in, shot.duration, rate),
    )
    s = shot.shot
    clip.metadata[META] = {
        "scene": shot.scene_number,
        "scene_heading": shot.scene_heading,
        "action": s.action,
        "dialogue": s.dialogue,
        "notes": s.notes,
        "camera": shot.camera_text,
        "source": shot.source,
        "handles": shot.handles,
        "record_in": plan.record_timecode(shot.record_in),
    }
    for m in shot.markers:
        # Clip markers live in the clip's source time, like its source range.
        marker = otio.schema.Marker(
            name=m.name,
            marked_range=time_range(source_in + m.frame, 0, rate),
            color=MARKER_COLORS.get(m.kind, otio.schema.MarkerColor.RED),
            comment=m.comment,
        )
        marker.metadata[META] = {"kind": m.kind, "frame": m.frame}
        clip.markers.append(marker)
    return clip
