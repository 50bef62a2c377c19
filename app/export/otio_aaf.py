"""AAF for Avid Media Composer, through OpenTimelineIO's AAF adapter (otio-aaf-adapter + pyaaf2).

What the adapter can and can't do (otio-aaf-adapter 2.0.0, read in its source and issues):

- Linked media come in offline. Without embedding, the adapter invents a file mob with a
  fresh MobID and a network locator; Media Composer links media by the MobIDs of media it
  created or indexed, never by that locator (otio-aaf-adapter issues 52, 62, 64; OTIO 735).
  DNxHR ``.mxf`` movies written by FFmpeg are OP1a, which Avid reaches only by AMA linking
  or importing the file, not through an AAF's mobs.
- Embedded media work: with ``embed_essence`` the adapter imports a raw DNxHD/DNxHR stream
  into the AAF through pyaaf2 (the same import pyaaf2's maintainer reports importing
  online in Media Composer 2018.1 and later). So the AAF is written with the shots' DNxHR
  essence inside, demuxed from the DNxHR movies without re-encoding.
- But the adapter rounds the embedded media's edit rate to a whole number
  (``round(rate)`` in ``_import_essence_for_clip``): at 23.976 or 29.97 the media would be
  24 or 30 fps inside a 23.976/29.97 sequence. So at NTSC rates no AAF is written.
- It writes no markers (no locators) and sets each master clip's mark in/out to absolute
  timecode frames; the marks are rewritten here relative to the clip, as AAF counts them.

Nothing here was tried in Media Composer (none is available to the tests); the tests read
the AAF back with the same adapter and check its essence, rates, lengths and timecode.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import opentimelineio as otio

from app.errors import ExportError
from app.export.files import atomic_file
from app.export.otio_timeline import build_timeline, movie_url
from app.export.plan import ExportPlan

AVID_ROUTE = (
    "for Avid, import (or AMA-link) the DNxHR .mxf movies and the EDL, whose reels, "
    "clip names and timecode match the movies"
)


def aaf_refusal(plan: ExportPlan) -> str | None:
    """Why no AAF can be written for this plan, or None when it can."""
    if "AAF" not in otio.adapters.available_adapter_names():
        return "AAF not written: the OpenTimelineIO AAF adapter (otio-aaf-adapter) is not installed; " + AVID_ROUTE
    if plan.options.codec != "dnxhr":
        return (
            "AAF not written: an AAF for Avid carries DNxHR media inside it and these movies are "
            f"{plan.options.codec}; export with the DNxHR codec to get an AAF, or " + AVID_ROUTE
        )
    if plan.rate.den != 1:
        return (
            f"AAF not written: OpenTimelineIO's AAF adapter rounds embedded media to whole frame rates, "
            f"so at {plan.rate.label} Avid would get {plan.rate.timebase} fps media in a "
            f"{plan.rate.label} sequence; " + AVID_ROUTE
        )
    return None


def write_aaf(plan: ExportPlan, export_dir: Path, final_path: Path) -> list[str]:
    final_path = Path(final_path)
    refusal = aaf_refusal(plan)
    if refusal:
        return [refusal]
    export_dir = Path(export_dir)
    work = final_path.with_name(f".{final_path.stem}.essence.partial")
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.mkdir(parents=True)
        timeline = build_timeline(plan, export_dir)
        for clip, shot in zip(timeline.find_clips(), plan.shots, strict=True):
            # The adapter embeds only raw DNx streams (.dnx), so the movie is demuxed, not re-encoded.
            raw = work / f"{shot.media_name}.dnx"
            _demux_dnx(export_dir / plan.movie_file(shot), raw, shot.media_frames)
            clip.media_reference.target_url = movie_url(raw)
        with atomic_file(final_path) as tmp:
            otio.adapters.write_to_file(
                timeline, str(tmp), adapter_name="AAF", embed_essence=True, use_empty_mob_ids=True
            )
            _fix_marks(tmp, plan)
    except OSError as exc:
        raise ExportError(f"can't write the AAF {final_path}: {exc.strerror or exc}") from None
    except otio.exceptions.OTIOError as exc:
        raise ExportError(f"OpenTimelineIO's AAF adapter failed on {final_path.name}: {exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        f"{final_path.name}: AAF for Avid with the DNxHR media embedded (import it in Media Composer 2018.1 "
        "or later); it has no locators: the EDL carries pins, notes and dialogue"
    ]


def _demux_dnx(movie: Path, raw: Path, frames: int) -> None:
    count = 0
    try:
        with av.open(str(movie)) as container, open(raw, "wb") as out:
            stream = container.streams.video[0]
            if stream.codec_context.name != "dnxhd":
                raise ExportError(
                    f"{movie.name} is {stream.codec_context.name}, not DNxHR; export the movies as DNxHR for the AAF"
                )
            for packet in container.demux(stream):
                if packet.size:
                    out.write(bytes(packet))
                    count += 1
    except (av.FFmpegError, IndexError) as exc:
        raise ExportError(f"can't read the movie {movie} for the AAF ({exc}); export the movies again") from None
    if count != frames:
        raise ExportError(f"{movie.name} has {count} frames, not {frames}; export the movies again")


def _fix_marks(path: Path, plan: ExportPlan) -> None:
    """Mark in/out relative to each master clip, and no locators pointing at deleted temp files."""
    import aaf2

    with aaf2.open(str(path), "rw") as f:
        composition = next(f.content.toplevel())
        picture = next(slot for slot in composition.slots if slot.media_kind == "Picture")
        clips = [c for c in picture.segment.components if isinstance(c, aaf2.components.SourceClip)]
        if len(clips) != len(plan.shots):
            raise ExportError(f"the AAF has {len(clips)} clips for {len(plan.shots)} shots; it was not saved")
        for clip, shot in zip(clips, plan.shots, strict=True):
            for slot in clip.mob.slots:
                if "MarkIn" in slot:
                    slot["MarkIn"].value = shot.handles
                    slot["MarkOut"].value = shot.handles + shot.duration
        for mob in f.content.sourcemobs():
            descriptor = mob.descriptor
            if descriptor is not None and "Locator" in descriptor:
                descriptor["Locator"].value = []
