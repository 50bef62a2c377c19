"""The shot list CSV: columns, cut order, timecodes, and text that spreadsheets mangle."""

from __future__ import annotations

import csv
import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from app.errors import ExportError
from app.export.plan import ExportOptions, build_plan
from app.export.shotlist import needs_formula_guard, write_shot_list_csv
from app.timecode import FrameRate, frames_to_timecode, timecode_to_frames
from tests.app.export.project_factory import make_export_project

HEADER = [
    "Shot", "Scene", "Heading", "Record In", "Record Out", "Duration (frames)", "Duration (timecode)",
    "Handles", "Size", "Angle", "Lens", "Move", "Action", "Dialogue", "Notes", "Prompt", "Negative Prompt",
    "Pins (frames)", "Source", "Movie",
]  # fmt: skip


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.mark.parametrize(
    ("rate", "drop", "start"),
    [
        (FrameRate(24), False, "01:00:00:00"),
        (FrameRate(30000, 1001), True, "00:59:59;00"),
        (FrameRate(24000, 1001), False, "10:00:00:00"),
    ],
)
def test_rows_follow_the_cut(tmp_path, rate, drop, start):
    start_frame = timecode_to_frames(start, rate)
    ep = make_export_project(tmp_path, rate, handles=2, drop_frame=drop, start_frame=start_frame, audio=False)
    plan = build_plan(ep.project, ExportOptions(formats=frozenset({"csv", "movies"})))
    final = tmp_path / "Shot list.csv"

    assert write_shot_list_csv(plan, final) == []

    assert final.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    header, rows = read_rows(final)
    assert header == HEADER
    shots = list(ep.project.shots())
    assert [r["Shot"] for r in rows] == ["1A", "2", "3 Ü", "4"] == [s.number for s in shots]

    record = start_frame
    scenes = [(i, scene.heading) for i, scene in enumerate(ep.project.scenes, 1) for _ in scene.shots]
    for row, shot, (scene_number, heading) in zip(rows, shots, scenes, strict=True):
        assert row["Scene"] == str(scene_number)
        assert row["Heading"] == heading
        assert row["Record In"] == frames_to_timecode(record, rate, drop_frame=drop)
        record += shot.duration
        assert row["Record Out"] == frames_to_timecode(record, rate, drop_frame=drop)
        assert row["Duration (frames)"] == str(shot.duration)
        assert row["Duration (timecode)"] == frames_to_timecode(shot.duration, rate, drop_frame=drop)
        assert row["Handles"] == str(shot.handles)
        assert (row["Action"], row["Dialogue"], row["Notes"], row["Prompt"]) == (
            shot.action, shot.dialogue, shot.notes, shot.prompt)  # fmt: skip
    # Each row's out is the next row's in: the list adds up to the cut.
    for a, b in itertools.pairwise(rows):
        assert a["Record Out"] == b["Record In"]
    if drop:
        assert ";" in rows[0]["Record In"]

    first, second, third, fourth = rows
    assert (first["Size"], first["Angle"], first["Lens"], first["Move"]) == ("MS", "low", "35mm", "dolly in")
    assert (fourth["Size"], fourth["Lens"], fourth["Move"]) == ("", "", "")
    assert [r["Pins (frames)"] for r in rows] == ["0", "5", "0; 20", ""]
    # 1A is rendered and current; 2's clip is stale, so it falls back to its pins like 3; 4 is a slate.
    assert [r["Source"] for r in rows] == ["rendered clip", "pin preview", "pin preview", "slate"]
    for row, shot in zip(rows, plan.shots, strict=True):
        assert row["Movie"] == plan.movie_file(shot)
        assert row["Movie"].startswith("media/") and row["Movie"].endswith(".mov")
    assert second["Movie"] != third["Movie"]
    assert first["Handles"] == "2"

    # Handles chosen for the whole export override each shot's own.
    plan = build_plan(ep.project, ExportOptions(formats=frozenset({"csv", "movies"}), handles=5))
    write_shot_list_csv(plan, final)
    assert [r["Handles"] for r in read_rows(final)[1]] == ["5"] * 4


