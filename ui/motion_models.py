"""The motion models a person can choose in the window, and the words for them. No Qt in here.

Render ▸ Motion Model, the shot form's Motion combo and Send to Farm all show the same entries,
built here from the two tables that own the facts: ``engine.backend_registry`` (which motion
backends exist, their display names, which need a model) and the model registry (which models
each backend has, known or added from disk, and whether they are installed). Nothing here keeps
a list of its own: a backend or model added there shows up in every view.

Building the entries and resolving shots' models read the disk (the Hub cache, the model list):
call them on a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app import engine_service as S
from app.camera_loras import camera_loras
from app.cli.models import registry
from app.document import Project
from app.errors import PinframeError
from engine.backend_registry import BackendInfo, backends, get_backend
from engine.errors import EngineError
from engine.jobs import ModelSpec
from engine.models.registry import ModelRegistry

NOT_INSTALLED = "not installed"
MODELS_HINT = "Download or add it under Models ▸ Models and Settings, or choose another under Render ▸ Motion Model."


@dataclass(frozen=True)
class MotionEntry:
    """One thing the motion menus offer: a built-in backend, or one model of a model backend."""

    choice: str  # what Project.motion_model / Shot.motion_model holds; "" when there is nothing to choose
    backend: str  # engine.backend_registry name ("" for a local folder that can't be read any more)
    backend_name: str  # the backend's display name
    model_id: str = ""  # "" for a backend without a model
    installed: bool = True  # False: choosing it opens the Models dialog instead
    local: bool = False  # a folder the user added, not a known Hub model
    detail: str = ""  # tooltip: the folder, or why it can't be used yet

    @property
    def name(self) -> str:
        """What the choice is called, without its state: 'Optical flow (CPU)', 'LTX-2 · ltx-2'."""
        if not self.model_id:
            return self.backend_name
        return f"{self.backend_name} · {self.model_id}" if self.backend_name else self.model_id

    @property
    def label(self) -> str:
        """The menu text: the name, plus what is missing when it can't be chosen yet."""
        if self.installed:
            return self.name
        if not self.choice:
            return f"{self.backend_name} — no model yet (add one…)"
        if self.local:
            return f"{self.name} — folder missing"
        return f"{self.name} — {NOT_INSTALLED}"


def backend_display(name: str) -> str:
    """A backend's display name; an unknown name (a newer project, a typo in a file) as itself."""
    try:
        return get_backend(name).display_name
    except ValueError:
        return name


def built_in_entries() -> list[MotionEntry]:
    """The motion backends that need no model: always offered, and known without reading the disk."""
    return [_built_in(info) for info in backends("motion") if not info.needs_model]


def _built_in(info: BackendInfo) -> MotionEntry:
    return MotionEntry(info.name, info.name, info.display_name, detail=info.description)


def motion_entries(registry: ModelRegistry) -> list[MotionEntry]:
    """Every motion backend in registry order: the built-in ones, then each model backend's known
    models and the user's folders of that backend. A model backend with no model at all still
    gets an entry, so the menu shows every backend the engine has. Reads the disk."""
    known = [m for m in registry.known() if m.kind == "motion"]
    local = [m for m in registry.local() if m.kind == "motion"]
    entries: list[MotionEntry] = []
    for info in backends("motion"):
        if not info.needs_model:
            entries.append(_built_in(info))
            continue
        found: list[MotionEntry] = []
        for model in known:
            if model.backend != info.name:
                continue
            try:
                status = registry.installed(model)
                installed, detail = status.complete, str(status.path) if status.complete else status.problem
            except (OSError, EngineError) as exc:  # an unreadable cache is "not installed", with the reason
                installed, detail = False, f"Couldn't read the Hugging Face cache: {exc}"
            found.append(MotionEntry(model.id, info.name, info.display_name, model.id, installed, detail=detail))
        for folder in local:
            if folder.backend == info.name:
                there = folder.path.is_dir()
                detail = str(folder.path) if there else f"{folder.path} is gone; add the folder again"
                found.append(MotionEntry(folder.id, info.name, info.display_name, folder.id, there, True, detail))
        entries += found or [MotionEntry("", info.name, info.display_name, installed=False, detail=info.description)]
    # Folders listed before their backend was recorded, whose folder can't be read now.
    names = {b.name for b in backends("motion")}
    for folder in local:
        if folder.backend not in names:
            detail = f"{folder.path} can't be read as a model folder any more; add it again"
            entries.append(MotionEntry(folder.id, folder.backend, "", folder.id, False, True, detail))
    return entries


