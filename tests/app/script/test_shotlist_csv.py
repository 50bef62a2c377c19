"""Shot list CSV import: the export's own file round-trips, hand-made sheets read, bad sheets say where."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.document import Camera, Project, Scene, Shot, new_id
from app.errors import PinframeError
from app.export.plan import ExportOptions, build_plan
from app.export.shotlist import write_shot_list_csv
from app.script.importer import preview_import
from app.script.model import DialogueLine, ScriptDocument, ScriptShot
from app.script.shotlist_csv import MAX_BYTES, ScriptError, parse_dialogue, read_shot_list_csv
from app.timecode import FrameRate
from tests.app.export.project_factory import make_export_project

R24 = FrameRate(24)
CSV_ONLY = ExportOptions(formats=frozenset({"csv"}))


def tricky_project(rate: FrameRate, drop_frame: bool = False) -> Project:
    """Three scenes whose text has everything a CSV must quote, and every camera field."""
    shot1 = Shot(new_id(), "1A", 24, action='Anna opens the door, slowly.\nShe says "hi".',
                 dialogue="ANNA: Who's there?\nBOB (O.S.): It's me, \"Bob\".\nANNA (V.O.) (quietly): Oh.",
                 notes='Hold; long, "quoted"', prompt="a door, night, 35mm",
                 camera=Camera("MCU", "low", 35, "dolly in"))  # fmt: skip
    shot2 = Shot(new_id(), "1B", 2000, action="Ünïcödé — 東京の夜。", prompt="",
                 camera=Camera("2S", "worm's eye", 85.5, "pan left, tilt up"))  # fmt: skip
    shot3 = Shot(new_id(), "2", 1, dialogue="ZOË: Ça va ?", notes="=cell, +not a formula", prompt="p")
    shot4 = Shot(new_id(), "3 Ü", 7, action="Black.", camera=Camera("EWS", "overhead", None, "static"))
    return Project("Round trip", rate, drop_frame=drop_frame, scenes=(
        Scene(new_id(), "INT. HOUSE - NIGHT", shots=(shot1, shot2)),
        Scene(new_id(), "EXT. STRAßE, BERLIN - DAY", shots=(shot3,)),
        Scene(new_id(), "", shots=(shot4,)),
    ))  # fmt: skip


def dialogue_text(shot: ScriptShot) -> str:
    return "\n".join(d.text() if d.character else d.line for d in shot.dialogue)


def assert_round_trip(project: Project, doc: ScriptDocument) -> None:
    expected = [(str(i), scene.heading, shot) for i, scene in enumerate(project.scenes, 1) for shot in scene.shots]
    got = [(scene.number, scene.heading, shot) for scene in doc.scenes for shot in scene.shots]
    assert len(got) == len(expected)
    for (number, heading, shot), (got_number, got_heading, imported) in zip(expected, got, strict=True):
        assert (got_number, got_heading) == (number, heading)
        assert imported.number == shot.number
        assert imported.action == shot.action
        assert dialogue_text(imported) == shot.dialogue
        assert imported.notes == shot.notes
        # A blank prompt comes back as "none written", so the importer drafts one.
        assert imported.prompt == (shot.prompt or None)
        assert imported.duration == shot.duration
        cam = shot.camera
        assert (imported.size, imported.angle, imported.lens_mm, imported.move) == (
            cam.size, cam.angle, cam.lens_mm, cam.move)  # fmt: skip


@pytest.mark.parametrize(
    ("rate", "drop"), [(FrameRate(24), False), (FrameRate(24000, 1001), False), (FrameRate(30000, 1001), True)]
)
def test_export_then_import_round_trips(tmp_path, rate, drop):
    project = tricky_project(rate, drop)
    path = tmp_path / "Round trip.csv"
    write_shot_list_csv(build_plan(project, CSV_ONLY), path)

    doc = read_shot_list_csv(path, rate)

    assert_round_trip(project, doc)
    assert doc.warnings == ()  # the export's cut columns (Record In, Movie...) are read past quietly
    assert (doc.title, doc.source_format) == ("Round trip", "csv")
    assert doc.scenes[0].shots[0].dialogue[1] == DialogueLine("BOB", 'It\'s me, "Bob".', "", "O.S.")
    assert doc.scenes[0].shots[0].dialogue[2] == DialogueLine("ANNA", "Oh.", "quietly", "V.O.")
    # Lines point into the file: shot 1A's multi-line cells span lines 2-5, so 1B starts on line 6.
    assert [s.line_number for s in doc.scenes[0].shots] == [2, 6]


def test_the_export_test_project_round_trips(tmp_path):
    ep = make_export_project(tmp_path, FrameRate(25), handles=2, audio=False)
    path = tmp_path / "list.csv"
    write_shot_list_csv(build_plan(ep.project, ExportOptions(formats=frozenset({"csv", "movies"}))), path)
    doc = read_shot_list_csv(path, FrameRate(25))
    assert_round_trip(ep.project, doc)


def test_an_imported_shot_list_becomes_the_same_shots(tmp_path):
    """Through the script importer: the project made from the list has the exported shots' fields."""
    project = tricky_project(R24)
    path = tmp_path / "list.csv"
    write_shot_list_csv(build_plan(project, CSV_ONLY), path)
    preview = preview_import(Project("New", R24), read_shot_list_csv(path, R24))
    imported = [s for scene in preview.scenes for s in scene.shots]
    drafted = {
        "1B": "Two-shot, worm's-eye view, interior, house, night, dark, artificial light. Ünïcödé — 東京の夜。 "
        "Cinematic film still.",
        # A heading with no time of day keeps the light of the scene before it (DAY).
        "3 Ü": "Extreme wide shot, overhead shot, top-down view, daylight. Black. Cinematic film still.",
    }
    for shot, new in zip(project.shots(), imported, strict=True):
        assert (new.number, new.duration, new.action, new.dialogue, new.notes, new.camera) == (
            shot.number, shot.duration, shot.action, shot.dialogue, shot.notes, shot.camera)  # fmt: skip
        # Blank prompts are drafted from the heading and action.
        assert new.prompt == (shot.prompt or drafted[shot.number])
    assert [s.heading for s in preview.scenes] == [s.heading for s in project.scenes]


