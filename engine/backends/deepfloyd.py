"""DeepFloyd IF keyframes: stage I in pixel space, optionally stage II super-resolution.

The prompt is encoded once by the T5 text encoder; its embeddings are reused by every
variation and by stage II, and cached per prompt. With ``free_text_encoder`` (the default) the
T5 encoder (about 10 GB at fp16) is loaded only to encode a new prompt and freed before the
UNets load, so the two never sit on the device together: the first job encodes before the
UNets are loaded at all, and a later new prompt parks the resident UNets in CPU memory while
T5 runs on the GPU.

A job with a start picture (sketch -> keyframe) runs ``IFImg2ImgPipeline`` and its super-resolution
twin, one with a mask ``IFInpaintingPipeline`` and its twin; each is built from the loaded stages'
components, so no weights are loaded twice.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from engine.backends.diffusers_common import load_pipeline, module_bytes, pixel_preview, save_keyframe, seeded
from engine.backends.fit import choose_size, fit_image
from engine.backends.start_picture import StartPicture, composite, denoising_steps, load_start_picture, steps_run
from engine.devices import DeviceSettings
from engine.jobs import KeyframeJob, KeyframeResult, ModelSpec
from engine.progress import StepReporter
from engine.residency import free_memory

DEFAULT_GUIDANCE = (7.0, 4.0)
MAX_CACHED_PROMPTS = 16

# IF's downloads ship a CLIP safety checker that transformers 5.x can't load (IFSafetyChecker
# never calls post_init, so loading fails on 'all_tied_weights_keys'). Pinframe is a local
# pre-visualization tool whose pictures are the user's own, like other local front ends it
# runs the model without that filter, and it never loads those weights.
NO_SAFETY_CHECKER = {"safety_checker": None, "feature_extractor": None}


class IFBackend:
    name = "if"

    def __init__(self, spec: ModelSpec, settings: DeviceSettings) -> None:
        self.spec = spec
        self.settings = settings
        self.stage1: Any | None = None
        self.stage2: Any | None = None
        self._encoder: Any | None = None
        self._embeds: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}
        self.encoder_loads = 0
        self.encodes = 0
        self.load_order: list[str] = []  # what was loaded when, so the order can be checked
        self._derived: dict[str, Any] = {}  # img2img / inpainting twins of the stages, sharing their modules

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> IFBackend:
        # Nothing heavy yet: the first job encodes its prompt before the UNets come in.
        return cls(spec, settings)

    def _load_stages(self) -> None:
        from diffusers import IFPipeline, IFSuperResolutionPipeline

        if self.stage1 is None:
            self.stage1 = load_pipeline(
                IFPipeline, self.spec.path, self.settings, text_encoder=None, tokenizer=None, **NO_SAFETY_CHECKER
            )
            self.load_order.append("stage1")
        if self.spec.upscale_path and self.stage2 is None:
            self.stage2 = load_pipeline(
                IFSuperResolutionPipeline,
                self.spec.upscale_path,
                self.settings,
                text_encoder=None,
                tokenizer=None,
                **NO_SAFETY_CHECKER,
            )
            self.load_order.append("stage2")

    def memory_bytes(self) -> int:
        return module_bytes(self.stage1, self.stage2, self._encoder)

    def close(self) -> None:
        self.stage1 = self.stage2 = self._encoder = None
        self._embeds.clear()
        self._derived.clear()

    def _stages_for(self, start: StartPicture | None) -> tuple[Any, Any]:
        """Stage I and II pipelines for the job: the text-to-image ones, or their twins for a start picture."""
        if start is None:
            return self.stage1, self.stage2
        import diffusers

        inpaint = start.grey_mask is not None
        names = (
            ("IFInpaintingPipeline", "IFInpaintingSuperResolutionPipeline")
            if inpaint
            else (
                "IFImg2ImgPipeline",
                "IFImg2ImgSuperResolutionPipeline",
            )
        )
        pipes = []
        for name, base in zip(names, (self.stage1, self.stage2), strict=True):
            if base is None:
                pipes.append(None)
                continue
            if name not in self._derived:
                twin = getattr(diffusers, name)(**base.components, requires_safety_checker=False)
                twin.set_progress_bar_config(disable=True)
                self._derived[name] = twin
            pipes.append(self._derived[name])
        return pipes[0], pipes[1]

    # --- prompt embeddings ---------------------------------------------------------------------
    def embeddings(self, prompt: str, negative: str) -> tuple[torch.Tensor, torch.Tensor]:
        key = (prompt, negative)
        if key not in self._embeds:
            parked = self._park_stages()
            try:
                positive, negative_embeds = self._encode(prompt, negative)
            finally:
                # Whatever happened, the UNets go back to the device and T5 leaves it.
                if self.settings.free_text_encoder:
                    self._encoder = None
                    free_memory(full=True)
                self._unpark_stages(parked)
            if len(self._embeds) >= MAX_CACHED_PROMPTS:
                self._embeds.pop(next(iter(self._embeds)))
            self._embeds[key] = (positive, negative_embeds)
        return self._embeds[key]

    def _encode(self, prompt: str, negative: str) -> tuple[torch.Tensor, torch.Tensor]:
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
        return positive, negative_embeds

    def _park_stages(self) -> bool:
        """Move resident UNets to CPU memory so T5 gets the GPU to itself (GPU only)."""
        if not self.settings.free_text_encoder or self.settings.resolve_device() == "cpu":
            return False
        if self.settings.cpu_offload:
            return False  # offload already keeps them off the GPU between calls
        parked = False
        for pipe in (self.stage1, self.stage2):
            if pipe is not None:
                pipe.to("cpu")
                parked = True
        if parked:
            free_memory(full=True)
        return parked

    def _unpark_stages(self, parked: bool) -> None:
        if parked:
            device = self.settings.resolve_device()
            for pipe in (self.stage1, self.stage2):
                if pipe is not None:
                    pipe.to(device)

    def _text_encoder(self) -> Any:
        if self._encoder is None:
            from diffusers import IFPipeline

            self._encoder = load_pipeline(IFPipeline, self.spec.path, self.settings, unet=None, **NO_SAFETY_CHECKER)
            self.encoder_loads += 1
            self.load_order.append("text_encoder")
        return self._encoder

    # --- generation ----------------------------------------------------------------------------
    def generate(self, job: KeyframeJob, out_dir: Path, reporter: StepReporter) -> tuple[KeyframeResult, ...]:
        # Read and checked before any model work: a bad mask fails at once, naming both sizes.
        start = load_start_picture(job.init_image, job.mask_image, job.strength) if job.init_image else None
        positive, negative = self.embeddings(job.prompt, job.negative_prompt)
        self._load_stages()
        stage1, stage2 = self._stages_for(start)
        native = int(self.stage1.unet.config.sample_size)
        w1, h1 = choose_size(job.width, job.height, area=native * native, multiple=8)
        factor = 1
        if self.stage2 is not None:
            factor = max(1, int(self.stage2.unet.config.sample_size) // native)
        steps1 = job.steps or 50
        steps2 = (job.steps or 50) if self.stage2 is not None else 0
        g1 = job.guidance or DEFAULT_GUIDANCE[0]
        g2 = job.guidance or DEFAULT_GUIDANCE[1]
        inputs1: dict[str, Any] = {"height": h1, "width": w1}
        inputs2: dict[str, Any] = {"height": h1 * factor, "width": w1 * factor}
        per_seed = steps1 + steps2
        if start is not None:
            steps1 = denoising_steps(steps1, start.strength)
            steps2 = denoising_steps(steps2, start.strength) if steps2 else 0
            per_seed = steps_run(steps1, start.strength) + (steps_run(steps2, start.strength) if steps2 else 0)
            # Stage I repaints the picture at its size; stage II gets it at full size as the "original".
            inputs1 = _start_inputs(start, w1, h1, key="image")
            inputs2 = _start_inputs(start, w1 * factor, h1 * factor, key="original_image")
        total = len(job.seeds) * per_seed
        done = 0
        results = []

        def callback(step: int, timestep: Any, images: torch.Tensor) -> None:
            nonlocal done
            done += 1
            reporter.step(done, total, pixel_preview(images) if reporter.wants_preview(done, total) else None)

        for seed in job.seeds:
            generator = seeded(seed)
            image = stage1(
                prompt_embeds=positive,
                negative_prompt_embeds=negative,
                num_inference_steps=steps1,
                guidance_scale=g1,
                generator=generator,
                output_type="pt",
                callback=callback,
                callback_steps=1,
                **_fresh(inputs1),
            ).images
            gen_w, gen_h = w1, h1
            if stage2 is not None:
                image = stage2(
                    image=image,
                    prompt_embeds=positive,
                    negative_prompt_embeds=negative,
                    num_inference_steps=steps2,
                    guidance_scale=g2,
                    generator=generator,
                    output_type="pt",
                    callback=callback,
                    callback_steps=1,
                    **_fresh(inputs2),
                ).images
                gen_w, gen_h = w1 * factor, h1 * factor
            reporter.check()
            stages = f"IF stage I {w1}x{h1}" + (f", stage II x{factor} to {gen_w}x{gen_h}" if factor > 1 else "")
            rgb = pixel_preview(image)
            if start is not None:
                rgb, note = fit_image(rgb, job.width, job.height)
                rgb = composite(rgb, start)  # outside the mask: the start picture, pixel for pixel
                stages = "; ".join(part for part in (stages, note) if part)
            result = save_keyframe(
                rgb,
                job,
                out_dir / f"if_{seed}.png",
                seed=seed,
                backend="if",
                spec=self.spec,
                steps=steps1,
                guidance=g1,
                generated=(gen_w, gen_h),
                made=stages,
            )
            results.append(replace(result, strength=start.strength) if start else result)
        return tuple(results)


def _start_inputs(start: StartPicture, width: int, height: int, *, key: str) -> dict[str, Any]:
    """A stage's start-picture arguments as tensors at exactly its size, so diffusers never resizes them.

    IF takes pictures in [-1, 1] and masks in [0, 1] (1: paint anew), channels first.
    """
    picture = torch.from_numpy(start.image_at(width, height)).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    inputs: dict[str, Any] = {key: picture, "strength": start.strength}
    mask = start.mask_at(width, height)
    if mask is not None:
        inputs["mask_image"] = torch.from_numpy(mask)[None, None]
    return inputs


def _fresh(inputs: dict[str, Any]) -> dict[str, Any]:
    # The IF pipelines threshold a mask tensor in place: each call gets its own copy.
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
