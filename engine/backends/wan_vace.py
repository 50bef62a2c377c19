"""Wan VACE: every pin of a shot at its exact frame, through VACE's control video and mask.

The control ``video`` carries each pin's image on the pin's frame and neutral grey everywhere else; the
``mask`` is black (0: keep) on pin frames and white (1: generate) elsewhere. A shot that fits one pass is
rendered at the smallest ``4k+1`` length that covers it, and the extra tail frames are dropped, so every pin
stays on its frame. A longer shot is rendered in overlapping segments (:mod:`engine.backends.segments`):
each segment after the first gets the 5 frames it shares with the segment rendered before it in its control
video, kept (mask 0), at its start (or at its end, for the segments that lead into the first pin), so the
motion carries across the seam. The job's reference images (characters, places, props) go in as VACE
``reference_images`` on every segment.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from engine.backends.diffusers_common import (
    StepCounter,
    fit_frames,
    latent_preview,
    seeded,
    to_uint8,
)
from engine.backends.fit import fit_image, read_rgb
from engine.backends.segments import SegmentPlan, plan_segments, stitch
from engine.backends.wan import Pins, WanPipelineBackend, as_pil, steps_and_guidance
from engine.errors import EngineError
from engine.jobs import ClipJob
from engine.progress import StepReporter

GREY = 128  # mid grey: what the control video shows where the model is free to generate
KEEP, GENERATE = 0, 255  # mask values (the pipeline maps 0..255 to 0..1; 1 means generate)
# Frames a segment shares with the one rendered before it: two latent frames (the first frame, then 4),
# enough to show which way things move.
OVERLAP = 5


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


def read_references(paths: Iterable[str], width: int = 0, height: int = 0) -> list[Image.Image]:
    """The job's reference images as the pipeline takes them, each fitted inside the render size.

    The pipeline letterboxes a reference into the frame itself, but only after turning the whole picture into
    a float tensor, and shrinks it bilinearly: a 6000-pixel character sheet would cost its full size in memory
    for a 480p render, and alias. So a reference more than twice the render size is shrunk to fit inside it
    here (area resampling, aspect kept, never stretched); a nearer one goes in as it is, for the pipeline.
    """
    images = []
    for path in paths:
        if not Path(path).is_file():  # read_rgb would call it a keyframe; this is a reference the director attached
            raise EngineError(f"reference image {path} is missing; relink it or remove it from the shot's references")
        rgb = read_rgb(path)
        h, w = rgb.shape[:2]
        scale = min(width / w, height / h) if width and height else 1.0
        if scale < 0.5:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        images.append(Image.fromarray(rgb))
    return images


class WanVACEBackend(WanPipelineBackend):
    name = "wan-vace"
    pipeline_class = "WanVACEPipeline"

    def plan(self, frame_count: int, pin_frames: list[int]) -> SegmentPlan:
        """One pass, or overlapping segments of at most the longest length, each pin in the pass that renders it."""
        return plan_segments(frame_count, self.frame_rule, overlap=OVERLAP, pins=pin_frames)

    def render(self, job: ClipJob, pins: Pins, reporter: StepReporter) -> np.ndarray:
        width, height = self.work_size(job)
        plan = self.plan(job.frame_count, [frame for frame, _ in pins])
        images = {frame: fit_image(image, width, height)[0] for frame, image in pins}
        references = read_references(job.reference_images, width, height)
        steps, guidance = steps_and_guidance(job)

        def preview(pipe: object, latents: torch.Tensor) -> np.ndarray:
            # The reference images are extra latent frames in front of the video: look past them.
            return latent_preview(latents[:, :, len(references) :])

        passes = plan.in_render_order()
        on_step_end = StepCounter(reporter, steps * len(passes), preview)
        generator = seeded(job.seed)  # one noise stream: segments don't repeat each other's noise
        shot = np.zeros((job.frame_count, height, width, 3), dtype=np.uint8)
        for segment in passes:
            reporter.check()
            carried = shot[segment.carried.start : segment.carried.stop].copy()  # stitching changes these
            placed = [(segment.carried_at + i, frame) for i, frame in enumerate(carried)]
            placed += [(segment.local(frame), images[frame]) for frame in segment.pins]
            video, mask = control_video(placed, segment.frames, width, height)
            result = self.pipe(
                video=video,
                mask=mask,
                reference_images=references or None,
                conditioning_scale=float(job.param("conditioning_scale")),
                prompt=job.prompt or "",
                negative_prompt=job.negative_prompt or None,
                width=width,
                height=height,
                num_frames=segment.frames,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=generator,
                output_type="np",
                callback_on_step_end=on_step_end,
            )
            stitch(shot, segment, to_uint8(np.asarray(result.frames[0])))
            for frame, image in images.items():
                shot[frame] = image  # carried frames show each pin as the clip will
        self.last_notes = self.describe(job, (width, height), plan, len(references))
        return fit_frames(shot, job.width, job.height)

    def describe(self, job: ClipJob, size: tuple[int, int], plan: SegmentPlan, references: int) -> str:
        pins = [frame for segment in plan.segments for frame in segment.pins]
        if plan.split:
            parts = [
                f"Wan VACE at {size[0]}x{size[1]}: {plan.describe()}, pins at {pins}",
                f"each seam kept (mask 0) on the {OVERLAP} frames the segment rendered first made there, and "
                "cross-faded over them",
            ]
        else:
            frames = plan.segments[0].frames
            parts = [f"Wan VACE at {size[0]}x{size[1]}: {frames} frames in one pass, pins at {pins}"]
            if frames > job.frame_count:
                parts.append(f"{frames - job.frame_count} extra tail frames dropped")
        if references:
            parts.append(f"{references} reference image{'s' if references != 1 else ''}")
        return "; ".join(parts)
