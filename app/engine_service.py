"""Turning shots into engine jobs, and engine results into takes.

The engine knows nothing about shots (``ui → app → engine``): this module hands it prompts,
sizes, seeds and pinned image files, and turns what comes back into keyframe and clip takes
with their provenance, as undoable commands.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from app import commands as C
from app.bundle import Bundle
from app.document import ClipTake, GenerationParams, KeyframeTake, Pin, Project, RenderSettings, Shot, new_id
from app.edits import Command, ReplaceShot
from app.errors import PinframeError
from app.media_ref import MediaRef
from app.render_inputs import shot_inputs_hash
from app.video import encode_frames
from engine.backends.fit import read_rgb
from engine.jobs import (
    NO_MODEL_BACKENDS,
    SEED_MAX,
    ClipJob,
    ClipResult,
    KeyframeJob,
    KeyframeResult,
    ModelSpec,
    PinImage,
)

_PIPELINE_BACKENDS = {
    "IFPipeline": "if",
    "LTXConditionPipeline": "ltx",
    "LTXPipeline": "ltx",
    "WanImageToVideoPipeline": "wan",
}


def resolve_model(text: str, *, kind: str, upscale: str | None = None) -> ModelSpec:
    """``sketch``/``flow``/``hold``/``crossfade``, a diffusers model folder, or a registered model id.

    For DeepFloyd IF, ``upscale`` names the stage II folder or id; by default the known
    ``if-ii-l`` is used when it is downloaded.
    """
    if text in NO_MODEL_BACKENDS:
        if (kind == "keyframe") != (text == "sketch"):
            raise PinframeError(f"'{text}' can't make {kind}s; use {'sketch' if kind == 'keyframe' else 'flow'}")
        return ModelSpec(text)
    folder = Path(text).expanduser()
    if not folder.exists():
        folder = _registered_folder(text)
    index = folder / "model_index.json"
    if not index.is_file():
        raise PinframeError(
            f"'{text}' is neither a built-in model ({', '.join(sorted(NO_MODEL_BACKENDS))}) nor a diffusers "
            "model folder (it has no model_index.json)"
        )
    try:
        class_name = json.loads(index.read_text()).get("_class_name", "")
    except (OSError, ValueError) as exc:
        raise PinframeError(f"{index} can't be read ({exc})") from None
    backend = _PIPELINE_BACKENDS.get(class_name)
    if backend is None:
        if "Video" in class_name or "Image2Image" in class_name or "Img2Img" in class_name:
            raise PinframeError(
                f"{folder} holds a {class_name}, which Pinframe can't use; pick an LTX, Wan, "
                "DeepFloyd IF or text-to-image model"
            )
        backend = "text2image"
    if (kind == "keyframe") != (backend in ("if", "text2image")):
        raise PinframeError(f"{folder} holds a {class_name}, which can't make {kind}s")
    upscale_path = ""
    if backend == "if":
        upscale_path = _upscale_folder(upscale)
    path = str(folder.resolve())
    model_id = text if not Path(text).exists() else folder.name
    return ModelSpec(backend, path, model_id, revision=_REVISIONS.get(path, ""), upscale_path=upscale_path)


def _upscale_folder(upscale: str | None) -> str:
    if upscale:
        folder = Path(upscale).expanduser()
        return str((folder if folder.exists() else _registered_folder(upscale)).resolve())
    try:
        return str(_registered_folder("if-ii-l").resolve())
    except PinframeError:
        return ""  # stage I only: smaller pictures, scaled up to the frame


def _registered_folder(model_id: str) -> Path:
    """The folder of a model registered by id (downloaded or added), or a clear error."""
    from app.cli_models import registry
    from engine.errors import EngineError
    from engine.models.registry import KnownModel

    try:
        model = registry().get(model_id)
    except (EngineError, KeyError):
        raise PinframeError(
            f"'{model_id}' is not a model folder, a built-in model ({', '.join(sorted(NO_MODEL_BACKENDS))}) "
            "or a model id from `pinframe models`"
        ) from None
    if isinstance(model, KnownModel):
        status = registry().installed(model)
        if not status.complete:
            raise PinframeError(f"{model_id} is not downloaded yet; run `pinframe models download {model_id}`")
        _REVISIONS[str(Path(status.path).resolve())] = status.commit or model.revision
        return Path(status.path)
    return Path(model.path)


# Commit of each downloaded snapshot folder resolved in this process, recorded with takes.
_REVISIONS: dict[str, str] = {}


def random_seeds(count: int, rng: random.Random | None = None) -> tuple[int, ...]:
    rng = rng or random.SystemRandom()
    return tuple(rng.randint(0, SEED_MAX) for _ in range(count))


def keyframe_job(
    project: Project,
    shot: Shot,
    model: ModelSpec,
    seeds: tuple[int, ...],
    *,
    prompt: str | None = None,
    negative_prompt: str | None = None,
    steps: int = 0,
) -> KeyframeJob:
    text = shot.prompt if prompt is None else prompt
    if shot.style and shot.style not in text:
        text = f"{text}, {shot.style}" if text else shot.style
    return KeyframeJob(
        model=model,
        prompt=text,
        seeds=seeds,
        width=project.width,
        height=project.height,
        negative_prompt=shot.negative_prompt if negative_prompt is None else negative_prompt,
        shot_size=shot.camera.size,
        label=f"Shot {shot.number}",
        steps=steps,
    )


def store_keyframes(bundle: Bundle, results: tuple[KeyframeResult, ...]) -> tuple[MediaRef, ...]:
    """Copy generated images into the bundle (disk work: run it off the GUI thread)."""
    return tuple(bundle.media.put_file(r.path, "png") for r in results)


def keyframe_takes_command(
    bundle: Bundle,
    project: Project,
    shot_id: str,
    job: KeyframeJob,
    results: tuple[KeyframeResult, ...],
    *,
    pin_frame: int | None = None,
    refs: tuple[MediaRef, ...] | None = None,
) -> Command:
    """Add generated images as takes of the shot (pinning the first at ``pin_frame``).

    Built against ``project`` as it is now, so edits made while the job ran are kept. The takes
    record the prompt the model was actually given (style appended), so a take can be made
    again exactly. ``refs`` are the images already stored with :func:`store_keyframes`.
    """
    shot = project.shot(shot_id)
    refs = refs if refs is not None else store_keyframes(bundle, results)
    created = _now()
    takes = []
    for r, ref in zip(results, refs, strict=True):
        params = GenerationParams(
            backend=r.backend,
            model_id=r.model_id,
            model_revision=r.model_revision,
            prompt=job.prompt,
            negative_prompt=job.negative_prompt,
            seed=r.seed,
            steps=r.steps,
            guidance=r.guidance,
            width=r.generated_width,
            height=r.generated_height,
            fit=r.fit,
        )
        takes.append(KeyframeTake(new_id(), ref, r.width, r.height, created, params))
    new = replace(shot, keyframe_takes=shot.keyframe_takes + tuple(takes))
    if pin_frame is not None and takes:
        if not 0 <= pin_frame < shot.duration:
            raise PinframeError(f"frame {pin_frame} is outside shot {shot.number} (0-{shot.duration - 1})")
        pins = [p for p in new.pins if p.frame != pin_frame]
        new = replace(new, pins=tuple(sorted([*pins, Pin(pin_frame, takes[0].id)])))
    label = f"Generate {len(takes)} Keyframe{'s' if len(takes) != 1 else ''}"
    return Command(label, (ReplaceShot(new),))


def render_settings_command(project: Project, shot_id: str, model: ModelSpec, seed: int) -> Command | None:
    """Record which model renders the shot (part of its inputs hash); None if unchanged."""
    shot = project.shot(shot_id)
    settings = RenderSettings(model.backend, model.model_id, seed, shot.render.params)
    if settings == shot.render:
        return None
    return C.set_shot_fields(project, shot_id, render=settings)


def render_plan(project: Project, bundle: Bundle, shot_id: str, model: ModelSpec, seed: int) -> tuple[ClipJob, str]:
    """The job for rendering a shot with ``model``, and the inputs hash its clip will carry.

    Both are computed for the shot as it will be once its render settings name this model,
    without changing the project: a render that fails or is cancelled leaves it untouched.
    """
    settings = render_settings_command(project, shot_id, model, seed)
    planned = settings.apply(project)[0] if settings is not None else project
    return clip_job(planned, bundle, planned.shot(shot_id), model), shot_inputs_hash(planned.shot(shot_id), planned)


def render_result_command(
    project: Project, shot_id: str, model: ModelSpec, seed: int, clip: StoredClip, inputs_hash: str
) -> Command:
    """One undo step: the shot's render settings and its new current clip.

    ``inputs_hash`` is the one computed when the render was planned: if the shot changed while
    it rendered, the new clip is rightly stale.
    """
    settings = render_settings_command(project, shot_id, model, seed)
    planned = settings.apply(project)[0] if settings is not None else project
    take = ClipTake(new_id(), clip.ref, inputs_hash, clip.frame_count, _now(), clip.backend, clip.model_id)
    ops = (settings.ops if settings is not None else ()) + C.add_clip_take(planned, shot_id, take).ops
    return Command(f"Render Shot {project.shot(shot_id).number}", ops)


def clip_job(project: Project, bundle: Bundle, shot: Shot, model: ModelSpec) -> ClipJob:
    """The render job for a shot: its handles included, its pins at their frames."""
    if not shot.pins:
        raise PinframeError(f"shot {shot.number} has no pinned keyframe; pin one before rendering")
    takes = {t.id: t for t in shot.keyframe_takes}
    pins = tuple(PinImage(p.frame + shot.handles, str(bundle.media.path(takes[p.take_id].image))) for p in shot.pins)
    return ClipJob(
        model=model,
        frame_count=shot.duration + 2 * shot.handles,
        fps_num=project.rate.num,
        fps_den=project.rate.den,
        width=project.width,
        height=project.height,
        pins=pins,
        prompt=shot.prompt,
        negative_prompt=shot.negative_prompt,
        seed=shot.render.seed,
        label=f"Shot {shot.number}",
    )


@dataclass(frozen=True)
class StoredClip:
    ref: MediaRef
    frame_count: int
    backend: str
    model_id: str


def store_clip(bundle: Bundle, result: ClipResult) -> StoredClip:
    """Encode rendered frames into the bundle (slow: run it off the GUI thread)."""
    tmp = bundle.path / "media" / f".render-{new_id()}.mp4"
    try:
        frames = (read_rgb(result.frame_path(i)) for i in range(result.frame_count))
        count = encode_frames(frames, tmp, Fraction(result.fps_num, result.fps_den))
        ref = bundle.media.put_file(tmp, "mp4")
    finally:
        tmp.unlink(missing_ok=True)
    return StoredClip(ref, count, result.backend, result.model_id)


RENDER_CHOICES = ("selected", "stale", "all")


def shots_to_render(project: Project, which: str, selected: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Ids of the shots a render of ``which`` covers, in cut order.

    ``selected``: the chosen shots (pinless ones included, so the caller can say they were
    skipped). ``stale``: pinned shots whose clip is missing or out of date. ``all``: every pinned shot.
    """
    if which == "selected":
        chosen = set(selected)
        return [s.id for s in project.shots() if s.id in chosen]
    if which == "stale":
        return [s.id for s in project.shots() if s.pins and (s.current_clip is None or project.is_stale(s))]
    if which == "all":
        return [s.id for s in project.shots() if s.pins]
    raise ValueError(f"unknown choice of shots to render: {which!r} (one of {', '.join(RENDER_CHOICES)})")


def current_inputs_hash(project: Project, shot_id: str) -> str:
    return shot_inputs_hash(project.shot(shot_id), project)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
