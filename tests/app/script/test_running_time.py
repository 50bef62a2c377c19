"""Running time of an imported screenplay: a page a minute, on feature-length scripts of both formats."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from app.document import Project, Scene, new_id
from app.script.importer import preview_import
from app.script.load import load_script
from app.script.model import ScriptDocument, ScriptScene, ScriptShot
from app.script.pages import LINES_PER_PAGE, dialogue_lines, shot_lines
from app.script.timing import TimingSettings, format_running_time
from app.timecode import FrameRate

SCRIPTS = Path(__file__).resolve().parents[2] / "data" / "scripts"
R24 = FrameRate(24)
WORDS = (  # noqa: SIM905 (a sentence of words reads better than a list of 45 strings)
    "the a she he runs door window light rain station platform towards slowly turns looks back into dark "
    "silence train clock ticks hand bench thermos steam glass roof empty corridor stairs coat pocket letter "
    "folds opens quiet again never always tonight morning home cold tea"
).split()
NAMES = ("ZOË", "JÜRGEN", "MARTA", "THE CONDUCTOR")


def fresh() -> Project:
    return Project("P", R24, scenes=(Scene(new_id(), "Scene 1"),))


def text_lines(rng: random.Random, count: int, width: int) -> list[str]:
    """``count`` printed lines of words, each as long as fits in ``width`` characters."""
    lines = []
    for _ in range(count):
        line = ""
        while True:
            word = rng.choice(WORDS)
            if len(line) + 1 + len(word) > width - 4:  # a little ragged, as typed text is
                break
            line = f"{line} {word}" if line else word
        lines.append(line.capitalize())
    return lines


def feature(seed: int = 18, pages: int = 100) -> tuple[list[tuple], int]:
    """A feature's worth of screenplay elements, and how many printed lines they fill.

    Elements: ("heading", text), ("action", [lines]), ("dialogue", name, parenthetical, [lines]),
    ("transition", text). The line count is by construction: one blank line before each element,
    the lines as typed, a cue line per speech and a line per parenthetical.
    """
    rng = random.Random(seed)
    elements: list[tuple] = []
    printed = 0
    scene = 0
    while printed < pages * LINES_PER_PAGE:
        scene += 1
        heading = f"{rng.choice(('INT.', 'EXT.'))} PLACE {scene} - {rng.choice(('DAY', 'NIGHT', 'LATER'))}"
        elements.append(("heading", heading))
        printed += 2
        for _ in range(rng.randint(3, 9)):
            if rng.random() < 0.45:
                lines = text_lines(rng, rng.choice((1, 1, 2, 2, 3, 4)), 60)
                elements.append(("action", lines))
                printed += 1 + len(lines)
            else:
                paren = rng.choice(("", "", "", "quietly", "beat"))
                lines = text_lines(rng, rng.choice((1, 1, 2, 2, 3)), 35)
                elements.append(("dialogue", rng.choice(NAMES), paren, lines))
                printed += 2 + bool(paren) + len(lines)
        if rng.random() < 0.3:
            elements.append(("transition", "CUT TO:"))
            printed += 2
    return elements, printed


def as_fountain(elements: list[tuple]) -> str:
    out = ["Title: Generated Feature", ""]
    for el in elements:
        if el[0] == "heading":
            out += [el[1], ""]
        elif el[0] == "action":
            out += [" ".join(el[1]), ""]
        elif el[0] == "dialogue":
            out += [el[1], *([f"({el[2]})"] if el[2] else []), " ".join(el[3]), ""]
        else:
            out += [f"> {el[1]}", ""]
    return "\n".join(out)


def as_fdx(elements: list[tuple]) -> str:
    def para(kind: str, text: str) -> str:
        return f'    <Paragraph Type="{kind}"><Text>{escape(text)}</Text></Paragraph>'

    out = ['<?xml version="1.0" encoding="UTF-8" standalone="no" ?>',
           '<FinalDraft DocumentType="Script" Template="No" Version="5">', "  <Content>"]  # fmt: skip
    for el in elements:
        if el[0] == "heading":
            out.append(para("Scene Heading", el[1]))
        elif el[0] == "action":
            out.append(para("Action", " ".join(el[1])))
        elif el[0] == "dialogue":
            out.append(para("Character", el[1]))
            if el[2]:
                out.append(para("Parenthetical", f"({el[2]})"))
            out.append(para("Dialogue", " ".join(el[3])))
        else:
            out.append(para("Transition", el[1]))
    out += ["  </Content>", "</FinalDraft>"]
    return "\n".join(out)


@pytest.mark.parametrize("form", ["fountain", "fdx"])
def test_a_feature_runs_about_a_minute_a_page(tmp_path, form):
    elements, printed = feature()
    pages = Fraction(printed, LINES_PER_PAGE)
    assert 100 <= pages < 102  # about a hundred pages, by construction
    path = tmp_path / f"feature.{form}"
    path.write_text(as_fountain(elements) if form == "fountain" else as_fdx(elements), encoding="utf-8")
    doc = load_script(path, R24)
    preview = preview_import(fresh(), doc)
    minutes = pages  # the rule of thumb: a page a minute
    running = preview.running
    assert abs(running.pages - pages) <= pages / 20  # the layout estimate agrees with the page count
    assert abs(running.seconds / 60 - minutes) <= minutes / 10
    # What the shots add up to is the cut a director gets: the same figure, give or take a frame a shot.
    cut = Fraction(sum(shot.duration for scene in preview.scenes for shot in scene.shots), 24)
    assert abs(cut / 60 - minutes) <= minutes / 10
    assert not running.clipped  # no generated shot reaches the default longest shot
    assert preview.running.headline().startswith(f"estimated running time {format_running_time(running.seconds)}")
    assert "pages at a page a minute" in preview.running.headline()


def test_the_estimate_by_words_alone_misses_the_page_count():
    """Why shots are timed by page lines: the words estimate is far from a page a minute on the same script."""
    from app.script.timing import estimate_seconds

    elements, printed = feature(seed=7)
    doc = load_script_text(as_fountain(elements))
    by_words = sum(estimate_seconds(shot) for scene in doc.scenes for shot in scene.shots)
    assert abs(by_words / 60 - Fraction(printed, LINES_PER_PAGE)) > Fraction(printed, LINES_PER_PAGE) / 10


def load_script_text(text: str) -> ScriptDocument:
    from app.script.fountain import parse_fountain

    return parse_fountain(text)


@pytest.mark.parametrize("name", ["last_train.fountain", "last_train.fdx"])
def test_the_sample_script_runs_as_long_as_its_page_count(name):
    # Counted by hand from the script as a screenwriting program lays it out: 24 printed lines
    # (FADE IN:, two headings, eight action and shot lines, four speeches of 2-3 lines, the dual
    # speech beside one of them, CUT TO:, THE END) and 17 blank lines between the 18 elements.
    pages = Fraction(41, LINES_PER_PAGE)
    preview = preview_import(fresh(), load_script(SCRIPTS / name, R24))
    assert abs(preview.running.seconds - pages * 60) <= pages * 6
    assert preview.running.headline() == "estimated running time 0:46 (≈ 0.8 pages at a page a minute)"


def test_printed_lines_follow_the_column_widths():
    long_action = "word " * 30  # 150 characters: three lines of 60
    assert shot_lines(ScriptShot(action=long_action)).action == 1 + 3
    assert shot_lines(ScriptShot(action="A door opens."), heading="INT. HALL - DAY").action == 2 + 2
    # Writers' notes don't print; transitions and titles do.
    assert shot_lines(ScriptShot(action="Rain.", notes="Lighting: sodium\nCUT TO:")).action == 2 + 2
    assert shot_lines(ScriptShot(action="Rain.", notes="SUPER: PARIS, 1944")).action == 2 + 2
    from app.script.model import DialogueLine

    speech = (DialogueLine("ANNA", "word " * 14, "quietly"),)  # 70 characters: two lines of 35
    assert dialogue_lines(speech) == 1 + 1 + 1 + 2
    dual = (DialogueLine("ANNA", "Hi."), DialogueLine("BOB", "word " * 14, dual=True))
    assert dialogue_lines(dual) == 1 + 1 + 2  # side by side: the taller side's height


def test_slower_reading_stretches_the_lines_it_reads():
    doc = ScriptDocument("T", (ScriptScene("INT. HALL - DAY", shots=(ScriptShot(action="word " * 30),)),), "fountain")
    normal = preview_import(fresh(), doc).running.seconds
    slow = preview_import(fresh(), doc, TimingSettings(action_wps=1.25)).running.seconds
    assert slow == 2 * normal
