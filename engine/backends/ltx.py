"""LTX-Video in-betweens: one render conditioned on every pin of the shot at its frame.

LTX needs 8k+1 frames and sides divisible by 32. The backend renders the smallest valid
length that covers the shot (up to the model's maximum) at a valid size near the project's
aspect, then resamples to the shot's exact frame count and fits the project frame. Each pin
becomes a condition at the frame it lands on in the render (diffusers places a condition's
tokens at pixel-frame resolution, so no snapping is needed); pins that land on the same render
frame become one condition, and the runtime still shows each keyframe exactly at its frame.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from PIL import Image

from engine.backend_registry import FrameRule, get_backend
from engine.backends.diffusers_common import (
    StepCounter,
    fit_frames,
    latent_preview,
    load_pipeline,
    module_bytes,
    render_index,
    resample_frames,
    seeded,
    to_uint8,
)
from engine.backends.fit import choose_size, fit_image
from engine.devices import DeviceSettings
from engine.jobs import ClipJob, ModelSpec
from engine.progress import StepReporter

INFO = get_backend("ltx")  # frame rule, size and defaults come from the one backend table


class LTXBackend:
    name = "ltx"

    def __init__(self, spec: ModelSpec, pipe: Any) -> None:
        self.spec = spec
        self.pipe = pipe
        self.last_notes = ""

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> LTXBackend:
        from diffusers import LTXConditionPipeline

        return cls(spec, load_pipeline(LTXConditionPipeline, spec.path, settings))

    def memory_bytes(self) -> int:
        return module_bytes(self.pipe)

    def close(self) -> None:
        self.pipe = None

    def plan(self, job: ClipJob, pins: list[tuple[int, np.ndarray]]) -> tuple[int, int, int, list[int]]:
        """(render frames, width, height, condition frame per pin)."""
        temporal = int(self.pipe.vae_temporal_compression_ratio)
        spatial = int(self.pipe.vae_spatial_compression_ratio)
        longest = INFO.frame_rule.maximum if INFO.frame_rule else 0
        # The VAE's own temporal ratio (8 for every LTX 0.9 release), capped at the registry's longest.
        rule = FrameRule(step=temporal, minimum=temporal + 1, maximum=longest)
        frames = rule.smallest_at_least(job.frame_count)
        area = job.work_pixels or INFO.default_pixels
        width, height = choose_size(job.width, job.height, area=area, multiple=spatial)
        indices = [render_index(frame, job.frame_count, frames) for frame, _ in pins]
        return frames, width, height, indices

    def render(self, job: ClipJob, pins: list[tuple[int, np.ndarray]], reporter: StepReporter) -> np.ndarray:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        frames, width, height, indices = self.plan(job, pins)
        conditions = []
        used: set[int] = set()
        for (_, image), index in zip(pins, indices, strict=True):
            if index in used:
                continue  # two pins snapped together: the runtime still pastes both exactly
            used.add(index)
            conditions.append(
                LTXVideoCondition(image=Image.fromarray(fit_image(image, width, height)[0]), frame_index=index)
            )
        steps = int(job.param("steps"))
        temporal = int(self.pipe.vae_temporal_compression_ratio)
        spatial = int(self.pipe.vae_spatial_compression_ratio)
        latent_frames = (frames - 1) // temporal + 1
        h, w = height // spatial, width // spatial

        def unpacked_preview(pipe: Any, latents: Any) -> np.ndarray:
            # Latents are packed tokens, condition tokens first; the video is the tail.
            video = latents[:, -latent_frames * h * w :]
            return latent_preview(pipe._unpack_latents(video, latent_frames, h, w, 1, 1))

        on_step_end = StepCounter(reporter, steps, unpacked_preview)

        with dynamic_shift(self.pipe.scheduler, latent_frames * h * w):
            out = self._call(conditions, job, width, height, frames, steps, on_step_end)
        rendered = to_uint8(np.asarray(out.frames[0]))
        self.last_notes = f"LTX rendered {frames} frames at {width}x{height}, resampled to {job.frame_count}"
        return fit_frames(resample_frames(rendered, job.frame_count), job.width, job.height)

    def _call(self, conditions, job: ClipJob, width: int, height: int, frames: int, steps: int, on_step_end):
        return self.pipe(
            conditions=conditions,
            prompt=job.prompt or "",
            negative_prompt=job.negative_prompt or None,
            width=width,
            height=height,
            num_frames=frames,
            frame_rate=max(1, round(job.fps_num / job.fps_den)),
            num_inference_steps=steps,
            guidance_scale=float(job.param("guidance")),
            generator=seeded(job.seed),
            output_type="np",
            callback_on_step_end=on_step_end,
            decode_timestep=0.05,
            decode_noise_scale=0.025,
        )


@contextmanager
def dynamic_shift(scheduler: Any, sequence_length: int) -> Iterator[None]:
    """Give a dynamic-shifting scheduler the ``mu`` that LTXConditionPipeline never passes.

    A scheduler config with ``use_dynamic_shifting: true`` (as LTX checkpoints may ship, and
    LTXPipeline handles) makes LTXConditionPipeline fail at its first step ("`mu` must be passed").
    For the length of one call, ``set_timesteps`` gets the shift that LTXPipeline computes for the
    same token count. Other schedulers are left alone.
    """
    config = getattr(scheduler, "config", {})
    if not config.get("use_dynamic_shifting", False):
        yield
        return
    from diffusers.pipelines.ltx.pipeline_ltx_condition import calculate_shift

    mu = calculate_shift(
        sequence_length,
        config.get("base_image_seq_len", 256),
        config.get("max_image_seq_len", 4096),
        config.get("base_shift", 0.5),
        config.get("max_shift", 1.15),
    )
    set_timesteps = scheduler.set_timesteps

    @functools.wraps(set_timesteps)  # the pipeline reads set_timesteps' signature to see it takes timesteps=
    def with_mu(*args, **kwargs):
        kwargs.setdefault("mu", mu)
        return set_timesteps(*args, **kwargs)

    scheduler.set_timesteps = with_mu  # an instance attribute, removed below: the class is untouched
    try:
        yield
    finally:
        del scheduler.set_timesteps
