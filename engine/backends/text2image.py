"""Draft keyframes from any diffusers text-to-image folder (SDXL-Turbo, FLUX.1-schnell, SD...).

Loaded with ``AutoPipelineForText2Image``, which reads the pipeline class from the folder. The
size follows the model's native pixel count at the project's aspect ratio; the picture is then
fitted to the project frame and what was done is recorded.

A job with a start picture runs the same loaded model through ``AutoPipelineForImage2Image`` (sketch ->
keyframe) or ``AutoPipelineForInpainting`` (a mask), built with ``from_pipe``: the weights are shared,
never loaded twice.

A job's reference pictures go in through an IP-Adapter (:mod:`engine.backends.ip_adapter`) and its LoRAs
through ``load_lora_weights`` (:class:`engine.backends.lora_adapters.JobLoras`), both on for that job only;
what was used, or why a reference wasn't, is in each result's notes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from engine.backends.diffusers_common import StepCounter, load_pipeline, module_bytes, save_keyframe, seeded, to_uint8
from engine.backends.fit import choose_size, fit_image
from engine.backends.ip_adapter import JobReferences
from engine.backends.lora_adapters import JobLoras, describe_loras
from engine.backends.start_picture import StartPicture, composite, denoising_steps, load_start_picture, steps_run
from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.jobs import KeyframeJob, KeyframeResult, ModelSpec
from engine.progress import StepReporter


def default_steps_and_guidance(model_id: str) -> tuple[int, float]:
    """Distilled models are made for few steps without guidance; others for the classic 30 / 7."""
    name = model_id.lower()
    if "turbo" in name or "lightning" in name:
        return 2, 0.0
    if "schnell" in name:
        return 4, 0.0
    return 30, 7.0


class Text2ImageBackend:
    name = "text2image"

    def __init__(self, spec: ModelSpec, pipe: Any, compute_dtype: torch.dtype | None = None) -> None:
        self.spec = spec
        self.pipe = pipe
        self._derived: dict[str, Any] = {}  # "image2image" / "inpainting" pipelines sharing pipe's modules
        name = spec.model_id or Path(spec.path).name
        # Adapters live in the shared modules (UNet, text encoders), so the derived pipelines wear them too.
        dtype = compute_dtype or getattr(pipe, "dtype", torch.float32)
        self.loras = JobLoras(pipe, dtype, model=f"{name} ({type(pipe).__name__})")
        self.references = JobReferences(name)

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> Text2ImageBackend:
        from diffusers import AutoPipelineForText2Image

        return cls(spec, load_pipeline(AutoPipelineForText2Image, spec.path, settings), settings.torch_dtype())

    def memory_bytes(self) -> int:
        encoder = self.references.encoder  # kept between jobs, off the pipeline while no job uses it
        extra = sum(t.numel() * t.element_size() for t in encoder.parameters()) if encoder is not None else 0
        return module_bytes(self.pipe) + extra

    def close(self) -> None:
        self.pipe = None
        self._derived.clear()
        self.loras.close()
        self.references.close()

    def _pipe_for(self, start: StartPicture | None) -> Any:
        if start is None:
            return self.pipe
        task = "inpainting" if start.grey_mask is not None else "image2image"
        if task not in self._derived:
            from diffusers import AutoPipelineForImage2Image, AutoPipelineForInpainting

            auto = AutoPipelineForInpainting if task == "inpainting" else AutoPipelineForImage2Image
            try:
                derived = auto.from_pipe(self.pipe)
            except (ValueError, KeyError) as exc:
                raise EngineError(
                    f"{self.spec.model_id or self.spec.path} has no {task.replace('image2image', 'image-to-image')} "
                    f"pipeline in diffusers ({exc}); make this keyframe from the prompt alone or with another model"
                ) from None
            if hasattr(derived, "set_progress_bar_config"):
                derived.set_progress_bar_config(disable=True)
            self._derived[task] = derived
        return self._derived[task]

    def native_size(self) -> tuple[int, int]:
        scale = int(getattr(self.pipe, "vae_scale_factor", 8))
        sample = getattr(self.pipe, "default_sample_size", None)
        if sample is None:
            sample = int(self.pipe.unet.config.sample_size)
        side = int(sample) * scale
        # Big models like sides in multiples of 64; tiny test models can't afford that.
        return side, 64 if side >= 512 else scale

    def generate(self, job: KeyframeJob, out_dir: Path, reporter: StepReporter) -> tuple[KeyframeResult, ...]:
        side, multiple = self.native_size()
        width, height = choose_size(job.width, job.height, area=side * side, multiple=multiple)
        default_steps, default_guidance = default_steps_and_guidance(self.spec.model_id or self.spec.path)
        steps = job.steps or default_steps
        guidance = job.guidance if job.guidance else default_guidance
        start = load_start_picture(job.init_image, job.mask_image, job.strength) if job.init_image else None
        pipe = self._pipe_for(start)
        inputs: dict[str, Any] = {"width": width, "height": height}
        per_seed = steps
        if start is not None:
            from PIL import Image

            steps = denoising_steps(steps, start.strength)
            per_seed = steps_run(steps, start.strength)
            # Fitted to the generation size here (crop, never stretch) so the pipeline never resizes it.
            inputs = {"image": Image.fromarray(start.image_at(width, height)), "strength": start.strength}
            mask = start.mask_at(width, height)
            if mask is not None:
                inputs.update(
                    mask_image=Image.fromarray((mask * 255 + 0.5).astype("uint8")), width=width, height=height
                )
        on_step_end = StepCounter(reporter, per_seed * len(job.seeds))
        with self.loras.active(job.loras), self.references.active(pipe, job.references) as (adapter, note):
            size = (width, height)
            results = self._run(job, pipe, start, inputs | adapter, steps, guidance, size, on_step_end, out_dir)
        notes = "; ".join(part for part in (note, describe_loras(job.loras) if job.loras else "") if part)
        return tuple(replace(r, notes=notes) for r in results) if notes else results

    def _run(
        self,
        job: KeyframeJob,
        pipe: Any,
        start: StartPicture | None,
        inputs: dict[str, Any],
        steps: int,
        guidance: float,
        size: tuple[int, int],
        on_step_end: StepCounter,
        out_dir: Path,
    ) -> tuple[KeyframeResult, ...]:
        width, height = size
        results = []
        for seed in job.seeds:
            extra = {"negative_prompt": job.negative_prompt} if job.negative_prompt and guidance > 1 else {}
            out = pipe(
                prompt=job.prompt,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=seeded(seed),
                output_type="np",
                callback_on_step_end=on_step_end,
                **inputs,
                **extra,
            )
            made = f"generated {width}x{height}"
            rgb = to_uint8(out.images[0])
            if start is not None:
                rgb, note = fit_image(rgb, job.width, job.height)
                rgb = composite(rgb, start)
                made = "; ".join(part for part in (made, note) if part)
            result = save_keyframe(
                rgb,
                job,
                out_dir / f"draft_{seed}.png",
                seed=seed,
                backend="text2image",
                spec=self.spec,
                steps=steps,
                guidance=guidance,
                generated=(width, height),
                made=made,
            )
            results.append(replace(result, strength=start.strength) if start else result)
        return tuple(results)
