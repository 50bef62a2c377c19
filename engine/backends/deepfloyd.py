"""DeepFloyd IF keyframes: stage I in pixel space, optionally stage II super-resolution.

The prompt is encoded once by the T5 text encoder; its embeddings are reused by every
variation and by stage II, and cached per prompt. With ``free_text_encoder`` (the default) the
T5 encoder (about 10 GB at fp16) is loaded only to encode a new prompt and freed before the
UNets run, so the two never sit in memory together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.backends.diffusers_common import load_pipeline, module_bytes, pixel_preview, seeded
from engine.backends.fit import choose_size, fit_image, write_png
from engine.devices import DeviceSettings
from engine.jobs import KeyframeJob, KeyframeResult, ModelSpec
from engine.progress import StepReporter
from engine.residency import free_memory

DEFAULT_GUIDANCE = (7.0, 4.0)
MAX_CACHED_PROMPTS = 16


class IFBackend:
    name = "if"

    def __init__(self, spec: ModelSpec, settings: DeviceSettings, stage1: Any, stage2: Any | None) -> None:
        self.spec = spec
        self.settings = settings
        self.stage1 = stage1
        self.stage2 = stage2
        self._encoder: Any | None = None
        self._embeds: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}
        self.encoder_loads = 0
        self.encodes = 0

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> IFBackend:
        from diffusers import IFPipeline, IFSuperResolutionPipeline

        stage1 = load_pipeline(IFPipeline, spec.path, settings, text_encoder=None, tokenizer=None)
        stage2 = None
        if spec.upscale_path:
            stage2 = load_pipeline(
                IFSuperResolutionPipeline, spec.upscale_path, settings, text_encoder=None, tokenizer=None
            )
        return cls(spec, settings, stage1, stage2)

    def memory_bytes(self) -> int:
        return module_bytes(self.stage1, self.stage2, self._encoder)

    def close(self) -> None:
        self.stage1 = self.stage2 = self._encoder = None
        self._embeds.clear()

    # --- prompt embeddings ---------------------------------------------------------------------
    def embeddings(self, prompt: str, negative: str) -> tuple[torch.Tensor, torch.Tensor]:
        key = (prompt, negative)
        if key not in self._embeds:
            encoder = self._text_encoder()
            with torch.no_grad():
                positive, negative_embeds = encoder.encode_prompt(
                    prompt,
                    do_classifier_free_guidance=True,
                    num_images_per_prompt=1,
                    negative_prompt=negative or None,
                    clean_caption=False,
                )
            self.encodes += 1
            if len(self._embeds) >= MAX_CACHED_PROMPTS:
                self._embeds.pop(next(iter(self._embeds)))
            self._embeds[key] = (positive, negative_embeds)
            if self.settings.free_text_encoder:
                self._encoder = None
                free_memory()
        return self._embeds[key]

    def _text_encoder(self) -> Any:
        if self._encoder is None:
            from diffusers import IFPipeline

            self._encoder = load_pipeline(IFPipeline, self.spec.path, self.settings, unet=None)
            self.encoder_loads += 1
        return self._encoder

    # --- generation ----------------------------------------------------------------------------
    def generate(self, job: KeyframeJob, out_dir: Path, reporter: StepReporter) -> tuple[KeyframeResult, ...]:
        positive, negative = self.embeddings(job.prompt, job.negative_prompt)
        native = int(self.stage1.unet.config.sample_size)
        w1, h1 = choose_size(job.width, job.height, area=native * native, multiple=8)
        factor = 1
        if self.stage2 is not None:
            factor = max(1, int(self.stage2.unet.config.sample_size) // native)
        steps1 = job.steps or 50
        steps2 = (job.steps or 50) if self.stage2 is not None else 0
        g1 = job.guidance or DEFAULT_GUIDANCE[0]
        g2 = job.guidance or DEFAULT_GUIDANCE[1]
        total = len(job.seeds) * (steps1 + steps2)
        done = 0
        results = []

        def callback(step: int, timestep: Any, images: torch.Tensor) -> None:
            nonlocal done
            done += 1
            reporter.step(done, total, pixel_preview(images) if reporter.wants_preview(done, total) else None)

        for seed in job.seeds:
            generator = seeded(seed)
            image = self.stage1(
                prompt_embeds=positive,
                negative_prompt_embeds=negative,
                height=h1,
                width=w1,
                num_inference_steps=steps1,
                guidance_scale=g1,
                generator=generator,
                output_type="pt",
                callback=callback,
                callback_steps=1,
            ).images
            gen_w, gen_h = w1, h1
            if self.stage2 is not None:
                image = self.stage2(
                    image=image,
                    prompt_embeds=positive,
                    negative_prompt_embeds=negative,
                    height=h1 * factor,
                    width=w1 * factor,
                    num_inference_steps=steps2,
                    guidance_scale=g2,
                    generator=generator,
                    output_type="pt",
                    callback=callback,
                    callback_steps=1,
                ).images
                gen_w, gen_h = w1 * factor, h1 * factor
            reporter.check()
            rgb = pixel_preview(image)
            fitted, note = fit_image(rgb, job.width, job.height)
            stages = f"IF stage I {w1}x{h1}" + (f", stage II x{factor} to {gen_w}x{gen_h}" if factor > 1 else "")
            path = out_dir / f"if_{seed}.png"
            write_png(path, fitted)
            results.append(
                KeyframeResult(
                    str(path),
                    seed,
                    job.width,
                    job.height,
                    "if",
                    self.spec.model_id,
                    self.spec.revision,
                    steps1,
                    g1,
                    gen_w,
                    gen_h,
                    f"{stages}; {note}" if note else stages,
                )
            )
        return tuple(results)