def test_a_minimal_hand_made_sheet():
    text = (
        "Shot No.;Scene;Description;Length;Shot Type;Camera Angle;Focal Length;Owner\n"
        "1;INT. KITCHEN - NIGHT;Anna enters;2.5s;Close-up;Low angle;50 mm;Kim\n"
        "2;;She sits, tired;48;wide shot;bird's eye;;\n"
        ';;"A ""quoted"" thing";00:00:01:12;ms;;;\n'
        "\n"
        "4;;Black;3 sec;extreme close-up;Dutch tilt;;\n"
    )
    doc = read_shot_list_csv(text, R24, name="hand.csv")
    assert len(doc.scenes) == 1
    scene = doc.scenes[0]
    assert (scene.heading, scene.number) == ("INT. KITCHEN - NIGHT", "")  # a heading written in the Scene column
    assert [s.number for s in scene.shots] == ["1", "2", "", "4"]
    assert [s.action for s in scene.shots] == ["Anna enters", "She sits, tired", 'A "quoted" thing', "Black"]
    assert [s.duration for s in scene.shots] == [60, 48, 36, 72]
    assert [s.size for s in scene.shots] == ["CU", "WS", "MS", "ECU"]
    assert [s.angle for s in scene.shots] == ["low", "overhead", "", "dutch"]
    assert [s.lens_mm for s in scene.shots] == [50.0, None, None, None]
    assert [s.prompt for s in scene.shots] == [None] * 4  # no Prompt column: the importer drafts them
    assert [s.line_number for s in scene.shots] == [2, 3, 4, 6]
    assert doc.warnings == ("hand.csv: ignored column(s) 'Owner'",)


