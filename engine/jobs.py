"""Job specs and results: plain, immutable, serializable records.

A job names its model by folder and id, carries prompts and numbers, and refers to input
images by file path; results are files (PNG keyframes, a folder of PNG frames for a clip).
Nothing here holds a live model or tensor, so the same jobs could run in another process or
on another machine.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from engine.backend_registry import BackendInfo, backend_names, backends, get_backend
from engine.camera_move import canonical_move

if TYPE_CHECKING:  # engine.devices imports torch; job records stay importable without it
    from engine.devices import DeviceSettings

SEED_MAX = 2**32 - 1

# KeyframeJob.strength 0 means this: enough change to turn a rough drawing into a picture while its
# composition (where things are, the light and dark masses) survives.
DEFAULT_STRENGTH = 0.6

# Lower runs first: a director waiting on keyframes beats a long clip render.
PRIORITY_INTERACTIVE = 0
PRIORITY_RENDER = 10


@dataclass(frozen=True)
class ModelSpec:
    """What to load: a backend name plus, for ML backends, a local folder."""

    backend: str
    path: str = ""
    model_id: str = ""
    revision: str = ""
    # The backend's second-stage folder (DeepFloyd IF stage II, LTX-2's latent upsampler); empty: none.
    upscale_path: str = ""
    # A third stage after the second (IF: the x4 upscaler after stage II); empty: none.
    stage3_path: str = ""

    @property
    def key(self) -> str:
        """Identity for residency and job grouping: the same key is the same loaded model."""
        third = f"|{self.stage3_path}" if self.stage3_path else ""
        return f"{self.backend}|{self.path}|{self.upscale_path}{third}"

    @property
    def needs_model(self) -> bool:
        return get_backend(self.backend).needs_model


@dataclass(frozen=True)
class PinImage:
    frame: int
    path: str


@dataclass(frozen=True)
class KeyframeJob:
    kind: ClassVar[str] = "keyframe"
    model: ModelSpec
    prompt: str
    seeds: tuple[int, ...]
    width: int
    height: int
    negative_prompt: str = ""
    steps: int = 0  # 0: the backend's default
    guidance: float = 0.0  # 0: the backend's default
    shot_size: str = ""  # framing guides on sketch cards
    label: str = ""  # shown in the jobs panel and on sketch cards ("Shot 12A")
    priority: int = PRIORITY_INTERACTIVE
    # Sketch -> keyframe and inpainting (backends whose registry entry says image_to_image / inpainting):
    # the picture to start from (a PNG path the engine reads; "" for text to image), how much of it the
    # model may change (0 < strength <= 1; 0: the backend's default), and a mask the size of that picture
    # (white: paint anew, black: keep exactly; "" : change the whole picture).
    init_image: str = ""
    strength: float = 0.0
    mask_image: str = ""
    # Consistent characters and look: reference pictures as (PNG path, scale 0..1), used through an
    # IP-Adapter by backends whose registry entry has ``references``; LoRA adapters as (safetensors path,
    # weight) for backends with ``loras``.
    references: tuple[tuple[str, float], ...] = ()
    loras: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        _check_kind(self.model.backend, "keyframe")
        _check_numbers(self.steps, self.guidance)
        if not self.seeds:
            raise ValueError("a keyframe job needs at least one seed")
        for seed in self.seeds:
            if not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
                raise ValueError(f"seed {seed!r} is outside 0..{SEED_MAX}")
        _check_size(self.width, self.height)
        _check_start_picture(self)
        info = get_backend(self.model.backend)
        object.__setattr__(self, "references", _checked_references(self.references, info))
        object.__setattr__(self, "loras", _checked_loras(self.loras, info))


@dataclass(frozen=True)
class ClipJob:
    kind: ClassVar[str] = "clip"
    model: ModelSpec
    frame_count: int
    fps_num: int
    fps_den: int
    width: int
    height: int
    pins: tuple[PinImage, ...]
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 0
    guidance: float = 0.0
    # ML models render at about this many pixels a frame, then scale to the project frame
    # (0: the model's default). Lower is a faster draft of the motion.
    work_pixels: int = 0
    label: str = ""
    priority: int = PRIORITY_RENDER
    # The backend's own settings (engine.backend_registry), as sorted (name, value) pairs.
    params: tuple[tuple[str, Any], ...] = ()
    # Reference pictures (PNG paths) of the characters, places or props in the shot, for backends whose
    # registry entry has ``references`` (Wan VACE's reference_images).
    reference_images: tuple[str, ...] = ()
    # A 2D camera move the model-free backends play over the frames ("slow dolly in"; engine.camera_move).
    camera_move: str = ""
    # LoRA adapters loaded for this job only, as (safetensors file, weight) pairs: LTX-2's camera LoRAs.
    # Only for backends whose registry entry has ``loras``; weights from LORA_WEIGHTS[0] to LORA_WEIGHTS[1].
    loras: tuple[tuple[str, float], ...] = ()

    def param(self, name: str) -> Any:
        """A backend setting as given, or its default from the registry."""
        if name in ("steps", "guidance") and getattr(self, name):
            return getattr(self, name)
        return dict(self.params).get(name, get_backend(self.model.backend).setting(name).default)

    def settings_used(self) -> tuple[tuple[str, Any], ...]:
        """Every backend setting this job renders with, defaults filled in: the clip's record."""
        return tuple((s.name, self.param(s.name)) for s in get_backend(self.model.backend).settings)

    def __post_init__(self) -> None:
        info = _check_kind(self.model.backend, "motion")
        _check_numbers(self.steps, self.guidance)
        # Checked and sorted here, so equal settings always make equal jobs (and cache keys).
        # Steps and guidance are registry settings too (front ends offer them with the rest),
        # but a job carries them in its own fields: one place for each number.
        checked = dict(info.check_settings(self.params))
        for name in ("steps", "guidance"):
            value = checked.pop(name, None)
            if value is not None and not getattr(self, name):
                object.__setattr__(self, name, value)
        object.__setattr__(self, "params", tuple(sorted(checked.items())))
        object.__setattr__(self, "camera_move", canonical_move(self.camera_move))
        object.__setattr__(self, "loras", _checked_loras(self.loras, info))
        object.__setattr__(self, "reference_images", _checked_reference_images(self.reference_images, info))
        if self.fps_num <= 0 or self.fps_den <= 0 or self.work_pixels < 0:
            raise ValueError(f"frame rate {self.fps_num}/{self.fps_den} and work pixels must be positive")
        if self.frame_count < 1:
            raise ValueError(f"a clip needs at least one frame, got {self.frame_count}")
        if not self.pins:
            raise ValueError("a clip job needs at least one pinned keyframe")
        frames = [p.frame for p in self.pins]
        if len(set(frames)) != len(frames) or not all(0 <= f < self.frame_count for f in frames):
            raise ValueError(f"pins {frames} must be distinct frames inside 0..{self.frame_count - 1}")
        if not 0 <= self.seed <= SEED_MAX:
            raise ValueError(f"seed {self.seed} is outside 0..{SEED_MAX}")
        _check_size(self.width, self.height)


