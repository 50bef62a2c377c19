"""The one table of keyframe and motion backends.

Every place that needs to know which backends exist reads this table: the engine loader and
the job records, the result cache, the app's engine service, the CLI (``render --model``,
``keyframes --model``, ``models``), the window's Render ▸ Motion Model menu, the Send to Farm
dialog and the Models dialog. Adding a backend is one module under ``engine/backends/`` plus one
:class:`BackendInfo` entry in :data:`BACKENDS`.

Nothing here imports torch or diffusers: job records and the CLI's argument parsing stay cheap.
A backend's code is named by ``"module:Class"`` and imported only when a model is loaded.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.errors import ModelFolderError

BackendKind = Literal["keyframe", "motion"]
SettingType = Literal["int", "float", "bool", "choice"]
SettingValue = int | float | bool | str

BUILT_IN_LICENCE = "built into Pinframe (MIT)"


@dataclass(frozen=True)
class Setting:
    """One knob of a backend, with the range every front end offers and every job is checked against."""

    name: str
    label: str
    type: SettingType
    default: SettingValue
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""

    def check(self, value: Any, backend: str) -> SettingValue:
        """``value`` as this setting's type, or a ValueError that names the setting and its range."""
        where = f"{backend} setting '{self.name}'"
        if self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                return value.lower() in ("1", "true", "yes", "on")
            raise ValueError(f"{where} is on/off; got {value!r} (use true or false)")
        if self.type == "choice":
            if str(value) not in self.choices:
                raise ValueError(f"{where} must be one of {', '.join(self.choices)}; got {value!r}")
            return str(value)
        try:
            number: int | float = int(value) if self.type == "int" else float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{where} must be a{'n integer' if self.type == 'int' else ' number'}; got {value!r}"
            ) from None
        if isinstance(value, float) and self.type == "int" and not value.is_integer():
            raise ValueError(f"{where} must be a whole number; got {value!r}")
        if self.type == "float" and not math.isfinite(number):
            raise ValueError(f"{where} must be a finite number; got {value!r}")
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            raise ValueError(f"{where} is {value}; use {self.range_text()}")
        return number

    def range_text(self) -> str:
        if self.type == "bool":
            return "true or false"
        if self.type == "choice":
            return " / ".join(self.choices)
        lo = "" if self.minimum is None else f"{self.minimum:g}"
        hi = "" if self.maximum is None else f"{self.maximum:g}"
        return f"{lo} to {hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")