def test_scenes_group_by_number_and_heading():
    text = (
        "#,SCENE,heading,action,prompt,seconds,dialogue\n"
        "1,1,INT. HALL - DAY,Anna waits.,,1,\n"
        '2,,,Bob arrives.,,1.5,"BOB: Hi.\nANNA: (dryly) Hello, Bob.\n\n(the phone rings)"\n'
        '3,2,EXT. YARD - DAY,Rain.,wet grass,"2,5",\n'
        "4,1,,Anna again.,,1,\n"
        "5,,EXT. YARD - DAY,More rain.,,1,\n"
        "6,,EXT. ROAD - NIGHT,A car.,,1,\n"
    )
    doc = read_shot_list_csv(text, R24)
    assert [(s.number, s.heading) for s in doc.scenes] == [
        ("1", "INT. HALL - DAY"), ("2", "EXT. YARD - DAY"), ("", "EXT. YARD - DAY"),
        ("", "EXT. ROAD - NIGHT")]  # fmt: skip
    # Scene 1's late row joins scene 1; a repeated heading without a number is a new scene.
    assert [[s.number for s in scene.shots] for scene in doc.scenes] == [["1", "2", "4"], ["3"], ["5"], ["6"]]
    assert doc.scenes[1].shots[0].prompt == "wet grass"
    assert [s.duration for s in doc.scenes[0].shots] == [24, 36, 24]
    assert doc.scenes[1].shots[0].duration == 60  # "2,5" with a decimal comma
    bob = doc.scenes[0].shots[1].dialogue
    assert bob == (
        DialogueLine("BOB", "Hi."),
        DialogueLine("ANNA", "Hello, Bob.", parenthetical="dryly"),
        DialogueLine("", "(the phone rings)"),
    )
    assert any("scene 1 continues after other scenes" in w and "row 5" in w for w in doc.warnings)


def test_heading_only_rows_follow_their_scene():
    text = "Shot,Heading,Action\n1,INT. A - DAY,a\n2,INT. A - DAY,b\n3,EXT. B - NIGHT,c\n4,,d\n5,int. a - day,e\n"
    doc = read_shot_list_csv(text, R24)
    assert [s.heading for s in doc.scenes] == ["INT. A - DAY", "EXT. B - NIGHT", "int. a - day"]
    assert [[s.number for s in scene.shots] for scene in doc.scenes] == [["1", "2"], ["3", "4"], ["5"]]


def test_rows_before_any_scene_make_an_unnamed_scene():
    doc = read_shot_list_csv("Action,Prompt\nA door.,\n,a hall\n", R24)
    assert [(s.number, s.heading) for s in doc.scenes] == [("", "")]
    assert [(s.action, s.prompt) for s in doc.scenes[0].shots] == [("A door.", None), ("", "a hall")]


def test_tab_separated_utf16_from_excel(tmp_path):
    path = tmp_path / "Unicode Text.csv"
    path.write_bytes("Shot\tAction\tSize\n1\tZoë läuft, schnell.\tMedium\n".encode("utf-16"))
    doc = read_shot_list_csv(path, R24)
    assert (doc.scenes[0].shots[0].action, doc.scenes[0].shots[0].size) == ("Zoë läuft, schnell.", "MS")
    assert doc.warnings == ()


def test_utf8_with_and_without_bom(tmp_path):
    for data in ("Shot,Action\n1,Café crème\n".encode(), "Shot,Action\n1,Café crème\n".encode("utf-8-sig")):
        path = tmp_path / "list.csv"
        path.write_bytes(data)
        doc = read_shot_list_csv(path, R24)
        assert doc.scenes[0].shots[0].action == "Café crème"
        assert doc.warnings == ()


