"""One export, start to finish: the plan, then media, then the timelines that point at it, then boards.

Used by the Export dialog and by ``pinframe export``. Every file is written under a temporary
name and renamed when complete, so a failure or a cancel leaves only whole files behind; the
report (``export-report.txt``) is written last and says what was written and what stood in
for what (pin previews for stale clips, held frames for missing handles, skipped formats).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.audio_mix import AudioMix
from app.document import Project
from app.errors import ExportError
from app.export.files import Progress, ProgressCallback, atomic_file, disk_error
from app.export.plan import FORMATS, MOVIE_CODECS, ExportOptions, ExportPlan, build_plan, safe_name
from app.media_store import MediaStore
from app.timecode import format_duration

REPORT_NAME = "export-report.txt"


@dataclass
class ExportReport:
    folder: Path
    written: list[str] = field(default_factory=list)  # paths relative to the folder
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def text(self, plan: ExportPlan) -> str:
        rate = plan.rate
        lines = [
            f"Pinframe export of “{plan.name}”",
            f"{len(plan.shots)} shots, {format_duration(plan.length, rate, drop_frame=plan.drop_frame)} "
            f"({plan.length} frames) at {rate.label}, {plan.width}x{plan.height}, "
            f"starting {plan.record_timecode(0)} {'drop-frame' if plan.drop_frame else 'non-drop-frame'}",
            f"Shot movies: {MOVIE_CODECS[plan.options.codec][0]}; handles: "
            + ("each shot's own" if plan.options.handles is None else f"{plan.options.handles} frames each side"),
            "",
            "Sources:",
        ]
        for shot in plan.shots:
            source = {"clip": "rendered clip", "pins": "pin preview (no current clip)", "slate": "slate (no pins)"}
            lines.append(f"  {shot.number:<8} {source[shot.source]}")
        lines += ["", "Written:"] + [f"  {name}" for name in self.written]
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {note}" for note in self.notes]
        lines += ["", f"Took {self.seconds:.1f} s."]
        return "\n".join(lines) + "\n"


def export_project(
    project: Project,
    media: MediaStore,
    folder: str | Path,
    options: ExportOptions | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ExportReport:
    """Write the chosen formats into ``folder`` (created if needed) and return what was written."""
    started = time.monotonic()
    plan = build_plan(project, options)
    if not plan.shots:
        raise ExportError(f"project “{project.name}” has no shots to export; add shots first")
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(folder, exc) from None
    opts = plan.options
    formats = opts.formats
    progress = Progress(_total_units(plan), on_progress, cancel)
    report = ExportReport(folder.resolve())
    stem = safe_name(plan.name) or "Pinframe"

    wrote = _Collector(report, folder)

    _export_media(plan, media, folder, progress, wrote)
    if "reference" in formats:
        from app.export.reference import write_reference_movie

        path = folder / f"{stem} reference.mp4"
        progress.begin("reference movie")
        wrote(path, write_reference_movie(plan, media, path, progress, AudioMix(media)))
    _export_timelines(plan, folder, stem, progress, wrote)
    if "pdf" in formats:
        from app.export.boards import write_storyboard_pdf

        path = folder / f"{stem} storyboard.pdf"
        wrote(path, write_storyboard_pdf(plan, media, path, progress))
    if "csv" in formats:
        from app.export.shotlist import write_shot_list_csv

        path = folder / f"{stem} shot list.csv"
        progress.begin("shot list")
        wrote(path, write_shot_list_csv(plan, path))
        progress.tick()
    report.seconds = time.monotonic() - started
    report_path = folder / REPORT_NAME
    with atomic_file(report_path) as tmp:
        report.written.append(REPORT_NAME)
        tmp.write_text(report.text(plan), encoding="utf-8")
    return report


def _total_units(plan: ExportPlan) -> int:
    """Work units for the progress bar: one per encoded frame, per board panel, per small file."""
    formats = plan.options.formats
    media_frames = sum(s.media_frames for s in plan.shots)
    total = 0
    if plan.options.writes_movies:
        total += media_frames
    if "png" in formats:
        total += media_frames
    if "reference" in formats:
        total += plan.length
    if "pdf" in formats:
        total += len(plan.shots)
    total += len(formats & {"fcp7", "fcpxml", "edl", "otio", "otioz", "aaf", "csv"})
    return total


def _export_media(plan: ExportPlan, media: MediaStore, folder: Path, progress: Progress,
                  wrote: _Collector) -> None:  # fmt: skip
    from app.export.frames import shot_frames
    from app.export.movies import write_movie, write_png_sequence

    if plan.options.writes_movies:
        (folder / "media").mkdir(exist_ok=True)
        if "movies" not in plan.options.formats:
            wrote_note = "shot movies were written because the timelines point at them"
        else:
            wrote_note = ""
        for shot in plan.shots:
            progress.begin(f"shot {shot.number} movie ({shot.index + 1} of {len(plan.shots)})")
            frames = shot_frames(plan, shot, media)
            path = folder / plan.movie_file(shot)
            write_movie(frames, path, plan.rate, plan.options.codec, plan.timecode(plan.source_start(shot)),
                        progress, shot.media_frames)  # fmt: skip
            wrote(path, frames.notes + ([wrote_note] if wrote_note else []))
    if "png" in plan.options.formats:
        (folder / "png").mkdir(exist_ok=True)
        for shot in plan.shots:
            progress.begin(f"shot {shot.number} PNG sequence")
            frames = shot_frames(plan, shot, media)
            path = folder / "png" / shot.media_name
            write_png_sequence(frames, path, progress, start_number=plan.source_start(shot))
            wrote(path, frames.notes)


def _export_timelines(plan: ExportPlan, folder: Path, stem: str, progress: Progress,
                      wrote: _Collector) -> None:  # fmt: skip
    from app.export import fcpxml, otio_aaf, timelines

    writers = {
        "fcp7": (f"{stem}.xml", timelines.write_fcp7),
        "fcpxml": (f"{stem}.fcpxml", fcpxml.write_fcpxml),
        "edl": (f"{stem}.edl", timelines.write_edl),
        "otio": (f"{stem}.otio", timelines.write_otio),
        "otioz": (f"{stem}.otioz", timelines.write_otioz),
        "aaf": (f"{stem}.aaf", otio_aaf.write_aaf),
    }
    for key, (name, write) in writers.items():
        if key not in plan.options.formats:
            continue
        progress.begin(FORMATS[key])
        path = folder / name
        notes = write(plan, folder, path)
        if path.exists():
            wrote(path, notes)
        else:  # a writer that declined (AAF without DNxHR media) says why in its notes
            wrote.note(notes)
        progress.tick()


class _Collector:
    """Adds written files and their notes to the report, each note once."""

    def __init__(self, report: ExportReport, folder: Path) -> None:
        self.report, self.folder = report, folder

    def __call__(self, path: Path, notes: list[str] | None = None) -> None:
        self.report.written.append(path.relative_to(self.folder).as_posix())
        self.note(notes or [])

    def note(self, notes: list[str]) -> None:
        for note in notes:
            if note not in self.report.notes:
                self.report.notes.append(note)
