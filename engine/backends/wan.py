"""Wan 2.1 first/last-frame in-betweens: one render per pair of neighbouring pins.

Each segment from pin A to pin B renders ``4k+1`` frames (sides divisible by 16) with A as the
first image and B as ``last_image``, then is resampled to the segment's exact length. Segments
share their boundary pin, so the join drops the duplicate. Frames before the first pin and
after the last hold those pins.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from PIL import Image

from engine.backends.diffusers_common import (
    StepCounter,
    fit_frames,
    load_pipeline,
    module_bytes,
    resample_frames,
    seeded,
    smallest_valid_length,
    to_uint8,
)
from engine.backends.fit import choose_size, fit_image
from engine.devices import DeviceSettings
from engine.jobs import ClipJob, ModelSpec
from engine.progress import StepReporter

DEFAULT_PIXELS = 832 * 480
MAX_FRAMES = 81  # what Wan 2.1 was trained on; longer segments are resampled
DEFAULT_STEPS = 30
DEFAULT_GUIDANCE = 5.0


class WanBackend:
    name = "wan"

    def __init__(self, spec: ModelSpec, pipe: Any) -> None:
        self.spec = spec
        self.pipe = pipe
        self.last_notes = ""

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> WanBackend:
        from diffusers import WanImageToVideoPipeline

        return cls(spec, load_pipeline(WanImageToVideoPipeline, spec.path, settings))

    def memory_bytes(self) -> int:
        return module_bytes(self.pipe)

    def close(self) -> None:
        self.pipe = None

    def segment_length(self, frames: int) -> int:
        temporal = int(getattr(self.pipe, "vae_scale_factor_temporal", 4))
        return smallest_valid_length(frames, temporal, minimum=temporal + 1, maximum=MAX_FRAMES)

    def render(self, job: ClipJob, pins: list[tuple[int, np.ndarray]], reporter: StepReporter) -> np.ndarray:
        spatial = int(getattr(self.pipe, "vae_scale_factor_spatial", 8)) * 2
        width, height = choose_size(job.width, job.height, area=job.work_pixels or DEFAULT_PIXELS, multiple=spatial)
        out = np.empty((job.frame_count, job.height, job.width, 3), dtype=np.uint8)
        first, last = pins[0], pins[-1]
        out[: first[0] + 1] = first[1]
        out[last[0] :] = last[1]
        pairs = list(itertools.pairwise(pins))
        steps = job.steps or DEFAULT_STEPS
        on_step_end = StepCounter(reporter, steps * len(pairs))
        notes = []

        for (fa, image_a), (fb, image_b) in pairs:
            length = fb - fa + 1
            frames = self.segment_length(length)
            result = self.pipe(
                image=Image.fromarray(fit_image(image_a, width, height)[0]),
                last_image=Image.fromarray(fit_image(image_b, width, height)[0]),
                prompt=job.prompt or "",
                negative_prompt=job.negative_prompt or None,
                width=width,
                height=height,
                num_frames=frames,
                num_inference_steps=steps,
                guidance_scale=job.guidance or DEFAULT_GUIDANCE,
                generator=seeded(job.seed),
                output_type="np",
                callback_on_step_end=on_step_end,
            )
            segment = to_uint8(np.asarray(result.frames[0]))
            out[fa : fb + 1] = fit_frames(resample_frames(segment, length), job.width, job.height)
            notes.append(f"{fa}-{fb}: {frames} frames")
        self.last_notes = f"Wan segments at {width}x{height} ({'; '.join(notes)})" if notes else "held a single pin"
        return out
