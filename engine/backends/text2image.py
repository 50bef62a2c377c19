"""Draft keyframes from any diffusers text-to-image folder (SDXL-Turbo, FLUX.1-schnell, SD...).

Loaded with ``AutoPipelineForText2Image``, which reads the pipeline class from the folder. The
size follows the model's native pixel count at the project's aspect ratio; the picture is then
fitted to the project frame and what was done is recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.backends.diffusers_common import StepCounter, load_pipeline, module_bytes, save_keyframe, seeded, to_uint8
from engine.backends.fit import choose_size
from engine.devices import DeviceSettings
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

    def __init__(self, spec: ModelSpec, pipe: Any) -> None:
        self.spec = spec
        self.pipe = pipe

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> Text2ImageBackend:
        from diffusers import AutoPipelineForText2Image

        return cls(spec, load_pipeline(AutoPipelineForText2Image, spec.path, settings))

    def memory_bytes(self) -> int:
        return module_bytes(self.pipe)

    def close(self) -> None:
        self.pipe = None

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
        on_step_end = StepCounter(reporter, steps * len(job.seeds))
        results = []
        for seed in job.seeds:
            extra = {"negative_prompt": job.negative_prompt} if job.negative_prompt and guidance > 1 else {}
            out = self.pipe(
                prompt=job.prompt,
                width=width,
                height=height,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=seeded(seed),
                output_type="np",
                callback_on_step_end=on_step_end,
                **extra,
            )
            made = f"generated {width}x{height}"
            result = save_keyframe(
                to_uint8(out.images[0]),
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
            results.append(result)
        return tuple(results)
