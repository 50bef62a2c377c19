"""Drafted keyframe prompts: heading to setting and light, shot size and angle, trimmed action, no dialogue."""

from __future__ import annotations

import pytest

from app.document import SHOT_SIZES
from app.script.model import DialogueLine, ScriptScene, ScriptShot
from app.script.prompt import ACTION_WORD_LIMIT, draft_prompt, lighting_for, trim_action
from app.script.timing import count_words


def prompt(heading: str, action: str = "Anna waits.", **shot) -> str:
    return draft_prompt(ScriptScene(heading), ScriptShot(action=action, **shot))


@pytest.mark.parametrize(
    ("heading", "size", "angle", "expected"),
    [
        ("INT. KITCHEN - NIGHT", "CU", "",
         "Close-up shot, interior, kitchen, night, dark, artificial light. Anna waits. Cinematic film still."),
        ("EXT. BEACH - DAY", "EWS", "aerial",
         "Extreme wide shot, aerial view, exterior, beach, daylight. Anna waits. Cinematic film still."),
        ("INT./EXT. CAR - MOVING - DUSK", "MS", "",
         "Medium shot, interior and exterior, car, moving, dusk, fading light, blue hour. Anna waits. "
         "Cinematic film still."),
        ("EST. PARIS - DAWN", "", "",
         "Establishing shot, exterior, paris, dawn, soft early light. Anna waits. Cinematic film still."),
        ("ext. rooftop - magic hour", "FS", "low",
         "Full shot, full body, low angle, exterior, rooftop, golden hour, warm low sun. Anna waits. "
         "Cinematic film still."),
        ("INT. OFFICE - MORNING", "OTS", "",
         "Over-the-shoulder shot, interior, office, morning light. Anna waits. Cinematic film still."),
        ("INT. BAR - EVENING", "2S", "dutch",
         "Two-shot, dutch angle, interior, bar, evening, warm low light. Anna waits. Cinematic film still."),
        ("I/E. VAN - NIGHT", "POV", "high",
         "Point-of-view shot, high angle, interior and exterior, van, night, dark, artificial light. Anna waits. "
         "Cinematic film still."),
    ],
)  # fmt: skip
def test_heading_size_and_angle(heading, size, angle, expected):
    assert prompt(heading, size=size, angle=angle) == expected


@pytest.mark.parametrize("time", ["CONTINUOUS", "LATER", "SAME", "MOMENTS LATER", "A MOMENT LATER", "SAME TIME"])
def test_continuity_times_give_no_light(time):
    assert prompt(f"INT. HALL - {time}") == "Interior, hall. Anna waits. Cinematic film still."
    assert lighting_for(time) == ""


def test_the_caller_can_carry_the_light_over_a_continuous_scene():
    text = draft_prompt(ScriptScene("INT. HALL - CONTINUOUS"), ScriptShot(action="Anna waits."), fallback_time="NIGHT")
    assert text == "Interior, hall, night, dark, artificial light. Anna waits. Cinematic film still."
    # A heading with its own time keeps it.
    text = draft_prompt(ScriptScene("INT. HALL - DAY"), ScriptShot(), fallback_time="NIGHT")
    assert text == "Interior, hall, daylight. Cinematic film still."


def test_time_words_in_other_places():
    assert lighting_for("LATER THAT NIGHT") == "night, dark, artificial light"
    assert lighting_for("THE NEXT MORNING") == "morning light"
    assert lighting_for("DAY (1985)") == "daylight"
    assert lighting_for("Sunset.") == "sunset, golden light"
    assert lighting_for("") == ""
    # The time isn't always last; an unknown last part is kept as a word the model can use.
    assert prompt("INT. HOUSE - NIGHT - FLASHBACK") == (
        "Interior, house, flashback, night, dark, artificial light. Anna waits. Cinematic film still."
    )
    # "DAY" inside a place name is not a time of day.
    assert prompt("INT. DAY SPA - NIGHT").startswith("Interior, day spa, night, dark")
    # Headings without INT./EXT. (forced ones) still give what they have.
    assert prompt(".FLASHBACK") == "Flashback. Anna waits. Cinematic film still."
    assert prompt("") == "Anna waits. Cinematic film still."


def test_places_in_capitals_are_lowercased_but_mixed_case_is_kept():
    assert prompt("EXT. JOHN'S FARM - DAY").startswith("Exterior, john's farm, daylight.")
    assert prompt("INT. Café Müller - NIGHT").startswith("Interior, Café Müller, night")
    assert prompt("INT. HOUSE - KITCHEN - NIGHT").startswith("Interior, house, kitchen, night")


def test_every_shot_size_has_a_phrase():
    for size in SHOT_SIZES:
        text = prompt("INT. ROOM - DAY", size=size)
        if size:
            assert text.split(",")[0].lower().endswith(("shot", "two-shot")), text
        else:
            assert text.startswith("Interior, room")


def test_no_dialogue_in_the_prompt():
    shot = ScriptShot(action="Anna turns.", dialogue=(DialogueLine("ANNA", "Read the sign: EXIT!"),), size="CU")
    text = draft_prompt(ScriptScene("INT. HALL - DAY"), shot)
    assert "sign" not in text and "EXIT" not in text and "ANNA" not in text
    assert text == "Close-up shot, interior, hall, daylight. Anna turns. Cinematic film still."


def test_an_explicit_prompt_wins_even_when_empty():
    scene = ScriptScene("INT. KITCHEN - NIGHT")
    assert draft_prompt(scene, ScriptShot(action="x", prompt="a red door, 35mm")) == "a red door, 35mm"
    assert draft_prompt(scene, ScriptShot(action="x", prompt="")) == ""


def test_action_is_made_readable():
    assert trim_action("ANNA (30s) hears a CRASH. The TV flickers.") == "Anna (30s) hears a Crash. The TV flickers."
    assert trim_action("BANG! THE DOOR EXPLODES. SHE RUNS.") == "Bang! The door explodes. She runs."
    assert trim_action("She *really* _runs_ [[fix this]]\n\nout.") == "She really runs out."
    assert trim_action("ANNA'S hat falls.") == "Anna's hat falls."


def test_long_action_is_cut_after_a_whole_sentence():
    sentence = "The old man walks slowly down the long hall."  # 9 words
    text = trim_action(" ".join([sentence] * 10))
    assert text == " ".join([sentence] * 3)  # 27 words; a fourth would pass 35
    assert count_words(text) <= ACTION_WORD_LIMIT


def test_one_endless_sentence_is_cut_at_a_word():
    text = trim_action(" ".join(f"w{i}," for i in range(100)))
    assert text == " ".join(f"w{i}," for i in range(34)) + " w34."
    assert count_words(text) == ACTION_WORD_LIMIT


def test_unspaced_action_is_cut_by_letters():
    sentence = "东京的夜晚很安静。"  # 16/3 words each
    text = trim_action(sentence * 20)
    assert text == sentence * 6  # 32 words; a seventh sentence would pass 35
    long_one = trim_action("东" * 200)
    assert long_one == "东" * 52 + "."  # 34.7 words


def test_the_whole_prompt_stays_short_enough_for_a_77_token_encoder():
    action = " ".join(["Anna runs across the wet rooftop, jumps the gap and lands hard."] * 8)
    text = prompt("INT./EXT. ABANDONED WAREHOUSE - ROOFTOP - LATE AFTERNOON", action, size="MCU", angle="worm's eye")
    # About 1.3 T5 tokens a word: 60 words stay under the 77 tokens the model reads.
    assert count_words(text) <= 60, text
    assert text.endswith("Cinematic film still.")
