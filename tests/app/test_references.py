"""Consistent characters and look: project references and LoRAs in the document, the bundle (schema 7),
the commands, the jobs the app builds, the takes' record, the clip's inputs hash and the CLI."""

from __future__ import annotations

import json
import sqlite3
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from app import commands as C
from app import engine_service as S
from app import schema
from app.bundle import Bundle
from app.errors import EditError, MediaError, PinframeError
from app.project_library import check_lora_file, import_lora, import_reference
from app.render_inputs import shot_inputs, shot_inputs_hash
from engine.jobs import KeyframeResult, ModelSpec
from tests.app.test_bundle import drop_v7_additions
from tests.app.test_cli_engine import cli, env, reopen, small_project  # noqa: F401 (env is a fixture)
from tests.engine.test_runtime import pin_file


def lora_file(path: Path, tensors: dict | None = None) -> Path:
    """A minimal, valid safetensors file (header + data), written by hand: no torch needed."""
    header = tensors or {"lora_unet_down.lora_A.weight": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]}}
    blob = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(blob)) + blob + b"\0" * 8)
    return path


def with_library(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The small project with references Anna and Diner (shot 1 uses both) and one LoRA; returns ids."""
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    bundle, project, _ = Bundle.open(path)
    try:
        anna = import_reference(bundle, pin_file(tmp_path, "anna.png", 7, size=(64, 64)))
        diner = import_reference(bundle, pin_file(tmp_path, "diner.png", 8, size=(64, 48)))
        project = C.add_reference(project, anna, "Anna").apply(project)[0]
        project = C.add_reference(project, diner, "Diner", "location", 0.4).apply(project)[0]
        lora = import_lora(bundle, lora_file(tmp_path / "ink.safetensors"))
        project = C.add_lora(project, lora, "ink", 0.8).apply(project)[0]
        shot = next(project.shots())
        ids = {r.name: r.id for r in project.references}
        project = C.set_shot_references(project, shot.id, [ids["Anna"], ids["Diner"]]).apply(project)[0]
        bundle.save(project)
    finally:
        bundle.close()
    return path, {**ids, "shot": shot.id}


def test_references_and_loras_round_trip_through_the_bundle_with_their_media(tmp_path):
    path, ids = with_library(tmp_path)
    project = reopen(path)
    assert [(r.name, r.kind, r.weight) for r in project.references] == [
        ("Anna", "character", 0.6),
        ("Diner", "location", 0.4),
    ]
    assert [(lo.name, lo.weight, lo.file.ext) for lo in project.loras] == [("ink", 0.8, "safetensors")]
    assert project.shot(ids["shot"]).references == (ids["Anna"], ids["Diner"])
    refs = {r.image for r in project.references} | {lo.file for lo in project.loras}
    assert refs <= project.media_refs(), "the media of references and LoRAs are the project's (kept, not collected)"
    assert all((path / ref.relpath).is_file() for ref in refs), "copied into the bundle"


def test_removing_a_reference_takes_it_off_its_shots_and_undo_brings_both_back(tmp_path):
    path, ids = with_library(tmp_path)
    project = reopen(path)
    other = [s for s in project.shots() if s.id != ids["shot"]]
    removed, undo = C.remove_reference(project, ids["Anna"]).apply(project)
    assert [r.name for r in removed.references] == ["Diner"]
    assert removed.shot(ids["shot"]).references == (ids["Diner"],)
    assert all(removed.shot(s.id) is s for s in other), "shots that didn't use it stay the same objects"
    back = undo.apply(removed)[0]
    assert back.references == project.references and back.shot(ids["shot"]).references == (ids["Anna"], ids["Diner"])


def test_commands_refuse_what_would_make_a_bad_document(tmp_path):
    path, ids = with_library(tmp_path)
    project = reopen(path)
    anna = project.reference(ids["Anna"])
    with pytest.raises(EditError, match="share a name"):
        C.add_reference(project, anna.image, "anna")
    with pytest.raises(EditError, match="kind 'villain' is unknown"):
        C.set_reference(project, anna.id, kind="villain")
    with pytest.raises(EditError, match="weight 1.5 is outside 0..1"):
        C.set_reference(project, anna.id, weight=1.5)
    with pytest.raises(EditError, match="needs a name"):
        C.set_reference(project, anna.id, name="  ")
    with pytest.raises(EditError, match="no reference with id"):
        C.set_shot_references(project, ids["shot"], ["nope"])
    with pytest.raises(EditError, match="must be a picture"):
        C.add_reference(project, project.loras[0].file, "weights")
    with pytest.raises(EditError, match="only .safetensors"):
        C.add_lora(project, anna.image, "not a lora")
    renamed = C.set_reference(project, anna.id, name=" Anna B ").apply(project)[0]
    assert renamed.reference(anna.id).name == "Anna B"
    first = C.set_reference(project, anna.id, weight=0.3)
    assert first.merge_key == C.set_reference(project, anna.id, weight=0.4).merge_key, "a weight drag is one step"


def test_lora_files_must_be_safetensors_by_name_and_by_header(tmp_path):
    check_lora_file(lora_file(tmp_path / "good.safetensors"))
    pickle_named_right = tmp_path / "evil.safetensors"
    pickle_named_right.write_bytes(b"\x80\x04\x95" + b"x" * 64)  # a pickle's opening bytes
    with pytest.raises(MediaError, match="not a valid safetensors file"):
        check_lora_file(pickle_named_right)
    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(b"\x80\x04")
    with pytest.raises(MediaError, match="not a .safetensors file; LoRAs are loaded from safetensors only"):
        check_lora_file(ckpt)
    with pytest.raises(MediaError, match="names no tensors"):
        check_lora_file(lora_file(tmp_path / "empty.safetensors", {"__metadata__": {}}))


def test_reference_pictures_are_checked_from_their_header(tmp_path):
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    bundle, _project, _ = Bundle.open(path)
    try:
        fake = tmp_path / "notes.png"
        fake.write_text("not a picture")
        with pytest.raises(MediaError, match="notes.png"):
            import_reference(bundle, fake)
        # A PNG named .jpg is stored as what it is.
        png_as_jpg = Path(pin_file(tmp_path, "x.png", 3, size=(32, 32))).rename(tmp_path / "x.jpg")
        assert import_reference(bundle, png_as_jpg).ext == "png"
    finally:
        bundle.close()


def test_jobs_carry_references_and_loras_only_for_backends_that_take_them(tmp_path):
    path, ids = with_library(tmp_path)
    bundle, project, _ = Bundle.open(path)
    try:
        shot = project.shot(ids["shot"])
        anna, diner = project.reference(ids["Anna"]), project.reference(ids["Diner"])
        job = S.keyframe_job(project, shot, ModelSpec("text2image", "/m"), (1,), bundle=bundle)
        assert job.references == ((str(bundle.media.path(anna.image)), 0.6), (str(bundle.media.path(diner.image)), 0.4))
        assert [Path(p).suffix for p, _w in job.loras] == [".safetensors"] and job.loras[0][1] == 0.8
        assert all(str(bundle.path) in p for p, _w in job.references + job.loras), "read from inside the bundle"
        plain = S.keyframe_job(project, shot, ModelSpec("if", "/m"), (1,), bundle=bundle)
        assert (plain.references, plain.loras) == ((), ()), "IF takes neither: it makes keyframes from the prompt"

        # The takes record what was used, by name and weight.
        png = pin_file(tmp_path, "out.png", 1, size=(320, 180))
        result = KeyframeResult(png, 1, 320, 180, "text2image", "tiny")
        made = S.keyframe_takes_command(bundle, project, shot.id, job, (result,)).apply(project)[0]
        bundle.save(made)
        vace = S.clip_job(project, bundle, shot, ModelSpec("wan-vace", "/m"), loras=())
        flow = S.clip_job(project, bundle, shot, ModelSpec("flow"), loras=())
    finally:
        bundle.close()
    g = reopen(path).shot(shot.id).keyframe_takes[-1].generation
    assert (g.references, g.loras) == ((("Anna", 0.6), ("Diner", 0.4)), (("ink", 0.8),))
    assert [Path(p).name.split(".")[0] for p in vace.reference_images] == [anna.image.sha256, diner.image.sha256]
    assert flow.reference_images == ()


def test_references_change_the_clip_hash_only_for_a_motion_model_that_reads_them(tmp_path):
    path, ids = with_library(tmp_path)
    project = reopen(path)
    shot = project.shot(ids["shot"])
    for backend, counts in (("wan-vace", True), ("flow", False), ("", False)):
        s = replace(shot, render=replace(shot.render, backend=backend))
        before = shot_inputs_hash(s, project)
        dropped = C.remove_reference(project, ids["Anna"]).apply(project)[0]
        after = shot_inputs_hash(replace(dropped.shot(s.id), render=s.render), dropped)
        assert (before != after) == counts, backend
        # Renaming or reweighting a reference never asks a motion model to render again.
        renamed = C.set_reference(project, ids["Anna"], name="Anna K", weight=0.2).apply(project)[0]
        assert shot_inputs_hash(replace(renamed.shot(s.id), render=s.render), renamed) == before
    plain = next(s for s in project.shots() if not s.references)
    assert "references" not in shot_inputs(replace(plain, render=replace(plain.render, backend="wan-vace")), project), (
        "a shot without references keeps the hash it always had"
    )


def test_a_version_6_bundle_opens_with_no_references_and_then_keeps_them(tmp_path):
    """The real 6 -> 7 migration."""
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    with sqlite3.connect(path / "project.db") as conn:
        drop_v7_additions(conn)
        conn.execute("PRAGMA user_version = 6")
    bundle, project, report = Bundle.open(path)
    try:
        assert report.migrated_from == 6
        assert (project.references, project.loras) == ((), ())
        assert all(s.references == () for s in project.shots())
        image = import_reference(bundle, pin_file(tmp_path, "r.png", 2, size=(32, 32)))
        project = C.add_reference(project, image, "Bo").apply(project)[0]
        shot = next(project.shots())
        project = C.set_shot_references(project, shot.id, [project.references[0].id]).apply(project)[0]
        bundle.save(project)
    finally:
        bundle.close()
    with sqlite3.connect(path / "project.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION == 7
    again = reopen(path)
    assert again.shot(shot.id).references == (again.references[0].id,)


def test_a_bundle_whose_shot_names_a_missing_reference_is_refused_as_damaged(tmp_path):
    path, ids = with_library(tmp_path)
    with sqlite3.connect(path / "project.db") as conn:
        conn.execute("DELETE FROM project_references WHERE id = ?", (ids["Anna"],))
    with pytest.raises(PinframeError, match="uses a reference the project doesn't have"):
        reopen(path)


def test_cli_adds_lists_uses_and_removes_references_and_loras(env, tmp_path):  # noqa: F811
    path = small_project(tmp_path / "S.pinframe", tmp_path)
    anna = pin_file(tmp_path, "anna.png", 4, size=(48, 48))
    done = cli(env, "references", str(path), "add", anna, "--name", "Anna", "--weight", "0.5")
    assert done.returncode == 0 and "added reference Anna (character, weight 0.5)" in done.stdout, done.stderr
    done = cli(env, "references", str(path), "shot", "2", "Anna")
    assert done.returncode == 0 and "shot 2 uses Anna" in done.stdout, done.stderr
    listed = cli(env, "references", str(path), "list")
    assert "Anna" in listed.stdout and "used by 2" in listed.stdout
    done = cli(env, "references", str(path), "shot", "2", "Bob")
    assert done.returncode != 0 and "no reference named 'Bob' (the project has: Anna)" in done.stderr

    bad = tmp_path / "style.ckpt"
    bad.write_bytes(b"\x80\x04")
    done = cli(env, "loras", str(path), "add", str(bad))
    assert done.returncode != 0 and "not a .safetensors file" in done.stderr
    done = cli(env, "loras", str(path), "add", str(lora_file(tmp_path / "ink.safetensors")), "--weight", "0.7")
    assert done.returncode == 0 and "added LoRA ink (weight 0.7)" in done.stdout, done.stderr
    data = json.loads(cli(env, "loras", str(path), "--json").stdout)
    assert [(lo["name"], lo["weight"]) for lo in data] == [("ink", 0.7)]

    done = cli(env, "references", str(path), "remove", "anna")
    assert done.returncode == 0, done.stderr
    project = reopen(path)
    assert project.references == () and all(s.references == () for s in project.shots())
    assert [lo.name for lo in project.loras] == ["ink"]


def test_a_missing_reference_picture_or_lora_file_is_listed_with_its_name(tmp_path):
    path, _ = with_library(tmp_path)
    project = reopen(path)
    anna = next(r for r in project.references if r.name == "Anna")
    lora = project.loras[0]
    bundle, project, _ = Bundle.open(path)
    try:
        bundle.media.path(anna.image).unlink()
        bundle.media.path(lora.file).unlink()
        missing = {m.ref: m.used_by for m in bundle.find_missing_media(project)}
    finally:
        bundle.close()
    assert missing == {anna.image: ("reference Anna",), lora.file: ("LoRA ink",)}
