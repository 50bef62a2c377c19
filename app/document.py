"""The project document: project, scenes, shots, pins, takes and audio.

All records are frozen dataclasses holding tuples, so a :class:`Project` is an immutable
value. An edit builds a new project that shares every untouched scene and shot with the old
one. That gives exact undo (keep the old value), lets autosave write a snapshot on its own
thread without locks, and lets the saver find changed shots by identity.

Invariants are checked when a record is built, so a document that exists is a valid one:
pins sit inside their shot, at most one per frame, and point at a keyframe take of that shot.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from app.errors import EditError
from app.media_ref import MediaRef
from app.render_inputs import shot_inputs_hash
from app.timecode import FrameRate
from engine.jobs import LORA_WEIGHTS

# Shot sizes and angles as storyboard artists abbreviate them; "" means not set.
SHOT_SIZES: dict[str, str] = {
    "": "—",
    "EWS": "Extreme wide",
    "WS": "Wide",
    "FS": "Full",
    "MWS": "Medium wide",
    "MS": "Medium",
    "MCU": "Medium close-up",
    "CU": "Close-up",
    "ECU": "Extreme close-up",
    "OTS": "Over the shoulder",
    "POV": "Point of view",
    "INS": "Insert",
    "2S": "Two-shot",
}
CAMERA_ANGLES: tuple[str, ...] = (
    "",
    "eye level",
    "high",
    "low",
    "overhead",
    "worm's eye",
    "dutch",
    "aerial",
)
# Moves are free text ("dolly in, tilt up"); these are suggestions for the UI.
CAMERA_MOVES: tuple[str, ...] = (
    "static",
    "pan left",
    "pan right",
    "tilt up",
    "tilt down",
    "dolly in",
    "dolly out",
    "truck left",
    "truck right",
    "crane up",
    "crane down",
    "zoom in",
    "zoom out",
    "handheld",
    "steadicam",
    "orbit",
)


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Camera:
    size: str = ""
    angle: str = ""
    lens_mm: float | None = None
    move: str = ""

    def __post_init__(self) -> None:
        if self.size not in SHOT_SIZES:
            raise EditError(f"shot size '{self.size}' is unknown; use one of {', '.join(s for s in SHOT_SIZES if s)}")
        if self.angle not in CAMERA_ANGLES:
            raise EditError(
                f"camera angle '{self.angle}' is unknown; use one of {', '.join(a for a in CAMERA_ANGLES if a)}"
            )
        if self.lens_mm is not None and not (1 <= self.lens_mm <= 2000):
            raise EditError(f"lens {self.lens_mm} mm is out of range; give a focal length from 1 to 2000 mm")


@dataclass(frozen=True)
class GenerationParams:
    """What made a generated keyframe, enough to make it again."""

    backend: str
    model_id: str = ""
    model_revision: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 0
    guidance: float = 0.0
    width: int = 0
    height: int = 0
    # How the generated size was fitted to the project ("crop 1024x576 -> 1920x1080"...).
    fit: str = ""
    # Sketch -> keyframe and inpainting (schema 6): what the picture started from. The keyframe take it
    # was made from (an id; it may since have been deleted) or else the file's name (a label, never read
    # again); the start picture and the mask as stored in the bundle ("<sha256>.<ext>", "" for none, so
    # the take can be made again); and the strength it ran at (0: made from the prompt alone).
    source_take: str = ""
    source_file: str = ""
    source_image: str = ""
    mask: str = ""
    strength: float = 0.0
    # Consistent characters and look (schema 7): the project references and LoRAs the keyframe
    # was made with, as (name, weight) pairs; names are labels (the files are in the bundle).
    references: tuple[tuple[str, float], ...] = ()
    loras: tuple[tuple[str, float], ...] = ()

    @property
    def started_from(self) -> str:
        """The start picture in words, for tooltips ("take 3f2a9c, strength 0.6, inpainted region"); "" for none."""
        if not self.source_image and not self.strength:
            return ""
        source = f"take {self.source_take[:8]}" if self.source_take else (self.source_file or "a picture")
        parts = [source, f"strength {self.strength:g}"]
        if self.mask:
            parts.append("inpainted region")
        return ", ".join(parts)


# What a reference picture stands for; keyframe generation uses them all the same way (IP-Adapter),
# the kind is for the director's list and the CLI.
REFERENCE_KINDS: tuple[str, ...] = ("character", "location", "look")
# Weights a reference (IP-Adapter scale) and a LoRA may take.
REFERENCE_WEIGHT_RANGE: tuple[float, float] = (0.0, 1.0)
LORA_WEIGHT_RANGE: tuple[float, float] = LORA_WEIGHTS  # the engine's range: one list, read by both


@dataclass(frozen=True)
class Reference:
    """A named reference picture (a character, a location, a look) shots can use for their keyframes."""

    id: str
    name: str
    image: MediaRef
    kind: str = "character"
    weight: float = 0.6

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise EditError('a reference needs a name ("Anna", "the diner")')
        if self.kind not in REFERENCE_KINDS:
            raise EditError(f"reference kind '{self.kind}' is unknown; use one of {', '.join(REFERENCE_KINDS)}")
        low, high = REFERENCE_WEIGHT_RANGE
        if not low <= self.weight <= high:
            raise EditError(f"reference {self.name}: weight {self.weight:g} is outside {low:g}..{high:g}")


@dataclass(frozen=True)
class ProjectLora:
    """A LoRA (.safetensors, copied into the bundle's media) keyframe generation loads at a weight."""

    id: str
    name: str
    file: MediaRef
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise EditError("a LoRA needs a name")
        if self.file.ext != "safetensors":
            # Only safetensors: a pickled checkpoint can run code when it is loaded.
            raise EditError(f"LoRA {self.name}: only .safetensors files can be used, not .{self.file.ext}")
        low, high = LORA_WEIGHT_RANGE
        if not low <= self.weight <= high:
            raise EditError(f"LoRA {self.name}: weight {self.weight:g} is outside {low:g}..{high:g}")


@dataclass(frozen=True)
class KeyframeTake:
    id: str
    image: MediaRef
    width: int
    height: int
    created: str = ""
    generation: GenerationParams | None = None
    # File name an imported image came from; a label only, never read again.
    imported_from: str = ""

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise EditError(f"keyframe take {self.id} has no size ({self.width}x{self.height})")

    @property
    def origin(self) -> str:
        if self.generation is not None:
            g = self.generation
            made = "inpainted" if g.mask else ("from a picture" if g.strength else "")
            return " ".join(part for part in (g.backend, g.model_id, f"seed {g.seed}", made) if part)
        return f"imported {self.imported_from}" if self.imported_from else "imported"


@dataclass(frozen=True)
class ClipTake:
    id: str
    media: MediaRef
    inputs_hash: str
    frame_count: int
    created: str = ""
    backend: str = ""
    model_id: str = ""
    model_revision: str = ""
    # The backend settings it was rendered with (defaults filled in), as sorted (name, value) pairs.
    settings: tuple[tuple[str, Any], ...] = ()
    # What the backend said about the render ("LTX-2 rendered 25 frames at 768x448").
    notes: str = ""
    # The sound the model made with the picture (LTX-2 with sound on), a WAV in the bundle.
    audio: MediaRef | None = None
    # Rendered with fewer steps or at a smaller size than a final render (a quick look).
    draft: bool = False

    def __post_init__(self) -> None:
        if self.frame_count <= 0:
            raise EditError(f"clip take {self.id} has no frames")

    def made_with(self, choice: str) -> bool:
        """Whether this clip came from the motion model ``choice`` (a backend name or model id)."""
        return choice == (self.model_id or self.backend) or (not self.model_id and choice == self.backend)

    @property
    def made_by(self) -> str:
        """Which model made the clip, for the jobs panel, the take list and ``info``."""
        who = self.backend + (f" {self.model_id}" if self.model_id and self.model_id != self.backend else "")
        if self.model_revision:
            who += f" @{self.model_revision[:12]}"
        settings = ", ".join(f"{k} {v}" for k, v in self.settings)
        return f"{who} ({settings})" if settings else who


@dataclass(frozen=True, order=True)
class Pin:
    frame: int
    take_id: str


@dataclass(frozen=True)
class RenderSettings:
    """How a shot's motion is rendered; part of the clip's inputs hash."""

    backend: str = ""
    model_id: str = ""
    seed: int = 0
    # Backend-specific numbers as sorted (name, text) pairs, hashable and stable.
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Shot:
    id: str
    number: str
    duration: int
    action: str = ""
    dialogue: str = ""
    notes: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    style: str = ""
    camera: Camera = field(default_factory=Camera)
    handles: int = 0
    pins: tuple[Pin, ...] = ()
    keyframe_takes: tuple[KeyframeTake, ...] = ()
    clip_takes: tuple[ClipTake, ...] = ()
    current_clip: str | None = None
    render: RenderSettings = field(default_factory=RenderSettings)
    # The motion model this shot renders with, overriding the project's ("" follows the project):
    # a built-in backend name or a model id from the model list (engine_service.resolve_model).
    motion_model: str = ""
    # The script shot this shot was imported from (its content key); "" for shots made by hand.
    script_key: str = ""
    # Fingerprints of the fields as imported (app.script.importer.field_prints), so a re-import
    # can tell which ones the director changed since (a retime, an edited prompt) and keep them.
    script_fields: str = ""
    # The keyframe take the storyboard shows for this shot ("" : its first pin's take, else its newest).
    thumbnail_take: str = ""
    # Ids of the project references (Project.references) this shot's keyframes use, in order.
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        label = f"shot {self.number or self.id}"
        if len(set(self.references)) != len(self.references):
            raise EditError(f"{label}: a reference is listed twice")
        if not isinstance(self.duration, int) or self.duration < 1:
            raise EditError(f"{label}: duration must be at least 1 frame, got {self.duration}")
        if not isinstance(self.handles, int) or self.handles < 0:
            raise EditError(f"{label}: handles must be 0 or more frames, got {self.handles}")
        take_ids = {t.id for t in self.keyframe_takes}
        if len(take_ids) != len(self.keyframe_takes):
            raise EditError(f"{label}: two keyframe takes share an id")
        frames = [p.frame for p in self.pins]
        if frames != sorted(set(frames)):
            raise EditError(f"{label}: pins must be on distinct frames in order, got {frames}")
        for pin in self.pins:
            if not 0 <= pin.frame < self.duration:
                raise EditError(
                    f"{label}: a pin at frame {pin.frame} is outside the shot (frames 0-{self.duration - 1})"
                )
            if pin.take_id not in take_ids:
                raise EditError(f"{label}: the pin at frame {pin.frame} shows a keyframe take the shot doesn't have")
        if self.thumbnail_take and self.thumbnail_take not in take_ids:
            raise EditError(f"{label}: its storyboard thumbnail is a keyframe take the shot doesn't have")
        clip_ids = [c.id for c in self.clip_takes]
        if len(set(clip_ids)) != len(clip_ids):
            raise EditError(f"{label}: two clip takes share an id")
        if self.current_clip is not None and self.current_clip not in clip_ids:
            raise EditError(f"{label}: the current clip take is not one of the shot's clip takes")

    def pin_at(self, frame: int) -> Pin | None:
        for pin in self.pins:
            if pin.frame == frame:
                return pin
        return None

    def keyframe(self, take_id: str) -> KeyframeTake:
        for take in self.keyframe_takes:
            if take.id == take_id:
                return take
        raise EditError(f"shot {self.number}: no keyframe take {take_id}")

    def clip(self, take_id: str) -> ClipTake:
        for take in self.clip_takes:
            if take.id == take_id:
                return take
        raise EditError(f"shot {self.number}: no clip take {take_id}")

    @property
    def current_clip_take(self) -> ClipTake | None:
        return None if self.current_clip is None else self.clip(self.current_clip)

    def media_refs(self) -> Iterator[MediaRef]:
        for k in self.keyframe_takes:
            yield k.image
        for c in self.clip_takes:
            yield c.media
            if c.audio is not None:
                yield c.audio


@dataclass(frozen=True)
class Scene:
    id: str
    heading: str = ""
    synopsis: str = ""
    shots: tuple[Shot, ...] = ()
    # Stable identity of the script scene this scene was imported from, and that scene's
    # content hash at the time: a re-import updates only scenes whose script content changed.
    script_key: str = ""
    script_hash: str = ""


@dataclass(frozen=True)
class AudioClip:
    id: str
    media: MediaRef
    start: int
    name: str = ""
    gain_db: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.start, int) or self.start < 0:
            raise EditError(f"audio clip {self.name or self.id}: start frame must be 0 or more, got {self.start}")
        if not -96.0 <= self.gain_db <= 24.0:
            raise EditError(f"audio clip {self.name or self.id}: gain {self.gain_db} dB is outside -96..+24 dB")


