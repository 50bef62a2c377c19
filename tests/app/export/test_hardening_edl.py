"""Issue 18 item 15: a CMX3600 EDL is plain ASCII and its comment lines fit in 80 columns.

Strict CMX readers (and Avid's EDL Manager) read 7-bit text in 80-column lines; a UTF-8 "Ü"
or a 300-character dialogue locator makes them drop the event or the whole list.
"""

from __future__ import annotations

import re
from pathlib import Path

import opentimelineio as otio

from app.document import Project, Scene, Shot, new_id
from app.export.plan import ExportOptions, ExportPlan, build_plan
from app.export.timelines import edl_ascii, write_edl
from app.timecode import FrameRate

LONG = "Ünd dann — sagt sie „nein“ … " + "und geht langsam durch die Tür, ohne sich umzusehen. " * 6


def hostile_plan() -> ExportPlan:
    shots = (
        Shot(new_id(), "1 Ü", 24, dialogue=f"JÜRGEN: {LONG}", notes="Straße, Ærø, naïve café ½"),
        Shot(new_id(), "2", 12, notes="東京の夜 — night in Tokyo"),
        Shot(new_id(), "3ß", 6, dialogue="ANNA: Short."),
    )
    project = Project("Größe Première — 東京", FrameRate(24), 128, 72, start_frame=24 * 3600,
                      scenes=(Scene(new_id(), "INT. KÜCHE - NACHT", shots=shots),))  # fmt: skip
    return build_plan(project, ExportOptions(formats=frozenset({"edl"})))


def write(tmp_path: Path) -> tuple[ExportPlan, bytes, Path]:
    plan = hostile_plan()
    export_dir = tmp_path / "Über Export"
    for shot in plan.shots:
        movie = export_dir / plan.movie_file(shot)
        movie.parent.mkdir(parents=True, exist_ok=True)
        movie.touch()
    target = tmp_path / "cut.edl"
    write_edl(plan, export_dir, target)
    return plan, target.read_bytes(), target


def test_edl_is_pure_ascii(tmp_path: Path) -> None:
    _, data, _ = write(tmp_path)
    assert data.isascii(), [line for line in data.decode("utf-8").splitlines() if not line.isascii()]
    text = data.decode("ascii")
    assert "TITLE: GROSSE PREMIERE - ??" in text.upper()
    assert "* FROM CLIP NAME:  1 U\n" in text
    assert "* FROM CLIP NAME:  3ss\n" in text
    assert "NOTE: STRASSE, AERO, NAIVE CAFE 1/2\n" in text
    assert re.search(r"(?m)^003  0033SS ", text)  # the reel spells the letter out too
    assert "?? - NIGHT IN TOKYO" in text  # no letters dropped silently: one mark per character


def test_edl_locator_and_comment_lines_fit_80_columns(tmp_path: Path) -> None:
    plan, data, target = write(tmp_path)
    lines = data.decode("ascii").splitlines()
    # The media link (a percent-encoded file URL) is the one comment that can't be cut without
    # breaking relinking; every other line keeps to 80 columns.
    too_long = [line for line in lines if len(line) > 80 and not line.startswith("* FROM CLIP: file:")]
    assert too_long == []
    locs = [line for line in lines if line.startswith("* LOC:")]
    dialogue = [line for line in locs if "DIALOGUE: JURGEN: UND DANN - SAGT SIE" in line]
    assert len(dialogue) == 1 and dialogue[0].endswith("...") and len(dialogue[0]) == 80
    # Still one locator per marker, and OpenTimelineIO reads the list back.
    assert len(locs) == sum(len(s.markers) for s in plan.shots)
    timeline = otio.adapters.read_from_file(str(target), adapter_name="cmx_3600", rate=24)
    assert [c.name for c in timeline.find_clips()] == ["1 U", "2", "3ss"]
    assert [len(c.markers) for c in timeline.find_clips()] == [len(s.markers) for s in plan.shots]


def test_edl_ascii_transliterates_and_marks_what_it_cannot() -> None:
    assert edl_ascii("Ü ä é ñ ß Æ ø ł “x” ‘y’ – — … ½ ﬁ") == "U a e n ss AE o l \"x\" 'y' - - ... 1/2 fi"
    assert edl_ascii("東京") == "??"
    assert edl_ascii("tab\there\x00") == "tab here "
    assert re.fullmatch(r"[ -~]*", edl_ascii("".join(chr(c) for c in range(0x20, 0x3000, 7))))
