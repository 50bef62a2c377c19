"""Turning shots into engine jobs, and engine results into takes.

The engine knows nothing about shots (``ui → app → engine``): this module hands it prompts,
sizes, seeds and pinned image files, and turns what comes back into keyframe and clip takes
with their provenance, as undoable commands.
"""

from __future__ import annotations

import random
import wave
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from app import commands as C
from app.bundle import Bundle
from app.camera_loras import camera_loras
from app.clip_state import MediaLookup
from app.clip_store import store_clip_media
from app.document import ClipTake, GenerationParams, KeyframeTake, Pin, Project, RenderSettings, Shot, new_id
from app.edits import Command, ReplaceShot
from app.errors import PinframeError
from app.media_ref import MediaRef

# Model resolution lives in app.model_choice; callers reach it through this module as before.
from app.model_choice import motion_choice, motion_model, resolve_model  # noqa: F401
from app.prompt_template import keyframe_prompt, motion_prompt
from app.render_inputs import shot_inputs_hash
from engine.backend_registry import get_backend
from engine.camera_move import read_move
from engine.jobs import (
    SEED_MAX,
    ClipJob,
    ClipResult,
    KeyframeJob,
    KeyframeResult,
    ModelSpec,
    PinImage,
)


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
    init_image: str = "",
    strength: float = 0.0,
    mask_image: str = "",
    bundle: Bundle | None = None,
) -> KeyframeJob:
    """A keyframe job for ``shot``: its prompt (or ``prompt``) through the project's prompt template.

    ``init_image`` (a PNG path) makes it sketch -> keyframe, ``mask_image`` inpainting (see KeyframeJob);
    a job the backend can't run raises PinframeError with KeyframeJob's message. With ``bundle``, the
    shot's references and the project's LoRAs go in when the backend takes them (:func:`keyframe_extras`).
    """
    references, loras = keyframe_extras(project, shot, model, bundle) if bundle is not None else ((), ())
    try:
        return KeyframeJob(
            model=model,
            prompt=keyframe_prompt(project, shot, prompt),
            seeds=seeds,
            width=project.width,
            height=project.height,
            negative_prompt=shot.negative_prompt if negative_prompt is None else negative_prompt,
            shot_size=shot.camera.size,
            label=f"Shot {shot.number}",
            steps=steps,
            init_image=str(init_image),
            strength=strength,
            mask_image=str(mask_image),
            references=references,
            loras=loras,
        )
    except ValueError as exc:  # KeyframeJob's message names the field and what to do
        raise PinframeError(str(exc)) from None


def keyframe_extras(
    project: Project, shot: Shot, model: ModelSpec, bundle: Bundle
) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
    """(reference picture path, weight) for each reference the shot uses and (LoRA file path, weight) for
    each project LoRA, as bundle paths, each only when ``model``'s backend takes them (the registry's
    ``references`` / ``loras``): a model without an IP-Adapter still makes keyframes from the prompt."""
    info = get_backend(model.backend)
    refs = project.shot_references(shot) if info.references else ()
    loras = project.loras if info.loras else ()
    return (
        tuple((str(bundle.media.path(r.image)), r.weight) for r in refs),
        tuple((str(bundle.media.path(lo.file)), lo.weight) for lo in loras),
    )


def extras_used(
    bundle: Bundle, project: Project, job: KeyframeJob
) -> tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...]]:
    """The references and LoRAs a job used, as (name, weight) pairs for its takes' record.

    Found by the bundle path the job read, so a reference renamed (or removed) while the job ran is
    recorded as it is now, and a path that is no longer a project reference is left out."""
    ref_paths = {str(bundle.media.path(r.image)): r.name for r in project.references}
    lora_paths = {str(bundle.media.path(lo.file)): lo.name for lo in project.loras}
    return (
        tuple((ref_paths[path], weight) for path, weight in job.references if path in ref_paths),
        tuple((lora_paths[path], weight) for path, weight in job.loras if path in lora_paths),
    )


def store_keyframes(bundle: Bundle, results: tuple[KeyframeResult, ...]) -> tuple[MediaRef, ...]:
    """Copy generated images into the bundle (disk work: run it off the GUI thread)."""
    return tuple(bundle.media.put_file(r.path, "png") for r in results)


@dataclass(frozen=True)
class StartPictures:
    """What a sketch -> keyframe or inpainting job started from, as its takes record it."""

    source_take: str = ""  # the keyframe take whose image it was ("": a file, not a take)
    source_file: str = ""  # else the file's name
    source_image: str = ""  # the start picture in the bundle, "<sha256>.<ext>"
    mask: str = ""  # the mask in the bundle; "": the whole picture