def load_motion_entries() -> tuple[list[MotionEntry], str]:
    """The entries from the user's model list, and a problem to show ("" when none). Reads the disk."""
    try:
        return motion_entries(registry()), ""
    except (EngineError, OSError) as exc:
        # A damaged model list must not take the built-in backends with it.
        return built_in_entries(), f"The model list can't be read: {exc}"


def entry_for(choice: str, entries: Iterable[MotionEntry]) -> MotionEntry | None:
    return next((e for e in entries if e.choice and e.choice == choice), None)


def choice_name(choice: str, entries: Iterable[MotionEntry]) -> str:
    """What a stored choice is called in the window; one no entry offers (a folder path given
    on the command line, a model since removed) as itself."""
    entry = entry_for(choice, entries)
    if entry is not None:
        return entry.name
    try:
        return get_backend(choice).display_name
    except ValueError:
        return choice


def model_name(spec: ModelSpec) -> str:
    """'LTX-2 (ltx-2)', 'Optical flow (CPU)': the backend's display name and the model id."""
    name = backend_display(spec.backend)
    return f"{name} ({spec.model_id})" if spec.model_id and spec.model_id != spec.backend else name


@dataclass(frozen=True)
class ShotModels:
    """The model each shot renders with, and the shots whose model can't be used, in words."""

    specs: dict[str, ModelSpec] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()  # ids of the shots in ``problems``
    # Each shot's camera LoRAs (found with the models, off the GUI thread: they are read from the Hub cache).
    loras: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)

    def subset(self, shot_ids: Iterable[str]) -> ShotModels:
        ids = list(shot_ids)
        return ShotModels(
            {i: self.specs[i] for i in ids if i in self.specs},
            self.problems,
            self.failed,
            {i: self.loras[i] for i in ids if i in self.loras},
        )


def resolve_shot_models(project: Project, shot_ids: Sequence[str]) -> ShotModels:
    """Each shot's motion model (its own choice, else the project's) and camera LoRAs. Reads the
    disk: run it on a worker thread. A choice is resolved once however many shots use it; shots
    following a project choice that can't be used share one message."""
    specs: dict[str, ModelSpec] = {}
    resolved: dict[str, ModelSpec] = {}
    failures: dict[str, list[str]] = {}  # message -> shot numbers
    failed: list[str] = []
    for shot_id in shot_ids:
        shot = project.shot(shot_id)
        choice = project.motion_model_of(shot)
        if choice in resolved:
            specs[shot_id] = resolved[choice]
            continue
        try:
            resolved[choice] = specs[shot_id] = S.motion_model(project, shot)
        except PinframeError as exc:
            failures.setdefault(str(exc), []).append(shot.number)
            failed.append(shot_id)
    problems = tuple(
        f"{message} ({'shots' if len(numbers) > 1 else 'shot'} {', '.join(numbers)} not rendered)"
        for message, numbers in failures.items()
    )
    loras = {i: camera_loras(spec, project.shot(i).camera.move) for i, spec in specs.items()}
    return ShotModels(specs, problems, tuple(failed), loras)


def batch_summary(specs: Mapping[str, ModelSpec]) -> str:
    """'LTX-2 (ltx-2) for 3 shots, Optical flow (CPU) for 1', most used first."""
    counts: dict[str, int] = {}
    for spec in specs.values():
        name = model_name(spec)
        counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: ties keep cut order
    parts = [f"{name} for {n}" for name, n in ranked]
    if parts:
        first_count = ranked[0][1]
        parts[0] += f" shot{'s' if first_count != 1 else ''}"
    return ", ".join(parts)
