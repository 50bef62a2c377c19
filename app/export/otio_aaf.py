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
- The adapter gets several things wrong that are put right here with pyaaf2 after it wrote
  the file (read back slot by slot in the tests):

  - It rounds the embedded media's edit rate to a whole number (``round(rate)`` in
    ``_import_essence_for_clip``): at 23.976 or 29.97 the media would be 24 or 30 fps inside a
    23.976/29.97 sequence. The master and file mob slots and the descriptor's sample rate are
    set back to the exact rate, so AAF is written at every project rate.
  - It gives a tape mob's timecode the clip's start *and* points the file mob's clip at that
    same offset on the tape, so a reader that adds the two (as the AAF model says to: the
    file's first frame sits ``StartTime`` frames into a tape whose timecode starts at
    ``Start``) shows 02:00:00:00 for a 01:00:00:00 clip, 20:00:00:00 for a 10:00:00:00 one.
    The tape is written the way pyaaf2's ``create_tape_slots`` writes one: its timecode
    starts at 00:00:00:00 and runs the whole tape (24 hours) (with the cut's drop-frame mode,
    not "drop-frame whenever the rate isn't whole"), and the file mob's clip starts at the
    source timecode's frame (wrapped into the day, as timecode labels are).
  - It leaves the sequence's length at 0; it is set to the cut's length, as is the length of
    the composition's timecode.
- It writes no markers (no locators) and sets each master clip's mark in/out to absolute
  timecode frames; the marks are rewritten here relative to the clip, as AAF counts them.

Nothing here was tried in Media Composer (none is available to the tests); the tests read
the AAF back with the same adapter and check its essence, rates, lengths and timecode.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import opentimelineio as otio

from app.errors import ExportError
from app.export.files import atomic_file
from app.export.otio_timeline import build_timeline, movie_url
from app.export.plan import ExportPlan, ExportShot, day_frames

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
            _fix_mobs(tmp, plan)
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


def _fix_mobs(path: Path, plan: ExportPlan) -> None:
    """Put right what the adapter writes wrong (see the module docstring), in place."""
    import aaf2

    rate = Fraction(plan.rate.num, plan.rate.den)
    day = day_frames(plan.rate, plan.drop_frame)
    with aaf2.open(str(path), "rw") as f:
        composition = next(f.content.toplevel())
        picture = next(slot for slot in composition.slots if slot.media_kind == "Picture")
        clips = [c for c in picture.segment.components if isinstance(c, aaf2.components.SourceClip)]
        if len(clips) != len(plan.shots):
            raise ExportError(f"the AAF has {len(clips)} clips for {len(plan.shots)} shots; it was not saved")
        picture.segment.length = sum(c.length for c in picture.segment.components)
        for slot in composition.slots:
            if isinstance(slot.segment, aaf2.components.Timecode):
                _set_timecode(slot.segment, plan, slot.segment.start, picture.segment.length)
        for clip, shot in zip(clips, plan.shots, strict=True):
            _fix_clip_mobs(clip, shot, plan, rate, day)
        for mob in f.content.sourcemobs():
            descriptor = mob.descriptor
            if descriptor is not None and "Locator" in descriptor:
                descriptor["Locator"].value = []


def _fix_clip_mobs(clip, shot: ExportShot, plan: ExportPlan, rate: Fraction, day: int) -> None:
    import aaf2

    master_slot = _slot(clip.mob, clip.slot_id, shot)
    master_slot.edit_rate = rate
    master_slot["MarkIn"].value = shot.handles
    master_slot["MarkOut"].value = shot.handles + shot.duration
    file_mob = master_slot.segment.mob if isinstance(master_slot.segment, aaf2.components.SourceClip) else None
    if file_mob is None:
        raise ExportError(f"the AAF's clip of shot {shot.number} has no media; it was not saved")
    file_slot = _slot(file_mob, master_slot.segment.slot_id, shot)
    file_slot.edit_rate = rate
    file_mob.descriptor["SampleRate"].value = rate
    tape_clip = file_slot.segment
    tape = tape_clip.mob if isinstance(tape_clip, aaf2.components.SourceClip) else None
    if tape is None:
        raise ExportError(f"the AAF's media of shot {shot.number} has no tape; it was not saved")
    start = plan.source_start(shot) % day
    tape_clip.start = start
    tape_length = max(day, start + shot.media_frames)
    for slot in tape.slots:
        slot.edit_rate = rate
        if isinstance(slot.segment, aaf2.components.Timecode):
            _set_timecode(slot.segment, plan, 0, tape_length)
        else:
            slot.segment.length = tape_length


def _slot(mob, slot_id: int, shot: ExportShot):
    for slot in mob.slots if mob is not None else ():
        if slot.slot_id == slot_id:
            return slot
    raise ExportError(f"the AAF's clip of shot {shot.number} points at a missing track; it was not saved")


def _set_timecode(timecode, plan: ExportPlan, start: int, length: int) -> None:
    timecode.start = start
    timecode.length = length
    timecode.fps = plan.rate.timebase
    timecode.drop = plan.drop_frame
