"""Fountain scripts of different shapes, read through fountain-py into scenes and shots.

Each test script under tests/data/scripts/ is read from disk and compared with the exact
scenes, shots, sizes, dialogue, notes and line numbers a person reading it would expect.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.script.fountain import parse_fountain
from app.script.model import DialogueLine, ScriptScene, ScriptShot
from app.script.read import read_script
from app.script.shots import Element, build_scenes, match_shot_line, split_cue

SCRIPTS = Path(__file__).resolve().parents[2] / "data" / "scripts"

LAST_TRAIN = (
    ScriptScene(
        "EXT. STATION PLATFORM - NIGHT",
        number="1",
        synopsis="Zoë misses the last train home.",
        line_number=10,
        shots=(
            ScriptShot(action="Rain hammers the glass roof. A station clock reads 11:58.", line_number=14),
            ScriptShot(
                action="ZOË (30s, soaked) runs in from the stairs.",
                shot_line="[[SHOT: wide of the empty platform]]",
                size="WS",
                line_number=16,
            ),
            ScriptShot(
                action="The second hand ticks past twelve.",
                shot_line="CLOSE ON - ZOË'S WATCH",
                size="CU",
                line_number=19,
                dialogue=(
                    DialogueLine("ZOË", "Not again.", parenthetical="breathless"),
                    DialogueLine("JÜRGEN", "Zoë! Over here!", extension="O.S."),
                ),
                notes="Lighting: sodium orange, no blue.\nCUT TO:",
            ),
        ),
    ),
    ScriptScene(
        "INT. WAITING ROOM - CONTINUOUS",
        number="2",
        line_number=34,
        shots=(
            ScriptShot(
                action="Jürgen, 60s, holds out a thermos.",
                shot_line="[[SHOT: two shot, both on the bench]]",
                size="2S",
                line_number=36,
                dialogue=(
                    DialogueLine("JÜRGEN", "Tea?"),
                    DialogueLine("ZOË", "You always have tea.", parenthetical="taking it"),
                    DialogueLine("JÜRGEN", "Always.", dual=True),
                ),
            ),
            ScriptShot(
                action="Every line reads CANCELLED.",
                shot_line="INSERT - THE DEPARTURE BOARD",
                size="INS",
                line_number=48,
            ),
            ScriptShot(
                action="The rails vanish into the dark.",
                shot_line="ZOË'S POV",
                size="POV",
                line_number=52,
                notes="Centered: THE END",
            ),
        ),
    ),
)


def test_short_film_with_title_page() -> None:
    doc = read_script(SCRIPTS / "last_train.fountain")
    assert doc.source_format == "fountain"
    # Title page emphasis (_**...**_) is markup, not part of the title.
    assert doc.title == "The Last Train"
    assert doc.scenes == LAST_TRAIN
    assert doc.warnings == ()
    # "FADE IN:" comes before the first heading and belongs to no scene.
    assert all("FADE IN" not in shot.notes for scene in doc.scenes for shot in scene.shots)


def test_forced_scene_headings_and_scene_numbers() -> None:
    doc = read_script(SCRIPTS / "forced_headings.fountain")
    assert [(s.heading, s.number, s.line_number) for s in doc.scenes] == [
        ("FLASHBACK - TOKYO, 1999", "12A", 1),  # forced with "." and numbered
        ("int. house - day", "13", 7),  # as written, lower case
        ("INT./EXT. CAR - MOVING", "14", 11),
        ("I/E TRUCK - NIGHT", "", 15),
        ("EST. CITY SKYLINE - DAWN", "15", 17),
        ("ROOFTOP", "", 19),
    ]
    flashback = doc.scenes[0]
    # "..." at a line's start is an ellipsis, not a forced heading.
    assert [s.action for s in flashback.shots] == ["Rain on neon signs.", "...and then silence."]
    assert flashback.setting == ("", "FLASHBACK", "TOKYO, 1999")
    assert doc.scenes[3].shots == () and doc.scenes[4].shots == ()
    rooftop = doc.scenes[5]
    assert rooftop.shots == (
        # Dialogue before any action is a shot of its own; "@" forces a mixed-case cue.
        ScriptShot(dialogue=(DialogueLine("McCLANE", "Yippee-ki-yay."),), line_number=21),
        # "!" forces action; the forced transition is kept as a note.
        ScriptShot(action="SCREAMING ECHOES.", notes="FADE TO BLACK.", line_number=24),
    )


def test_dual_dialogue() -> None:
    doc = read_script(SCRIPTS / "dual_dialogue.fountain")
    kitchen, garden = doc.scenes
    assert kitchen.shots == (
        ScriptShot(
            action="Two chairs, one table.",
            line_number=3,
            dialogue=(
                DialogueLine("BRICK", "Screw retirement."),
                DialogueLine("STEEL", "Screw retirement.", dual=True),
                DialogueLine("ZOË", "They never listen.", parenthetical="whispering", extension="V.O."),
                # Each parenthetical keeps the words it directs.
                DialogueLine("JÜRGEN", "We never listen!", parenthetical="louder", extension="CONT'D", dual=True),
                DialogueLine("JÜRGEN", "Never.", parenthetical="beat", extension="CONT'D", dual=True),
            ),
        ),
    )
    assert garden.line_number == 21
    assert garden.shots == (
        ScriptShot(
            dialogue=(DialogueLine("Dr. Ng", "Ready?"), DialogueLine("Ms. Ana", "Ready.", dual=True)),
            line_number=23,
        ),
        ScriptShot(action="They step into the dark.", line_number=29),
    )


def test_notes_shot_notes_and_boneyard() -> None:
    doc = read_script(SCRIPTS / "notes_boneyard.fountain")
    # The heading inside /* */ is not a scene; the shot note inside it is not a shot.
    assert [s.heading for s in doc.scenes] == ["INT. DARKROOM - NIGHT"]
    assert doc.scenes[0].shots == (
        # A shot note inside a paragraph opens the shot that paragraph is; a note before the
        # scene's first shot goes to that shot.
        ScriptShot(
            action="A print develops in the tray. Her face appears.",
            shot_line="[[SHOT: CU on the tray]]",
            size="CU",
            notes="Before any shot: red safelight only.",
            line_number=5,
        ),
        ScriptShot(action="She lifts it out.", shot_line="[[SHOT]]", line_number=7),
        # Other notes, inline or on their own lines (one over two lines), land in their shot.
        ScriptShot(
            action="Drips fall. More drips.", notes="a plain note\nA note that runs over two lines", line_number=10
        ),
        # A shot note in a speech opens the shot at the cue; the next action paragraph is its
        # action (inline boneyard removed).
        ScriptShot(
            action="She leaves.",
            shot_line="[[SHOT: MCU Anna]]",
            size="MCU",
            dialogue=(DialogueLine("ANNA", "I kept this one."),),
            line_number=20,
        ),
        ScriptShot(shot_line="[[SHOT: over the shoulder - the door]]", size="OTS", line_number=25),
    )


def test_sections_synopses_centered_text_lyrics_and_page_breaks() -> None:
    doc = read_script(SCRIPTS / "sections_centered.fountain")
    assert doc.title == "Sections and Synopses"
    library, street = doc.scenes
    # The act's synopsis and the section's synopsis are not the scene's.
    assert (library.heading, library.synopsis, library.line_number) == (
        "INT. LIBRARY - DAY",
        "A librarian finds a letter.",
        7,
    )
    assert library.shots == (
        # The page break makes nothing; centered text is kept as a note, not a shot.
        ScriptShot(action="Dust in the sunbeams.", notes="Centered: CHAPTER ONE", line_number=11),
        ScriptShot(
            action="The letter is unsigned.",
            # A lyric under a cue is sung dialogue; one standing alone is a note.
            dialogue=(DialogueLine("MARIA", "La la la", parenthetical="singing"),),
            notes="Lyrics: Somewhere over the rainbow\nSMASH CUT TO:",
            line_number=17,
        ),
    )
    assert street.shots == ()
    assert doc.warnings == ("line 33: 'Centered: THE END' is in a scene with no action or dialogue; it was skipped",)


def test_non_ascii_names_and_text() -> None:
    doc = read_script(SCRIPTS / "unicode_names.fountain")
    assert doc.title == "Ünïcödé Nights"
    (scene,) = doc.scenes
    assert scene.heading == "INT. 東京 APARTMENT - NIGHT"
    assert scene.setting == ("INT.", "東京 APARTMENT", "NIGHT")
    (shot,) = scene.shots
    assert shot.action == "Neon light: 東京タワー glows outside."
    # Capitals beyond A-Z make cues (ZOË, JÜRGEN, Greek, Cyrillic); a name in a script without
    # capitals needs "@", as the Fountain spec says.
    assert shot.dialogue == (
        DialogueLine("ZOË", "Wo ist Jürgen?"),
        DialogueLine("JÜRGEN", "Hier, Zoë.", extension="V.O."),
        DialogueLine("ΣΟΦΙΑ", "Καλησπέρα."),
        DialogueLine("ЮЛИЯ", "Привет."),
        DialogueLine("東京", "こんにちは。"),
        DialogueLine("ÉLODIE", "Ça va ?", extension="CONT'D"),
    )


def test_capital_line_without_dialogue_stays_action() -> None:
    doc = parse_fountain("INT. HALL - DAY\n\nZOË\n\nJÜRGEN WAITS.\n")
    assert [s.action for s in doc.scenes[0].shots] == ["ZOË", "JÜRGEN WAITS."]


def test_shot_line_directly_over_text_is_a_shot_not_a_cue() -> None:
    # Without a blank line fountain-py reads "INSERT - THE LETTER" as a character cue.
    doc = parse_fountain("INT. HALL - DAY\n\nINSERT - THE LETTER\nDear Anna, I am leaving.\n")
    assert doc.scenes[0].shots == (
        ScriptShot(action="Dear Anna, I am leaving.", shot_line="INSERT - THE LETTER", size="INS", line_number=3),
    )


def test_shot_line_heading_a_paragraph_splits_from_its_action() -> None:
    doc = parse_fountain("INT. HALL - DAY\n\nWIDE - THE HALL\nDust everywhere.\n\nANGLE ON: the door\n")
    assert doc.scenes[0].shots == (
        ScriptShot(action="Dust everywhere.", shot_line="WIDE - THE HALL", size="WS", line_number=3),
        ScriptShot(shot_line="ANGLE ON: the door", line_number=6),
    )


def test_every_action_paragraph_is_a_shot_without_shot_lines() -> None:
    text = "EXT. FIELD - DAY\n\nWind.\n\nGrass bends.\nA hare runs.\n\nSilence.\n"
    shots = parse_fountain(text).scenes[0].shots
    assert [(s.action, s.line_number) for s in shots] == [
        ("Wind.", 3),
        ("Grass bends.\nA hare runs.", 5),
        ("Silence.", 8),
    ]


def test_text_before_the_first_heading_becomes_a_scene_with_a_warning() -> None:
    doc = parse_fountain("Black screen. A phone rings.\n\nANNA (V.O.)\nHello?\n\nINT. FLAT - NIGHT\n\nAnna wakes.\n")
    assert [(s.heading, s.line_number) for s in doc.scenes] == [("", 1), ("INT. FLAT - NIGHT", 6)]
    assert doc.scenes[0].shots[0].dialogue == (DialogueLine("ANNA", "Hello?", extension="V.O."),)
    assert doc.warnings == (
        "line 1: text before the first scene heading was imported as a scene without a heading; "
        "add a scene heading (INT./EXT. ...) above it to name it",
    )


def test_unclosed_boneyard_is_reported_with_its_line() -> None:
    doc = parse_fountain("INT. HALL - DAY\n\nShe waits.\n\n/* cut this\n\nINT. GONE - DAY\n")
    assert [s.heading for s in doc.scenes] == ["INT. HALL - DAY"]
    assert any(w.startswith("line 5: ") and "never closed" in w for w in doc.warnings)


def test_windows_line_endings_give_the_same_document() -> None:
    text = (SCRIPTS / "last_train.fountain").read_text(encoding="utf-8")
    assert parse_fountain(text.replace("\n", "\r\n")) == parse_fountain(text)


# --- the shot rules shared with Final Draft --------------------------------------------------


@pytest.mark.parametrize(
    ("line", "size", "angle"),
    [
        ("CLOSE ON - HER HANDS", "CU", ""),
        ("CLOSE UP", "CU", ""),
        ("CLOSE ON the cup.", "CU", ""),
        ("EXTREME CLOSE UP - THE EYE", "ECU", ""),
        ("WIDE", "WS", ""),
        ("WIDE SHOT: the valley", "WS", ""),
        ("WIDE ON THE PLATFORM", "WS", ""),
        ("INSERT - THE LETTER", "INS", ""),
        ("POV", "POV", ""),
        ("JÜRGEN'S POV", "POV", ""),
        ("OVER THE SHOULDER - ANNA", "OTS", ""),
        ("TWO SHOT - ANNA AND BEN", "2S", ""),
        ("MEDIUM SHOT", "MS", ""),
        ("MEDIUM CLOSE UP", "MCU", ""),
        ("ESTABLISHING SHOT", "EWS", ""),
        ("ANGLE ON: the window", "", ""),
        ("BACK TO SCENE", "", ""),
        ("LOW ANGLE", "", "low"),
        ("AERIAL SHOT - THE CITY", "", "aerial"),
        ("ON THE DOOR", "", ""),
    ],
)
def test_shot_lines(line: str, size: str, angle: str) -> None:
    found = match_shot_line(line)
    assert found is not None and (found.size, found.angle) == (size, angle)


@pytest.mark.parametrize(
    "line",
    [
        "Close on the cup.",
        "WIDE AWAKE, SHE SITS UP.",
        "INSERTS THE KEY.",
        "ON the table, a key.",
        "CUT TO:",
        "ANNA",
        "",
    ],
)
def test_not_shot_lines(line: str) -> None:
    assert match_shot_line(line) is None


def test_shot_note_descriptions_name_sizes_in_any_case() -> None:
    assert match_shot_line("wide of the empty platform", any_case=True).size == "WS"  # type: ignore[union-attr]
    assert match_shot_line("CU on her hands", any_case=True).size == "CU"  # type: ignore[union-attr]
    assert match_shot_line("her hands", any_case=True) is None


def test_cues_split_into_name_extension_and_dual() -> None:
    assert split_cue("ANNA") == ("ANNA", "", False)
    assert split_cue("JÜRGEN (O.S.)") == ("JÜRGEN", "O.S.", False)
    assert split_cue("BOB (V.O.) (CONT'D) ^") == ("BOB", "V.O., CONT'D", True)
    assert split_cue("@McCLANE") == ("McCLANE", "", False)


def test_build_scenes_from_plain_elements() -> None:
    elements = [
        Element("heading", "INT. BAR - NIGHT", 1, number="4"),
        Element("synopsis", "They meet.", 2),
        Element("dialogue", line=3, dialogue=(DialogueLine("ANNA", "Hi."),)),
        Element("action", "Ben turns.", 6),
        Element("shot", "CLOSE ON BEN", 8),
        Element("note", "check the neon", 9),
        Element("action", "He smiles.", 10),
        Element("action", "The band plays.", 12),
    ]
    scenes, warnings = build_scenes(elements)
    assert warnings == ()
    assert scenes == (
        ScriptScene(
            "INT. BAR - NIGHT",
            number="4",
            synopsis="They meet.",
            line_number=1,
            shots=(
                ScriptShot(dialogue=(DialogueLine("ANNA", "Hi."),), line_number=3),
                ScriptShot(action="Ben turns.", line_number=6),
                ScriptShot(
                    action="He smiles.", shot_line="CLOSE ON BEN", size="CU", notes="check the neon", line_number=8
                ),
                ScriptShot(action="The band plays.", line_number=12),
            ),
        ),
    )
