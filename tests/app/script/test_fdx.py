"""Final Draft .fdx scripts: the same scenes and shots as Fountain, and unsafe XML refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.errors import ScriptError
from app.script.fdx import parse_fdx
from app.script.model import DialogueLine, ScriptScene, ScriptShot
from app.script.read import read_script

SCRIPTS = Path(__file__).resolve().parents[2] / "data" / "scripts"


def _without_lines(scenes: tuple[ScriptScene, ...]) -> tuple[ScriptScene, ...]:
    return tuple(
        dataclasses.replace(s, line_number=0, shots=tuple(dataclasses.replace(x, line_number=0) for x in s.shots))
        for s in scenes
    )


def _fdx(content: str, extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no" ?>\n'
        f'<FinalDraft DocumentType="Script" Template="No" Version="5">\n<Content>\n{content}\n</Content>\n{extra}'
        "</FinalDraft>\n"
    )


def test_fdx_gives_the_same_scenes_and_shots_as_its_fountain_twin() -> None:
    fountain = read_script(SCRIPTS / "last_train.fountain")
    fdx = read_script(SCRIPTS / "last_train.fdx")
    assert fdx.source_format == "fdx"
    assert fdx.title == fountain.title == "The Last Train"
    assert fdx.warnings == ()
    # Everything but the line numbers, which are lines of different files.
    assert _without_lines(fdx.scenes) == _without_lines(fountain.scenes)
    # The content hashes the re-import compares agree across formats too.
    assert [s.content_hash for s in fdx.scenes] == [s.content_hash for s in fountain.scenes]


def test_fdx_line_numbers_are_the_paragraphs_lines() -> None:
    doc = read_script(SCRIPTS / "last_train.fdx")
    assert [(s.heading, s.number, s.line_number) for s in doc.scenes] == [
        ("EXT. STATION PLATFORM - NIGHT", "1", 8),
        ("INT. WAITING ROOM - CONTINUOUS", "2", 58),
    ]
    # A shot note stored in <ScriptNotes> at the end of the file opens its shot at the
    # paragraph it is about (line 62), not where the note is stored.
    assert [s.line_number for s in doc.scenes[0].shots] == [18, 26, 34]
    assert [s.line_number for s in doc.scenes[1].shots] == [62, 90, 96]


def test_text_runs_are_joined_and_caps_elements_upper_cased() -> None:
    doc = read_script(SCRIPTS / "last_train.fdx")
    # Three <Text> runs (one italic) make one paragraph; the heading typed in lower case and
    # the Shot typed "Close on - Zoë's watch" show in capitals, as Final Draft shows them.
    assert doc.scenes[0].heading == "EXT. STATION PLATFORM - NIGHT"
    assert doc.scenes[0].shots[0].action == "Rain hammers the glass roof. A station clock reads 11:58."
    assert doc.scenes[0].shots[2].shot_line == "CLOSE ON - ZOË'S WATCH"


def test_paragraph_types_dual_dialogue_and_notes() -> None:
    text = _fdx(
        """
