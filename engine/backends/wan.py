"""Wan 2.1 first/last-frame in-betweens, and the handles around the pins, rendered as motion.

The shot is cut into stretches at its pins. Each stretch from pin A to pin B renders ``4k+1`` frames (sides a
multiple of what the VAE and the transformer's patches need) with A as the first image and B as
``last_image``; a stretch that isn't a valid length is rendered at the next one and spread over it (a few
frames fewer, none twice). The frames after the last pin are image to video onward from it, and the frames
before the first pin a render from that pin played in reverse, so the lead-in moves into the pin: nothing
is held. (Wan 2.1's first/last-frame model reads the CLIP tokens of two images; with one, it is given the
pin's tokens twice.)

A stretch longer than the longest segment is rendered in segments (:mod:`engine.backends.segments`), each
starting from the last frame of the one before; only the last one of a pin-to-pin stretch ends on pin B.

:class:`WanPipelineBackend` is what every Wan backend shares (loading, memory, work size, the frame rule,
steps and guidance); :class:`WanBackend` adds the stretch loop that Wan 2.2 (:mod:`engine.backends.wan22`)
extends.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator
from contextlib import contextmanager
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
    seeded,
    to_uint8,
)
from engine.backends.fit import choose_size, fit_image
from engine.backends.segments import SegmentPlan, plan_segments, stitch
from engine.devices import DeviceSettings
from engine.jobs import ClipJob, ModelSpec
from engine.progress import StepReporter

Pins = list[tuple[int, np.ndarray]]
# A segment after the first starts from the last frame of the one before: the one image a Wan
# image-to-video model takes.
OVERLAP = 1


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


@dataclass(frozen=True)
class Stretch:
    """Shot frames from ``pin`` to ``to`` (either way), rendered from ``image`` and towards ``last_image``.

    ``to < pin`` is a lead-in: rendered forwards from the pin and shown reversed, so it moves into the pin.
    """

    pin: int
    to: int
    image: np.ndarray
    last_image: np.ndarray | None
    plan: SegmentPlan

    @property
    def backwards(self) -> bool:
        return self.to < self.pin

    def shot_frame(self, position: int) -> int:
        """The shot frame at ``position`` of the stretch (0 is the pin it starts from)."""
        return self.pin - position if self.backwards else self.pin + position

    def describe(self) -> str:
        lo, hi = sorted((self.pin, self.to))
        one = f"{self.plan.segments[0].frames} frames"
        how = self.plan.describe(self.shot_frame) if self.plan.split else one
        return f"{lo}-{hi}: {how}{', reversed' if self.backwards else ''}"


class WanBackend(WanPipelineBackend):
    name = "wan"
    pipeline_class = "WanImageToVideoPipeline"

    @property
    def takes_last_frame(self) -> bool:
        """Whether a stretch can end on its next pin (Wan 2.2's TI2V-5B can't)."""
        return True

    def plan_stretches(self, pins: Pins, frame_count: int) -> list[Stretch]:
        """The lead-in before the first pin, each pin to the next, and the frames after the last pin."""
        rule = self.frame_rule

        def stretch(pin: int, image: np.ndarray, to: int, last: np.ndarray | None = None) -> Stretch:
            fixed = last is not None
            plan = plan_segments(abs(to - pin) + 1, rule, overlap=OVERLAP, fixed_end=fixed)
            return Stretch(pin, to, image, last, plan)

        stretches = []
        first, first_image = pins[0]
        if first > 0:
            stretches.append(stretch(first, first_image, 0))
        for (a, image), (b, last) in itertools.pairwise(pins):
            stretches.append(stretch(a, image, b, last if self.takes_last_frame else None))
        final, final_image = pins[-1]
        if final < frame_count - 1:
            stretches.append(stretch(final, final_image, frame_count - 1))
        return stretches

    def call_options(self, job: ClipJob) -> dict[str, Any]:
        """Pipeline arguments beyond the shared ones (Wan 2.2 adds the low-noise expert's guidance)."""
        return {}

    def render(self, job: ClipJob, pins: Pins, reporter: StepReporter) -> np.ndarray:
        size = self.work_size(job)
        width, height = size
        shot = np.zeros((job.frame_count, height, width, 3), dtype=np.uint8)
        stretches = self.plan_stretches(pins, job.frame_count)
        steps, guidance = steps_and_guidance(job)
        passes = sum(len(s.plan.segments) for s in stretches)
        on_step_end = StepCounter(reporter, steps * passes)
        generator = seeded(job.seed)  # one noise stream: segments don't repeat each other's noise
        for stretch in stretches:
            frames = np.zeros((stretch.plan.count, height, width, 3), dtype=np.uint8)
            for segment in stretch.plan.in_render_order():
                reporter.check()
                # The first segment starts from the pin, each later one from the frame it shares with the last.
                image = frames[segment.start] if segment.lead else stretch.image
                last = stretch.last_image if segment.end == stretch.plan.count - 1 else None
                rendered = self.render_segment(
                    job, (image, last), segment.frames, size, (steps, guidance), on_step_end, generator
                )
                stitch(frames, segment, rendered)
            where = [stretch.shot_frame(i) for i in range(stretch.plan.count)]
            shot[where] = frames
        if not stretches:  # a one-frame shot: only the pin
            shot[pins[0][0]] = fit_image(pins[0][1], width, height)[0]
        self.last_notes = self.describe(width, height, stretches)
        return fit_frames(shot, job.width, job.height)

    def render_segment(
        self,
        job: ClipJob,
        images: tuple[np.ndarray, np.ndarray | None],
        frames: int,
        size: tuple[int, int],
        denoise: tuple[int, float],
        on_step_end: StepCounter,
        generator: Any,
    ) -> np.ndarray:
        """One pipeline call: ``frames`` frames at ``size`` from a first image (towards a last one), uint8 RGB."""
        width, height = size
        steps, guidance = denoise
        first, last = images
        given = {"image": as_pil(first, width, height)}
        if last is not None:
            given["last_image"] = as_pil(last, width, height)
        with one_image_as_two(self.pipe, enabled=last is None):
            result = self.pipe(
                **given,
                prompt=job.prompt or "",
                negative_prompt=job.negative_prompt or None,
                width=width,
                height=height,
                num_frames=frames,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=generator,
                output_type="np",
                callback_on_step_end=on_step_end,
                **self.call_options(job),
            )
        return to_uint8(np.asarray(result.frames[0]))

    def describe(self, width: int, height: int, stretches: list[Stretch]) -> str:
        """What ``last_notes`` says about a render: each stretch and how the model made it."""
        if not stretches:
            return "a one-frame shot: the pin alone"
        return f"Wan at {width}x{height} ({stretch_notes(stretches)})"


def stretch_notes(stretches: list[Stretch]) -> str:
    return "; ".join(s.describe() for s in stretches)


@contextmanager
def one_image_as_two(pipe: Any, *, enabled: bool) -> Iterator[None]:
    """For one call, give a first/last-frame model the first image's CLIP tokens as both images' tokens.

    Wan 2.1's FLF2V transformer reads the tokens of exactly two images (its image embedding adds a position
    embedding for two); the pipeline encodes only one when there is no last image, and the transformer then
    fails. Image-to-video models (one image's tokens) and Wan 2.2 (no image encoder) are left alone. An
    instance attribute, removed afterwards: the class is untouched.
    """
    config = getattr(getattr(pipe, "transformer", None), "config", None)
    pair = config is not None and config.get("image_dim") is not None and config.get("pos_embed_seq_len") is not None
    if not enabled or not pair or getattr(pipe, "image_encoder", None) is None:
        yield
        return
    encode = pipe.encode_image

    @functools.wraps(encode)
    def twice(image: Any, device: Any = None) -> Any:
        return encode(image if isinstance(image, list) else [image, image], device)

    pipe.encode_image = twice
    try:
        yield
    finally:
        del pipe.encode_image
