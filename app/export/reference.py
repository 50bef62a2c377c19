"""The reference movie: the whole cut in one H.264 .mp4, burn-ins drawn in, the sound mixed in.

An editor drops it on a track above the conformed timeline to check every cut against it, so
it shows the cut only (no handles), carries the record timecode of the cut both embedded and
burned in, and its sound is sample-exact under the picture: the mix is asked for exactly the
samples under each frame, silence where no audio clip plays.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from app.audio_mix import AudioMix
from app.export.burnin import BurnInPainter
from app.export.files import Progress
from app.export.formats import WriteJob
from app.export.frames import shot_frames
from app.export.movies import write_movie
from app.export.plan import ExportPlan
from app.media_store import MediaStore


def write_reference_movie(
    plan: ExportPlan, media: MediaStore, final_path: str | os.PathLike[str], progress: Progress, audio: AudioMix
) -> list[str]:
    """Write the reference movie; returns notes on what stood in for missing pictures or sound."""
    notes: list[str] = []
    # The mix reads only ``rate`` and ``audio`` from the project, which the plan carries too.
    placed = audio.placed(plan)

    def sound(start: int, count: int) -> np.ndarray:
        return audio.mix(plan, start, count, placed)

    write_movie(
        _burned_frames(plan, media, notes),
        final_path,
        plan.rate,
        "h264",
        plan.record_timecode(0),
        progress,
        plan.length,
        audio=sound,
    )
    names = {clip.media: clip.name or clip.media.relpath for clip in plan.audio}
    for ref, problem in audio.problems.items():
        if ref in names:
            notes.append(f"sound '{names[ref]}': {problem}; the reference movie is silent there")
    return notes


def _burned_frames(plan: ExportPlan, media: MediaStore, notes: list[str]) -> Iterator[np.ndarray]:
    painter = BurnInPainter(plan.width, plan.height)
    for shot in plan.shots:
        # "SHOT 12A · SC 3 INT. KITCHEN": an editor reads which shot and scene at a glance.
        label = f"SHOT {shot.number} · SC {shot.scene_number} {shot.scene_heading}".strip()
        dialogue = shot.shot.dialogue if plan.options.burn_dialogue else ""
        layer = painter.shot_layer(label, dialogue)
        digits = len(str(shot.duration - 1))
        frames = shot_frames(plan, shot, media, handles=0)
        for i, frame in enumerate(frames):
            yield painter.draw(frame, layer, plan.record_timecode(shot.record_in + i), f"frame {i:0{digits}d}")
        notes.extend(n for n in frames.notes if n not in notes)


def export_reference(job: WriteJob) -> list[str]:
    """The "reference" format's writer (see app.export.formats)."""
    return write_reference_movie(job.plan, job.media, job.path, job.progress, AudioMix(job.media))
