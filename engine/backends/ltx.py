"""LTX-Video in-betweens: every pin of the shot a condition at its exact frame.

LTX needs 8k+1 frames and sides divisible by 32. A shot that fits one pass renders at the smallest valid
length that covers it, and the extra tail frames are dropped, so every rendered frame is a frame of the shot
and each pin is a condition at its own frame (diffusers places a condition's tokens at pixel-frame
resolution, so no snapping is needed). A longer shot renders in overlapping segments
(:mod:`engine.backends.segments`): each one after the first takes the 9 frames it shares with the segment
rendered before it as a video condition (at frame 0, or at its end for the segments that lead into the first
pin), so motion carries across the seams. The render is fitted to the project frame, and the runtime still
shows each keyframe exactly at its frame.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from PIL import Image

from engine.backend_registry import BackendInfo, FrameRule, get_backend
from engine.backends.diffusers_common import (
    StepCounter,
    fit_frames,
    latent_preview,
    load_pipeline,
    module_bytes,
    seeded,
    to_uint8,
)
from engine.backends.fit import choose_size, fit_image
from engine.backends.segments import Segment, SegmentPlan, plan_segments, stitch
from engine.devices import DeviceSettings
from engine.jobs import ClipJob, ModelSpec
from engine.progress import StepReporter


def info() -> BackendInfo:
    """The backend's registry entry, read at render time (frame rule, size and defaults live there)."""
    return get_backend("ltx")


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

    def frame_rule(self) -> FrameRule:
        """The VAE's own temporal ratio (8 for every LTX 0.9 release), capped at the registry's longest."""
        temporal = int(self.pipe.vae_temporal_compression_ratio)
        rule = info().frame_rule
        return FrameRule(step=temporal, minimum=temporal + 1, maximum=rule.maximum if rule else 0)

    def overlap(self) -> int:
        # Two latent frames (the causal first frame and one of 8): enough to show which way things move, and
        # the shortest video a condition may be (8k+1 frames).
        return int(self.pipe.vae_temporal_compression_ratio) + 1

    def plan(self, job: ClipJob, pin_frames: list[int]) -> tuple[SegmentPlan, int, int]:
        """(the segments, render width, render height)."""
        segments = plan_segments(job.frame_count, self.frame_rule(), overlap=self.overlap(), pins=pin_frames)
        area = job.work_pixels or info().default_pixels
        width, height = choose_size(
            job.width, job.height, area=area, multiple=int(self.pipe.vae_spatial_compression_ratio)
        )
        return segments, width, height

    def render(self, job: ClipJob, pins: list[tuple[int, np.ndarray]], reporter: StepReporter) -> np.ndarray:
        plan, width, height = self.plan(job, [frame for frame, _ in pins])
        images = {frame: fit_image(image, width, height)[0] for frame, image in pins}
        steps = int(job.param("steps"))
        temporal = int(self.pipe.vae_temporal_compression_ratio)
        spatial = int(self.pipe.vae_spatial_compression_ratio)
        passes = plan.in_render_order()
        frames = passes[0].frames  # every pass renders the same length
        latent_frames = (frames - 1) // temporal + 1
        h, w = height // spatial, width // spatial

        def unpacked_preview(pipe: Any, latents: Any) -> np.ndarray:
            # Latents are packed tokens, condition tokens first; the video is the tail.
            video = latents[:, -latent_frames * h * w :]
            return latent_preview(pipe._unpack_latents(video, latent_frames, h, w, 1, 1))

        on_step_end = StepCounter(reporter, steps * len(passes), unpacked_preview)
        generator = seeded(job.seed)  # one noise stream: segments don't repeat each other's noise
        shot = np.zeros((job.frame_count, height, width, 3), dtype=np.uint8)
        with dynamic_shift(self.pipe.scheduler, latent_frames * h * w):
            for segment in passes:
                reporter.check()
                conditions = self.conditions(segment, shot, images)
                out = self._call(conditions, job, width, height, segment.frames, steps, on_step_end, generator)
                stitch(shot, segment, to_uint8(np.asarray(out.frames[0])))
                for frame, image in images.items():
                    shot[frame] = image  # carried frames show each pin as the clip will
        self.last_notes = self.describe(job, plan, width, height)
        return fit_frames(shot, job.width, job.height)

    def conditions(self, segment: Segment, shot: np.ndarray, images: dict[int, np.ndarray]) -> list[Any]:
        """The pins inside this pass at their frames, and the frames it carries from an earlier pass as a video."""
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        conditions = []
        carried = segment.carried
        if len(carried):
            video = [Image.fromarray(frame) for frame in shot[carried.start : carried.stop]]
            conditions.append(LTXVideoCondition(video=video, frame_index=segment.carried_at))
        for frame in segment.pins:
            conditions.append(LTXVideoCondition(image=Image.fromarray(images[frame]), frame_index=segment.local(frame)))
        return conditions

    def describe(self, job: ClipJob, plan: SegmentPlan, width: int, height: int) -> str:
        frames = plan.segments[0].frames
        if not plan.split:
            tail = f", kept the first {job.frame_count}" if frames > job.frame_count else ""
            return f"LTX rendered {frames} frames at {width}x{height}{tail}"
        return (
            f"LTX {plan.describe()} at {width}x{height}; each seam conditioned on the {self.overlap()} frames the "
            "segment rendered first made there, and cross-faded over them"
        )

    def _call(
        self,
        conditions: list[Any],
        job: ClipJob,
        width: int,
        height: int,
        frames: int,
        steps: int,
        on_step_end: StepCounter,
        generator: Any,
    ) -> Any:
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
            generator=generator,
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