def store_start_pictures(bundle: Bundle, project: Project, job: KeyframeJob, label: str = "") -> StartPictures:
    """Copy a job's start picture and mask into the bundle and find the take it was (disk work: off the GUI thread).

    Content-addressed, so a take's own image is found again whatever path the job read it from. ``label``
    names a start picture that is no take and no file a person chose ("drawing").
    """
    if not job.init_image:
        return StartPictures()
    image = _stored(bundle, job.init_image)
    take = ""
    if image is not None:
        take = next((t.id for shot in project.shots() for t in shot.keyframe_takes if t.image == image), "")
    mask = _stored(bundle, job.mask_image) if job.mask_image else None
    return StartPictures(
        source_take=take,
        source_file="" if take else (label or Path(job.init_image).name),
        source_image=str(image) if image is not None else "",
        mask=str(mask) if mask is not None else "",
    )


def _stored(bundle: Bundle, path: str) -> MediaRef | None:
    try:
        return bundle.media.put_file(path)
    except PinframeError:
        return None  # a format the bundle doesn't keep (the engine read it): the record names the file only


def start_image_path(bundle: Bundle, project: Project, take_id: str) -> str:
    """The file of a keyframe take (its id, or a unique start of it), to start a keyframe job from."""
    takes = [t for shot in project.shots() for t in shot.keyframe_takes if t.id.startswith(take_id)] if take_id else []
    exact = [t for t in takes if t.id == take_id]
    if len(exact) == 1 or len(takes) == 1:
        return str(bundle.media.path((exact or takes)[0].image))
    if not takes:
        raise PinframeError(f"{project.name} has no keyframe take '{take_id}'; `pinframe takes` lists them")
    raise PinframeError(f"'{take_id}' starts {len(takes)} take ids; give more of the id")


def keyframe_takes_command(
    bundle: Bundle,
    project: Project,
    shot_id: str,
    job: KeyframeJob,
    results: tuple[KeyframeResult, ...],
    *,
    pin_frame: int | None = None,
    refs: tuple[MediaRef, ...] | None = None,
    start: StartPictures | None = None,
) -> Command:
    """Add generated images as takes of the shot (pinning the first at ``pin_frame``).

    Built against ``project`` as it is now, so edits made while the job ran are kept. The takes
    record the prompt the model was actually given (style appended), so a take can be made
    again exactly. ``refs`` are the images already stored with :func:`store_keyframes`, ``start`` what a
    job with a start picture began from, stored with :func:`store_start_pictures` (both computed here,
    on disk, when not given).
    """
    shot = project.shot(shot_id)
    refs = refs if refs is not None else store_keyframes(bundle, results)
    if start is None:
        start = store_start_pictures(bundle, project, job)
    created = _now()
    used_refs, used_loras = extras_used(bundle, project, job)
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
            source_take=start.source_take,
            source_file=start.source_file,
            source_image=start.source_image,
            mask=start.mask,
            strength=r.strength,
            references=used_refs,
            loras=used_loras,
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


def render_settings_command(
    project: Project, shot_id: str, model: ModelSpec, seed: int, settings: Mapping[str, Any] | None = None
) -> Command | None:
    """Record which model and settings render the shot (part of its inputs hash); None if unchanged.

    ``settings`` are the backend's own (engine.backend_registry), checked against its ranges;
    None keeps the shot's current ones while the backend stays the same.
    """
    shot = project.shot(shot_id)
    params = _shot_params(shot, model.backend, settings)
    render = RenderSettings(model.backend, model.model_id, seed, params)
    if render == shot.render:
        return None
    return C.set_shot_fields(project, shot_id, render=render)


