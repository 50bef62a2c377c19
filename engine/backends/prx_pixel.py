"""PRXPixel keyframes: Photoroom's pixel-space text-to-image transformer, one stage at full size.

Like DeepFloyd IF there is no VAE (the denoised sample is the picture), but there is no cascade:
the transformer renders at its native 1024 px directly. It was trained on aspect-ratio buckets,
so the shot's aspect is mapped to the nearest bucket (diffusers' own table, scaled to the
folder's ``default_sample_size``), rendered there, and cropped to the shot's aspect by
:func:`engine.backends.fit.fit_image`: never stretched. The pipeline's own binning is switched
off because it resizes back to the requested size, and it refuses models that aren't 1024 px.

The prompt is encoded once per job and reused by every seed (the Qwen3-VL text tower is the
slow part of a short render); the last prompt's embeddings are kept for the next variation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.backends.diffusers_common import (
    StepCounter,
    load_pipeline,
    module_bytes,
    pixel_preview,
    save_keyframe,
    seeded,
    to_uint8,
)
from engine.backends.fit import nearest_bucket, thumbnail
from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.jobs import KeyframeJob, KeyframeResult, ModelSpec
from engine.progress import StepReporter

DEFAULT_STEPS = 28  # the model card's suggestion
DEFAULT_GUIDANCE = 5.0
MIN_GUIDANCE = 1.0  # the pipeline refuses less; 1 is "no classifier-free guidance"
BUCKET_SIDE = 1024  # the resolution diffusers' bucket table is written for


def buckets() -> tuple[tuple[int, int], ...]:
    """Diffusers' PRXPixel aspect buckets as (width, height); the table stores [height, width]."""
    from diffusers.pipelines.prx.pipeline_prx_pixel import ASPECT_RATIO_BINS

    return tuple((int(w), int(h)) for h, w in ASPECT_RATIO_BINS[BUCKET_SIDE].values())


def bucket_size(width: int, height: int, native: int, multiple: int) -> tuple[int, int]:
    """The model-native size for a ``width``x``height`` shot: the nearest bucket, scaled to ``native`` px."""
    return nearest_bucket(width, height, buckets(), scale=native / BUCKET_SIDE, multiple=multiple)


def _preview(pipe: Any, latents: torch.Tensor) -> np.ndarray:
    # Pixel space: the sample itself is the picture (noisy early on, as IF's is); only shrink it.
    return thumbnail(pixel_preview(latents))


class PRXPixelBackend:
    name = "prx-pixel"

    def __init__(self, spec: ModelSpec, pipe: Any) -> None:
        self.spec = spec
        self.pipe = pipe
        self._embeds: tuple[tuple[str, str, bool], dict[str, Any]] | None = None
        self.encodes = 0

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> PRXPixelBackend:
        from diffusers import PRXPixelPipeline

        return cls(spec, load_pipeline(PRXPixelPipeline, spec.path, settings))

    def memory_bytes(self) -> int:
        return module_bytes(self.pipe)

    def close(self) -> None:
        self.pipe = None
        self._embeds = None

    def native_size(self) -> tuple[int, int]:
        """The model's side in pixels and the multiple every side must be (patch size: no VAE)."""
        side = int(getattr(self.pipe.config, "default_sample_size", None) or BUCKET_SIDE)
        return side, int(self.pipe.vae_scale_factor) * int(self.pipe.transformer.config.patch_size)

    def generation_size(self, width: int, height: int) -> tuple[int, int]:
        side, multiple = self.native_size()
        return bucket_size(width, height, side, multiple)

    def embeddings(self, prompt: str, negative: str, guidance: float) -> dict[str, Any]:
        """Prompt embeddings and masks as pipeline keyword arguments, encoded once per prompt."""
        cfg = guidance > 1.0
        key = (prompt, negative, cfg)
        if self._embeds is None or self._embeds[0] != key:
            with torch.no_grad():
                positive, mask, negative_embeds, negative_mask = self.pipe.encode_prompt(
                    prompt, do_classifier_free_guidance=cfg, negative_prompt=negative
                )
            self.encodes += 1
            kwargs = {"prompt_embeds": positive, "prompt_attention_mask": mask}
            if cfg:
                kwargs |= {"negative_prompt_embeds": negative_embeds, "negative_prompt_attention_mask": negative_mask}
            self._embeds = (key, kwargs)
        return self._embeds[1]

    def generate(self, job: KeyframeJob, out_dir: Path, reporter: StepReporter) -> tuple[KeyframeResult, ...]:
        if job.init_image or job.mask_image:
            raise EngineError(
                "PRXPixel makes keyframes from text only; for sketch -> keyframe or inpainting choose a "
                "DeepFloyd IF or text-to-image model in the Keyframes panel"
            )
        width, height = self.generation_size(job.width, job.height)
        steps = job.steps or DEFAULT_STEPS
        guidance = max(MIN_GUIDANCE, job.guidance or DEFAULT_GUIDANCE)
        prompt_kwargs = self.embeddings(job.prompt, job.negative_prompt, guidance)
        on_step_end = StepCounter(reporter, steps * len(job.seeds), preview=_preview)
        results = []
        for seed in job.seeds:
            out = self.pipe(
                width=width,
                height=height,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=seeded(seed),
                output_type="np",
                use_resolution_binning=False,  # binned above; its own would resize back, not crop
                callback_on_step_end=on_step_end,
                **prompt_kwargs,
            )
            reporter.check()
            result = save_keyframe(
                to_uint8(out.images[0]),
                job,
                out_dir / f"prx_{seed}.png",
                seed=seed,
                backend=self.name,
                spec=self.spec,
                steps=steps,
                guidance=guidance,
                generated=(width, height),
                made=f"PRXPixel {width}x{height} (nearest aspect bucket)",
            )
            results.append(result)
        return tuple(results)
