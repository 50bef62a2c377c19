"""One export, start to finish: the plan, then media, then the timelines that point at it, then boards.

Used by the Export dialog and by ``pinframe export``. Every file is written under a temporary
name and renamed when complete, so a failure or a cancel leaves only whole files behind; the
report (``export-report.txt``) is written last and says what was written and what stood in
for what (pin previews for stale clips, held frames for missing handles, skipped formats).

Each shot's line under "Sources" says what its pictures were actually made from: a shot the
plan sends as a rendered clip whose file turns out missing is reported as such, with what
stood in. Exporting into a folder that holds an earlier export overwrites the files of the
same names and deletes nothing: files this export didn't write (the movies of shots no
longer in the cut, another codec's movies) are listed under "Not from this export".
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.document import Project
from app.errors import ExportError
from app.export.files import Progress, ProgressCallback, StatusCallback, atomic_file, disk_error
from app.export.formats import ExportFormat, WriteJob, top_level_extensions, written
from app.export.plan import (
    MOVIE_CODECS,
    ExportOptions,
    ExportPlan,
    ExportShot,
    build_plan,
    rendered_handles,
    safe_name,
)
from app.media_store import MediaStore
from app.timecode import format_duration

REPORT_NAME = "export-report.txt"

# How each plan source reads in the report.
PLAN_SOURCES = {"clip": "rendered clip", "pins": "pin preview (no current clip)", "slate": "slate (no pins)"}

MAX_LISTED = 40  # "Not from this export" names this many, then counts the rest


@dataclass
class ExportReport:
    folder: Path
    written: list[str] = field(default_factory=list)  # paths relative to the folder
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # What stood in for each shot's pictures ("clip file missing, ..."), by cut position; empty where nothing did.
    stand_ins: dict[int, str] = field(default_factory=dict)
    # Files in the folder (relative paths) that this export didn't write, such as an earlier, longer cut's movies.
    not_ours: list[str] = field(default_factory=list)

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
            stand_in = self.stand_ins.get(shot.index)
            detail = f" — {stand_in}, see notes" if stand_in else ""
            lines.append(f"  {shot.number:<8} {PLAN_SOURCES[shot.source]}{detail}")
        lines += ["", "Written:"] + [f"  {name}" for name in self.written]
        if self.not_ours:
            listed = self.not_ours[:MAX_LISTED]
            more = len(self.not_ours) - len(listed)
            lines += ["", "Not from this export (left as they were):"] + [f"  {name}" for name in listed]
            if more:
                lines.append(f"  … and {more} more")
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
    on_status: StatusCallback | None = None,
) -> ExportReport:
    """Write the chosen formats into ``folder`` (created if needed) and return what was written.

    ``on_progress`` hears (done, total, stage) and ``on_status`` the file being written as well
    (:class:`app.export.files.ExportStatus`), both on the exporting thread, once a frame.
    """
    started = time.monotonic()
    plan = build_plan(project, options)
    if not plan.shots:
        raise ExportError(f"project “{project.name}” has no shots to export; add shots first")
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(folder, exc) from None
    progress = Progress(_total_units(plan), on_progress, cancel, on_status=on_status, file_count=_file_count(plan))
    report = ExportReport(folder.resolve())
    stem = safe_name(plan.name) or "Pinframe"

    wrote = _Collector(report, folder)
    wrote.note(list(plan.notes))

    written_stand_ins = _export_media(plan, media, folder, progress, wrote)
    report.stand_ins = _stand_ins(plan, media, written_stand_ins)
    for fmt in written(plan.options.formats):
        if fmt.kind != "shot":
            _export_file(fmt, WriteJob(plan, media, folder, folder / fmt.file_name(stem), progress,
                                       report.stand_ins), wrote)  # fmt: skip
    report.not_ours = _not_from_this_export(folder, report.written)
    if report.not_ours:
        wrote.note([
            f"{len(report.not_ours)} file(s) in this folder were not written by this export (listed under "
            "“Not from this export”), such as the movies of shots no longer in the cut from an earlier export; "
            "no timeline points at them. Pinframe deletes nothing: remove them before handing the folder on, "
            "or export into an empty folder"
        ])  # fmt: skip
    report.seconds = time.monotonic() - started
    report_path = folder / REPORT_NAME
    with atomic_file(report_path) as tmp:
        report.written.append(REPORT_NAME)
        tmp.write_text(report.text(plan), encoding="utf-8")
    return report


def _total_units(plan: ExportPlan) -> int:
    """Work units for the progress bar: one per encoded frame, per board panel, per small file."""
    per_shot = sum(s.media_frames for s in plan.shots)
    return sum(per_shot if f.kind == "shot" else _units(f, plan) for f in written(plan.options.formats))


def _units(fmt: ExportFormat, plan: ExportPlan) -> int:
    """Progress units of a cut-wide file: its frames, its panels, or one for the file."""
    return {"frames": plan.length, "panels": len(plan.shots), "file": 1}[fmt.units]


def _file_count(plan: ExportPlan) -> int:
    """Files (a PNG sequence's folder counts as one) the export writes, less its report."""
    return sum(len(plan.shots) if f.kind == "shot" else 1 for f in written(plan.options.formats))


def _export_media(plan: ExportPlan, media: MediaStore, folder: Path, progress: Progress,
                  wrote: _Collector) -> dict[int, str]:  # fmt: skip
    """Write the shot movies and PNG sequences; returns what stood in for each written shot's pictures
    ("" for none), by cut position."""
    from app.export.frames import shot_frames
    from app.export.movies import write_movie, write_png_sequence
    from app.export.timelines import edl_reel_name

    stood_in: dict[int, str] = {}
    if plan.options.writes_movies:
        (folder / "media").mkdir(exist_ok=True)
        if "movies" not in plan.options.formats:
            wrote_note = "shot movies were written because the timelines point at them"
        else:
            wrote_note = ""
        for shot in plan.shots:
            path = folder / plan.movie_file(shot)
            progress.begin(f"shot {shot.number} movie", file=plan.movie_file(shot), units=shot.media_frames)
            frames = shot_frames(plan, shot, media)
            write_movie(frames, path, plan.rate, plan.options.codec, plan.timecode(plan.source_start(shot)),
                        progress, shot.media_frames, reel=edl_reel_name(plan, shot))  # fmt: skip
            stood_in[shot.index] = frames.stand_in
            wrote(path, frames.notes + ([wrote_note] if wrote_note else []))
        if plan.options.codec == "h264" and "edl" in plan.options.formats:
            wrote.note([
                "the H.264 .mp4 movies carry no reel name (MP4 has no place for one), so the EDL's reels "
                "match no tape name; conform it by clip name or timecode, or export ProRes or DNxHR movies"
            ])  # fmt: skip
    if "png" in plan.options.formats:
        (folder / "png").mkdir(exist_ok=True)
        for shot in plan.shots:
            path = folder / "png" / shot.media_name
            progress.begin(f"shot {shot.number} PNG sequence", file=f"png/{shot.media_name}/", units=shot.media_frames)
            frames = shot_frames(plan, shot, media)
            write_png_sequence(frames, path, progress, start_number=plan.source_start(shot))
            stood_in.setdefault(shot.index, frames.stand_in)
            wrote(path, frames.notes)
    return stood_in


def _stand_ins(plan: ExportPlan, media: MediaStore, written: dict[int, str]) -> dict[int, str]:
    """What stood in for each shot's pictures, as the frames actually written said (``written``).

    A shot whose pictures weren't written in this export (no movies or PNGs asked for) is
    still checked for a missing clip file, so the report and shot list don't promise one.
    """
    stand_ins: dict[int, str] = {}
    for shot in plan.shots:
        if shot.index in written:
            found = written[shot.index]
        elif shot.source == "clip" and not _clip_exists(shot, media):
            found = "clip file missing from the project"
        else:
            found = ""
        if not found and rendered_handles(shot) is not None:
            # A stale clip's pin preview holds the handles; the plan's notes say why and what to do.
            found = "clip rendered without its handles, handles held"
        if found:
            stand_ins[shot.index] = found
    return stand_ins


def _clip_exists(shot: ExportShot, media: MediaStore) -> bool:
    clip = shot.shot.current_clip_take
    return clip is not None and media.exists(clip.media)


def _not_from_this_export(folder: Path, written: list[str]) -> list[str]:
    """Files an export could have written that this one didn't: media/ and png/ entries, timeline-like files.

    Only what an export writes is looked at, so exporting into a busy folder (the desktop)
    doesn't list everything in it. Hidden files are left out.
    """
    ours = set(written) | {REPORT_NAME}
    suffixes = top_level_extensions(ext for _label, ext in MOVIE_CODECS.values())
    found: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir() and path.name in ("media", "png"):
            for entry in sorted(path.iterdir()):
                name = f"{path.name}/{entry.name}"
                if not entry.name.startswith(".") and name not in ours:
                    found.append(name + ("/" if entry.is_dir() else ""))
        elif path.is_file() and path.suffix.lower() in suffixes and path.name not in ours:
            found.append(path.name)
    return found


def _export_file(fmt: ExportFormat, job: WriteJob, wrote: _Collector) -> None:
    """Write one cut-wide file (a timeline, the reference movie, the boards, the shot list)."""
    progress, path = job.progress, job.path
    progress.begin(
        fmt.stage_text,
        file=path.name,
        units=_units(fmt, job.plan),
        unit="panels" if fmt.units == "panels" else "frames",
    )
    write = fmt.load_writer()
    notes = write(job.plan, job.folder, path) if fmt.kind == "timeline" else write(job)
    if path.exists():
        wrote(path, notes)
    else:  # a writer that declined (AAF without DNxHR media) says why in its notes
        wrote.note(notes)
    if fmt.units == "file":
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