def _shot_params(shot: Shot, backend: str, settings: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    info = get_backend(backend)
    if settings is None:
        if shot.render.backend != backend:
            return ()  # another backend's settings mean nothing to this one
        settings = dict(shot.render.params)
    try:
        checked = info.check_settings(settings)
    except ValueError as exc:
        raise PinframeError(f"shot {shot.number}: {exc}") from None
    # Defaults are left out: a setting put back to its default changes nothing about the clip.
    return tuple((name, _setting_text(value)) for name, value in checked if value != info.setting(name).default)


def _setting_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def parse_settings(pairs: Iterable[str], backend: str) -> dict[str, Any]:
    """``NAME=VALUE`` words (the CLI's ``--set``) as checked settings of ``backend``."""
    info = get_backend(backend)
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            names = ", ".join(s.name for s in info.settings) or "none"
            raise PinframeError(f"--set {pair!r} should be NAME=VALUE; {info.display_name} settings: {names}")
        values[name.strip()] = value.strip()
    try:
        return dict(info.check_settings(values))
    except ValueError as exc:
        raise PinframeError(str(exc)) from None


def render_plan(
    project: Project,
    bundle: Bundle,
    shot_id: str,
    model: ModelSpec,
    seed: int,
    settings: Mapping[str, Any] | None = None,
    loras: tuple[tuple[str, float], ...] | None = None,
) -> tuple[ClipJob, str]:
    """The job for rendering a shot with ``model``, and the inputs hash its clip will carry.

    Both are computed for the shot as it will be once its render settings name this model,
    without changing the project: a render that fails or is cancelled leaves it untouched.
    ``loras``: the shot's camera LoRAs when already found (:func:`app.camera_loras.camera_loras`
    reads the Hub cache; the window finds them on a worker thread); None finds them here.
    """
    command = render_settings_command(project, shot_id, model, seed, settings)
    planned = command.apply(project)[0] if command is not None else project
    job = clip_job(planned, bundle, planned.shot(shot_id), model, loras=loras)
    return job, shot_inputs_hash(planned.shot(shot_id), planned)


def render_result_command(
    project: Project,
    shot_id: str,
    job: ClipJob,
    clip: StoredClip,
    inputs_hash: str,
    settings: Mapping[str, Any] | None = None,
) -> Command:
    """One undo step: the shot's render settings and its new current clip.

    ``inputs_hash`` and ``settings`` are the ones the render was planned with
    (:func:`render_plan`): if the shot changed while it rendered, the new clip is rightly stale.
    """
    command = render_settings_command(project, shot_id, job.model, job.seed, settings)
    planned = command.apply(project)[0] if command is not None else project
    take = ClipTake(
        new_id(),
        clip.ref,
        inputs_hash,
        clip.frame_count,
        _now(),
        clip.backend,
        clip.model_id,
        model_revision=clip.model_revision,
        settings=clip.settings,
        notes=clip.notes,
        audio=clip.audio,
        # Against the shot's settings as planned: steps set with the render (--set) are the final ones.
        draft=is_draft(job, planned.shot(shot_id)),
    )
    ops = (command.ops if command is not None else ()) + C.add_clip_take(planned, shot_id, take).ops
    return Command(f"Render Shot {project.shot(shot_id).number}", ops)


def draft_reason(job: ClipJob, shot: Shot) -> str:
    """Why rendering ``shot`` with ``job`` makes a draft, in words; "" for a final render.

    The rule: fewer denoising steps than the shot's steps setting (its own, else the backend's
    default), or a work size (``job.work_pixels``) below the backend's ``default_pixels``. Both
    come from engine.backend_registry. Backends with neither knob (flow, crossfade, hold) never
    make drafts. A draft's inputs are current; Render Stale renders it again unless told not to.
    """
    info = get_backend(job.model.backend)
    reasons = []
    if any(s.name == "steps" for s in info.settings):
        final = int(shot_settings(shot, info.name)["steps"])
        if int(job.param("steps")) < final:
            reasons.append(f"{job.param('steps')} of {final} steps")
    if info.default_pixels and 0 < job.work_pixels < info.default_pixels:
        reasons.append(f"{job.work_pixels} of {info.default_pixels} pixels a frame")
    return ", ".join(reasons)


def is_draft(job: ClipJob, shot: Shot) -> bool:
    """Whether the clip ``job`` renders for ``shot`` is a draft (:func:`draft_reason`)."""
    return bool(draft_reason(job, shot))


def clip_job(
    project: Project,
    bundle: Bundle,
    shot: Shot,
    model: ModelSpec,
    *,
    loras: tuple[tuple[str, float], ...] | None = None,
) -> ClipJob:
    """The render job for a shot: its handles included, its pins at their frames, its prompt
    through the project's template; the model-free backends play its camera move. ``loras`` None:
    the move's installed camera LoRAs are looked up (reads the Hub cache)."""
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
        prompt=motion_prompt(project, shot),
        negative_prompt=shot.negative_prompt,
        seed=shot.render.seed,
        label=f"Shot {shot.number}",
        # The shot's settings apply when they were set for this backend (render_settings_command).
        params=shot.render.params if shot.render.backend == model.backend else (),
        # Video models read the move in the prompt; only the 2D backends move a camera themselves.
        camera_move="" if model.needs_model else read_move(shot.camera.move),
        # The move's camera LoRA, when one is installed (LTX-2).
        loras=camera_loras(model, shot.camera.move) if loras is None else loras,
        # The shot's reference pictures, for a motion model that takes them (Wan VACE).
        reference_images=tuple(str(bundle.media.path(r.image)) for r in project.shot_references(shot))
        if get_backend(model.backend).references
        else (),
    )


@dataclass(frozen=True)
class StoredClip:
    ref: MediaRef
    frame_count: int
    backend: str
    model_id: str
    model_revision: str = ""
    settings: tuple[tuple[str, Any], ...] = ()
    notes: str = ""
    audio: MediaRef | None = None


