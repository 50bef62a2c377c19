"""The prompt template: each field rendered, empty ones dropped, bad ones refused; the jobs and the CLI use it."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app import commands as C
from app import engine_service as S
from app.bundle import Bundle
from app.cli import main
from app.document import Camera, Project, Shot
from app.prompt_template import (
    DEFAULT_TEMPLATE,
    PLACEHOLDERS,
    TemplateError,
    check_template,
    keyframe_prompt,
    motion_prompt,
    render_template,
    shot_prompts,
)
from app.timecode import FrameRate
from app.video import read_frames
from engine.jobs import ModelSpec
from tests.app.test_cli_engine import reopen, small_project

PROJECT = Project("P", FrameRate(24))
CAMERA = Camera(size="MS", angle="low", lens_mm=35, move="slow push in")
FIELDS = {
    "prompt": "a woman reads a letter",
    "style": "film noir",
    "size": "medium shot",
    "angle": "low angle",
    "lens": "35mm lens",
    "move": "slow push in",
}


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PINFRAME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def number(project: Project, text: str) -> Shot:
    return next(s for s in project.shots() if s.number == text)


def test_the_built_in_template_spells_out_every_camera_field():
    shot = Shot("s", "1", 24, prompt=FIELDS["prompt"], style=FIELDS["style"], camera=CAMERA)
    assert motion_prompt(PROJECT, shot) == (
        "a woman reads a letter, medium shot, low angle, 35mm lens, slow push in, film noir"
    )
    # A still has no move: the keyframe prompt is the same without it.
    assert keyframe_prompt(PROJECT, shot) == "a woman reads a letter, medium shot, low angle, 35mm lens, film noir"


@pytest.mark.parametrize("name", list(PLACEHOLDERS))
def test_each_placeholder_renders_its_field(name):
    assert render_template(f"[{{{name}}}]", FIELDS) == f"[{FIELDS[name]}]"
    assert render_template(f"{{{name}}}", {**FIELDS, name: ""}) == ""


@pytest.mark.parametrize(
    ("size", "angle", "lens", "words"),
    [
        ("CU", "high", 18, "close-up shot, high angle, wide-angle 18mm lens"),
        ("OTS", "overhead", 135, "over-the-shoulder shot, overhead shot, top-down view, telephoto 135mm lens"),
        ("EWS", "worm's eye", 50, "extreme wide shot, worm's-eye view, 50mm lens"),
    ],
)
def test_shot_sizes_angles_and_lenses_are_spelled_out_for_a_model(size, angle, lens, words):
    shot = Shot("s", "1", 24, prompt="a bridge", camera=Camera(size=size, angle=angle, lens_mm=lens))
    assert keyframe_prompt(PROJECT, shot) == f"a bridge, {words}"


def test_empty_fields_drop_out_without_dangling_commas():
    for empties in itertools.chain.from_iterable(itertools.combinations(FIELDS, n) for n in range(len(FIELDS) + 1)):
        values = {k: ("" if k in empties else v) for k, v in FIELDS.items()}
        text = render_template(DEFAULT_TEMPLATE, values)
        # The built-in order: subject, framing, move, look.
        order = ("prompt", "size", "angle", "lens", "move", "style")
        assert text == ", ".join(values[k] for k in order if values[k]), empties
        assert not re.search(r"^[,\s]|[,\s]$|,\s*,", text), text


def test_a_clause_with_only_empty_fields_goes_with_its_label_and_keeps_the_stronger_separator():
    template = "{prompt}. Camera: {size}, {move}.\nLook: {style}"
    assert render_template(template, FIELDS) == (
        "a woman reads a letter. Camera: medium shot, slow push in.\nLook: film noir"
    )
    assert (
        render_template(template, {**FIELDS, "move": "", "style": ""}) == "a woman reads a letter. Camera: medium shot."
    )
    assert render_template(template, {"prompt": "a door"}) == "a door."
    assert render_template("{size}, {angle}: {prompt}", {"prompt": "x", "size": "wide shot"}) == "wide shot, x"
    # Brackets hold a group: it goes, brackets and all, when everything in it is empty.
    assert render_template("{prompt} ({size}, {move})", {"prompt": "x", "move": "pan left"}) == "x (pan left)"
    assert render_template("{prompt} ({size}, {move}) [v2]", {"prompt": "x"}) == "x [v2]"
    # A prompt that ends its own sentence gets no comma after it; literal braces stay.
    assert render_template("{prompt}, {style} {{v2}}", {"prompt": "She waits.", "style": "noir"}) == (
        "She waits. noir {v2}"
    )


def test_a_field_the_prompt_already_says_is_not_said_twice():
    shot = Shot("s", "1", 24, prompt="Medium shot, low angle. A close-up of a letter.", style="noir", camera=CAMERA)
    assert keyframe_prompt(PROJECT, shot) == "Medium shot, low angle. A close-up of a letter. 35mm lens, noir"
    close = replace(shot, prompt="close-up of her hands at eye level", camera=Camera(size="CU", angle="eye level"))
    assert keyframe_prompt(PROJECT, close) == "close-up of her hands at eye level, noir"


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("{prompt}, {camera}", "unknown placeholder {camera}"),
        ("{prompt}, {}", "unknown placeholder {}"),
        ("{prompt:>20}", "unknown placeholder {prompt:>20}"),
        ("{prompt}, {style", "'{' that isn't closed (character 11)"),
        ("{prompt}, style}", "'}' with no '{' before it (character 16)"),
        ("{prompt}, {sty{le}", "'{' that isn't closed"),
    ],
)
def test_a_bad_placeholder_or_brace_is_refused_naming_it_and_the_valid_ones(template, named):
    with pytest.raises(TemplateError) as caught:
        check_template(template)
    message = str(caught.value)
    assert named in message
    assert "{prompt}, {style}, {size}, {angle}, {lens}, {move}" in message


def test_a_template_without_the_prompt_is_refused_and_the_default_is_stored_as_empty():
    with pytest.raises(TemplateError, match=r"no \{prompt\}"):
        check_template("{size}, {style}")
    assert check_template(f"  {DEFAULT_TEMPLATE} ") == "" == check_template("")
    assert check_template("{prompt}; {{literal}}") == "{prompt}; {{literal}}"


def test_keyframe_and_clip_jobs_get_the_templated_prompts(tmp_path: Path):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    bundle, project, _ = Bundle.open(path)
    try:
        # A shot with no camera fields and no style reads as before: the prompt alone.
        plain = S.clip_job(project, bundle, number(project, "1"), ModelSpec("flow"))
        assert (plain.prompt, plain.camera_move) == ("a door opens", "")
        shot = number(project, "2")
        project = C.set_shot_fields(project, shot.id, prompt="a letter on a table", style="noir", camera=CAMERA).apply(
            project
        )[0]
        project = C.set_project_settings(project, prompt_template="{size} of {prompt}. {move}. Style: {style}").apply(
            project
        )[0]
        shot = project.shot(shot.id)
        job = S.keyframe_job(project, shot, ModelSpec("sketch"), (1,))
        assert job.prompt == "medium shot of a letter on a table. Style: noir"
        typed = S.keyframe_job(project, shot, ModelSpec("sketch"), (1,), prompt="an envelope")
        assert typed.prompt == "medium shot of an envelope. Style: noir"
        flow = S.clip_job(project, bundle, shot, ModelSpec("flow"))
        assert flow.prompt == "medium shot of a letter on a table. slow push in. Style: noir"
        assert flow.camera_move == "slow dolly in"
        # A video model reads the move in its prompt and moves its own camera.
        video = S.clip_job(project, bundle, shot, ModelSpec("ltx2", str(tmp_path / "ltx2")))
        assert video.prompt == flow.prompt and video.camera_move == ""
    finally:
        bundle.close()


def test_the_cli_sets_shows_and_refuses_templates_and_renders_with_them(user_dirs: Path, capsys):
    path = small_project(user_dirs / "S.pinframe", user_dirs, size=(96, 64), second=13)
    bundle, project, _ = Bundle.open(path)
    shot = number(project, "2")
    bundle.save(C.set_shot_fields(project, shot.id, prompt="an empty hall", camera=CAMERA).apply(project)[0])
    bundle.close()

    assert main(["prompt", str(path), "--template", "{prompt}, {camera}"]) == 1
    assert "unknown placeholder {camera}" in capsys.readouterr().err
    assert reopen(path).prompt_template == ""

    assert main(["prompt", str(path), "--template", "{prompt} ({size}, {move})", "--shot", "2"]) == 0
    out = capsys.readouterr().out
    assert "keyframe prompt  an empty hall (medium shot)" in out
    assert "motion prompt    an empty hall (medium shot, slow push in)" in out
    assert reopen(path).prompt_template == "{prompt} ({size}, {move})"

    assert main(["keyframes", str(path), "--shot", "2", "--variations", "1", "--seed", "4"]) == 0
    take = number(reopen(path), "2").keyframe_takes[-1]
    assert take.generation.prompt == "an empty hall (medium shot)", "the take records what the model was given"

    # The one-pin shot renders with flow and its move: a push in, not a held frame.
    assert main(["render", str(path), "--shots", "2"]) == 0
    project = reopen(path)
    clip = number(project, "2").current_clip_take
    frames = list(read_frames(path / clip.media.relpath))
    assert len(frames) == 13 and "camera slow dolly in" in clip.notes
    diffs = [float(np.abs(f.astype(np.int16) - frames[0]).mean()) for f in frames]
    assert diffs[-1] > diffs[6] > 1.0, diffs

    assert main(["prompt", str(path), "--default", "--json"]) == 0
    assert '"default": true' in capsys.readouterr().out
    assert reopen(path).prompt_template == ""
    assert shot_prompts(reopen(path), number(reopen(path), "2")).motion == (
        "an empty hall, medium shot, low angle, 35mm lens, slow push in"
    )


def test_the_readme_documents_every_placeholder_and_move():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Prompt template and camera moves") :]
    section = section[: section.index("\n## ")]
    assert DEFAULT_TEMPLATE in section
    assert all(f"`{{{name}}}`" in section for name in PLACEHOLDERS)
    from engine.camera_move import MOVES

    # Each kind of move is named ("pan and truck left/right" covers four).
    assert all(move.split()[0] in section for move in MOVES)
