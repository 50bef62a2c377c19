"""The shot list CSV: one row per shot in cut order, for spreadsheets and production offices.

Written as UTF-8 with a byte-order mark, because Excel reads a CSV without one in the
system's legacy code page and garbles every non-ASCII letter ("Ü" becomes "Ãœ"). The csv
module quotes commas, quotes and line breaks, so multi-line dialogue stays in one cell.
"""

from __future__ import annotations

import csv
from pathlib import Path

from app.export.files import atomic_file
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
    "Pins (frames)",
    "Source",
    "Movie",
)

# How each plan source reads to a person.
SOURCE_LABELS: dict[str, str] = {"clip": "rendered clip", "pins": "pin preview", "slate": "slate"}


def shot_row(plan: ExportPlan, shot: ExportShot) -> dict[str, str]:
    """The CSV cells of one shot.

    Record Out is exclusive (the frame after the shot's last), as in an EDL, so each row's
    out equals the next row's in. Size is the abbreviation the director picked (MS, CU).
    """
    cam = shot.shot.camera
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
        # Semicolons, so the list survives being pasted into comma-separated tools.
        "Pins (frames)": "; ".join(str(p.frame) for p in shot.pinned),
        "Source": SOURCE_LABELS.get(shot.source, shot.source),
        "Movie": plan.movie_file(shot) if plan.options.writes_movies else "",
    }


def write_shot_list_csv(plan: ExportPlan, final_path: Path) -> list[str]:
    """Write the shot list to ``final_path``; returns notes for the export report."""
    with atomic_file(final_path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for shot in plan.shots:
            writer.writerow(shot_row(plan, shot))
    notes: list[str] = []
    if plan.shots and not plan.options.writes_movies:
        notes.append("shot list: the Movie column is empty because this export wrote no movies.")
    return notes