def test_text_that_breaks_naive_csv_round_trips(tmp_path):
    ep = make_export_project(tmp_path, audio=False)
    project = ep.project
    action = "He says \"hi\", then leaves;\nthe door\r\nslams. 50% off, 'quoted' too."
    dialogue = "ÜBER — 日本語, «Здравствуй»\nÉLODIE: Ça va ?"
    notes = '=SUM(A1:A3), "tab\there", trailing space '
    shot = replace(next(project.shots()), number='12, "B"', action=action, dialogue=dialogue, notes=notes,
                   prompt="a door, at night\n\nrain")  # fmt: skip
    scene = replace(project.scenes[0], heading='INT. CAFÉ "Ä, Ö" - NIGHT', shots=(shot, *project.scenes[0].shots[1:]))
    project = replace(project, scenes=(scene, *project.scenes[1:]))
    plan = build_plan(project, ExportOptions(formats=frozenset({"csv"})))
    final = tmp_path / "list.csv"

    notes_out = write_shot_list_csv(plan, final)

    _, rows = read_rows(final)
    assert len(rows) == 4
    first = rows[0]
    assert first["Shot"] == '12, "B"'
    assert first["Heading"] == 'INT. CAFÉ "Ä, Ö" - NIGHT'
    assert first["Action"] == action
    assert first["Dialogue"] == dialogue
    assert first["Notes"] == "'" + notes  # a formula to a spreadsheet, so it is guarded
    assert first["Prompt"] == "a door, at night\n\nrain"
    assert rows[1]["Shot"] == "2"  # the embedded line breaks didn't start new rows
    # No movies in this export, so there is no file to point at, and the report says why.
    assert all(r["Movie"] == "" for r in rows)
    assert len(notes_out) == 1 and "Movie column" in notes_out[0]


# (cell text, what the CSV holds): OWASP's formula starts get a leading quote, plain text doesn't.
FORMULA_CASES = [
    ('=HYPERLINK("http://x","a")', '\'=HYPERLINK("http://x","a")'),
    ("+1", "'+1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tindented", "'\tindented"),
    ("\rback", "'\rback"),
    ("-1+1", "'-1+1"),
    ("-A1", "'-A1"),
    ("--", "'--"),
    ("-\nnext line", "'-\nnext line"),
    ("'=1+1", "''=1+1"),  # a quote the writer put there stays the writer's
    ("- Hold on, she said.", "- Hold on, she said."),
    ("-", "-"),
    ("'quoted'", "'quoted'"),
    ("a = b + c", "a = b + c"),
    ("", ""),
]


def unguard(cell: str) -> str:
    """The reader's side of the rule (as the shot list importer must apply it)."""
    return cell[1:] if cell.startswith("'") and needs_formula_guard(cell) else cell


def test_formula_like_text_is_guarded_with_a_quote(tmp_path):
    ep = make_export_project(tmp_path, audio=False)
    project = ep.project
    first = next(project.shots())
    final = tmp_path / "list.csv"
    for text, want in FORMULA_CASES:
        shot = replace(first, number=text or "1", action=text, dialogue=text, notes=text, prompt=text)
        one = replace(project, scenes=(replace(project.scenes[0], heading=text, shots=(shot,)),))
        write_shot_list_csv(build_plan(one, ExportOptions(formats=frozenset({"csv"}))), final)
        row = read_rows(final)[1][0]
        for column in ("Heading", "Action", "Dialogue", "Notes", "Prompt") + (("Shot",) if text else ()):
            assert row[column] == want, (column, text)
            assert unguard(row[column]) == text  # the guard comes off exactly


def test_source_says_what_stood_in(tmp_path):
    ep = make_export_project(tmp_path, audio=False)
    plan = build_plan(ep.project, ExportOptions(formats=frozenset({"csv"})))
    final = tmp_path / "list.csv"
    write_shot_list_csv(plan, final, stand_ins={0: "clip file missing, pin preview exported"})
    sources = [r["Source"] for r in read_rows(final)[1]]
    assert sources == ["rendered clip — clip file missing, pin preview exported", "pin preview", "pin preview", "slate"]


def test_unwritable_destination_is_a_clear_error(tmp_path):
    ep = make_export_project(tmp_path, audio=False)
    plan = build_plan(ep.project, ExportOptions(formats=frozenset({"csv"})))
    final = tmp_path / "gone" / "list.csv"
    with pytest.raises(ExportError, match="can't write .*list.csv"):
        write_shot_list_csv(plan, final)
    assert not final.parent.exists()
