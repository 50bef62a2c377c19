"""DeepFloyd IF keyframes: stage I in pixel space, optionally stage II and stage III super-resolution.

Stage III is the x4 upscaler (``StableDiffusionUpscalePipeline``, IF's own third stage) that takes
stage II's 256 px picture to 1024 px, so a 1080p shot is upscaled 1.4x instead of 5.5x; it runs
only when the frame is bigger than what stage II made. Without it the take's fit note says by how
much the picture was scaled up and what to install.

The prompt is encoded once by the T5 text encoder; its embeddings are reused by every
variation and by stage II, and kept for the last prompts used (least recently used first out).
T5 (about 10 GB at fp16) stays loaded between jobs when it fits the device budget together with
the UNets, or when ``free_text_encoder`` is off. Otherwise it is loaded only to encode a new prompt
and freed before the UNets load, so the two never sit on the device together: the first job
encodes before the UNets are loaded at all, and a later new prompt parks the resident UNets in
CPU memory while T5 runs on the GPU.

A job with a start picture (sketch -> keyframe) runs ``IFImg2ImgPipeline`` and its super-resolution
twin, one with a mask ``IFInpaintingPipeline`` and its twin; each is built from the loaded stages'
components, so no weights are loaded twice.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from engine.backends.diffusers_common import load_pipeline, module_bytes, pixel_preview, save_keyframe, seeded
from engine.backends.fit import choose_size, fit_image
from engine.backends.start_picture import StartPicture, composite, denoising_steps, load_start_picture, steps_run
from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.jobs import KeyframeJob, KeyframeResult, ModelSpec
from engine.progress import StepReporter
from engine.residency import free_memory

DEFAULT_GUIDANCE = (7.0, 4.0, 9.0)  # stage I, II, III (the x4 upscaler's own default)
MAX_CACHED_PROMPTS = 16
STAGE3_CLASS = "StableDiffusionUpscalePipeline"
STAGE3_NOISE_LEVEL = 20  # the x4 upscaler's default: how much noise its low-res input gets
# T5 stays loaded only with room to spare: denoising needs activations on top of the weights.
RESIDENT_HEADROOM = 1.25

# IF's downloads ship a CLIP safety checker that transformers 5.x can't load (IFSafetyChecker
# never calls post_init, so loading fails on 'all_tied_weights_keys'). Pinframe is a local
# pre-visualization tool whose pictures are the user's own, like other local front ends it
# runs the model without that filter, and it never loads those weights.
NO_SAFETY_CHECKER = {"safety_checker": None, "feature_extractor": None}


class IFBackend:
    name = "if"

    def __init__(self, spec: ModelSpec, settings: DeviceSettings, *, stage3_path: str = "") -> None:
        self.spec = spec
        self.settings = settings
        stage2_path, found3 = companion_folders(spec)
        self.stage2_path = stage2_path
        self.stage3_path = stage3_path or found3
        self.stage1: Any | None = None
        self.stage2: Any | None = None
        self.stage3: Any | None = None
        self._encoder: Any | None = None
        self._embeds: OrderedDict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = OrderedDict()
        self.encoder_loads = 0
        self.encodes = 0
        self.load_order: list[str] = []  # what was loaded when, so the order can be checked
        self._derived: dict[str, Any] = {}  # img2img / inpainting twins of the stages, sharing their modules

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings, *, stage3_path: str = "") -> IFBackend:
        # Nothing heavy yet: the first job encodes its prompt before the UNets come in.
        return cls(spec, settings, stage3_path=stage3_path)

    def _load_stages(self) -> None:
        from diffusers import IFPipeline, IFSuperResolutionPipeline, StableDiffusionUpscalePipeline

        if self.stage1 is None:
            self.stage1 = load_pipeline(
                IFPipeline, self.spec.path, self.settings, text_encoder=None, tokenizer=None, **NO_SAFETY_CHECKER
            )
            self.load_order.append("stage1")
        if self.stage2_path and self.stage2 is None:
            self.stage2 = load_pipeline(
                IFSuperResolutionPipeline,
                self.stage2_path,
                self.settings,
                text_encoder=None,
                tokenizer=None,
                **NO_SAFETY_CHECKER,
            )
            self.load_order.append("stage2")
        if self.stage3_path and self.stage3 is None:
            # Its own small CLIP text encoder comes with it: the x4 upscaler can't read T5 embeddings.
            self.stage3 = load_pipeline(
                StableDiffusionUpscalePipeline, self.stage3_path, self.settings, **NO_SAFETY_CHECKER
            )
            self.stage3.set_progress_bar_config(disable=True)
            self.load_order.append("stage3")

    def memory_bytes(self) -> int:
        return module_bytes(self.stage1, self.stage2, self.stage3, self._encoder)

    def close(self) -> None:
        self.stage1 = self.stage2 = self.stage3 = self._encoder = None
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
        pipes: list[Any] = []
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
        if key in self._embeds:
            self._embeds.move_to_end(key)
            return self._embeds[key]
        parked = self._park_stages() if self._encoder is None else False
        try:
            positive, negative_embeds = self._encode(prompt, negative)
        finally:
            # Whatever happened, the UNets go back to the device, and T5 leaves it unless both fit.
            if not self.keep_encoder():
                self._encoder = None
                free_memory(full=True)
            self._unpark_stages(parked)
        if len(self._embeds) >= MAX_CACHED_PROMPTS:
            self._embeds.popitem(last=False)
        self._embeds[key] = (positive, negative_embeds)
        return positive, negative_embeds

    def keep_encoder(self) -> bool:
        """Whether T5 may stay loaded: it was asked for, or it fits the budget next to every stage."""
        if not self.settings.free_text_encoder:
            return True
        if self._encoder is None:
            return False
        needed = module_bytes(self._encoder) + self._stages_bytes()
        return needed * RESIDENT_HEADROOM <= self.settings.budget_bytes()

    def _stages_bytes(self) -> int:
        """The stages' memory: measured once loaded, read from their weight files before (the first job
        encodes before any UNet loads), scaled to the precision they load at."""
        loaded = module_bytes(self.stage1, self.stage2, self.stage3)
        if loaded:
            return loaded
        on_disk = _weights_bytes(self.spec.path, "unet") + _weights_bytes(self.stage2_path, "unet")
        on_disk += _weights_bytes(self.stage3_path)
        # Real downloads hold fp16 weights; fp32 on the CPU doubles them.
        return on_disk * 2 if self.settings.torch_dtype() == torch.float32 else on_disk

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
        for pipe in (self.stage1, self.stage2, self.stage3):
            if pipe is not None:
                pipe.to("cpu")
                parked = True
        if parked:
            free_memory(full=True)
        return parked

    def _unpark_stages(self, parked: bool) -> None:
        if parked:
            device = self.settings.resolve_device()
            for pipe in (self.stage1, self.stage2, self.stage3):
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
        loaded = self.stage1
        if loaded is None:  # _load_stages raises rather than leave it so
            raise EngineError("DeepFloyd IF stage I did not load")
        native = int(loaded.unet.config.sample_size)
        w1, h1 = choose_size(job.width, job.height, area=native * native, multiple=8)
        factor = 1
        if self.stage2 is not None:
            factor = max(1, int(self.stage2.unet.config.sample_size) // native)
        steps1 = job.steps or 50
        steps2 = (job.steps or 50) if self.stage2 is not None else 0
        g1 = job.guidance or DEFAULT_GUIDANCE[0]
        g2 = job.guidance or DEFAULT_GUIDANCE[1]
        w2, h2 = w1 * factor, h1 * factor
        # Stage III only when the frame is bigger than stage II's picture: a thumbnail needs no 4x.
        stage3 = self.stage3 if self.stage3 is not None and (job.width > w2 or job.height > h2) else None
        steps3 = (job.steps or 50) if stage3 is not None else 0
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
        per_seed += steps3
        total = len(job.seeds) * per_seed
        done = 0
        results = []

        def callback(step: int, timestep: Any, images: torch.Tensor) -> None:
            nonlocal done
            done += 1
            reporter.step(done, total, pixel_preview(images) if reporter.wants_preview(done, total) else None)

        def latent_callback(step: int, timestep: Any, latents: torch.Tensor) -> None:
            nonlocal done
            done += 1  # stage III denoises latents: no pixel preview to show, progress only
            reporter.step(done, total, None)

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
                gen_w, gen_h = w2, h2
            stages = f"IF stage I {w1}x{h1}" + (f", stage II x{factor} to {gen_w}x{gen_h}" if factor > 1 else "")
            if stage3 is not None:
                image, gen_w, gen_h = self._stage3(stage3, image, job, steps3, generator, latent_callback)
                stages += f", stage III x4 to {gen_w}x{gen_h}"
            else:
                stages += _upscale_note(gen_w, gen_h, job.width, job.height, has_stage3=self.stage3 is not None)
            reporter.check()
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

    def _stage3(
        self, pipe: Any, image: torch.Tensor, job: KeyframeJob, steps: int, generator: Any, callback: Any
    ) -> tuple[torch.Tensor, int, int]:
        """The x4 upscaler on stage II's picture; returns it in [-1, 1] like the IF stages, and its size."""
        # IF hands over [-1, 1]; the upscaler's image processor expects [0, 1] tensors.
        low = (image.float() / 2 + 0.5).clamp(0, 1)
        out = pipe(
            prompt=job.prompt,
            negative_prompt=job.negative_prompt or None,
            image=low,
            num_inference_steps=steps,
            guidance_scale=job.guidance or DEFAULT_GUIDANCE[2],
            noise_level=STAGE3_NOISE_LEVEL,
            generator=generator,
            output_type="pt",
            callback=callback,
            callback_steps=1,
        ).images
        return out * 2 - 1, int(out.shape[-1]), int(out.shape[-2])


