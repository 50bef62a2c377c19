"""Issue 18 item 10: transitions and titles are notes of the neighbouring shot, never shots or scenes."""

from __future__ import annotations

import pytest

from app.script.read import read_script_text
from app.script.shots import match_title, match_transition

FOUNTAIN = """Title: Transitions

FADE IN:

INT. KITCHEN - NIGHT

Anna enters.

SUPER: "Paris, 1944"

TITLE OVER:

THREE YEARS LATER

She sits.

CUT TO:

EXT. PARK - DAY

Birds scatter.

CUT TO BLACK.

FADE OUT.
"""


def fdx(*paragraphs: tuple[str, str]) -> str:
    body = "".join(f'<Paragraph Type="{kind}"><Text>{text}</Text></Paragraph>' for kind, text in paragraphs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<FinalDraft DocumentType="Script" Template="No" Version="5"><Content>{body}</Content></FinalDraft>'
    )


def shots(doc):
    return [(scene.heading, shot.action, shot.notes) for scene in doc.scenes for shot in scene.shots]


def test_fountain_transitions_and_titles_are_notes_not_shots():
    doc = read_script_text(FOUNTAIN, "fountain", "t.fountain")
    assert shots(doc) == [
        ("INT. KITCHEN - NIGHT", "Anna enters.", 'FADE IN:\nSUPER: "Paris, 1944"\nTITLE OVER: THREE YEARS LATER'),
        ("INT. KITCHEN - NIGHT", "She sits.", "CUT TO:"),
        ("EXT. PARK - DAY", "Birds scatter.", "CUT TO BLACK.\nFADE OUT."),
    ]
    assert doc.warnings == ()


def test_a_title_at_the_top_of_a_scene_goes_to_its_first_shot_and_a_fade_in_to_the_next_shot():
    text = "INT. HALL - DAY\n\nTITLE CARD - ONE WEEK EARLIER\n\nA long hall.\n\nFADE IN:\n\nDust.\n"
    doc = read_script_text(text, "fountain", "t.fountain")
    assert shots(doc) == [
        ("INT. HALL - DAY", "A long hall.", "TITLE CARD - ONE WEEK EARLIER"),
        ("INT. HALL - DAY", "Dust.", "FADE IN:"),
    ]


@pytest.mark.parametrize("kind", ["Action", "Transition", "Scene Heading", "Shot", "General"])
def test_fdx_fade_in_makes_no_untitled_scene(kind):
    doc = read_script_text(
        fdx((kind, "FADE IN:"), ("Scene Heading", "INT. KITCHEN - NIGHT"), ("Action", "Anna enters."),
            ("Action", "SUPER: PARIS, 1944"), ("Action", "Anna sits."), ("Action", "FADE OUT.")),
        "fdx", "t.fdx",
    )  # fmt: skip
    assert [s.heading for s in doc.scenes] == ["INT. KITCHEN - NIGHT"]
    assert shots(doc) == [
        ("INT. KITCHEN - NIGHT", "Anna enters.", "FADE IN:\nSUPER: PARIS, 1944"),
        ("INT. KITCHEN - NIGHT", "Anna sits.", "FADE OUT."),
    ]
    assert doc.warnings == ()


@pytest.mark.parametrize(
    "line", ["FADE IN:", "FADE OUT.", "CUT TO BLACK.", "SMASH CUT TO:", "DISSOLVE TO:", "FADE TO BLACK.", "BACK TO:"]
)
def test_transition_lines(line):
    assert match_transition(line)


@pytest.mark.parametrize("line", ["Fade in the music.", "CUTS TO THE CHASE", "Anna cuts the bread.", "CLOSE ON"])
def test_action_is_not_a_transition(line):
    assert not match_transition(line)


def test_title_lines():
    assert match_title('SUPER: "Paris"') == '"Paris"'
    assert match_title("TITLE OVER:") == ""
    assert match_title("Super: cool") is None
    assert match_title("SUPERMAN FLIES.") is None