@dataclass(frozen=True)
class FrameRule:
    """Frame counts a model accepts in one pass: ``step * k + 1`` from ``minimum`` up to ``maximum``.

    ``step`` 1 accepts any count. ``maximum`` is the backend's longest segment (0: no limit).
    """

    step: int = 1
    minimum: int = 1
    maximum: int = 0

    def valid(self, count: int) -> bool:
        return count >= self.minimum and (count - 1) % self.step == 0 and (not self.maximum or count <= self.maximum)

    def smallest_at_least(self, count: int) -> int:
        """The smallest accepted count that covers ``count``, capped at the longest segment."""
        k = max(0, -(-(count - 1) // self.step))
        n = max(self.minimum, self.step * k + 1)
        return min(n, self.maximum) if self.maximum else n

    def text(self) -> str:
        rule = "any length" if self.step == 1 else f"{self.step}k+1 frames"
        return f"{rule}, up to {self.maximum}" if self.maximum else rule


@dataclass(frozen=True)
class FolderMatch:
    """How a diffusers folder is recognised: its ``model_index.json`` class, and config fields.

    ``when`` receives the whole ``model_index.json`` object and decides between backends that
    share a pipeline class (Wan 2.1 and Wan 2.2 are both ``WanImageToVideoPipeline``; 2.2 has a
    second expert transformer or a ``boundary_ratio`` / ``expand_timesteps`` field).
    """

    classes: tuple[str, ...]
    when: Callable[[Mapping[str, Any]], bool] | None = None
    describe: str = ""  # the config fields checked, for the README and error messages

    def matches(self, index: Mapping[str, Any]) -> bool:
        return index.get("_class_name") in self.classes and (self.when is None or self.when(index))


@dataclass(frozen=True)
class BackendInfo:
    name: str  # the id in jobs, projects, the CLI and the cache key
    kind: BackendKind
    display_name: str
    code: str  # "module:Class"; the class has load(spec, settings) for model backends, () otherwise
    licence: str
    description: str = ""
    folder: FolderMatch | None = None  # None: built in, no model folder
    # A companion folder this backend can use as its second stage (IF stage II, LTX-2's latent upsampler).
    upscaler: FolderMatch | None = None
    frame_rule: FrameRule | None = None  # motion backends only
    resolution_multiple: int = 1  # render sides are multiples of this
    default_pixels: int = 0  # pixels a frame the model renders at by default (0: the project frame)
    settings: tuple[Setting, ...] = ()
    sound: bool = False  # can make a soundtrack with the picture
    vram_preset: str = ""  # the memory preset the README recommends for a 24 GB GPU
    # Job fields that never change this backend's output: left out of the cache key.
    ignores: tuple[str, ...] = ()
    fps_hint: int = 0  # the frame rate the model was trained at (0: any)
    # Loads LoRA adapters (ClipJob.loras / KeyframeJob.loras, safetensors files) for one job at a time:
    # LTX-2's camera LoRAs, a project's character and style LoRAs on a text-to-image model.
    loras: bool = False
    # Keyframe backends: starts from a picture (KeyframeJob.init_image, sketch -> keyframe) and repaints
    # a masked region of one (KeyframeJob.mask_image, inpainting).
    image_to_image: bool = False
    inpainting: bool = False
    # Takes reference pictures of characters and places (KeyframeJob.references through an IP-Adapter,
    # ClipJob.reference_images for Wan VACE).
    references: bool = False

    @property
    def needs_model(self) -> bool:
        return self.folder is not None

    def setting(self, name: str) -> Setting:
        for s in self.settings:
            if s.name == name:
                return s
        names = ", ".join(s.name for s in self.settings) or "none"
        raise ValueError(f"the {self.name} backend has no setting '{name}' (its settings: {names})")

    def check_settings(
        self, values: Mapping[str, Any] | Iterable[tuple[str, Any]]
    ) -> tuple[tuple[str, SettingValue], ...]:
        """Validated settings as sorted (name, value) pairs; unknown names and out-of-range values raise."""
        items = values.items() if isinstance(values, Mapping) else values
        checked = {name: self.setting(name).check(value, self.name) for name, value in items}
        return tuple(sorted(checked.items()))

    def resolved_settings(self, values: Iterable[tuple[str, Any]] = ()) -> dict[str, SettingValue]:
        """Every setting with its value: the given ones checked, the rest at their defaults."""
        given = dict(self.check_settings(values))
        return {s.name: given.get(s.name, s.default) for s in self.settings}

    def load_class(self) -> Any:
        module, _, cls = self.code.partition(":")
        return getattr(importlib.import_module(module), cls)


# --- the settings every diffusion backend shares, at each backend's own defaults -------------------
def _steps(default: int, maximum: int = 200) -> Setting:
    return Setting("steps", "Steps", "int", default, 1, maximum, help="denoising steps; fewer is a faster draft")


def _guidance(default: float, maximum: float = 20.0) -> Setting:
    return Setting("guidance", "Guidance", "float", default, 0.0, maximum, help="how closely to follow the prompt")


def _has(name: str) -> Callable[[Mapping[str, Any]], bool]:
    def check(index: Mapping[str, Any]) -> bool:
        entry = index.get(name)
        return isinstance(entry, list | tuple) and len(entry) >= 2 and entry[0] is not None and entry[1] is not None

    return check


def _is_wan22(index: Mapping[str, Any]) -> bool:
    # Wan 2.2 A14B image-to-video has a second (low-noise) expert and the step it hands over at;
    # the 5B TI2V model is saved as a WanPipeline with one transformer that expands timesteps per
    # token, and takes a first frame. Wan 2.1 has neither; Wan 2.2 T2V (a WanPipeline without
    # expand_timesteps) can't take a picture at all.
    if index.get("_class_name") == "WanPipeline":
        return bool(index.get("expand_timesteps"))
    return (
        _has("transformer_2")(index) or index.get("boundary_ratio") is not None or bool(index.get("expand_timesteps"))
    )


def _is_wan21(index: Mapping[str, Any]) -> bool:
    return not _is_wan22(index)


_CPU_MOTION_IGNORES = ("prompt", "negative_prompt", "seed", "steps", "guidance", "work_pixels", "params")
_DIFFUSION_KEYFRAME_IGNORES = ("shot_size",)
_WAN_FRAMES = FrameRule(step=4, minimum=5, maximum=81)
_WAN_LICENCE = "Apache-2.0"


def _text2image_classes() -> tuple[str, ...]:
    """Pipeline classes AutoPipelineForText2Image builds; listed here so recognition needs no diffusers import."""
    return (
        "StableDiffusionPipeline",
        "StableDiffusionXLPipeline",
        "StableDiffusion3Pipeline",
        "FluxPipeline",
        "PixArtAlphaPipeline",
        "PixArtSigmaPipeline",
        "SanaPipeline",
        "KandinskyCombinedPipeline",
        "KandinskyV22CombinedPipeline",
        "StableCascadeCombinedPipeline",
        "LatentConsistencyModelPipeline",
        "AuraFlowPipeline",
        "HunyuanDiTPipeline",
        "KolorsPipeline",
        "LuminaText2ImgPipeline",
        "Lumina2Pipeline",
        "CogView3PlusPipeline",
        "CogView4Pipeline",
        "QwenImagePipeline",
        "ChromaPipeline",
        "PRXPipeline",
    )


BACKENDS: tuple[BackendInfo, ...] = (
    # --- keyframes ---------------------------------------------------------------------------------
    BackendInfo(
        name="sketch",
        kind="keyframe",
        display_name="Sketch cards (built in)",
        code="engine.backends.sketch:SketchBackend",
        licence=BUILT_IN_LICENCE,
        description="A labelled placeholder card with the prompt and a stand-in figure; no model needed.",
        ignores=("negative_prompt", "steps", "guidance"),
    ),
    BackendInfo(
        name="if",
        kind="keyframe",
        display_name="DeepFloyd IF",
        code="engine.backends.deepfloyd:IFBackend",
        licence="DeepFloyd IF License Agreement (non-commercial)",
        description="Pixel-space cascade: stage I at 64 px, stage II super-resolution to 256 px, stage III "
        "(the x4 upscaler, when installed) to 1024 px.",
        folder=FolderMatch(("IFPipeline",)),
        # Stage II, or the x4 upscaler as IF's stage III (engine.backends.deepfloyd.companion_folders).
        upscaler=FolderMatch(("IFSuperResolutionPipeline", "StableDiffusionUpscalePipeline")),
        settings=(_steps(50), _guidance(7.0)),
        vram_preset="model CPU offload",
        ignores=_DIFFUSION_KEYFRAME_IGNORES,
        image_to_image=True,
        inpainting=True,
    ),
    BackendInfo(
        name="text2image",
        kind="keyframe",
        display_name="Text to image (diffusers)",
        code="engine.backends.text2image:Text2ImageBackend",
        licence="the model's own licence",
        description="Any text-to-image folder AutoPipelineForText2Image builds (SDXL-Turbo, FLUX.1-schnell, SD).",
        folder=FolderMatch(_text2image_classes()),
        settings=(_steps(30), _guidance(7.0)),
        vram_preset="all on the GPU (SDXL-Turbo), model CPU offload (FLUX)",
        ignores=_DIFFUSION_KEYFRAME_IGNORES,
        image_to_image=True,
        inpainting=True,
        # References through an IP-Adapter (Stable Diffusion 1.x / SDXL UNets; h94/IP-Adapter), LoRAs through
        # diffusers' load_lora_weights.
        references=True,
        loras=True,
    ),
    BackendInfo(
        name="prx-pixel",
        kind="keyframe",
        display_name="PRXPixel",
        code="engine.backends.prx_pixel:PRXPixelBackend",
        licence="Apache-2.0 (Photoroom's PRX models; confirm on the model card)",
        description="Pixel-space transformer, one stage at 1024 px: rendered at the aspect bucket nearest the "
        "shot's, then cropped to it.",
        folder=FolderMatch(("PRXPixelPipeline",)),
        settings=(
            _steps(28),
            # The pipeline refuses guidance below 1 (1 turns classifier-free guidance off).
            Setting("guidance", "Guidance", "float", 5.0, 1.0, 20.0, help="how closely to follow the prompt"),
        ),
        vram_preset="model CPU offload",
        ignores=_DIFFUSION_KEYFRAME_IGNORES,
    ),
    # --- motion without a model ----------------------------------------------------------------------
    BackendInfo(
        name="flow",
        kind="motion",
        display_name="Optical flow (CPU)",
        code="engine.backends.cpu_motion:FlowMotion",
        licence=BUILT_IN_LICENCE,
        description="Optical-flow in-betweens between pins; a held frame before the first pin and after the last.",
        frame_rule=FrameRule(),
        ignores=_CPU_MOTION_IGNORES,
    ),
    BackendInfo(
        name="crossfade",
        kind="motion",
        display_name="Crossfade",
        code="engine.backends.cpu_motion:CrossfadeMotion",
        licence=BUILT_IN_LICENCE,
        description="Dissolves from pin to pin.",
        frame_rule=FrameRule(),
        ignores=_CPU_MOTION_IGNORES,
    ),
    BackendInfo(
        name="hold",
        kind="motion",
        display_name="Hold keyframes",
        code="engine.backends.cpu_motion:HoldMotion",
        licence=BUILT_IN_LICENCE,
        description="Each pin held until the next: a classic animatic.",
        frame_rule=FrameRule(),
        ignores=_CPU_MOTION_IGNORES,
    ),
    # --- motion models -------------------------------------------------------------------------------
    BackendInfo(
        name="ltx",
        kind="motion",
        display_name="LTX-Video 0.9",
        code="engine.backends.ltx:LTXBackend",
        licence="LTXV Open Weights License",
        description="Every pin a condition at its frame; 257 frames a pass, long shots in overlapping segments.",
        folder=FolderMatch(("LTXConditionPipeline", "LTXPipeline", "LTXImageToVideoPipeline")),
        frame_rule=FrameRule(step=8, minimum=9, maximum=257),
        resolution_multiple=32,
        default_pixels=768 * 512,
        settings=(_steps(30), _guidance(3.0)),
        vram_preset="all on the GPU, VAE tiling",
        fps_hint=25,
    ),
    BackendInfo(
        name="ltx2",
        kind="motion",
        display_name="LTX-2",
        code="engine.backends.ltx2:LTX2Backend",
        licence="LTX-2 Community License Agreement",
        description="Every pin a condition at its exact frame, video and sound together, 20 s a pass (longer shots "
        "in overlapping segments); "
        "optional 2x latent upsampler stage; distilled 8-step checkpoints.",
        folder=FolderMatch(("LTX2ConditionPipeline", "LTX2Pipeline", "LTX2ImageToVideoPipeline")),
        upscaler=FolderMatch(("LTX2LatentUpsamplePipeline",)),
        frame_rule=FrameRule(step=8, minimum=9, maximum=481),
        resolution_multiple=32,
        default_pixels=768 * 512,
        settings=(
            # At least 2: the full model's scheduler stretches its schedule to end at 0.1, which one step can't.
            Setting("steps", "Steps", "int", 30, 2, 200, help="denoising steps; fewer is a faster draft"),
            _guidance(3.0),
            Setting("sound", "Sound", "bool", False, help="generate a soundtrack with the picture"),
            Setting("upsample", "Latent upsampler", "bool", False, help="render at half size, then upsample 2x"),
            Setting("strength", "Pin strength", "float", 1.0, 0.0, 1.0, help="how firmly the pins hold"),
        ),
        sound=True,
        vram_preset="model CPU offload, fp8 layerwise storage",
        fps_hint=24,
        loras=True,
    ),
    BackendInfo(
        name="wan",
        kind="motion",
        display_name="Wan 2.1 first/last frame",
        code="engine.backends.wan:WanBackend",
        licence=_WAN_LICENCE,
        description="First and last frame to video between neighbouring pins; handles and long stretches chained on.",
        folder=FolderMatch(
            ("WanImageToVideoPipeline",), _is_wan21, "no transformer_2, boundary_ratio or expand_timesteps"
        ),
        frame_rule=_WAN_FRAMES,
        resolution_multiple=16,
        default_pixels=832 * 480,
        settings=(_steps(30), _guidance(5.0)),
        vram_preset="model CPU offload",
        fps_hint=16,
    ),
    BackendInfo(
        name="wan22",
        kind="motion",
        display_name="Wan 2.2 image to video",
        code="engine.backends.wan22:Wan22Backend",
        licence=_WAN_LICENCE,
        description="Wan 2.2 (A14B two-expert or TI2V 5B) between neighbouring pins; handles and long stretches too.",
        folder=FolderMatch(
            ("WanImageToVideoPipeline", "WanPipeline"),
            _is_wan22,
            "WanImageToVideoPipeline with transformer_2, boundary_ratio or expand_timesteps; "
            "WanPipeline with expand_timesteps (TI2V 5B)",
        ),
        frame_rule=_WAN_FRAMES,
        resolution_multiple=16,
        default_pixels=832 * 480,
        settings=(
            _steps(40),
            _guidance(3.5),
            Setting("guidance_2", "Guidance (low noise)", "float", 3.5, 0.0, 20.0, help="the second expert's guidance"),
        ),
        vram_preset="model CPU offload, fp8 layerwise storage (A14B); all on the GPU (5B)",
        fps_hint=16,
    ),
    BackendInfo(
        name="wan-vace",
        kind="motion",
        display_name="Wan VACE",
        code="engine.backends.wan_vace:WanVACEBackend",
        licence=_WAN_LICENCE,
        description="Pins at any frame through VACE's video and mask inputs; reference images as references.",
        folder=FolderMatch(("WanVACEPipeline",)),
        frame_rule=_WAN_FRAMES,
        resolution_multiple=16,
        default_pixels=832 * 480,
        settings=(
            _steps(30),
            _guidance(5.0),
            Setting("conditioning_scale", "Conditioning scale", "float", 1.0, 0.0, 2.0, help="how firmly pins hold"),
        ),
        vram_preset="all on the GPU (1.3B), model CPU offload (14B)",
        fps_hint=16,
        references=True,
    ),
)

_BY_NAME: dict[str, BackendInfo] = {b.name: b for b in BACKENDS}
if len(_BY_NAME) != len(BACKENDS):  # pragma: no cover - a typo in the table
    raise RuntimeError("backend names in engine.backend_registry must be unique")


def backend_names(kind: BackendKind | None = None) -> tuple[str, ...]:
    return tuple(b.name for b in BACKENDS if kind is None or b.kind == kind)


def backends(kind: BackendKind | None = None) -> tuple[BackendInfo, ...]:
    return tuple(b for b in BACKENDS if kind is None or b.kind == kind)


def built_in(kind: BackendKind | None = None) -> tuple[BackendInfo, ...]:
    """Backends that need no model folder (always offered)."""
    return tuple(b for b in backends(kind) if not b.needs_model)


def get_backend(name: str) -> BackendInfo:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown backend '{name}'; use one of {', '.join(_BY_NAME)}") from None


@dataclass(frozen=True)
class FolderKind:
    """What a model folder is: a backend's main model, or the companion stage of one."""

    backend: BackendInfo
    pipeline_class: str
    companion: bool = False  # IF stage II, LTX-2 latent upsampler: not selectable on their own

    @property
    def model_kind(self) -> str:
        """The model list's kind for this folder (engine.models.registry.KINDS)."""
        if self.companion:
            return f"{self.backend.kind}-upscale"
        return self.backend.kind


def classify_index(index: Mapping[str, Any], where: str = "model_index.json") -> FolderKind:
    """Which backend a folder with this ``model_index.json`` belongs to, or a message naming its class."""
    if not isinstance(index, Mapping):  # e.g. a JSON list: damaged, or not a diffusers pipeline index
        found = "a list" if isinstance(index, list) else type(index).__name__
        raise ModelFolderError(
            f"{where} should hold a JSON object, not {found}, so it isn't a diffusers pipeline index; re-download "
            "the model, or choose the folder that contains its model_index.json."
        )
    class_name = index.get("_class_name")
    if not isinstance(class_name, str) or not class_name:
        raise ModelFolderError(f'{where} has no "_class_name", so Pinframe can\'t tell which pipeline it is.')
    for info in BACKENDS:
        if info.folder is not None and info.folder.matches(index):
            return FolderKind(info, class_name)
        if info.upscaler is not None and info.upscaler.matches(index):
            return FolderKind(info, class_name, companion=True)
    supported = sorted(
        {c for b in BACKENDS for m in (b.folder, b.upscaler) if m is not None for c in m.classes}
        - set(_text2image_classes())
    )
    raise ModelFolderError(
        f"{where} describes a {class_name}, which Pinframe can't use. Supported: {', '.join(supported)}, "
        "and text-to-image pipelines (Stable Diffusion, SDXL, FLUX and others AutoPipelineForText2Image loads)."
    )


def classify_folder(path: str | Path) -> FolderKind:
    """:func:`classify_index` for a folder on disk; a folder without a readable index gets a clear error."""
    index_path = Path(path).expanduser() / "model_index.json"
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFolderError(
            f"{index_path} is missing, so {index_path.parent} isn't a diffusers pipeline folder. Choose the folder "
            "that contains model_index.json."
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelFolderError(f"{index_path} can't be read ({exc}); re-download the model.") from None
    if not isinstance(index, dict):
        raise ModelFolderError(f"{index_path} should hold a JSON object, not {type(index).__name__}; re-download it.")
    return classify_index(index, str(index_path))


def describe_table() -> list[dict[str, Any]]:
    """The table as plain data, for ``pinframe models --backends --json`` and the README check."""
    rows = []
    for b in BACKENDS:
        rows.append(
            {
                "name": b.name,
                "kind": b.kind,
                "display_name": b.display_name,
                "licence": b.licence,
                "needs_model": b.needs_model,
                "pipelines": list(b.folder.classes) if b.folder and b.name != "text2image" else [],
                "frames": b.frame_rule.text() if b.frame_rule else "",
                "longest_segment": b.frame_rule.maximum if b.frame_rule else 0,
                "resolution_multiple": b.resolution_multiple,
                "sound": b.sound,
                "vram_preset": b.vram_preset,
                "settings": [
                    {"name": s.name, "type": s.type, "default": s.default, "range": s.range_text()} for s in b.settings
                ],
            }
        )
    return rows