<Paragraph Type="Scene Heading" Number="7B"><Text>INT. BAR - NIGHT</Text></Paragraph>
<Paragraph Type="General"><Text>Smoke hangs. [[haze level 2]]</Text></Paragraph>
<Paragraph Type="Character"><Text>ANNA (V.O.)</Text></Paragraph>
<Paragraph Type="Parenthetical"><Text>(low)</Text></Paragraph>
<Paragraph Type="Dialogue"><Text>Don't.</Text></Paragraph>
<Paragraph Type="Parenthetical"><Text>(then)</Text></Paragraph>
<Paragraph Type="Dialogue"><Text>Please.</Text></Paragraph>
<Paragraph Type="Shot"><Text>TWO SHOT</Text></Paragraph>
<Paragraph><DualDialogue>
  <Paragraph Type="Character"><Text>BEN</Text></Paragraph>
  <Paragraph Type="Dialogue"><Text>Now?</Text></Paragraph>
  <Paragraph Type="Character"><Text>ZOË (CONT'D)</Text></Paragraph>
  <Paragraph Type="Dialogue"><Text>Now.</Text></Paragraph>
</DualDialogue></Paragraph>
<Paragraph Type="Action">
  <ScriptNote ID="4"><Paragraph><Text>SHOT: low angle on the door</Text></Paragraph></ScriptNote>
  <ScriptNote ID="5"><Paragraph><Text>door is practical</Text></Paragraph></ScriptNote>
  <Text>The door swings open.</Text>
</Paragraph>
<Paragraph Type="Transition"><Text>Smash cut to:</Text></Paragraph>
"""
    )
    doc = parse_fdx(text, "bar.fdx")
    (scene,) = doc.scenes
    assert (scene.heading, scene.number, scene.line_number) == ("INT. BAR - NIGHT", "7B", 5)
    assert scene.shots == (
        ScriptShot(
            action="Smoke hangs.",
            notes="haze level 2",
            line_number=6,
            dialogue=(
                DialogueLine("ANNA", "Don't.", parenthetical="low", extension="V.O."),
                DialogueLine("ANNA", "Please.", parenthetical="then", extension="V.O."),
            ),
        ),
        ScriptShot(
            shot_line="TWO SHOT",
            size="2S",
            line_number=12,
            dialogue=(DialogueLine("BEN", "Now?"), DialogueLine("ZOË", "Now.", extension="CONT'D", dual=True)),
        ),
        ScriptShot(
            action="The door swings open.",
            shot_line="[[SHOT: low angle on the door]]",
            angle="low",
            notes="door is practical\nSMASH CUT TO:",
            line_number=19,
        ),
    )


def test_unknown_paragraph_types_are_read_as_action_with_a_warning() -> None:
    text = _fdx(
        '<Paragraph Type="Scene Heading"><Text>INT. LAB - DAY</Text></Paragraph>\n'
        '<Paragraph Type="Hologram"><Text>A blue glow.</Text></Paragraph>\n'
        '<Paragraph Type="Hologram"><Text>It flickers.</Text></Paragraph>\n'
    )
    doc = parse_fdx(text)
    assert [s.action for s in doc.scenes[0].shots] == ["A blue glow.", "It flickers."]
    assert doc.warnings == ("line 5: paragraph type 'Hologram' is not a screenplay element; read as action",)


def test_entity_declarations_are_refused_before_parsing() -> None:
    with pytest.raises(ScriptError, match=r"entities\.fdx line 2: the file declares a DOCTYPE") as err:
        read_script(SCRIPTS / "bad" / "entities.fdx")
    assert err.value.line == 2


def test_external_entity_is_refused() -> None:
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE FinalDraft [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
        '<FinalDraft><Content><Paragraph Type="Action"><Text>&secret;</Text></Paragraph></Content></FinalDraft>'
    )
    with pytest.raises(ScriptError, match="DOCTYPE"):
        parse_fdx(text, "leak.fdx")


def test_malformed_xml_names_the_line() -> None:
    with pytest.raises(ScriptError, match=r"malformed\.fdx line 9, column \d+: the file is not well-formed XML") as err:
        read_script(SCRIPTS / "bad" / "malformed.fdx")
    assert err.value.line == 9


def test_xml_that_is_not_final_draft_is_refused() -> None:
    with pytest.raises(ScriptError, match=r"not a Final Draft script: its root element is <svg>, not <FinalDraft>"):
        read_script(SCRIPTS / "bad" / "not_finaldraft.fdx")
    with pytest.raises(ScriptError, match="no <Content>"):
        parse_fdx("<FinalDraft><TitlePage/></FinalDraft>", "empty.fdx")


def test_undefined_entity_is_an_xml_error() -> None:
    text = _fdx('<Paragraph Type="Action"><Text>Caf&eacute;</Text></Paragraph>')
    with pytest.raises(ScriptError, match=r"line 4, column \d+: .*undefined entity"):
        parse_fdx(text, "cafe.fdx")


def test_range_notes_land_on_their_paragraph() -> None:
    # Paragraphs count their text plus one for the break: "INT. LAB - DAY" is 0-14,
    # "Hum." 15-19, "Buzz." 20-25. A note that can't be placed is reported, not guessed.
    text = _fdx(
        '<Paragraph Type="Scene Heading"><Text>INT. LAB - DAY</Text></Paragraph>\n'
        '<Paragraph Type="Action"><Text>Hum.</Text></Paragraph>\n'
        '<Paragraph Type="Action"><Text>Buzz.</Text></Paragraph>',
        "<ScriptNotes>\n"
        '<ScriptNote Range="21,24"><Paragraph><Text>louder</Text></Paragraph></ScriptNote>\n'
        '<ScriptNote Range="15,19"><Paragraph><Text>SHOT: CU the fridge</Text></Paragraph></ScriptNote>\n'
        '<ScriptNote Range="abc"><Paragraph><Text>lost</Text></Paragraph></ScriptNote>\n'
        "</ScriptNotes>\n",
    )
    doc = parse_fdx(text)
    assert doc.scenes[0].shots == (
        ScriptShot(action="Hum.", shot_line="[[SHOT: CU the fridge]]", size="CU", line_number=5),
        ScriptShot(action="Buzz.", notes="louder", line_number=6),
    )
    assert doc.warnings == ("line 11: script note 'lost' has no readable position; skipped",)


def test_the_parser_itself_refuses_a_doctype() -> None:
    # Belt and braces: even if the text check were bypassed, expat's handlers refuse.
    from app.script.fdx import _parse_xml

    with pytest.raises(ScriptError, match="line 2: the file declares a DOCTYPE or ENTITY"):
        _parse_xml('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<x>&a;</x>', "x.fdx")