def test_windows_1252_is_read_with_a_warning(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("Shot,Action\r\n1,Café crème – “quoted”\r\n2,x\r\n".encode("cp1252"))
    doc = read_shot_list_csv(path, R24)
    assert doc.scenes[0].shots[0].action == "Café crème – “quoted”"
    assert len(doc.warnings) == 1
    assert "excel.csv is not UTF-8 (first at line 2)" in doc.warnings[0] and "CSV UTF-8" in doc.warnings[0]


def test_durations_that_disagree_are_reported():
    """A sheet exported at 25 fps read at 24: frames win, and the timecode mismatch is a warning."""
    text = "Shot,Action,Duration (frames),Duration (timecode)\n1,a,48,00:00:01:23\n2,b,24,00:00:01:00\n"
    doc = read_shot_list_csv(text, R24)
    assert [s.duration for s in doc.scenes[0].shots] == [48, 24]
    assert len(doc.warnings) == 1
    assert "row 2" in doc.warnings[0] and "'Duration (frames)' gives 48 frames" in doc.warnings[0]
    assert "another frame rate" in doc.warnings[0]


def test_duplicate_shot_numbers_and_columns_are_warnings():
    doc = read_shot_list_csv("Shot,Action,Description\n1,a,x\n1,b,y\n", R24)
    assert [s.action for s in doc.scenes[0].shots] == ["a", "b"]
    assert any("columns 'Action' and 'Description' both give the action" in w for w in doc.warnings)
    assert any("row 3: shot 1 is also on row 2" in w for w in doc.warnings)


def test_bad_rows_name_their_row_and_column():
    text = (
        "Shot,Scene,Action,Duration,Size,Angle,Lens\n"
        "1,1,ok,24,CU,,\n"
        "2,1,bad size,24,giant,,\n"
        '3,1,"neg,\nspanning lines",-5,,,\n'
        ",1,,24,,,\n"
        "4,1,zero,0,,,\n"
        "5,1,ambiguous,2.5,,,\n"
        "6,1,angle,,,sideways,\n"
        "7,1,lens,,,,5000mm\n"
        "8,1,lens,,,,long\n"
        "9,1,tc,00:00:01:30,,,\n"
    )
    with pytest.raises(ScriptError) as info:
        read_shot_list_csv(text, R24, name="list.csv")
    message = str(info.value)
    assert "list.csv, row 3, column 'Size': 'giant' is not a shot size; use one of EWS (Extreme wide)" in message
    assert "CU (Close-up)" in message
    assert "list.csv, row 4, column 'Duration': '-5' is negative" in message
    # Row 4's cell spans two lines, so from row 5 on the file line differs from the row.
    assert "list.csv, row 5 (line 6) has no shot number and no description" in message
    assert "row 6 (line 7), column 'Duration': '0' is 0 frames" in message
    assert "row 7 (line 8), column 'Duration': '2.5' could be seconds or frames; write 2.5s" in message
    assert "row 8 (line 9), column 'Angle': 'sideways' is not a camera angle; use one of eye level, high" in message
    assert "row 9 (line 10), column 'Lens': 5000mm is out of range" in message
    assert "row 10 (line 11), column 'Lens': 'long' is not a focal length" in message
    assert "row 11 (line 12), column 'Duration': '00:00:01:30' is out of range at 24 fps" in message
    assert isinstance(info.value, PinframeError) and isinstance(info.value, ValueError)


def test_many_bad_rows_show_the_first_ten():
    text = "Shot,Size\n" + "".join(f"{i},huge\n" for i in range(15))
    with pytest.raises(ScriptError, match=r"row 11, column 'Size'.*\(and 5 more\)\. Fix the sheet") as info:
        read_shot_list_csv(text, R24)
    assert "row 12," not in str(info.value)


def test_conflicting_headings_for_one_scene_number():
    with pytest.raises(ScriptError, match=r"row 3, column 'Heading': scene 1 is 'INT. A - DAY' on an earlier row"):
        read_shot_list_csv("Shot,Scene,Heading,Action\n1,1,INT. A - DAY,a\n2,1,EXT. B - DAY,b\n", R24)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf  \r\n", "is empty"),
        (b",,,\r\n,,\r\n", "is empty"),
        (b"Shot,Scene,Action\n", "has a header but no shots"),
        (b"Shot,Scene,Action\n,,\n  ,  ,\n", "has a header but no shots"),
        (b"Title: The Door\n\nINT. HOUSE - NIGHT\n\nAnna opens the door.\n", "is not a shot list"),
        (b"Owner,Date\nKim,2024-01-01\n", "is not a shot list: its first row has 'Owner', 'Date'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "holds binary data"),
        (b"PK\x03\x04\x14\x00\x06\x00", "is a zip file"),
        (b'Shot,Action\n1,"never closed\n2,x\n', "quoting is broken"),
        (b"Shot,Action\n1,\x81\x8d bad\n", "line 2: the text is neither UTF-8 nor Windows-1252"),
        (b"\xff\xfeS\x00h\x00\x00\xd8", "says it is UTF-16 text but isn't"),
    ],
)
def test_files_that_are_not_shot_lists(tmp_path, data, message):
    path = tmp_path / "input.csv"
    path.write_bytes(data)
    with pytest.raises(ScriptError, match=message) as info:
        read_shot_list_csv(path, R24)
    assert "input.csv" in str(info.value)


