"""Wan 2.1 first/last-frame in-betweens: one render per pair of neighbouring pins.

Each segment from pin A to pin B renders ``4k+1`` frames (sides a multiple of what the VAE and the
transformer's patches need) with A as the first image and B as ``last_image``, then is resampled to the
segment's exact length. Segments share their boundary pin, so the join drops the duplicate. Frames
before the first pin and after the last hold those pins.

:class:`WanPipelineBackend` is what every Wan backend shares (loading, memory, work size, the frame rule,
steps and guidance); :class:`WanBackend` adds the segment loop that Wan 2.2 (:mod:`engine.backends.wan22`)
extends.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from engine.backend_registry import BackendInfo, FrameRule, get_backend
from engine.backends.diffusers_common import (
    StepCounter,
    fit_frames,
    load_pipeline,
    module_bytes,
    resample_frames,
    seeded,
    to_uint8,
)
from engine.backends.fit import choose_size, fit_image
from engine.devices import DeviceSettings
from engine.jobs import ClipJob, ModelSpec
from engine.progress import StepReporter

Pins = list[tuple[int, np.ndarray]]


def steps_and_guidance(job: ClipJob) -> tuple[int, float]:
    """Denoising steps and guidance: the job's own numbers (the CLI's ``--steps``) win over its settings.

    0 on the job means "not given"; the setting is then the shot's value or the registry default.
    """
    return int(job.steps or job.param("steps")), float(job.guidance or job.param("guidance"))


def as_pil(image: np.ndarray, width: int, height: int) -> Image.Image:
    """An RGB frame scaled (and centre-cropped if the aspect differs) to the render size, as the pipelines take it."""
    return Image.fromarray(fit_image(image, width, height)[0])


class WanPipelineBackend:
    """One diffusers Wan pipeline, loaded from a folder, sized and timed by the backend registry."""

    name: ClassVar[str]
    pipeline_class: ClassVar[str]  # the diffusers class, imported only when a model is loaded

    def __init__(self, spec: ModelSpec, pipe: Any) -> None:
        self.spec = spec
        self.pipe = pipe
        self.last_notes = ""

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> WanPipelineBackend:
        import diffusers

        backend = cls(spec, load_pipeline(getattr(diffusers, cls.pipeline_class), spec.path, settings))
        backend.check_pipeline()
        return backend

    def check_pipeline(self) -> None:
        """Refuse a folder that loads but can't render (a subclass knows what its pipeline needs)."""

    def memory_bytes(self) -> int:
        return module_bytes(self.pipe)

    def close(self) -> None:
        self.pipe = None

    @property
    def info(self) -> BackendInfo:
        return get_backend(self.name)

    @property
    def frame_rule(self) -> FrameRule:
        rule = self.info.frame_rule
        assert rule is not None, f"the {self.name} registry entry needs a frame rule"
        return rule

    def transformer_config(self) -> Any:
        """The config of whichever expert is loaded (a low-noise-only folder has only ``transformer_2``)."""
        model = getattr(self.pipe, "transformer", None) or getattr(self.pipe, "transformer_2", None)
        return getattr(model, "config", None)

    def size_multiple(self) -> int:
        """Sides must split into whole transformer patches of whole VAE cells (Wan 2.1: 8 x 2, Wan 2.2 5B: 16 x 2)."""
        config = self.transformer_config()
        patch = int(config.patch_size[1]) if config is not None else 2
        spatial = int(getattr(self.pipe, "vae_scale_factor_spatial", 8))
        return math.lcm(self.info.resolution_multiple, spatial * patch)

    def work_size(self, job: ClipJob) -> tuple[int, int]:
        """The render size: about the job's work pixels (or the model's default) at the shot's aspect."""
        area = job.work_pixels or self.info.default_pixels
        return choose_size(job.width, job.height, area=area, multiple=self.size_multiple())

    def segment_length(self, frames: int) -> int:
        """The shortest length the model renders that covers ``frames`` (capped at its longest segment)."""
        return self.frame_rule.smallest_at_least(frames)


