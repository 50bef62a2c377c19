"""Issue 18 item 12 (first part): dialogue shouted in capitals stays dialogue."""

from __future__ import annotations

import pytest

from app.script.model import DialogueLine
from app.script.read import read_script_text


def shots(speech: str):
    doc = read_script_text(f"INT. ROOM - DAY\n\nA room.\n\n{speech}\n\nLater.\n", "fountain", "shout.fountain")
    return [(shot.action, shot.dialogue) for scene in doc.scenes for shot in scene.shots]


@pytest.mark.parametrize(
    ("speech", "lines"),
    [
        ("ANNA\nGET OUT", (DialogueLine("ANNA", "GET OUT"),)),
        ("ANNA\nNO.", (DialogueLine("ANNA", "NO."),)),
        ("ANNA\nWIDE", (DialogueLine("ANNA", "WIDE"),)),  # a shot term, shouted, is still a line
        ("ANNA (V.O.)\nHELP", (DialogueLine("ANNA", "HELP", extension="V.O."),)),
        ("ANNA\nGET OUT OF HERE\nNOW", (DialogueLine("ANNA", "GET OUT OF HERE\nNOW"),)),
        ("ANNA\nSTOP\n(beat)\nPLEASE", (DialogueLine("ANNA", "STOP"), DialogueLine("ANNA", "PLEASE", "beat"))),
    ],
)
def test_shouted_lines_are_dialogue_of_the_shot_they_fall_in(speech, lines):
    assert shots(speech) == [("A room.", lines), ("Later.", ())]


@pytest.mark.parametrize("paragraph", ["CLOSE ON\nHER HANDS", "FADE OUT.\nTHE END"])
def test_shot_lines_and_transitions_in_capitals_are_not_cues(paragraph):
    assert all(not dialogue for _, dialogue in shots(paragraph))