def companion_folders(spec: ModelSpec) -> tuple[str, str]:
    """The stage II and stage III folders of ``spec``: (IF super-resolution, x4 upscaler), "" where none.

    ``upscale_path`` is IF's companion from the model list: stage II, or the x4 upscaler when that is the
    one installed (then it follows stage I directly, 64 -> 256 px). A ``stage3_path`` on the spec names
    the x4 upscaler next to a stage II.
    """
    stage2, stage3 = "", str(getattr(spec, "stage3_path", "") or "")
    if spec.upscale_path:
        if _pipeline_class(spec.upscale_path) == STAGE3_CLASS:
            stage3 = stage3 or spec.upscale_path
        else:
            stage2 = spec.upscale_path
    return stage2, stage3


def _pipeline_class(folder: str) -> str:
    try:
        index = json.loads((Path(folder).expanduser() / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""  # a bare or unreadable folder: stage II's loader names what is wrong with it
    return str(index.get("_class_name", "")) if isinstance(index, dict) else ""


def _weights_bytes(folder: str, part: str = "") -> int:
    root = Path(folder).expanduser() / part if folder else None
    if root is None or not root.is_dir():
        return 0
    return sum(f.stat().st_size for f in root.rglob("*.safetensors"))


def _upscale_note(width: int, height: int, frame_w: int, frame_h: int, *, has_stage3: bool) -> str:
    """How much the fit will scale IF's picture up to the frame, said plainly, and what would do better."""
    scale = max(frame_w / width, frame_h / height)
    if scale <= 1.0:
        return ""
    note = f"; upscaled {scale:.3g}x from {width}x{height} px"
    if not has_stage3:
        note += " (install the x4 upscaler, stable-diffusion-x4-upscaler, for stage III)"
    return note


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
