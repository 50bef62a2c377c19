"""Which model a job uses: a built-in backend, a model id from the model list or a local folder, with its
second and third stages (IF stage II, the x4 upscaler), as the CLI, the window and the farm resolve it.

Reads the disk (the model list, the Hub cache, a folder's model_index.json): call it off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from app.document import Project, Shot
from app.errors import PinframeError
from engine.backend_registry import built_in, classify_folder, get_backend
from engine.errors import ModelFolderError
from engine.jobs import ModelSpec


def _built_in_names(kind: str) -> str:
    return ", ".join(b.name for b in built_in(kind))  # type: ignore[arg-type]


def _kind_words(kind: str) -> str:
    return "keyframes" if kind == "keyframe" else "clips"


def resolve_model(text: str, *, kind: str, upscale: str | None = None, registered_only: bool = False) -> ModelSpec:
    """A built-in backend name, a diffusers model folder, or a registered model id, as a ModelSpec.

    ``kind`` is "keyframe" or "motion" ("clip" is taken as "motion"). Which backend a folder
    belongs to is read from its model_index.json through engine.backend_registry. A backend
    with a second stage (DeepFloyd IF's super-resolution, LTX-2's latent upsampler) gets
    ``upscale`` (a folder or id) or, by default, its downloaded companion model when there is one.
    ``registered_only``: ``text`` comes from a project (someone else's, maybe), so it may name a
    built-in backend or a model in this machine's model list, never a folder of its own.
    """
    kind = "motion" if kind == "clip" else kind
    try:
        info = get_backend(text)
    except ValueError:
        info = None
    if info is not None and not info.needs_model:
        if info.kind != kind:
            raise PinframeError(f"'{text}' can't make {_kind_words(kind)}; use {_built_in_names(kind)} or a model")
        return ModelSpec(text)
    folder = Path(text).expanduser()
    if registered_only or not folder.exists():
        folder = _registered_folder(text)
    if not (folder / "model_index.json").is_file():
        raise PinframeError(
            f"'{text}' is neither a built-in model ({_built_in_names(kind)}) nor a diffusers model folder "
            "(it has no model_index.json)"
        )
    try:
        found = classify_folder(folder)
    except ModelFolderError as exc:
        raise PinframeError(str(exc)) from None
    backend = found.backend
    if found.companion:
        raise PinframeError(
            f"{folder} holds a {found.pipeline_class}, the second stage of {backend.display_name}; choose the main "
            f"{backend.display_name} model (Pinframe uses this one with it)"
        )
    if backend.kind != kind:
        raise PinframeError(
            f"{folder} holds a {found.pipeline_class} ({backend.display_name}), which can't make {_kind_words(kind)}"
        )
    upscale_path, stage3_path = _companions(upscale, backend.name) if backend.upscaler is not None else ("", "")
    path = str(folder.resolve())
    model_id = text if registered_only or not Path(text).exists() else folder.name
    return ModelSpec(
        backend.name,
        path,
        model_id,
        revision=_REVISIONS.get(path, ""),
        upscale_path=upscale_path,
        stage3_path=stage3_path,
    )


def motion_model(project: Project, shot: Shot) -> ModelSpec:
    """The model a render of ``shot`` uses (its own choice, else the project's); reads the disk."""
    choice = project.motion_model_of(shot)
    try:
        return resolve_model(choice, kind="motion", registered_only=True)
    except PinframeError as exc:
        whose = f"shot {shot.number}" if shot.motion_model else "the project"
        raise PinframeError(f"{whose} renders with '{choice}', which can't be used here: {exc}") from None


def motion_choice(text: str) -> str:
    """What to store as a project's or shot's motion model for ``text`` (a backend, id or folder).

    A folder is added to the model list (or found there) and stored by its id: a project names
    models, never paths on one machine, so it opens the same on another.
    """
    spec = resolve_model(text, kind="motion")
    if not spec.needs_model:
        return spec.backend
    folder = Path(text).expanduser()
    if not folder.exists():
        return text  # already a model id
    from app.cli.models import registry
    from engine.errors import EngineError

    reg = registry()
    for local in reg.local():
        if local.path == folder.resolve():
            return local.id
    try:
        return reg.add_local(folder).id
    except EngineError as exc:
        raise PinframeError(str(exc)) from None


# A third stage's pipeline: it runs after the second when both are installed (IF: stage II, then x4).
_THIRD_STAGE_PIPELINES = ("StableDiffusionUpscalePipeline",)


def _companions(upscale: str | None, backend: str) -> tuple[str, str]:
    """(second stage, third stage) folders of a backend: the one given, else the downloaded companions in
    the model list (IF: if-ii-l, then the x4 upscaler); "" where none (the backend notes what it skipped)."""
    if upscale:
        folder = Path(upscale).expanduser()
        return str((folder if folder.exists() else _registered_folder(upscale)).resolve()), ""
    from app.cli.models import registry

    second = third = ""
    for model in registry().known():
        if model.backend != backend or not model.kind.endswith("-upscale"):
            continue
        try:
            found = str(_registered_folder(model.id).resolve())
        except PinframeError:
            continue  # not downloaded
        if model.pipeline in _THIRD_STAGE_PIPELINES:
            third = third or found
        else:
            second = second or found
    if not second:
        return third, ""  # the x4 upscaler alone follows stage I directly
    return second, third


def _registered_folder(model_id: str) -> Path:
    """The folder of a model registered by id (downloaded or added), or a clear error."""
    from app.cli.models import registry
    from engine.errors import EngineError
    from engine.models.registry import KnownModel

    try:
        model = registry().get(model_id)
    except (EngineError, KeyError):
        raise PinframeError(
            f"'{model_id}' is not a model folder, a built-in backend ({', '.join(b.name for b in built_in())}) "
            "or a model id from `pinframe models`"
        ) from None
    if isinstance(model, KnownModel):
        status = registry().installed(model)
        if not status.complete or status.path is None:
            raise PinframeError(f"{model_id} is not downloaded yet; run `pinframe models download {model_id}`")
        _REVISIONS[str(Path(status.path).resolve())] = status.commit or model.revision
        return Path(status.path)
    return Path(model.path)


# Commit of each downloaded snapshot folder resolved in this process, recorded with takes.
_REVISIONS: dict[str, str] = {}
