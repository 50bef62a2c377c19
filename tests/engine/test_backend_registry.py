"""The one table of backends: what it says, and that every consumer offers exactly its entries."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from engine import backend_registry as R
from engine.cache import job_key
from engine.errors import ModelFolderError
from engine.jobs import ClipJob, KeyframeJob, ModelSpec, PinImage, job_from_dict, job_to_dict
from engine.models.registry import BUILTIN_MODELS, KINDS

ISSUE_BACKENDS = {
    *("sketch", "if", "text2image", "prx-pixel"),
    *("flow", "crossfade", "hold", "ltx", "ltx2", "wan", "wan22", "wan-vace"),
}


def clip_job(backend: str, **changes) -> ClipJob:
    values = dict(
        model=ModelSpec(backend, "/models/x" if R.get_backend(backend).needs_model else ""),
        frame_count=25,
        fps_num=24,
        fps_den=1,
        width=64,
        height=32,
        pins=(PinImage(0, "/a.png"), PinImage(24, "/b.png")),
    )
    values.update(changes)
    return ClipJob(**values)


# --- the table -----------------------------------------------------------------------------------
def test_every_backend_the_issue_names_is_in_the_table_once_with_everything_filled_in() -> None:
    assert {b.name for b in R.BACKENDS} == ISSUE_BACKENDS
    for b in R.BACKENDS:
        assert b.display_name and b.licence and b.description, b.name
        assert b.kind in ("keyframe", "motion")
        if b.kind == "motion":
            assert b.frame_rule is not None and b.resolution_multiple >= 1, b.name
        if b.needs_model:
            assert b.folder is not None and b.folder.classes and b.vram_preset, b.name
        names = [s.name for s in b.settings]
        assert len(names) == len(set(names)), b.name
        for s in b.settings:
            assert s.check(s.default, b.name) == s.default, f"{b.name}.{s.name} default is outside its own range"


def test_every_backend_points_at_a_class_that_exists() -> None:
    for b in R.BACKENDS:
        cls = b.load_class()
        assert hasattr(cls, "render" if b.kind == "motion" else "generate"), b.name
        if b.needs_model:
            assert callable(getattr(cls, "load", None)), f"{b.name} needs load(spec, settings)"


def test_sound_and_frame_rules_of_the_current_video_models() -> None:
    assert R.get_backend("ltx2").sound and not R.get_backend("ltx").sound
    assert [b.name for b in R.BACKENDS if b.sound] == ["ltx2"]
    ltx2 = R.get_backend("ltx2").frame_rule
    assert ltx2 is not None and ltx2.valid(481) and not ltx2.valid(482) and not ltx2.valid(489)
    wan = R.get_backend("wan-vace").frame_rule
    assert wan is not None and wan.smallest_at_least(30) == 33 and wan.smallest_at_least(200) == 81
    assert R.FrameRule().smallest_at_least(7) == 7 and R.FrameRule().valid(1000)


@pytest.mark.parametrize(
    ("backend", "name", "value", "expected"),
    [
        ("ltx2", "sound", "true", True),
        ("ltx2", "sound", "off", False),
        ("ltx2", "strength", "0.5", 0.5),
        ("wan22", "guidance_2", 4, 4.0),
        ("ltx", "steps", "12", 12),
    ],
)
def test_settings_are_parsed_to_their_types(backend: str, name: str, value, expected) -> None:
    assert R.get_backend(backend).check_settings({name: value}) == ((name, expected),)


@pytest.mark.parametrize(
    ("backend", "name", "value", "needle"),
    [
        ("ltx2", "strength", 1.5, "0 to 1"),
        ("ltx2", "sound", "loud", "true or false"),
        ("ltx", "steps", "many", "integer"),
        ("ltx", "steps", 0, "1 to 200"),
        ("wan-vace", "conditioning_scale", float("nan"), "finite"),
        ("ltx", "sound", True, "has no setting 'sound'"),
        ("flow", "steps", 3, "its settings: none"),
    ],
)
def test_bad_settings_name_the_setting_and_the_range(backend: str, name: str, value, needle: str) -> None:
    with pytest.raises(ValueError, match=needle) as err:
        R.get_backend(backend).check_settings({name: value})
    assert name in str(err.value)


# --- recognising model folders -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("index", "backend", "kind"),
    [
        ({"_class_name": "IFPipeline"}, "if", "keyframe"),
        ({"_class_name": "IFSuperResolutionPipeline"}, "if", "keyframe-upscale"),
        ({"_class_name": "StableDiffusionXLPipeline"}, "text2image", "keyframe"),
        ({"_class_name": "LTXConditionPipeline"}, "ltx", "motion"),
        ({"_class_name": "LTX2Pipeline"}, "ltx2", "motion"),
        ({"_class_name": "LTX2ConditionPipeline"}, "ltx2", "motion"),
        ({"_class_name": "LTX2LatentUpsamplePipeline"}, "ltx2", "motion-upscale"),
        ({"_class_name": "WanVACEPipeline"}, "wan-vace", "motion"),
        ({"_class_name": "WanImageToVideoPipeline", "transformer_2": [None, None]}, "wan", "motion"),
        (
            {
                "_class_name": "WanImageToVideoPipeline",
                "transformer_2": ["diffusers", "WanTransformer3DModel"],
                "boundary_ratio": 0.9,
            },
            "wan22",
            "motion",
        ),
        ({"_class_name": "WanPipeline", "expand_timesteps": True}, "wan22", "motion"),
    ],
)
def test_folders_are_recognised_by_class_and_config(index: dict, backend: str, kind: str) -> None:
    found = R.classify_index(index)
    assert (found.backend.name, found.model_kind) == (backend, kind)
    assert found.model_kind in KINDS


@pytest.mark.parametrize("index", [{"_class_name": "WanPipeline"}, {"_class_name": "MochiPipeline"}])
def test_an_unsupported_pipeline_is_named_with_the_supported_ones(index: dict) -> None:
    with pytest.raises(ModelFolderError) as err:
        R.classify_index(index)
    message = str(err.value)
    assert index["_class_name"] in message
    for supported in ("LTX2ConditionPipeline", "WanVACEPipeline", "IFPipeline", "LTXConditionPipeline"):
        assert supported in message


def test_a_folder_on_disk_is_classified_and_a_bad_index_is_said_plainly(tmp_path: Path) -> None:
    (tmp_path / "vace").mkdir()
    (tmp_path / "vace" / "model_index.json").write_text(json.dumps({"_class_name": "WanVACEPipeline"}))
    assert R.classify_folder(tmp_path / "vace").backend.name == "wan-vace"
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "model_index.json").write_text("[1, 2]")
    with pytest.raises(ModelFolderError, match="JSON object"):
        R.classify_folder(tmp_path / "list")
    with pytest.raises(ModelFolderError, match="model_index.json is missing"):
        R.classify_folder(tmp_path / "nothing")


def test_real_motion_folders_are_motion_models(tiny_ltx_dir: Path, tiny_wan_dir: Path, tiny_if_sr_dir: Path) -> None:
    """Folders saved by diffusers itself, not hand-written indexes."""
    assert R.classify_folder(tiny_ltx_dir).model_kind == "motion"
    assert R.classify_folder(tiny_wan_dir).backend.name == "wan"
    assert R.classify_folder(tiny_if_sr_dir).model_kind == "keyframe-upscale"


# --- jobs read the table -------------------------------------------------------------------------
def test_jobs_accept_exactly_the_backends_of_their_kind() -> None:
    for b in R.BACKENDS:
        if b.kind == "motion":
            clip_job(b.name)
            with pytest.raises(ValueError, match="can't make keyframes"):
                KeyframeJob(ModelSpec(b.name), "p", (1,), 64, 32)
        else:
            KeyframeJob(ModelSpec(b.name), "p", (1,), 64, 32)
            with pytest.raises(ValueError, match="can't render clips"):
                clip_job(b.name)
    with pytest.raises(ValueError, match="unknown backend 'mochi'"):
        clip_job("mochi")


def test_job_settings_are_checked_sorted_and_survive_serialization() -> None:
    job = clip_job("ltx2", params=(("strength", "0.75"), ("sound", "yes"), ("steps", "8")))
    assert job.params == (("sound", True), ("strength", 0.75))
    assert job.steps == 8, "steps given as a setting land in the job's own field"
    assert job.param("upsample") is False and job.param("guidance") == 3.0
    assert dict(job.settings_used()) == {
        "steps": 8,
        "guidance": 3.0,
        "sound": True,
        "upsample": False,
        "strength": 0.75,
    }
    job = clip_job("wan-vace", reference_images=("/ref/hero.png",), params=(("conditioning_scale", 1.5),))
    assert job_from_dict(json.loads(json.dumps(job_to_dict(job)))) == job
    with pytest.raises(ValueError, match="strength"):
        clip_job("ltx2", params=(("strength", 3),))


def test_cache_keys_leave_out_exactly_what_the_table_says_a_backend_ignores(tmp_path: Path) -> None:
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(name.encode())
    pins = (PinImage(0, str(tmp_path / "a.png")), PinImage(24, str(tmp_path / "b.png")))
    flow = [job_key(clip_job("flow", prompt=p, pins=pins)) for p in ("a", "b")]
    assert flow[0] == flow[1], "flow ignores the prompt"
    ltx2 = [job_key(clip_job("ltx2", prompt=p, pins=pins)) for p in ("a", "b")]
    assert ltx2[0] != ltx2[1]
    sound = [job_key(clip_job("ltx2", params=(("sound", s),), pins=pins)) for s in (False, True)]
    assert sound[0] != sound[1], "a setting changes the key"
    refs = [job_key(clip_job("wan-vace", pins=pins, reference_images=(str(tmp_path / r),))) for r in ("a.png", "b.png")]
    assert refs[0] != refs[1], "reference images count by their content"


# --- every consumer offers exactly the table's entries -------------------------------------------
def test_known_models_name_backends_whose_folders_they_are() -> None:
    for model in BUILTIN_MODELS:
        backend = R.get_backend(model.backend)
        if model.kind == "ip-adapter":  # weights the backend loads into its own pipeline, no pipeline folder
            assert backend.references, model.id
            continue
        match = backend.upscaler if model.kind.endswith("-upscale") else backend.folder
        assert match is not None, model.id
        if model.pipeline != "AutoPipelineForText2Image":
            assert model.pipeline in match.classes, model.id
        kind = model.kind.removesuffix("-upscale").removesuffix("-lora").replace("draft", "keyframe")
        assert backend.kind == kind, model.id
    offered = {m.backend for m in BUILTIN_MODELS if not m.kind.endswith("-upscale")}
    assert offered == {b.name for b in R.BACKENDS if b.needs_model}, "every model backend has a downloadable model"


def _cli_parser() -> argparse.ArgumentParser:
    from app.cli import build_parser

    return build_parser()


def test_the_cli_offers_the_table(capsys) -> None:
    from app.cli import models as cli_models

    parser = _cli_parser()
    help_text = {}
    for action in parser._subparsers._group_actions:  # the sub-commands
        for name, sub in action.choices.items():
            help_text[name] = sub.format_help()
    for b in R.backends("motion"):
        assert b.name in help_text["render"] and b.name in help_text["motion"]
    for b in R.backends("keyframe"):
        assert b.name in help_text["keyframes"]
    for kind in KINDS:  # `models add --kind` takes the model list's kinds, and only those
        assert parser.parse_args(["models", "add", "x", "--kind", kind]).kind == kind
    with pytest.raises(SystemExit):
        parser.parse_args(["models", "add", "x", "--kind", "video"])
    assert cli_models.cmd_models(parser.parse_args(["models", "--backends", "--json"])) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in listed] == [b.name for b in R.BACKENDS]


def test_the_app_resolves_every_built_in_backend_and_refuses_the_wrong_kind() -> None:
    from app.engine_service import resolve_model
    from app.errors import PinframeError

    for b in R.built_in():
        assert resolve_model(b.name, kind=b.kind).backend == b.name
        other = "motion" if b.kind == "keyframe" else "keyframe"
        with pytest.raises(PinframeError, match="can't make"):
            resolve_model(b.name, kind=other)


def test_the_readme_table_is_the_registry() -> None:
    from app.cli.models import backend_table_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- backend table")
    table = readme[readme.index("\n", start) + 1 : readme.index("<!-- end backend table -->")].strip()
    assert table == backend_table_markdown(), "run `main.py models --backends --markdown` and paste it in the README"
