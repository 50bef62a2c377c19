"""Wan VACE: every pin of a shot at its exact frame, in one pass, through VACE's control video and mask.

The control ``video`` carries each pin's image on the pin's frame and neutral grey everywhere else; the
``mask`` is black (0: keep) on pin frames and white (1: generate) elsewhere. The render is the smallest
``4k+1`` length that covers the shot, and the extra tail frames are dropped, so every pin stays on its
frame. A shot longer than the longest segment is rendered at that length with the pins on their nearest
render frames, then stretched to the shot (rendering long shots in segments is later work); ``last_notes``
says so. The job's reference images (characters, places, props) go in as VACE ``reference_images``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.backends.diffusers_common import (
    StepCounter,
    fit_frames,
    latent_preview,
    render_index,
    resample_frames,
    seeded,
    to_uint8,
)
from engine.backends.fit import read_rgb
from engine.backends.wan import Pins, WanPipelineBackend, as_pil, steps_and_guidance
from engine.errors import EngineError
from engine.jobs import ClipJob
from engine.progress import StepReporter

GREY = 128  # mid grey: what the control video shows where the model is free to generate
KEEP, GENERATE = 0, 255  # mask values (the pipeline maps 0..255 to 0..1; 1 means generate)


def control_video(
    placed: Iterable[tuple[int, np.ndarray]], frames: int, width: int, height: int
) -> tuple[list[Image.Image], list[Image.Image]]:
    """VACE's ``video`` and ``mask``: each image on its render frame and kept, grey and generated elsewhere."""
    grey = Image.new("RGB", (width, height), (GREY, GREY, GREY))
    generate = Image.new("L", (width, height), GENERATE)
    video, mask = [grey] * frames, [generate] * frames
    keep = Image.new("L", (width, height), KEEP)
    for index, image in placed:
        video[index] = as_pil(image, width, height)
        mask[index] = keep
    return video, mask


def read_references(paths: Iterable[str]) -> list[Image.Image]:
    """The job's reference images as the pipeline takes them (it fits each inside the frame itself)."""
    images = []
    for path in paths:
        if not Path(path).is_file():  # read_rgb would call it a keyframe; this is a reference the director attached
            raise EngineError(f"reference image {path} is missing; relink it or remove it from the shot's references")
        images.append(Image.fromarray(read_rgb(path)))
    return images


class WanVACEBackend(WanPipelineBackend):
    name = "wan-vace"
    pipeline_class = "WanVACEPipeline"

    def plan(self, frame_count: int, pin_frames: list[int]) -> tuple[int, list[int]]:
        """The render length and each pin's frame in the render.

        Within the longest segment a pin keeps its frame (the render only grows at the tail); beyond it,
        pins move to where the stretch to ``frame_count`` will put them back.
        """
        frames = self.segment_length(frame_count)
        if frames >= frame_count:
            return frames, list(pin_frames)
        return frames, [render_index(frame, frame_count, frames) for frame in pin_frames]

    def render(self, job: ClipJob, pins: Pins, reporter: StepReporter) -> np.ndarray:
        width, height = self.work_size(job)
        frames, placed_at = self.plan(job.frame_count, [frame for frame, _ in pins])
        video, mask = control_video(zip(placed_at, (image for _, image in pins), strict=True), frames, width, height)
        references = read_references(job.reference_images)
        steps, guidance = steps_and_guidance(job)

        def preview(pipe: object, latents: torch.Tensor) -> np.ndarray:
            # The reference images are extra latent frames in front of the video: look past them.
            return latent_preview(latents[:, :, len(references) :])

        result = self.pipe(
            video=video,
            mask=mask,
            reference_images=references or None,
            conditioning_scale=float(job.param("conditioning_scale")),
            prompt=job.prompt or "",
            negative_prompt=job.negative_prompt or None,
            width=width,
            height=height,
            num_frames=frames,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=seeded(job.seed),
            output_type="np",
            callback_on_step_end=StepCounter(reporter, steps, preview),
        )
        rendered = to_uint8(np.asarray(result.frames[0]))
        # Drop the tail the 4k+1 rule added; only a shot longer than one pass is stretched.
        fits = frames >= job.frame_count
        shot = rendered[: job.frame_count] if fits else resample_frames(rendered, job.frame_count)
        self.last_notes = self.describe(job, (width, height), frames, placed_at, len(references))
        return fit_frames(shot, job.width, job.height)

    def describe(self, job: ClipJob, size: tuple[int, int], frames: int, placed_at: list[int], references: int) -> str:
        parts = [f"Wan VACE at {size[0]}x{size[1]}: {frames} frames in one pass, pins at {placed_at}"]
        if frames > job.frame_count:
            parts.append(f"{frames - job.frame_count} extra tail frames dropped")
        elif frames < job.frame_count:
            parts.append(
                f"the shot's {job.frame_count} frames are more than the {frames} VACE renders at once, so it was "
                "rendered at that length and stretched (pins on their nearest render frames)"
            )
            if len(set(placed_at)) < len(placed_at):
                parts.append("pins closer than a render frame shared one; the later pin conditioned it")
        if references:
            parts.append(f"{references} reference image{'s' if references != 1 else ''}")
        return "; ".join(parts)
