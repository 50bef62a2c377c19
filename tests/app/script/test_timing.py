"""Shot durations from words: exact frame counts at whole and NTSC rates, limits, settings checks."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from app.errors import PinframeError
from app.script.model import DialogueLine, ScriptShot
from app.script.timing import TimingError, TimingSettings, count_words, estimate_frames, estimate_seconds
from app.timecode import FrameRate

R24 = FrameRate(24)
R2398 = FrameRate(24000, 1001)

TEN_WORDS = "She walks slowly across the rain-soaked street toward the car."


def words(n: int) -> str:
    return " ".join(["word"] * n)


def test_counting_words():
    assert count_words(TEN_WORDS) == 10
    assert count_words("  ") == 0
    assert count_words("-- ... — !") == 0  # punctuation alone is no word
    assert count_words("In 1984, O'Brien's rain-soaked car.") == 5
    # Unspaced scripts count letters: 1.5 Han or kana letters a word; punctuation (。) doesn't count.
    assert count_words("东京的夜晚很安静。") == Fraction(16, 3)
    assert count_words("彼女はドアを開ける。") == 6
    assert count_words("Anna 说：你好") == 1 + Fraction(3) / Fraction(3, 2)
    # Thai: 4 letters a word, combining vowel and tone marks not counted (สวัสดี has 2 marks).
    assert count_words("สวัสดี") == Fraction(4, 4)


def test_a_short_action_gets_the_minimum():
    shot = ScriptShot(action="A door opens.")  # 3 words = 1.2 s, under the 1.5 s minimum
    assert estimate_seconds(shot) == Fraction(3, 2)
    assert estimate_frames(shot, R24) == 36
    assert estimate_frames(shot, R2398) == 36  # 35.96 frames, rounded to the nearest
    assert estimate_frames(shot, FrameRate(25)) == 38  # 37.5: a tie rounds up
    assert estimate_frames(ScriptShot(), R24) == 36  # an empty shot still shows


def test_action_and_dialogue_add_up():
    shot = ScriptShot(action=TEN_WORDS, dialogue=(DialogueLine("ANNA", "Who's there? Hello?"),))
    # 10 words / 2.5 + 3 words / 2.7 + 0.25 s pause = 4 + 10/9 + 1/4 = 193/36 s.
    assert estimate_seconds(shot) == Fraction(193, 36)
    assert estimate_frames(shot, R24) == 129  # 128.67
    assert estimate_frames(shot, R2398) == 129  # 128.54


def test_ntsc_rates_give_fewer_frames_for_the_same_time():
    shot = ScriptShot(action=words(60))  # 24 s
    assert estimate_frames(shot, R24) == 576
    assert estimate_frames(shot, R2398) == 575  # 575.42
    assert estimate_frames(shot, FrameRate(30000, 1001)) == 719  # 719.28


def test_the_maximum_caps_long_shots_and_none_lifts_it():
    shot = ScriptShot(action=words(100))  # 40 s
    assert estimate_frames(shot, R24) == 720
    assert estimate_frames(shot, R2398) == 719
    assert estimate_frames(shot, R24, TimingSettings(maximum_seconds=None)) == 960


def test_shot_lines_and_notes_are_not_screen_time():
    plain = ScriptShot(action=words(10))
    directed = ScriptShot(action=words(10), shot_line="CLOSE ON THE OLD WOODEN DOOR", notes="long lens, handheld")
    assert estimate_frames(plain, R24) == estimate_frames(directed, R24) == 96


def test_each_speaker_turn_pauses_and_beats_take_time():
    line = DialogueLine("ANNA", "Fine.")
    base = ScriptShot(action=words(5))  # 2 s
    one = ScriptShot(action=words(5), dialogue=(line,))
    beat = ScriptShot(action=words(5), dialogue=(DialogueLine("ANNA", "Fine.", parenthetical="beat"),))
    assert estimate_frames(base, R24) == 48
    # 2 + 1/2.7 + 1/4 = 283/108 s = 62.9 frames; a (beat) adds exactly one second.
    assert estimate_frames(one, R24) == 63
    assert estimate_frames(beat, R24) == 87
    # Parentheticals that aren't pauses don't add time, and aren't spoken words either.
    quiet = ScriptShot(action=words(5), dialogue=(DialogueLine("ANNA", "Fine.", parenthetical="quietly, to Bob"),))
    assert estimate_frames(quiet, R24) == 63


def test_dual_dialogue_sides_are_spoken_at_once():
    left = DialogueLine("ANNA", words(27))  # 10 s
    right = DialogueLine("BOB", words(9), dual=True)  # 10/3 s, at the same time
    dual = ScriptShot(dialogue=(left, right))
    assert estimate_seconds(dual) == 10 + Fraction(1, 4)
    assert estimate_frames(dual, R24) == 246
    assert estimate_frames(dual, R2398) == 246  # 245.75
    one_after_other = ScriptShot(dialogue=(left, DialogueLine("BOB", words(9))))
    assert estimate_seconds(one_after_other) == 10 + Fraction(10, 3) + Fraction(1, 2)
    assert estimate_frames(one_after_other, R24) == 332
    # The longer side sets the time.
    long_right = ScriptShot(dialogue=(DialogueLine("ANNA", words(9)), DialogueLine("BOB", words(27), dual=True)))
    assert estimate_seconds(long_right) == estimate_seconds(dual)


def test_unspaced_scripts_get_real_durations():
    assert estimate_frames(ScriptShot(action="东京的夜晚很安静。"), R24) == 51  # 16/3 words = 2.13 s
    assert estimate_frames(ScriptShot(action="彼女はドアを開ける。"), R24) == 58  # 6 words = 2.4 s
    assert estimate_frames(ScriptShot(action="东京的夜晚很安静。"), R2398) == 51


def test_custom_settings_are_exact_decimals():
    settings = TimingSettings(action_wps=2.7, dialogue_wps=3, minimum_seconds=0.1, line_pause_seconds=0)
    assert settings.exact("action_wps") == Fraction(27, 10)  # not the binary 2.7000000000000002
    # 27 words at exactly 2.7 words a second is exactly 10 s: 240 frames, not 239 or 241.
    assert estimate_seconds(ScriptShot(action=words(27)), settings) == 10
    assert estimate_frames(ScriptShot(action=words(27)), R24, settings) == 240
    assert estimate_frames(ScriptShot(dialogue=(DialogueLine("A", words(3)),)), R24, settings) == 24
    assert estimate_frames(ScriptShot(action=words(27)), R24, TimingSettings(action_wps=Fraction(27, 10))) == 240


def test_an_explicit_duration_wins():
    shot = ScriptShot(action=words(100), duration=17)
    assert estimate_frames(shot, R24) == 17
    assert estimate_frames(shot, R2398) == 17


@pytest.mark.parametrize("duration", [0, -3])
def test_a_bad_explicit_duration_is_refused(duration):
    with pytest.raises(TimingError, match=r"shot 4 \(line 9\).*at least 1 frame"):
        estimate_frames(ScriptShot(number="4", duration=duration, line_number=9), R24)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action_wps": 0}, "action_wps = 0 is out of range"),
        ({"action_wps": -2.5}, "action_wps = -2.5 is out of range"),
        ({"dialogue_wps": 500}, "dialogue_wps = 500 is out of range"),
        ({"dialogue_wps": math.nan}, "finite"),
        ({"action_wps": math.inf}, "finite"),
        ({"action_wps": "fast"}, "must be a number"),
        ({"action_wps": True}, "must be a number"),
        ({"minimum_seconds": 0}, "minimum shot length 0 s"),
        ({"minimum_seconds": 120}, "minimum shot length 120 s"),
        ({"minimum_seconds": 5, "maximum_seconds": 2}, "at least the minimum"),
        ({"line_pause_seconds": -1}, "line_pause_seconds = -1"),
        ({"beat_seconds": 60}, "beat_seconds = 60"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(kwargs, message):
    with pytest.raises(TimingError, match=message) as info:
        TimingSettings(**kwargs)
    assert isinstance(info.value, PinframeError)
    assert isinstance(info.value, ValueError)
