"""Every format an export can write, in one table: the CLI, the Export dialog, the runner and the README read it.

``pinframe export --formats``, the dialog's "Write" boxes, the order and file names of what
:func:`app.export.run.export_project` writes, its progress stages and the README's export table
are all views of :data:`EXPORT_FORMATS`. Adding a format is one entry here and one writer module.

Three kinds of format, told apart by how their writer is called:

- ``"file"``: one file for the whole cut, written by ``writer(job: WriteJob) -> notes``.
- ``"timeline"``: one file for the cut that links the per-shot movies, so choosing one writes
  the movies too; ``writer(plan, export_dir, final_path) -> notes`` (``timelines.Writer``).
- ``"shot"``: one file (or folder) per shot. They share the frames the runner decodes once a
  shot, so the runner's media pass (:func:`app.export.run._export_media`) calls the writer
  named here itself: a new per-shot format is an entry here and a few lines there.

The lists are read when used (``export_formats()``), not copied at import, so a test can add an
entry to the table and see it in the CLI's help and the dialog's boxes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pathlib import Path

    from app.export.files import Progress
    from app.export.plan import ExportPlan
    from app.media_store import MediaStore

Kind = Literal["shot", "file", "timeline"]
# Work units a cut-wide file reports: one tick when written, one per frame of the cut, one per board panel.
Units = Literal["file", "frames", "panels"]

# How the README's table spells the parts of a file name.
README_NAMES = {"stem": "NAME", "shot": "001_1A", "ext": "mov", "frame": "0086400"}
REPORT_ROW = "| — | `export-report.txt` | what was written, and what stood in for what | everyone |"


@dataclass(frozen=True)
class WriteJob:
    """What a ``"file"`` format's writer gets: the plan, where to write, and what the export learnt so far."""

    plan: ExportPlan
    media: MediaStore
    folder: Path
    path: Path  # the file to write (atomically: under a temporary name, renamed when whole)
    progress: Progress
    # What stood in for each shot's pictures, by cut position (see ExportReport.stand_ins).
    stand_ins: dict[int, str]


@dataclass(frozen=True)
class ExportFormat:
    key: str  # the name in --formats, the dialog's settings and its checkbox ("format-<key>")
    label: str  # the dialog's checkbox
    kind: Kind
    # What it writes, relative to the export folder: {stem} is the project's file-safe name;
    # per-shot formats also use {shot} (the shot's media name), {ext} and {frame} (README only).
    file: str
    writer: str  # "module:function", imported when the format is written (see the module docstring)
    options: tuple[str, ...] = ()  # the ExportOptions fields it reads; the dialog enables those rows
    default: bool = False  # chosen when nothing else was
    stage: str = ""  # the progress line's words ("Writing <stage>"); the label when empty
    units: Units = "file"
    about: str = ""  # the README's "what" column
    audience: str = ""  # the README's "for" column

    @property
    def extension(self) -> str:
        """The file's extension (".edl"); empty for per-shot movies, whose codec decides it."""
        return "" if "{ext}" in self.file else PurePosixPath(self.file).suffix

    @property
    def stage_text(self) -> str:
        return self.stage or self.label

    def file_name(self, stem: str) -> str:
        """The file a cut-wide format writes for a project whose file-safe name is ``stem``."""
        return self.file.format(stem=stem)

    def load_writer(self) -> Callable[..., list[str]]:
        module, _, name = self.writer.partition(":")
        return getattr(importlib.import_module(module), name)

    def readme_row(self) -> str:
        sample = self.file.format(**README_NAMES)
        more = " …" if self.kind == "shot" else ""
        return f"| `{self.key}` | `{sample}`{more} | {self.about} | {self.audience} |"


_TIMELINE = ("drop_frame", "handles")

EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat(
        "movies", "Shot movies (one per shot)", "shot", "media/{shot}.{ext}", "app.export.movies:write_movie",
        options=("codec", "handles", "drop_frame"), default=True,
        about="one movie per shot with handles and embedded start timecode: ProRes 422 HQ (default), "
        "H.264 `.mp4` or DNxHR HQ `.mxf`",
        audience="every editor",
    ),
    ExportFormat(
        "reference", "Reference movie (whole cut, burn-ins, sound)", "file", "{stem} reference.mp4",
        "app.export.reference:export_reference", options=("drop_frame", "burn_dialogue"), default=True,
        stage="reference movie", units="frames",
        about="the whole cut with burn-ins (shot, scene, timecode, frame, dialogue) and the sound mix",
        audience="review, temp track",
    ),
    ExportFormat(
        "png", "PNG image sequences", "shot", "png/{shot}/{shot}.{frame}.png",
        "app.export.movies:write_png_sequence", options=("handles",),
        about="PNG sequences, numbered by source timecode", audience="compositing",
    ),
    ExportFormat(
        "fcp7", "FCP7 XML (Premiere, Resolve)", "timeline", "{stem}.xml", "app.export.timelines:write_fcp7",
        options=_TIMELINE, default=True, about="FCP7 XML", audience="Premiere Pro, Resolve",
    ),
    ExportFormat(
        "fcpxml", "FCPXML 1.10 (Final Cut Pro, Resolve)", "timeline", "{stem}.fcpxml",
        "app.export.fcpxml:write_fcpxml", options=_TIMELINE, default=True,
        about="FCPXML 1.10", audience="Final Cut Pro, Resolve",
    ),
    ExportFormat(
        "edl", "CMX3600 EDL", "timeline", "{stem}.edl", "app.export.timelines:write_edl",
        options=_TIMELINE, default=True,
        about="CMX3600 EDL with clip names and locators (ASCII, lines cut to 80 columns with `...`; "
        "the full text is in the XML and OTIO)",
        audience="Avid, anything",
    ),
    ExportFormat(
        "otio", "OpenTimelineIO .otio", "timeline", "{stem}.otio", "app.export.timelines:write_otio",
        options=_TIMELINE, default=True, about="OpenTimelineIO, linking the movies", audience="pipelines",
    ),
    ExportFormat(
        "otioz", "OpenTimelineIO .otioz (media inside)", "timeline", "{stem}.otioz",
        "app.export.timelines:write_otioz", options=_TIMELINE,
        about="OpenTimelineIO with the movies inside", audience="pipelines, hand-offs",
    ),
    ExportFormat(
        "aaf", "AAF (Avid)", "timeline", "{stem}.aaf", "app.export.otio_aaf:write_aaf",
        options=(*_TIMELINE, "codec"),
        about="AAF with the DNxHR media embedded, at every supported rate (23.976 and 29.97 too); "
        "needs the DNxHR codec",
        audience="Avid",
    ),
    ExportFormat(
        "pdf", "Storyboard PDF", "file", "{stem} storyboard.pdf", "app.export.boards:export_storyboard",
        options=("paper", "panels_per_row"), default=True, stage="storyboard PDF", units="panels",
        about="boards, 1/2/3 panels per row, Letter or A4", audience="the room",
    ),
    ExportFormat(
        "csv", "Shot list CSV", "file", "{stem} shot list.csv", "app.export.shotlist:export_shot_list",
        options=("handles", "drop_frame"), default=True, stage="shot list",
        about="every shot's timing, camera and text", audience="production",
    ),
)  # fmt: skip


def export_formats() -> tuple[ExportFormat, ...]:
    """The table, read now (a test may have replaced it)."""
    return EXPORT_FORMATS


def format_keys() -> tuple[str, ...]:
    return tuple(f.key for f in export_formats())


def default_keys() -> frozenset[str]:
    return frozenset(f.key for f in export_formats() if f.default)


def export_format(key: str) -> ExportFormat:
    for fmt in export_formats():
        if fmt.key == key:
            return fmt
    raise KeyError(key)


def written(keys: Iterable[str]) -> tuple[ExportFormat, ...]:
    """The formats an export of ``keys`` writes, in writing order: a timeline brings the shot movies."""
    chosen = set(keys)
    if any(f.kind == "timeline" and f.key in chosen for f in export_formats()):
        chosen.add("movies")
    return tuple(f for f in export_formats() if f.key in chosen)


def options_read(keys: Iterable[str]) -> frozenset[str]:
    """The ExportOptions fields an export of ``keys`` reads (the dialog enables just those)."""
    return frozenset(option for f in written(keys) for option in f.options)


def top_level_extensions(movie_extensions: Iterable[str]) -> frozenset[str]:
    """Extensions of the files an export can write at the top of its folder (for "Not from this export")."""
    found = {f.extension for f in export_formats() if f.kind != "shot"}
    return frozenset({*found, *(f".{ext}" for ext in movie_extensions)} - {""})


def readme_table() -> str:
    """The README's export table (between its ``<!-- export formats`` and ``<!-- end export formats -->`` lines)."""
    lines = ["| `--formats` | file | what | for |", "| --- | --- | --- | --- |"]
    lines += [f.readme_row() for f in export_formats()]
    return "\n".join([*lines, REPORT_ROW])