def test_missing_folder_and_huge_files(tmp_path):
    with pytest.raises(ScriptError, match="does not exist"):
        read_shot_list_csv(tmp_path / "nope.csv", R24)
    with pytest.raises(ScriptError, match="is a folder"):
        read_shot_list_csv(tmp_path, R24)
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: the size is refused before anything is read
    with pytest.raises(ScriptError, match="huge.csv is 32 MB; a shot list is rarely over 32 MB"):
        read_shot_list_csv(huge, R24)


@pytest.mark.skipif(not Path("/dev/zero").is_char_device() or not hasattr(os, "mkfifo"), reason="POSIX devices")
@pytest.mark.timeout(20)  # reading /dev/zero or opening a FIFO without a writer never ended
def test_devices_and_pipes_are_refused(tmp_path):
    zero = tmp_path / "endless.csv"
    zero.symlink_to("/dev/zero")
    with pytest.raises(ScriptError, match=r"endless\.csv is a device, not a file; choose the shot list CSV file"):
        read_shot_list_csv(zero, R24)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ScriptError, match=r"pipe\.csv is a named pipe \(FIFO\), not a file"):
        read_shot_list_csv(fifo, R24)


def test_a_title_row_above_the_header_is_skipped():
    doc = read_shot_list_csv('My Film — shot list;;\n\nShot;Action;Lens\n1;a 5" monitor;24,5\n', R24)
    shot = doc.scenes[0].shots[0]
    assert (shot.number, shot.action, shot.lens_mm, shot.line_number) == ("1", 'a 5" monitor', 24.5, 4)
    assert doc.warnings == ("the shot list: skipped 1 row(s) above the header row (row 3)",)


def test_excel_separator_hint_line():
    doc = read_shot_list_csv("sep=|\nShot|Action|Lens\n1|a, b|24,5 mm\n", R24)
    shot = doc.scenes[0].shots[0]
    assert (shot.action, shot.lens_mm, shot.line_number) == ("a, b", 24.5, 3)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("ANNA: Who's there?", DialogueLine("ANNA", "Who's there?")),
        ("Anna: hi", DialogueLine("Anna", "hi")),
        ("DR. NO (CONT'D): Mr. Bond.", DialogueLine("DR. NO", "Mr. Bond.", extension="CONT'D")),
        ("ANNA (whispers): Go.", DialogueLine("ANNA", "Go.", parenthetical="whispers")),
        ("GUARD #2: Halt!", DialogueLine("GUARD #2", "Halt!")),
        ("ZOË: Ça va ?", DialogueLine("ZOË", "Ça va ?")),
        ("It's 5:30 already.", DialogueLine("", "It's 5:30 already.")),
        ("Well, one, two, three and four: go", DialogueLine("", "Well, one, two, three and four: go")),
        ("Just a line", DialogueLine("", "Just a line")),
    ],
)
def test_dialogue_lines(line, expected):
    assert parse_dialogue(line) == (expected,)


def test_cells_guarded_against_spreadsheet_formulas_come_back_as_written(tmp_path):
    from dataclasses import replace as _replace

    project = tricky_project(R24)
    first = next(project.shots())
    risky = _replace(first, action='=HYPERLINK("http://x")', notes="-1+1", dialogue="- Hold on")
    scene = project.scenes[0]
    project = _replace(project, scenes=(_replace(scene, shots=(risky,) + scene.shots[1:]),) + project.scenes[1:])
    path = tmp_path / "guarded.csv"
    write_shot_list_csv(build_plan(project, CSV_ONLY), path)
    raw = path.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in raw and "'-1+1" in raw  # what a spreadsheet sees is text
    shot = read_shot_list_csv(path, R24).scenes[0].shots[0]
    assert shot.action == risky.action and shot.notes == risky.notes


def test_a_projects_own_shot_list_imported_back_changes_nothing(tmp_path):
    from tests.app.export.project_factory import make_export_project as _make

    project = _make(tmp_path, R24, audio=False).project  # scenes made by hand, never imported
    path = tmp_path / "own.csv"
    write_shot_list_csv(build_plan(project, CSV_ONLY), path)
    preview = preview_import(project, read_shot_list_csv(path, R24))
    assert not preview.changed, preview.report()