@dataclass(frozen=True)
class Segment:
    """Shot frames ``start..end`` rendered from ``image`` (and towards ``last_image`` when there is one)."""

    start: int
    end: int
    image: np.ndarray
    last_image: np.ndarray | None = None
    # Rendered forwards from ``image`` and shown reversed: motion that leads into a pin at ``end``.
    backwards: bool = False

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def pin_pairs(pins: Pins, *, last_frame: bool = True) -> list[Segment]:
    """One segment per pair of neighbouring pins; ``last_frame=False`` leaves the later pin out of the render."""
    return [Segment(fa, fb, a, b if last_frame else None) for (fa, a), (fb, b) in itertools.pairwise(pins)]


def held_pins(job: ClipJob, pins: Pins) -> np.ndarray:
    """The shot with the first pin held before it and the last pin held after it (segments fill the rest)."""
    out = np.empty((job.frame_count, job.height, job.width, 3), dtype=np.uint8)
    (first, first_image), (last, last_image) = pins[0], pins[-1]
    out[: first + 1] = first_image
    out[last:] = last_image
    return out


class WanBackend(WanPipelineBackend):
    name = "wan"
    pipeline_class = "WanImageToVideoPipeline"

    def plan_segments(self, pins: Pins, frame_count: int) -> list[Segment]:
        return pin_pairs(pins)

    def call_options(self, job: ClipJob) -> dict[str, Any]:
        """Pipeline arguments beyond the shared ones (Wan 2.2 adds the low-noise expert's guidance)."""
        return {}

    def render(self, job: ClipJob, pins: Pins, reporter: StepReporter) -> np.ndarray:
        width, height = self.work_size(job)
        out = held_pins(job, pins)
        segments = self.plan_segments(pins, job.frame_count)
        steps, guidance = steps_and_guidance(job)
        on_step_end = StepCounter(reporter, steps * len(segments))
        rendered_at: list[tuple[Segment, int]] = []
        for segment in segments:
            frames = self.segment_length(segment.length)
            rendered = self.render_segment(job, segment, frames, (width, height), (steps, guidance), on_step_end)
            if segment.backwards:
                rendered = rendered[::-1]
            out[segment.start : segment.end + 1] = fit_frames(
                resample_frames(rendered, segment.length), job.width, job.height
            )
            rendered_at.append((segment, frames))
        self.last_notes = self.describe(width, height, rendered_at)
        return out

    def render_segment(
        self,
        job: ClipJob,
        segment: Segment,
        frames: int,
        size: tuple[int, int],
        denoise: tuple[int, float],
        on_step_end: StepCounter,
    ) -> np.ndarray:
        """One pipeline call: ``frames`` frames at ``size`` from the segment's pin(s), as uint8 RGB."""
        width, height = size
        steps, guidance = denoise
        images = {"image": as_pil(segment.image, width, height)}
        if segment.last_image is not None:
            images["last_image"] = as_pil(segment.last_image, width, height)
        result = self.pipe(
            **images,
            prompt=job.prompt or "",
            negative_prompt=job.negative_prompt or None,
            width=width,
            height=height,
            num_frames=frames,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=seeded(job.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            **self.call_options(job),
        )
        return to_uint8(np.asarray(result.frames[0]))

    def describe(self, width: int, height: int, rendered_at: list[tuple[Segment, int]]) -> str:
        """What ``last_notes`` says about a render: each segment and the frames the model made for it."""
        if not rendered_at:
            return "held a single pin"
        return f"Wan segments at {width}x{height} ({segment_notes(rendered_at)})"


def segment_notes(rendered_at: list[tuple[Segment, int]]) -> str:
    return "; ".join(
        f"{s.start}-{s.end}: {frames} frames{', reversed' if s.backwards else ''}" for s, frames in rendered_at
    )
