"""Keyframes from a take or a drawing (sketch -> keyframe) and inpainting: the CLI, the takes' record, schema 6."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest

from app import engine_service as S
from app import schema
from app.bundle import Bundle
from app.document import GenerationParams, KeyframeTake
from app.errors import PinframeError
from engine.backends.fit import read_rgb, write_png
from engine.jobs import KeyframeResult, ModelSpec
from tests.app.test_bundle import drop_v7_additions
from tests.app.test_cli_engine import cli, env, reopen, small_project  # noqa: F401 (env is a fixture)


def panel(path: Path, size=(320, 180)) -> Path:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 100)], -1).astype(np.uint8)
    rgb[h // 4 : h * 3 // 4, w // 3 : w * 2 // 3] = 250
    write_png(path, rgb)
    return path


def test_cli_turns_a_take_and_a_drawing_into_takes_that_say_where_they_came_from(env, tmp_path, tiny_if_dir):  # noqa: F811
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    shot = next(s for s in reopen(path).shots() if s.number == "1")
    source = shot.keyframe_takes[0]
    model = ("--model", str(tiny_if_dir), "--steps", "2", "--seed", "1")
    done = cli(env, "keyframes", str(path), "--shot", "1", *model, "--variations", "3",
               "--from-take", source.id[:10], "--strength", "0.3")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"3 keyframe takes from take {source.id[:10]} at strength 0.3" in done.stdout
    made = next(s for s in reopen(path).shots() if s.number == "1").keyframe_takes[2:]
    assert len(made) == 3
    for take in made:
        g = take.generation
        assert (g.source_take, g.source_image, g.strength, g.mask) == (source.id, str(source.image), 0.3, "")
        assert g.started_from == f"take {source.id[:8]}, strength 0.3"
        assert (take.width, take.height) == (320, 180)

    drawing = panel(tmp_path / "rough panel.png")
    mask = np.zeros((180, 320), np.uint8)
    mask[20:80, 200:300] = 255
    cv2.imwrite(str(tmp_path / "hand.png"), mask)
    done = cli(env, "keyframes", str(path), "--shot", "3", *model, "--variations", "1",
               "--from-image", str(drawing), "--mask", str(tmp_path / "hand.png"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "at strength 0.6, inpainted" in done.stdout
    take = next(s for s in reopen(path).shots() if s.number == "3").keyframe_takes[0]
    g = take.generation
    assert (g.source_take, g.source_file, g.strength) == ("", "rough panel.png", 0.6)
    assert (path / f"media/{g.mask[:2]}/{g.mask}").is_file() and (path / f"media/{g.source_image[:2]}").is_dir()
    assert g.started_from == "rough panel.png, strength 0.6, inpainted region" and "inpainted" in take.origin
    image, original = read_rgb(path / take.image.relpath), read_rgb(drawing)
    assert np.array_equal(image[mask == 0], original[mask == 0]), "the drawing outside the mask, pixel for pixel"
    assert not np.array_equal(image[mask > 0], original[mask > 0])


def test_cli_refuses_bad_start_options_with_the_range_or_the_fix(env, tmp_path):  # noqa: F811
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    drawing = panel(tmp_path / "d.png")
    small_mask = tmp_path / "m.png"
    cv2.imwrite(str(small_mask), np.full((90, 160), 255, np.uint8))
    cases = [
        (
            ("--from-image", str(drawing), "--strength", "1.5"),
            "--strength 1.5 is out of range; use more than 0 up to 1",
        ),
        (("--strength", "0.4"), "--strength needs a picture to start from: add --from-take TAKE_ID or --from-image"),
        (("--mask", str(small_mask)), "--mask needs a picture to start from"),
        (("--from-take", "nosuchtake"), "has no keyframe take 'nosuchtake'"),
        (
            ("--from-image", str(drawing), "--mask", str(small_mask)),
            "m.png is 160x90 but the picture it masks is 320x180",
        ),
        (("--from-image", str(drawing)), "sketch backend can't start from a picture"),
    ]
    for extra, message in cases:
        done = cli(env, "keyframes", str(path), "--shot", "1", *extra)
        assert done.returncode != 0 and message in done.stderr, (extra, done.stderr)
    assert len(next(s for s in reopen(path).shots() if s.number == "1").keyframe_takes) == 2, "nothing was added"


def test_keyframe_job_refuses_what_the_backend_cant_do_as_a_pinframe_error(tmp_path):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    project = reopen(path)
    shot = next(project.shots())
    with pytest.raises(PinframeError, match="mask_image needs the picture it masks"):
        S.keyframe_job(project, shot, ModelSpec("if", "/m"), (1,), mask_image="m.png")
    job = S.keyframe_job(project, shot, ModelSpec("if", "/m"), (1,), init_image="a.png", strength=0.25)
    assert (job.init_image, job.strength, job.mask_image) == ("a.png", 0.25, "")


def test_a_version_5_bundle_opens_and_keeps_start_pictures_in_takes(tmp_path):
    """The real 5 -> 6 migration: old takes have no start picture; new ones round-trip theirs."""
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    with sqlite3.connect(path / "project.db") as conn:
        drop_v7_additions(conn)  # what a version 5 file lacks beyond version 6's (no columns) too
        conn.execute("PRAGMA user_version = 5")
    bundle, project, report = Bundle.open(path)
    try:
        assert report.migrated_from == 5
        assert all(t.generation is None for s in project.shots() for t in s.keyframe_takes)
        shot = next(project.shots())
        start = shot.keyframe_takes[0]
        job = S.keyframe_job(project, shot, ModelSpec("if", "/m"), (9,), init_image=S.start_image_path(
            bundle, project, start.id), strength=0.5)  # fmt: skip
        result_png = tmp_path / "r.png"
        panel(result_png)
        result = KeyframeResult(str(result_png), 9, 320, 180, "if", "tiny-if", strength=0.5)
        command = S.keyframe_takes_command(bundle, project, shot.id, job, (result,))
        project = command.apply(project)[0]
        bundle.save(project)
    finally:
        bundle.close()
    with sqlite3.connect(path / "project.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    take = reopen(path).shot(shot.id).keyframe_takes[-1]
    assert (take.generation.source_take, take.generation.strength) == (start.id, 0.5)
    assert take.generation.source_image == str(start.image)


def test_started_from_words():
    assert GenerationParams("if").started_from == ""
    g = GenerationParams("if", source_file="a.png", source_image="x", strength=0.4, mask="y")
    assert g.started_from == "a.png, strength 0.4, inpainted region"
    take = KeyframeTake("t", _ref(), 4, 2, generation=GenerationParams("if", seed=3, strength=0.4, source_image="x"))
    assert take.origin == "if seed 3 from a picture"


def _ref():
    from app.media_ref import MediaRef

    return MediaRef("a" * 64, "png")
