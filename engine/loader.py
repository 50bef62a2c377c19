"""From a ModelSpec to a loaded backend: validate the folder, then load the pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.devices import DeviceSettings
from engine.errors import ModelFolderError
from engine.jobs import ClipJob, ModelSpec
from engine.progress import StepReporter


class CpuMotionBackend:
    """Optical-flow in-betweening, hold or crossfade: the no-model clip backends."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.last_notes = ""

    def memory_bytes(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def render(self, job: ClipJob, pins: list[tuple[int, np.ndarray]], reporter: StepReporter) -> np.ndarray:
        from engine.backends.flow import inbetween

        self.last_notes = {"flow": "optical-flow in-betweens", "hold": "held keyframes", "crossfade": "crossfades"}[
            self.mode
        ]
        return inbetween(pins, job.frame_count, mode=self.mode, reporter=reporter)


def load_backend(spec: ModelSpec, settings: DeviceSettings):
    """Load what ``spec`` names. ML folders are validated first so a bad folder names its file."""
    if spec.backend == "sketch":
        from engine.backends.sketch import SketchBackend

        return SketchBackend()
    if not spec.needs_model:
        return CpuMotionBackend(spec.backend)
    if not spec.path:
        raise ModelFolderError(f"the {spec.backend} backend needs a model folder; add one in Models")
    from engine.models.validate import validate_model_folder

    # Validate before importing diffusers: a bad folder fails fast and names its file.
    validate_model_folder(spec.path)
    if spec.upscale_path:
        # Stage II reuses stage I's prompt embeddings; its own text encoder is never loaded.
        validate_model_folder(spec.upscale_path, skip=("text_encoder",))
    if spec.backend == "if":
        from engine.backends.deepfloyd import IFBackend

        return IFBackend.load(spec, settings)
    if spec.backend == "text2image":
        from engine.backends.text2image import Text2ImageBackend

        return Text2ImageBackend.load(spec, settings)
    if spec.backend == "ltx":
        from engine.backends.ltx import LTXBackend

        return LTXBackend.load(spec, settings)
    if spec.backend == "wan":
        from engine.backends.wan import WanBackend

        return WanBackend.load(spec, settings)
    raise ModelFolderError(f"unknown backend '{spec.backend}'; use sketch, if, text2image, ltx, wan or flow")


def estimate_bytes(spec: ModelSpec) -> int:
    """Weights on disk approximate memory once loaded (same dtype); good enough to evict first."""
    total = 0
    for folder in (spec.path, spec.upscale_path):
        if folder and Path(folder).is_dir():
            total += sum(p.stat().st_size for p in Path(folder).rglob("*.safetensors"))
    return total
