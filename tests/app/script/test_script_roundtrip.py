"""Issue 18 item 9: a screenplay project's own shot list, imported back, leaves the project as it was."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

from app.document import Project
from app.export.plan import ExportOptions, build_plan
from app.export.shotlist import write_shot_list_csv
from app.script.importer import preview_import
from app.script.read import read_script_text
from app.script.shotlist_csv import read_shot_list_csv
from app.timecode import FrameRate

R24 = FrameRate(24)
CSV_ONLY = ExportOptions(formats=frozenset({"csv"}))

# Repeated headings (keyed "h:HEADING:n") and written scene numbers ("#7A#") side by side.
SCREENPLAY = """Title: Round Trip

INT. KITCHEN - NIGHT

Anna enters.

ANNA
Hello?

EXT. PARK - DAY

Birds scatter.

INT. KITCHEN - NIGHT

Anna again, by the sink.

CLOSE ON

The tap drips.

INT. HALL - DAY #7A#

A long hall.
"""


def screenplay_project() -> Project:
    project = Project("Round Trip", R24)
    preview = preview_import(project, read_script_text(SCREENPLAY, "fountain", "trip.fountain"))
    return replace(project, scenes=preview.scenes)


def export(project: Project, path: Path) -> Path:
    write_shot_list_csv(build_plan(project, CSV_ONLY), path)
    return path


def test_a_screenplay_projects_shot_list_imported_back_changes_nothing(tmp_path):
    project = screenplay_project()
    assert {s.script_key for s in project.scenes} >= {"h:INT. KITCHEN - NIGHT:2", "#7A"}
    doc = read_shot_list_csv(export(project, tmp_path / "trip.csv"), R24)

    preview = preview_import(project, doc)

    assert not preview.changed, preview.report()
    assert preview.report() == []
    assert [s.id for s in preview.scenes] == [s.id for s in project.scenes]


def test_an_edited_shot_list_edits_in_place_and_the_screenplay_still_finds_its_scenes(tmp_path):
    project = screenplay_project()
    path = export(project, tmp_path / "trip.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    rows[2]["Duration (frames)"] = "99"  # scene 3, first shot
    rows[2]["Duration (timecode)"] = ""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    preview = preview_import(project, read_shot_list_csv(path, R24))
    edited = replace(project, scenes=preview.scenes)

    assert [s.id for s in edited.scenes] == [s.id for s in project.scenes]  # nothing deleted or duplicated
    assert [s.script_key for s in edited.scenes] == [s.script_key for s in project.scenes]
    assert [c.kind for c in preview.changes].count("update") == 1
    assert edited.scenes[2].shots[0].duration == 99
    assert [s.number for s in edited.shots()] == [s.number for s in project.shots()]
    # The screenplay, imported again, still knows every scene and keeps the director's duration.
    again = preview_import(edited, read_script_text(SCREENPLAY, "fountain", "trip.fountain"))
    assert [s.id for s in again.scenes] == [s.id for s in project.scenes]
    assert again.scenes[2].shots[0].duration == 99
