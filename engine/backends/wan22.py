"""Wan 2.2 image to video: the A14B two-expert model and the TI2V-5B model, both WanImageToVideoPipeline.

A14B (``transformer`` + ``transformer_2`` + ``boundary_ratio``): the high-noise expert denoises the
timesteps above the boundary with ``guidance``, the low-noise expert the rest with ``guidance_2``. It has no
CLIP image encoder; the first and last frame reach it through the frame mask and the encoded video, so
each pair of neighbouring pins is a first/last-frame stretch, exactly as Wan 2.1 renders them.

TI2V-5B (``expand_timesteps``, one transformer, the 16x VAE): diffusers 0.42's pipeline conditions on the
first frame only (``prepare_latents`` replaces latent frame 0 with the image and never reads
``last_image``). Each stretch is therefore rendered onward from its first pin, and the next pin is cut in at
its frame; ``last_notes`` says so.

As with Wan 2.1 (:mod:`engine.backends.wan`), the frames after the last pin are image to video onward from
it, the frames before the first pin a render from that pin played in reverse, so the motion leads into the
pin, and a stretch longer than one segment is rendered in segments, each from the last frame of the one
before. Nothing is a still.
"""

from __future__ import annotations

from typing import Any

from engine.backends.wan import Pins, Stretch, WanBackend, stretch_notes
from engine.errors import ModelFolderError
from engine.jobs import ClipJob


class Wan22Backend(WanBackend):
    name = "wan22"
    pipeline_class = "WanImageToVideoPipeline"
    _pins_cut_in = False

    def check_pipeline(self) -> None:
        # With a boundary, steps above it need `transformer` and steps below it `transformer_2`; a ratio of
        # 1.0 (or 0.0) leaves one side empty, so a low-noise-only (high-noise-only) folder is complete.
        ratio = self.pipe.config.get("boundary_ratio")
        used = {"transformer": ratio is None or ratio < 1, "transformer_2": ratio is not None and ratio > 0}
        missing = [name for name, needed in used.items() if needed and getattr(self.pipe, name, None) is None]
        if missing:
            raise ModelFolderError(
                f"{self.spec.path} (boundary_ratio {ratio}) has no {' or '.join(missing)}; Wan 2.2 needs every "
                "expert transformer it hands steps to. Re-download the model."
            )

    @property
    def two_experts(self) -> bool:
        """A14B: a boundary timestep hands denoising over to the low-noise expert."""
        return self.pipe.config.get("boundary_ratio") is not None

    @property
    def takes_last_frame(self) -> bool:
        # TI2V-5B (expand_timesteps) conditions on latent frame 0 only; last_image would be ignored.
        return not self.pipe.config.get("expand_timesteps", False)

    @property
    def variant(self) -> str:
        if not self.takes_last_frame:
            return "TI2V-5B"
        return "A14B" if self.two_experts else "single expert"

    def plan_stretches(self, pins: Pins, frame_count: int) -> list[Stretch]:
        # Remembered for last_notes: with 5B, every pin after the first is pasted in, not rendered towards.
        self._pins_cut_in = len(pins) > 1 and not self.takes_last_frame
        return super().plan_stretches(pins, frame_count)

    def call_options(self, job: ClipJob) -> dict[str, Any]:
        # guidance_scale_2 is refused by the pipeline unless a boundary splits the steps between experts.
        return {"guidance_scale_2": float(job.param("guidance_2"))} if self.two_experts else {}

    def describe(self, width: int, height: int, stretches: list[Stretch]) -> str:
        if not stretches:
            return "a one-frame shot: the pin alone"
        parts = [f"Wan 2.2 {self.variant} at {width}x{height} ({stretch_notes(stretches)})"]
        if self._pins_cut_in:
            parts.append(
                "TI2V-5B can't take a last frame: each stretch starts from its first pin and the next pin is "
                "cut in at its frame (the A14B model or Wan VACE render pin to pin)"
            )
        if not self.two_experts:
            parts.append("guidance_2 unused (one expert)")
        return "; ".join(parts)