@dataclass(frozen=True)
class UnloadModels:
    """A control job: drop every resident model (runs in queue order on the worker)."""

    kind: ClassVar[str] = "unload"
    label: str = "Unload models"
    priority: int = PRIORITY_INTERACTIVE


@dataclass(frozen=True)
class Reconfigure:
    """A control job: drop every resident model, then switch the engine to ``settings``.

    Runs on the worker like :class:`UnloadModels`, so no job is ever half on the old device
    or precision and half on the new one.
    """

    kind: ClassVar[str] = "configure"
    settings: DeviceSettings
    label: str = "Apply device settings"
    priority: int = PRIORITY_INTERACTIVE


# Jobs that change the engine itself: no model, no result to cache, not worth a cache lookup.
CONTROL_JOBS = (UnloadModels, Reconfigure)

Job = KeyframeJob | ClipJob | UnloadModels | Reconfigure


@dataclass(frozen=True)
class KeyframeResult:
    """One generated keyframe: the PNG file and everything that made it."""

    path: str
    seed: int
    width: int
    height: int
    backend: str
    model_id: str = ""
    model_revision: str = ""
    steps: int = 0
    guidance: float = 0.0
    generated_width: int = 0
    generated_height: int = 0
    fit: str = ""
    # Made from a start picture (KeyframeJob.init_image): the strength it ran at, the default filled in; 0: not.
    strength: float = 0.0
    # What else a person should know about how it was made: the references and LoRAs it used, or why a
    # reference wasn't used (no IP-Adapter installed for this model).
    notes: str = ""


