"""Fountain scripts of different shapes, read through fountain-py into scenes and shots.

Each test script under tests/data/scripts/ is read from disk and compared with the exact
scenes, shots, sizes, dialogue, notes and line numbers a person reading it would expect.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fountain import FountainElement, FountainParser

from app.script.fountain import (
    MAX_FOUNTAIN_CHARS,
    MAX_FOUNTAIN_LINES,
    MAX_PARAGRAPH_LINES,
    _emphasis_spans,
    _parser_class,
    parse_fountain,
)
from app.script.model import DialogueLine, ScriptScene, ScriptShot
from app.script.read import read_script
from app.script.shots import (
    Element,
    ScriptReadError,
    build_scenes,
    match_shot_line,
    shot_note_description,
    split_cue,
)

SCRIPTS = Path(__file__).resolve().parents[2] / "data" / "scripts"

LAST_TRAIN = (
    ScriptScene(
        "EXT. STATION PLATFORM - NIGHT",
        number="1",
        synopsis="Zoë misses the last train home.",
        line_number=10,
        shots=(
            # "FADE IN:" above the first heading opens the first shot (issue 18 item 10).
            ScriptShot(
                action="Rain hammers the glass roof. A station clock reads 11:58.", notes="FADE IN:", line_number=14
            ),
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
    # "FADE IN:" comes before the first heading: a note of the first shot, not a scene or shot of its own.
    assert [shot.notes for scene in doc.scenes for shot in scene.shots].count("FADE IN:") == 1


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


# --- review fixes: bounded parse time, wrapped shot notes, forced action ---------------------


def test_a_shot_note_wrapped_over_two_lines_keeps_its_size() -> None:
    doc = parse_fountain("INT. YARD - DAY\n\n[[SHOT: CU\non the dog]]\nThe dog barks.\n")
    shot = doc.scenes[0].shots[0]
    assert (shot.size, shot.shot_line, shot.action) == ("CU", "[[SHOT: CU on the dog]]", "The dog barks.")
    assert shot_note_description("SHOT:  wide\n\tof the  yard ") == "wide of the yard"


def test_forced_action_is_never_a_shot_line() -> None:
    doc = parse_fountain("INT. HALL - DAY\n\n!CLOSE ON THE DOOR. It opens...\n\nCLOSE ON THE DOOR\n\nIt opens.\n")
    forced, shot = doc.scenes[0].shots
    assert (forced.action, forced.shot_line, forced.size) == ("CLOSE ON THE DOOR. It opens...", "", "")
    assert (shot.shot_line, shot.size, shot.action) == ("CLOSE ON THE DOOR", "CU", "It opens.")


def test_a_paragraph_of_a_thousand_shot_lines() -> None:
    # Each shot line at the top of a paragraph opens a shot; this once recursed line by line.
    doc = parse_fountain("INT. HALL - DAY\n\n" + "WIDE\n" * (MAX_PARAGRAPH_LINES - 1) + "She waits.\n")
    shots = doc.scenes[0].shots
    assert len(shots) == MAX_PARAGRAPH_LINES - 1
    assert (shots[-1].line_number, shots[-1].size, shots[-1].action) == (MAX_PARAGRAPH_LINES + 1, "WS", "She waits.")


def test_a_paragraph_longer_than_any_screenplay_is_refused() -> None:
    longest = "INT. HALL - DAY\n\n" + "She waits.\n" * MAX_PARAGRAPH_LINES
    assert parse_fountain(longest).scenes[0].shots[0].action.count("\n") == MAX_PARAGRAPH_LINES - 1
    with pytest.raises(ScriptReadError, match=r"long\.fountain line 3: more than 1,000 lines follow one another") as e:
        parse_fountain(longest + "She waits.\n", "long.fountain")
    assert e.value.line == 3
    # Blank lines end a paragraph; whitespace-only ones too, as fountain-py reads them.
    parse_fountain("INT. HALL - DAY\n\n" + ("She waits.\n" * 600 + "  \n") * 3)


def test_scripts_past_the_size_limits_are_refused() -> None:
    many_lines = "INT. HALL - DAY\n\n" + "x\n\n" * (MAX_FOUNTAIN_LINES // 2)
    with pytest.raises(ScriptReadError, match=r"big\.fountain is 50,002 lines; Pinframe reads Fountain screenplays of "
                       r"up to 50,000 lines and 2 million characters.*Import it in parts"):  # fmt: skip
        parse_fountain(many_lines, "big.fountain")
    many_chars = "INT. HALL - DAY\n\n" + ("word " * 1000 + "\n\n") * (MAX_FOUNTAIN_CHARS // 5000 + 1)
    with pytest.raises(ScriptReadError, match=r"big\.fountain is 2\.0 million characters; Pinframe reads"):
        parse_fountain(many_chars, "big.fountain")


# With fountain-py's own steps these took 34 s and 20 s on the 2-core build machine, and
# grew with the square of their size; they now take a fraction of a second. The timeout
# only turns a return of that into a failure instead of a wait.
@pytest.mark.timeout(15)
def test_inputs_that_made_fountain_py_quadratic_read_quickly() -> None:
    notes_first = "\n".join(["[[n]]\n" * 999] * 15) + "\nINT. HALL - DAY\n\n" + ("She waits.\n" * 999 + "\n") * 15
    assert len(parse_fountain(notes_first).scenes[0].shots) == 15
    emphasis = parse_fountain("INT. HALL - DAY\n\n" + "_x " * 30_000 + "a* " * 30_000 + "\n")
    assert emphasis.scenes[0].shots[0].action.startswith("_x _x")


def _reference_parser() -> type[FountainParser]:
    """Our parser with fountain-py's own versions of the steps fountain.py replaces."""
    replaced = ("_has_visible_content", "_process_dual_dialogue", "_find_emphasis_spans_in_line", "_extract_inline")
    return type("_Reference", (_parser_class(),), {name: getattr(FountainParser, name) for name in replaced})


def _plain(value: object) -> object:
    if isinstance(value, FountainElement):
        return (value.type, value.text, value.line_number, _plain(value.metadata))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


_LINES = ("", "", "", "INT. HALL - DAY", "ANNA", "BEN ^", "CARL (V.O.) ^", "@dee ^", "Hello.", "(quietly)",
          "She *waits*.", "**Bold** _under_ ***both***", "\\*not\\* *a_b*", "CUT TO:", "[[a note]]", "/* cut */",
          "~La la", "= synopsis", "# Act", "> centered <", "!FORCED", "  ", "[[open", "close]]", "===")  # fmt: skip


def test_the_replaced_parser_steps_match_fountain_py() -> None:
    rng = random.Random(6)
    ours, reference = _parser_class(), _reference_parser()
    for _ in range(400):
        text = "\n".join(rng.choice(_LINES) for _ in range(rng.randint(1, 40)))
        expected = reference().parse(text)
        got = ours().parse(text)
        assert _plain(got.elements) == _plain(expected.elements), text
        assert got.metadata == expected.metadata
    for _ in range(3000):
        line = "".join(rng.choice("**__ a.\\") for _ in range(rng.randint(1, 24)))
        runs = FountainParser()._scan_delimiter_runs(line)
        assert _emphasis_spans(runs) == FountainParser()._find_emphasis_spans_in_line(line), line