def store_clip(bundle: Bundle, result: ClipResult, progress: Callable[[int, int], None] | None = None) -> StoredClip:
    """Encode rendered frames near-lossless (and the model's sound) into the bundle (seconds:
    run it off the GUI thread); a frame that can't be read stores nothing and is named.
    ``progress(done, total)`` hears each frame handed to the encoder, on the calling thread."""
    ref, count = store_clip_media(bundle, result, progress)
    audio = bundle.media.put_file(result.audio_path, "wav") if result.audio_path else None
    return StoredClip(
        ref, count, result.backend, result.model_id, result.model_revision, result.params, result.notes, audio
    )


RENDER_CHOICES = ("selected", "stale", "all")


def shots_to_render(
    project: Project,
    which: str,
    selected: list[str] | tuple[str, ...] = (),
    *,
    keep_drafts: bool = False,
    media: MediaLookup | None = None,
) -> list[str]:
    """Ids of the shots a render of ``which`` covers, in cut order.

    ``selected``: the chosen shots (pinless ones included, so the caller can say they were
    skipped). ``stale``: pinned shots whose clip is missing, out of date or a draft (drafts
    are left alone with ``keep_drafts``). ``all``: every pinned shot. ``media`` (the bundle's
    media store) also finds clips whose file was deleted: that reads the disk.
    """
    from app.clip_state import needs_render

    if which == "selected":
        chosen = set(selected)
        return [s.id for s in project.shots() if s.id in chosen]
    if which == "stale":
        return [s.id for s in project.shots() if needs_render(project, s, keep_drafts=keep_drafts, media=media)]
    if which == "all":
        return [s.id for s in project.shots() if s.pins]
    raise ValueError(f"unknown choice of shots to render: {which!r} (one of {', '.join(RENDER_CHOICES)})")


def current_inputs_hash(project: Project, shot_id: str) -> str:
    return shot_inputs_hash(project.shot(shot_id), project)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def place_clip_sound(bundle: Bundle, project: Project, shot_id: str) -> Command:
    """Put the sound the model made with the shot's current clip on the audio lane, at the shot.

    The clip's sound covers its handles too; the lane takes the cut's part of it (written as a
    new WAV in the bundle), so it starts exactly where the shot starts on the cut. Reads and
    writes the disk: run it off the GUI thread.
    """
    shot = project.shot(shot_id)
    clip = shot.current_clip_take
    if clip is None or clip.audio is None:
        made = f" ({clip.made_by})" if clip is not None else ""
        raise PinframeError(
            f"shot {shot.number}'s clip{made} has no sound; render it with a model that makes sound "
            "(LTX-2 with its Sound setting on)"
        )
    source = bundle.media.path(clip.audio)
    tmp = bundle.path / "media" / f".sound-{new_id()}.wav"
    try:
        with wave.open(str(source), "rb") as src:
            rate = src.getframerate()
            fps = Fraction(project.rate.num, project.rate.den)
            first = round(Fraction(shot.handles) / fps * rate)
            count = round(Fraction(shot.duration) / fps * rate)
            src.setpos(min(first, src.getnframes()))
            data = src.readframes(count)
            with wave.open(str(tmp), "wb") as out:
                out.setparams(src.getparams())
                out.writeframes(data)
        ref = bundle.media.put_file(tmp, "wav")
    except (OSError, wave.Error, EOFError) as exc:
        raise PinframeError(f"the sound of shot {shot.number}'s clip can't be read ({exc}); render it again") from None
    finally:
        tmp.unlink(missing_ok=True)
    command = C.add_audio(project, ref, project.shot_start(shot_id), f"Shot {shot.number} sound")
    return Command(f"Place Sound of Shot {shot.number}", command.ops)


def shot_settings(shot: Shot, backend: str) -> dict[str, Any]:
    """Every setting of ``backend`` for this shot: what it was given, the rest at their defaults."""
    info = get_backend(backend)
    given = shot.render.params if shot.render.backend == backend else ()
    try:
        return info.resolved_settings(given)
    except ValueError:
        return info.resolved_settings()  # settings of an older Pinframe: the defaults stand


def motion_settings_command(
    project: Project, shot_id: str, backend: str, model_id: str, changes: Mapping[str, Any]
) -> Command | None:
    """Set some of a shot's motion settings for ``backend`` (the one it renders with); undoable.

    Only values that differ from the backend's defaults are kept, so setting one back to its
    default gives the same inputs as never having touched it (a current clip stays current).
    """
    shot = project.shot(shot_id)
    info = get_backend(backend)
    try:
        values = {**shot_settings(shot, backend), **dict(info.check_settings(changes))}
    except ValueError as exc:
        raise PinframeError(f"shot {shot.number}: {exc}") from None
    params = tuple((s.name, _setting_text(values[s.name])) for s in info.settings if values[s.name] != s.default)
    render = RenderSettings(backend, model_id, shot.render.seed, params)
    if render == shot.render:
        return None
    return C.set_shot_fields(project, shot_id, render=render)