@dataclass(frozen=True)
class ClipResult:
    """Rendered frames as numbered PNGs in ``frames_dir`` (frame_000000.png ...)."""

    frames_dir: str
    frame_count: int
    width: int
    height: int
    fps_num: int
    fps_den: int
    backend: str
    model_id: str = ""
    notes: str = ""
    # A WAV file of the sound the model made with the picture (LTX-2 with sound on); "" for none.
    audio_path: str = ""
    model_revision: str = ""
    # The backend settings the clip was rendered with, defaults filled in: what made it, for the record.
    params: tuple[tuple[str, Any], ...] = ()

    def frame_path(self, index: int) -> str:
        return f"{self.frames_dir}/{frame_name(index)}"


Result = KeyframeResult | ClipResult


def result_relative_to(result: Result, base: str | os.PathLike[str]) -> Result:
    """``result`` with its file paths relative to ``base`` (to store it, or send it to another machine)."""
    if isinstance(result, KeyframeResult):
        return replace(result, path=os.path.relpath(result.path, base))
    audio = os.path.relpath(result.audio_path, base) if result.audio_path else ""
    return replace(result, frames_dir=os.path.relpath(result.frames_dir, base), audio_path=audio)


def result_under(result: Result, base: str | os.PathLike[str]) -> Result:
    """The inverse of :func:`result_relative_to`: paths made absolute under ``base``."""
    if isinstance(result, KeyframeResult):
        return replace(result, path=str(Path(base) / result.path))
    audio = str(Path(base) / result.audio_path) if result.audio_path else ""
    return replace(result, frames_dir=str(Path(base) / result.frames_dir), audio_path=audio)


def frame_name(index: int) -> str:
    return f"frame_{index:06d}.png"


def _check_kind(backend: str, kind: Literal["keyframe", "motion"]) -> BackendInfo:
    info = get_backend(backend)  # raises, naming the known backends
    if info.kind != kind:
        wanted = "make keyframes" if kind == "keyframe" else "render clips"
        raise ValueError(f"'{backend}' can't {wanted}; use one of {', '.join(backend_names(kind))}")
    return info


# A LoRA's weight: 1 is the strength it was trained at; past 2 adapters distort more than they steer, and a
# negative weight pushes away from what it learned (a style to avoid). The app's fields read this range.
LORA_WEIGHTS = (-2.0, 2.0)


def _checked_loras(loras: Any, info: BackendInfo) -> tuple[tuple[str, float], ...]:
    """``loras`` as sorted (path, weight) pairs, so equal sets make equal jobs; ValueError names a bad one."""
    if not loras:
        return ()
    if not info.loras:
        able = ", ".join(b.name for b in backends(info.kind) if b.loras) or "none"
        make = "make the keyframe" if info.kind == "keyframe" else "render"
        raise ValueError(f"the {info.name} backend can't load LoRAs; {make} with one that can ({able}) or drop them")
    checked: dict[str, float] = {}
    for entry in loras:
        try:
            path, weight = entry
            weight = float(weight)
        except (TypeError, ValueError):
            raise ValueError(f"a LoRA is a (file, weight) pair; got {entry!r}") from None
        if not isinstance(path, str) or not path.lower().endswith(".safetensors"):
            raise ValueError(
                f"LoRA {path!r} isn't a .safetensors file; Pinframe loads LoRAs from safetensors only (pickled "
                ".bin/.pt/.ckpt files can run code): convert it, or download the safetensors version"
            )
        if not (math.isfinite(weight) and LORA_WEIGHTS[0] <= weight <= LORA_WEIGHTS[1]):
            raise ValueError(f"LoRA {path} has weight {weight}; use {LORA_WEIGHTS[0]:g} to {LORA_WEIGHTS[1]:g}")
        if path in checked:
            raise ValueError(f"LoRA {path} is listed twice; give it once, with one weight")
        checked[path] = weight
    return tuple(sorted(checked.items()))


def _refuse_references(info: BackendInfo) -> None:
    able = ", ".join(b.name for b in backends(info.kind) if b.references) or "none"
    make = "make the keyframe" if info.kind == "keyframe" else "render"
    raise ValueError(
        f"the {info.name} backend can't use reference pictures; {make} with one that can ({able}) or drop them"
    )


