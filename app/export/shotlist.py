"""The shot list CSV: one row per shot in cut order, for spreadsheets and production offices.

Written as UTF-8 with a byte-order mark, because Excel reads a CSV without one in the
system's legacy code page and garbles every non-ASCII letter ("Ü" becomes "Ãœ"). The csv
module quotes commas, quotes and line breaks, so multi-line dialogue stays in one cell.

Spreadsheets run a cell that looks like a formula, so text from a script ("=SUM(...)",
"+1", "@cmd", "-2+3") could compute, or call out, when the list is opened (CSV injection).
Following OWASP's advice, such a cell is written with a single quote in front, which
Excel, LibreOffice and Google Sheets show as text. The rule, applied to every cell
(numbers and timecodes never match it):

- a cell is a *formula trigger* when it starts with ``=``, ``+``, ``@``, a tab or a
  carriage return, or with ``-`` followed by anything but a space (``-1+1``, ``-A1``, ``--``);
  a lone ``-`` and dialogue like ``- Hold on`` (dash, space) are left alone;
- a cell is written as ``'`` + cell when the cell, with all its leading quotes removed, is a
  formula trigger. So ``=1+1`` becomes ``'=1+1`` and ``'=1+1`` becomes ``''=1+1``.

A reader undoes it exactly: drop one leading ``'`` from a cell that starts with ``'`` and
whose text, with all leading quotes removed, is a formula trigger (``needs_formula_guard``).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from app.export.files import atomic_file
from app.export.formats import WriteJob
from app.export.plan import ExportPlan, ExportShot
from app.timecode import format_duration

COLUMNS: tuple[str, ...] = (
    "Shot",
    "Scene",
    "Heading",
    "Record In",
    "Record Out",
    "Duration (frames)",
    "Duration (timecode)",
    "Handles",
    "Size",
    "Angle",
    "Lens",
    "Move",
    "Action",
    "Dialogue",
    "Notes",
    "Prompt",
    "Negative Prompt",
    "Pins (frames)",
    "Source",
    "Movie",
)

# How each plan source reads to a person.
SOURCE_LABELS: dict[str, str] = {"clip": "rendered clip", "pins": "pin preview", "slate": "slate"}

FORMULA_STARTS = ("=", "+", "@", "\t", "\r")
FORMULA_GUARD = "'"


def needs_formula_guard(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` (its leading quotes removed) as a formula."""
    text = text.lstrip(FORMULA_GUARD)
    if text.startswith(FORMULA_STARTS):
        return True
    return text.startswith("-") and len(text) > 1 and text[1] != " "


def guard_formula(text: str) -> str:
    """``text`` as a spreadsheet shows it as text: with a leading ``'`` where it would be a formula."""
    return FORMULA_GUARD + text if needs_formula_guard(text) else text


def shot_row(plan: ExportPlan, shot: ExportShot, stand_in: str = "") -> dict[str, str]:
    """The CSV cells of one shot, as written (formula-like text guarded, see the module docstring).

    Record Out is exclusive (the frame after the shot's last), as in an EDL, so each row's
    out equals the next row's in. Size is the abbreviation the director picked (MS, CU).
    ``stand_in`` says what stood in for the shot's pictures in this export, if anything did.
    """
    return {key: guard_formula(value) for key, value in _cells(plan, shot, stand_in).items()}


def _cells(plan: ExportPlan, shot: ExportShot, stand_in: str) -> dict[str, str]:
    cam = shot.shot.camera
    source = SOURCE_LABELS.get(shot.source, shot.source)
    return {
        "Shot": shot.number,
        "Scene": str(shot.scene_number),
        "Heading": shot.scene_heading,
        "Record In": plan.record_timecode(shot.record_in),
        "Record Out": plan.record_timecode(shot.record_out),
        "Duration (frames)": str(shot.duration),
        "Duration (timecode)": format_duration(shot.duration, plan.rate, drop_frame=plan.drop_frame),
        "Handles": str(shot.handles),
        "Size": cam.size,
        "Angle": cam.angle,
        "Lens": f"{cam.lens_mm:g}mm" if cam.lens_mm else "",
        "Move": cam.move,
        "Action": shot.shot.action,
        "Dialogue": shot.shot.dialogue,
        "Notes": shot.shot.notes,
        "Prompt": shot.shot.prompt,
        "Negative Prompt": shot.shot.negative_prompt,
        # Semicolons, so the list survives being pasted into comma-separated tools.
        "Pins (frames)": "; ".join(str(p.frame) for p in shot.pinned),
        "Source": f"{source} — {stand_in}" if stand_in else source,
        "Movie": plan.movie_file(shot) if plan.options.writes_movies else "",
    }


def write_shot_list_csv(plan: ExportPlan, final_path: Path, *, stand_ins: Mapping[int, str] | None = None) -> list[str]:
    """Write the shot list to ``final_path``; returns notes for the export report.

    ``stand_ins`` (by cut position) says what stood in for a shot's pictures in this export
    ("clip file missing, pin preview exported"); the Source column adds it to the plan's source.
    """
    stand_ins = stand_ins or {}
    with atomic_file(final_path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for shot in plan.shots:
            writer.writerow(shot_row(plan, shot, stand_ins.get(shot.index, "")))
    notes: list[str] = []
    if plan.shots and not plan.options.writes_movies:
        notes.append("shot list: the Movie column is empty because this export wrote no movies.")
    return notes


def export_shot_list(job: WriteJob) -> list[str]:
    """The "csv" format's writer (see app.export.formats)."""
    return write_shot_list_csv(job.plan, job.path, stand_ins=job.stand_ins)