@dataclass(frozen=True)
class Project:
    name: str
    rate: FrameRate
    width: int = 1920
    height: int = 1080
    start_frame: int = 0  # start timecode as a frame count at `rate`
    drop_frame: bool = False
    scenes: tuple[Scene, ...] = ()
    audio: tuple[AudioClip, ...] = ()
    # The motion model shots render with unless they choose their own (Render ▸ Motion Model).
    motion_model: str = "flow"
    # How a shot's camera fields become words in its prompts; "" is the built-in template.
    prompt_template: str = ""
    # Consistent characters and look: named reference pictures shots pick from, and LoRA files.
    references: tuple[Reference, ...] = ()
    loras: tuple[ProjectLora, ...] = ()

    def __post_init__(self) -> None:
        self._check_references()
        if not self.motion_model:
            raise EditError("the project's motion model can't be empty; choose one under Render ▸ Motion Model")
        if not (16 <= self.width <= 8192 and 16 <= self.height <= 8192):
            raise EditError(f"resolution {self.width}x{self.height} is out of range; use 16 to 8192 pixels a side")
        if self.width % 2 or self.height % 2:
            # Every delivery codec (ProRes, H.264, DNxHR) subsamples chroma by two.
            raise EditError(f"resolution {self.width}x{self.height} must have even sides for video export")
        if self.start_frame < 0:
            raise EditError("start timecode must not be negative")
        if self.drop_frame and not self.rate.supports_drop_frame:
            raise EditError(f"drop-frame timecode is only for 29.97 and 59.94 fps, not {self.rate.label}")

    def _check_references(self) -> None:
        for kind, items in (("reference", self.references), ("LoRA", self.loras)):
            if len({i.id for i in items}) != len(items):
                raise EditError(f"two {kind}s share an id")
            names = [i.name.casefold() for i in items]
            if len(set(names)) != len(names):
                raise EditError(f"two {kind}s share a name; give each its own")
        known = {r.id for r in self.references}
        for shot in self.shots():
            if not known.issuperset(shot.references):
                raise EditError(f"shot {shot.number}: uses a reference the project doesn't have")

    def reference(self, ref_id: str) -> Reference:
        for ref in self.references:
            if ref.id == ref_id:
                return ref
        raise EditError(f"no reference with id {ref_id}")

    def reference_named(self, name: str) -> Reference:
        for ref in self.references:
            if ref.name.casefold() == name.strip().casefold():
                return ref
        have = ", ".join(r.name for r in self.references) or "none yet"
        raise EditError(f"no reference named '{name}' (the project has: {have})")

    def lora_named(self, name: str) -> ProjectLora:
        for lora in self.loras:
            if lora.name.casefold() == name.strip().casefold():
                return lora
        have = ", ".join(lo.name for lo in self.loras) or "none yet"
        raise EditError(f"no LoRA named '{name}' (the project has: {have})")

    def shot_references(self, shot: Shot) -> tuple[Reference, ...]:
        """The references ``shot`` uses, in its order."""
        return tuple(self.reference(ref_id) for ref_id in shot.references)

    # --- lookups -------------------------------------------------------------------
    def shots(self) -> Iterator[Shot]:
        for scene in self.scenes:
            yield from scene.shots

    def shot_count(self) -> int:
        return sum(len(s.shots) for s in self.scenes)

    def locate_shot(self, shot_id: str) -> tuple[int, int]:
        """(scene index, shot index) of a shot."""
        for si, scene in enumerate(self.scenes):
            for hi, shot in enumerate(scene.shots):
                if shot.id == shot_id:
                    return si, hi
        raise EditError(f"no shot with id {shot_id} in project {self.name}")

    def shot(self, shot_id: str) -> Shot:
        si, hi = self.locate_shot(shot_id)
        return self.scenes[si].shots[hi]

    def scene_index(self, scene_id: str) -> int:
        for si, scene in enumerate(self.scenes):
            if scene.id == scene_id:
                return si
        raise EditError(f"no scene with id {scene_id} in project {self.name}")

    def scene(self, scene_id: str) -> Scene:
        return self.scenes[self.scene_index(scene_id)]

    def audio_index(self, clip_id: str) -> int:
        for i, clip in enumerate(self.audio):
            if clip.id == clip_id:
                return i
        raise EditError(f"no audio clip with id {clip_id}")

    # --- timing --------------------------------------------------------------------
    @property
    def running_time(self) -> int:
        """Frames in the cut (shots back to back, without handles)."""
        return sum(shot.duration for shot in self.shots())

    def shot_start(self, shot_id: str) -> int:
        """First frame of a shot on the cut, counted from 0."""
        start = 0
        for shot in self.shots():
            if shot.id == shot_id:
                return start
            start += shot.duration
        raise EditError(f"no shot with id {shot_id}")

    def media_refs(self) -> set[MediaRef]:
        refs = {ref for shot in self.shots() for ref in shot.media_refs()}
        refs.update(clip.media for clip in self.audio)
        refs.update(ref.image for ref in self.references)
        refs.update(lora.file for lora in self.loras)
        return refs

    # --- staleness -------------------------------------------------------------------
    def motion_model_of(self, shot: Shot) -> str:
        """The motion model a render of ``shot`` uses: its own choice, else the project's."""
        return shot.motion_model or self.motion_model

    def is_stale(self, shot: Shot) -> bool:
        """True when the shot's current clip was rendered from inputs that have changed, or by
        another model than the one the shot now renders with (its own choice or the project's)."""
        clip = shot.current_clip_take
        if clip is None:
            return False
        if not clip.made_with(self.motion_model_of(shot)):
            return True
        return clip.inputs_hash != shot_inputs_hash(shot, self)


def with_shot(project: Project, shot: Shot) -> Project:
    """The project with the shot of the same id replaced."""
    si, hi = project.locate_shot(shot.id)
    scene = project.scenes[si]
    shots = scene.shots[:hi] + (shot,) + scene.shots[hi + 1 :]
    return replace(project, scenes=project.scenes[:si] + (replace(scene, shots=shots),) + project.scenes[si + 1 :])