def _checked_references(references: Any, info: BackendInfo) -> tuple[tuple[str, float], ...]:
    """Keyframe references as (picture, scale) pairs in the order given; ValueError names a bad one.

    Not sorted, unlike LoRAs: the first reference is the one a model that takes a single picture uses.
    """
    if not references:
        return ()
    if not info.references:
        _refuse_references(info)
    checked: list[tuple[str, float]] = []
    for entry in references:
        try:
            path, scale = entry
            scale = float(scale)
        except (TypeError, ValueError):
            raise ValueError(f"a reference is a (picture, scale) pair; got {entry!r}") from None
        if not isinstance(path, str) or not path:
            raise ValueError(f"a reference picture is a file path; got {path!r}")
        if not (math.isfinite(scale) and 0.0 <= scale <= 1.0):
            raise ValueError(f"reference {path} has scale {scale}; use 0 (ignore it) to 1 (follow it closely)")
        if any(path == seen for seen, _ in checked):
            raise ValueError(f"reference {path} is listed twice; give it once, with one scale")
        checked.append((path, scale))
    return tuple(checked)


def _checked_reference_images(paths: Any, info: BackendInfo) -> tuple[str, ...]:
    if not paths:
        return ()
    if not info.references:
        _refuse_references(info)
    if isinstance(paths, str) or not all(isinstance(p, str) and p for p in paths):
        raise ValueError(f"reference images are file paths; got {paths!r}")
    return tuple(paths)


def _check_start_picture(job: KeyframeJob) -> None:
    """Sketch -> keyframe and inpainting fields: sane together and supported by the backend."""
    strength = job.strength
    if isinstance(strength, bool) or not isinstance(strength, int | float):
        raise ValueError(f"strength must be a number from 0 to 1; got {strength!r}")
    if not (math.isfinite(strength) and 0.0 <= strength <= 1.0):
        raise ValueError(
            f"strength {strength} is outside 0 to 1; use a small value (0.3) to keep the picture, 1 to repaint it "
            f"(0: the default, {DEFAULT_STRENGTH:g})"
        )
    if strength and not job.init_image:
        raise ValueError(f"strength {strength:g} needs a picture to start from (init_image); give one or drop it")
    if job.mask_image and not job.init_image:
        raise ValueError("mask_image needs the picture it masks (init_image); give the take or file to inpaint")
    if not job.init_image:
        return
    info = get_backend(job.model.backend)
    if not info.image_to_image:
        able = " or ".join(b.display_name for b in backends("keyframe") if b.image_to_image) or "other"
        raise ValueError(f"the {info.name} backend can't start from a picture (init_image); use a {able} model")
    if job.mask_image and not info.inpainting:
        able = " or ".join(b.display_name for b in backends("keyframe") if b.inpainting) or "other"
        raise ValueError(f"the {info.name} backend can't inpaint (mask_image); use a {able} model")


def _check_numbers(steps: int, guidance: float) -> None:
    if steps < 0 or guidance < 0:
        raise ValueError(f"steps ({steps}) and guidance ({guidance}) can't be negative")


def _check_size(width: int, height: int) -> None:
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise ValueError(f"size {width}x{height} is out of range (16..8192 a side)")


# --- serialization ---------------------------------------------------------------------------
_JOB_TYPES = {cls.kind: cls for cls in (KeyframeJob, ClipJob, UnloadModels, Reconfigure)}
_RESULT_TYPES = {"keyframe": KeyframeResult, "clip": ClipResult}


def job_to_dict(job: Job) -> dict[str, Any]:
    return {"kind": job.kind, **asdict(job)}


def job_from_dict(data: dict[str, Any]) -> Job:
    cls = _JOB_TYPES[data["kind"]]
    values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
    if "model" in values:
        values["model"] = ModelSpec(**values["model"])
    if "seeds" in values:
        values["seeds"] = tuple(values["seeds"])
    if "pins" in values:
        values["pins"] = tuple(PinImage(**p) for p in values["pins"])
    if "params" in values:
        values["params"] = tuple((str(k), v) for k, v in values["params"])
    if "reference_images" in values:
        values["reference_images"] = tuple(values["reference_images"])
    for name in ("loras", "references"):  # JSON turns the pairs into lists; the job checks them itself
        if name in values:
            values[name] = tuple(tuple(entry) for entry in values[name])
    if "settings" in values:
        from engine.devices import DeviceSettings

        values["settings"] = DeviceSettings(**values["settings"])
    return cls(**values)


def result_to_dict(result: Result) -> dict[str, Any]:
    kind = "keyframe" if isinstance(result, KeyframeResult) else "clip"
    return {"kind": kind, **asdict(result)}


def result_from_dict(data: dict[str, Any]) -> Result:
    cls = _RESULT_TYPES[data["kind"]]
    values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
    if "params" in values:
        values["params"] = tuple((str(k), v) for k, v in values["params"])
    return cls(**values)


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))
