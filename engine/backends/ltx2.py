"""LTX-2 in-betweens: every pin a condition at its exact frame, with sound when asked.

Length. LTX-2 renders 8k+1 frames (the registry's frame rule). The backend renders the smallest valid
length that covers the shot at the shot's own frame rate and drops the extra tail frames, so each rendered
frame is a frame of the shot: pins stay at their frames and the sound runs in real time. A shot longer than
one pass (the rule's maximum) is rendered in overlapping segments (:mod:`engine.backends.segments`), still at
the shot's frame rate: each segment after the first takes the 9 frames it shares with the segment rendered
before it as a multi-frame video condition (at latent 0, or as keyframe frames at its end for the segments
that lead into the first pin). The sound of each segment is cross-faded into one track over the overlaps;
``last_notes`` gives the split.

Pins. diffusers 0.42's LTX2ConditionPipeline reads a condition's ``index`` as a *latent* frame and places a
keyframe at pixel frame 8(k-1)+1, the first frame of that latent. The model itself places keyframe tokens by
time (RoPE coordinates in seconds), and LTX-2's reference pipelines give keyframes a pixel frame. So each
pin becomes a condition in the latent frame that holds its frame, and :func:`keyframes_at` gives the
condition the coordinates of the pin's own frame for the length of one call. A pin at frame 0 replaces
latent frame 0, which the causal VAE makes exactly pixel frame 0.

Distilled checkpoints are recognised by their scheduler (see :func:`is_distilled`) and default to 8 steps
without guidance, on the distilled sigma schedule. The optional latent upsampler renders the first pass at
half size, doubles its latents and refines them at full size on the stage 2 schedule, as the diffusers
documentation describes.

LoRAs. A job's LoRAs (Lightricks' camera-control LoRAs, picked by app.camera_loras) are on for that job only,
through both passes, and stay loaded but off between jobs (:mod:`engine.backends.lora_adapters`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from engine.backend_registry import BackendInfo, get_backend
from engine.backends.diffusers_common import (
    StepCounter,
    fit_frames,
    latent_preview,
    load_pipeline,
    module_bytes,
    seeded,
    to_uint8,
    whole_vae_tiles,
)
from engine.backends.fit import choose_size, fit_image
from engine.backends.lora_adapters import JobLoras, describe_loras, lora_label
from engine.backends.segments import Segment, SegmentPlan, SoundTrack, plan_segments, stitch
from engine.devices import DeviceSettings
from engine.errors import EngineError, ModelFolderError
from engine.jobs import ClipJob, ModelSpec
from engine.progress import StepReporter

Pins = list[tuple[int, np.ndarray]]

DISTILLED_STEPS = 8  # the length of diffusers' DISTILLED_SIGMA_VALUES
DISTILLED_GUIDANCE = 1.0  # distilled checkpoints run unguided
# The LTX-2 authors guide sound harder than picture (7 vs 3). Only used when guidance is on anyway, so
# sound never switches on the second (unconditional) half of the batch by itself.
AUDIO_GUIDANCE = 7.0
# Every token's time coordinate is its frame divided by the frame rate. The model is trained around 24, 25,
# 30 and up to 60 fps (diffusers' MAX_CONDITIONING_FPS); far below 24, frames lie further apart in time than
# anything it saw.
MIN_FPS, MAX_FPS = 12.0, 60.0
# Frames a segment shares with the one rendered before it: two latent frames (the causal first frame and one
# of 8), enough to show which way things move, and the shortest multi-frame condition (8k+1) there is.
OVERLAP = 9
TEXT_TOKENS = 1024  # LTX-2 reads prompts padded to 1024 tokens (its __call__ default)
UPSAMPLER_FOLDER = "latent_upsampler"  # where Lightricks/LTX-2 ships the 2x latent upsampler


def info() -> BackendInfo:
    """The registry entry, read when it is used: frame rule, sizes and default settings live in that table."""
    return get_backend("ltx2")


def is_distilled(scheduler_config: Mapping[str, Any]) -> bool:
    """Whether a folder holds a distilled (few-step) checkpoint, judged from its scheduler config.

    Distilled LTX-2 checkpoints are sampled on a fixed sigma schedule used as given, so their diffusers
    folders ship a scheduler without dynamic shifting or a terminal shift: diffusers' conversion script
    writes that for every "distilled" checkpoint, and Lightricks' LTX-2.5 diffusers repo (whose main
    transformer is the distilled one) ships it too. The full models shift dynamically with a terminal shift
    of 0.1. Nothing else in a folder tells the two apart: they have the same classes and configs.
    """
    return not scheduler_config.get("use_dynamic_shifting", False) and scheduler_config.get("shift_terminal") is None


def distilled_sigmas(steps: int) -> list[float]:
    """The distilled schedule, or (for another step count) the same curve sampled at ``steps`` points."""
    from diffusers.pipelines.ltx2.utils import DISTILLED_SIGMA_VALUES

    values = list(DISTILLED_SIGMA_VALUES)
    if steps == len(values):
        return values
    return np.interp(np.linspace(0, len(values) - 1, steps), np.arange(len(values)), values).tolist()


def latent_index(frame: int, temporal: int) -> int:
    """The latent frame that holds pixel ``frame``: the first latent is frame 0 alone, then 8 frames each."""
    return 0 if frame == 0 else (frame - 1) // temporal + 1


@dataclass(frozen=True)
class RenderPlan:
    segments: SegmentPlan  # one pass, or overlapping segments of a shot longer than one
    width: int  # the final render size (the second stage's when upsampling)
    height: int
    fps: float  # the frame rate the render is timed at: the shot's own
    upsample: bool

    @property
    def frames(self) -> int:
        """Frames (8k+1) every segment renders."""
        return self.segments.segments[0].frames

    @property
    def first_size(self) -> tuple[int, int]:
        """The first pass's size: half of each side when the upsampler doubles it."""
        return (self.width // 2, self.height // 2) if self.upsample else (self.width, self.height)


class LTX2Backend:
    name = "ltx2"

    def __init__(self, spec: ModelSpec, pipe: Any, settings: DeviceSettings) -> None:
        self.spec = spec
        self.pipe = pipe
        self.settings = settings
        self.upsampler: Any = None  # the LTX2LatentUpsamplerModel, loaded when a job first asks for it
        self.distilled = is_distilled(pipe.scheduler.config)
        self.last_notes = ""
        self.last_settings: tuple[tuple[str, Any], ...] = ()
        self.last_audio: tuple[np.ndarray, int] | None = None
        self.loras = JobLoras(pipe, settings.torch_dtype())  # LoRAs on for one job at a time (camera LoRAs)

    @classmethod
    def load(cls, spec: ModelSpec, settings: DeviceSettings) -> LTX2Backend:
        from diffusers import LTX2ConditionPipeline

        # Prompt enhancement (processor, prompt_enhancer: a second Gemma on LTX-2.5) and the duration head
        # (LTX-2.5 guesses a length when none is given) are never used here: not loaded, not required.
        unused = dict(processor=None, prompt_enhancer=None, duration_head=None)
        pipe = load_pipeline(LTX2ConditionPipeline, spec.path, settings, **unused)
        rule, multiple = info().frame_rule, info().resolution_multiple
        found = (int(pipe.vae_temporal_compression_ratio), int(pipe.vae_spatial_compression_ratio))
        if rule is None or found != (rule.step, multiple):
            raise ModelFolderError(
                f"{spec.path}: its VAE compresses {found[0]}x in time and {found[1]}x in space, but LTX-2's is "
                f"{rule.step if rule else '?'}x and {multiple}x. Choose an LTX-2 model folder."
            )
        return cls(spec, pipe, settings)

    def memory_bytes(self) -> int:
        tensors = [*self.upsampler.parameters(), *self.upsampler.buffers()] if self.upsampler is not None else []
        return module_bytes(self.pipe) + sum(t.numel() * t.element_size() for t in tensors)

    def close(self) -> None:
        self.pipe = None
        self.upsampler = None
        self.loras.close()

    # --- planning --------------------------------------------------------------------------------------
    def plan(self, job: ClipJob, pin_frames: Sequence[int], *, upsample: bool = False) -> RenderPlan:
        fps = job.fps_num / job.fps_den
        if not MIN_FPS <= fps <= MAX_FPS:
            raise EngineError(
                f"LTX-2 renders {MIN_FPS:g} to {MAX_FPS:g} frames a second, and this shot runs at {fps:.3f}. "
                "Set the project to 24, 25, 30 or 60 fps for LTX-2 renders, or pick another motion model."
            )
        rule = info().frame_rule
        assert rule is not None  # the registry gives every motion backend one
        segments = plan_segments(job.frame_count, rule, overlap=OVERLAP, pins=pin_frames)
        width, height = self.size(job, upsample)
        return RenderPlan(segments, width, height, fps, upsample)

    @staticmethod
    def size(job: ClipJob, upsample: bool) -> tuple[int, int]:
        multiple = info().resolution_multiple
        # Halving for the first pass must land on the VAE's grid too.
        step = multiple * (2 if upsample else 1)
        width, height = choose_size(job.width, job.height, area=job.work_pixels or info().default_pixels, multiple=step)
        # The video decoder pads by reflection, which needs two latent rows and columns at least.
        return max(width, 2 * multiple), max(height, 2 * multiple)

    def schedule(self, job: ClipJob) -> tuple[int, float, list[float] | None]:
        """(steps, guidance, sigmas or None for the scheduler's own) of the first pass."""
        steps, guidance = job.steps, job.guidance  # 0: the model's default
        if self.distilled:
            steps = steps or DISTILLED_STEPS
            return steps, guidance or DISTILLED_GUIDANCE, distilled_sigmas(steps)
        steps = steps or int(info().setting("steps").default)
        if steps < 2:
            raise EngineError(
                f"The full LTX-2 model needs at least 2 steps (it was given {steps}): its scheduler stretches the "
                "schedule to end at 0.1, which one step can't. Set Steps to 2 or more, or use a distilled checkpoint."
            )
        return steps, guidance or float(info().setting("guidance").default), None

    # --- rendering -------------------------------------------------------------------------------------
    def render(self, job: ClipJob, pins: Pins, reporter: StepReporter) -> np.ndarray:
        """The shot, with the job's LoRAs on for this job only; the notes and settings name them."""
        with self.loras.active(job.loras):
            frames = self.render_shot(job, pins, reporter)
        if job.loras:
            self.last_notes += f"; {describe_loras(job.loras)}"
            self.last_settings = (*self.last_settings, ("lora", ", ".join(lora_label(*lora) for lora in job.loras)))
        return frames

    def render_shot(self, job: ClipJob, pins: Pins, reporter: StepReporter) -> np.ndarray:
        from diffusers.pipelines.ltx2.utils import STAGE_2_DISTILLED_SIGMA_VALUES

        self.last_audio = None
        sound, upsample = bool(job.param("sound")), bool(job.param("upsample"))
        plan = self.plan(job, [frame for frame, _ in pins], upsample=upsample)
        if upsample:
            self.load_upsampler()  # a missing one fails before any work
        steps, guidance, sigmas = self.schedule(job)
        refine = list(STAGE_2_DISTILLED_SIGMA_VALUES) if upsample else []
        passes = plan.segments.in_render_order()
        call = _Call(
            embeds=self.encode(job, guidance > 1.0),
            guidance=guidance,
            audio_guidance=AUDIO_GUIDANCE if sound and guidance > 1.0 else guidance,
            strength=float(job.param("strength")),
            # One stream for every pass and segment, so none repeats another's noise.
            generator=seeded(job.seed),
            counter=StepCounter(reporter, (steps + len(refine)) * len(passes)),
        )
        shot = np.zeros((job.frame_count, plan.height, plan.width, 3), dtype=np.uint8)
        images = dict(pins)
        fitted = {frame: fit_image(image, plan.width, plan.height)[0] for frame, image in pins}
        track = SoundTrack(job.frame_count, plan.fps) if sound else None
        for segment in passes:
            reporter.check()
            video, audio = self.render_segment(plan, segment, shot, images, call, (steps, sigmas), refine)
            stitch(shot, segment, video)
            for frame, image in fitted.items():
                shot[frame] = image  # carried frames show each pin as the clip will
            if track is not None:
                track.add(segment, *self.decode_audio(audio))
        if track is not None:
            self.last_audio = track.result()
        self.last_notes = self.describe(job, plan, steps, len(refine), sound)
        # What really ran (a distilled checkpoint's 8 steps at guidance 1), for the clip's record.
        self.last_settings = (*job.settings_used(), ("guidance", guidance), ("steps", steps))
        return fit_frames(shot, job.width, job.height)

    def render_segment(
        self,
        plan: RenderPlan,
        segment: Segment,
        shot: np.ndarray,
        images: dict[int, np.ndarray],
        call: _Call,
        schedule: tuple[int, list[float] | None],
        refine: list[float],
    ) -> tuple[np.ndarray, Any]:
        """One segment, both passes when upsampling: its frames (uint8, at the render size) and audio latents."""
        steps, sigmas = schedule
        conditions = Conditions(
            pins=[(segment.local(frame), images[frame]) for frame in segment.pins],
            # A copy: the shot's frames there change when this segment is stitched in.
            carried=shot[segment.carried.start : segment.carried.stop].copy(),
            carried_at=segment.carried_at,
        )
        with whole_vae_tiles(self.pipe.vae, *plan.first_size):  # the conditions are encoded at this size
            video, audio = self.denoise(plan, conditions, plan.first_size, call, steps=steps, sigmas=sigmas)
        with whole_vae_tiles(self.pipe.vae, plan.width, plan.height):
            if refine:
                call.counter.reporter.check()
                video = self.upsample(video)
                with sigmas_as_given(self.pipe):
                    # Stage 2 re-noises the upsampled latents to its first sigma and refines them at full size.
                    full = (plan.width, plan.height)
                    video, audio = self.denoise(
                        plan, conditions, full, call, steps=len(refine), sigmas=refine, latents=(video, audio)
                    )
            call.counter.reporter.check()
            return to_uint8(self.decode_video(video)), audio

    def encode(self, job: ClipJob, guided: bool) -> dict[str, Any]:
        """Prompt embeddings for every pass of the job: the text encoder (Gemma 3, 12B) runs once."""
        from diffusers.pipelines.ltx2.utils import DEFAULT_NEGATIVE_PROMPT

        with torch.no_grad():
            positive, mask, negative, negative_mask = self.pipe.encode_prompt(
                prompt=job.prompt or "",
                negative_prompt=job.negative_prompt or DEFAULT_NEGATIVE_PROMPT,
                do_classifier_free_guidance=guided,
                # Never pad past what the tokenizer was made for (a real Gemma tokenizer allows far more).
                max_sequence_length=min(TEXT_TOKENS, int(self.pipe.tokenizer.model_max_length)),
                device=self.pipe._execution_device,
            )
        return {
            "prompt_embeds": positive,
            "prompt_attention_mask": mask,
            "negative_prompt_embeds": negative,
            "negative_prompt_attention_mask": negative_mask,
        }

    def denoise(
        self,
        plan: RenderPlan,
        conditions: Conditions,
        size: tuple[int, int],
        call: _Call,
        *,
        steps: int,
        sigmas: list[float] | None,
        latents: tuple[Any, Any] | None = None,
    ) -> tuple[Any, Any]:
        """One pass of the pipeline at ``size``; returns its (video, audio) latents, denormalised."""
        from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition

        width, height = size
        temporal = int(self.pipe.vae_temporal_compression_ratio)
        made, frames = [], []
        if len(conditions.carried):
            # Full strength whatever the pin strength: the seam must continue what is already there.
            carried = fit_frames(conditions.carried, width, height)
            made.append(LTX2VideoCondition(frames=carried, index=latent_index(conditions.carried_at, temporal)))
            frames.append(conditions.carried_at)
        for frame, image in conditions.pins:
            picture = Image.fromarray(fit_image(image, width, height)[0])
            made.append(LTX2VideoCondition(frames=picture, index=latent_index(frame, temporal), strength=call.strength))
            frames.append(frame)
        call.counter.preview = self.previewer(plan.frames, width, height)
        video, audio = latents if latents is not None else (None, None)
        with keyframes_at(self.pipe, frames):
            return self.pipe(
                conditions=made,
                **call.embeds,
                width=width,
                height=height,
                num_frames=plan.frames,
                frame_rate=plan.fps,
                num_inference_steps=steps,
                sigmas=sigmas,
                # A refining pass starts from its first sigma, not from pure noise.
                noise_scale=sigmas[0] if latents is not None and sigmas else None,
                latents=video,
                audio_latents=audio,
                guidance_scale=call.guidance,
                audio_guidance_scale=call.audio_guidance,
                # Spatio-temporal and modality guidance each add a transformer pass per step; a previz
                # render spends that time on turnaround instead.
                stg_scale=0.0,
                audio_stg_scale=0.0,
                modality_scale=1.0,
                audio_modality_scale=1.0,
                use_cross_timestep=self.cross_timestep,
                generator=call.generator,
                output_type="latent",  # decoded here: the sound only when it is wanted
                return_dict=False,
                callback_on_step_end=call.counter,
            )

    @property
    def cross_timestep(self) -> bool:
        # LTX-2.3 and later modulate cross-modal attention by the other modality's sigma; LTX-2.0 doesn't. Only
        # the 2.3+ transformers have the cross-attention modulation layers, so their config tells them apart.
        return bool(self.pipe.transformer.config.get("cross_attn_mod", False))

    def previewer(self, frames: int, width: int, height: int):
        temporal = int(self.pipe.vae_temporal_compression_ratio)
        spatial = int(self.pipe.vae_spatial_compression_ratio)
        shape = ((frames - 1) // temporal + 1, height // spatial, width // spatial)
        patch, patch_t = self.pipe.transformer_spatial_patch_size, self.pipe.transformer_temporal_patch_size

        def preview(pipe: Any, latents: Any) -> np.ndarray:
            # Packed tokens: the video first, the pins' keyframe tokens appended after it.
            video = latents[:, : shape[0] * shape[1] * shape[2]]
            return latent_preview(pipe._unpack_latents(video, *shape, patch, patch_t))

        return preview

    def decode_video(self, latents: Any) -> np.ndarray:
        """(frames, H, W, 3) floats in [0, 1], decoded as the pipeline does at its default decode timestep 0."""
        vae = self.pipe.vae
        latents = latents.to(vae.dtype)
        timestep = torch.zeros(latents.shape[0], device=latents.device, dtype=latents.dtype)
        with torch.no_grad():
            video = vae.decode(latents, timestep if vae.config.timestep_conditioning else None, return_dict=False)[0]
        return np.asarray(self.pipe.video_processor.postprocess_video(video, output_type="np")[0])

    def decode_audio(self, latents: Any) -> tuple[np.ndarray, int]:
        """(channels x samples, sample rate) from the audio VAE's mel spectrogram and the vocoder."""
        with torch.no_grad():
            mel = self.pipe.audio_vae.decode(latents.to(self.pipe.audio_vae.dtype), return_dict=False)[0]
            wave = self.pipe.vocoder(mel.to(self.pipe.vocoder.dtype))
        return wave[0].float().cpu().numpy(), int(self.pipe.vocoder.config.output_sampling_rate)

    def describe(self, job: ClipJob, plan: RenderPlan, steps: int, refine_steps: int, sound: bool) -> str:
        kind = "LTX-2 distilled" if self.distilled else "LTX-2"
        segments = plan.segments
        rendered = f"rendered {plan.frames} frames" if not segments.split else segments.describe()
        notes = [f"{kind} {rendered} at {plan.width}x{plan.height} in {steps} steps"]
        if plan.upsample:
            first = "x".join(map(str, plan.first_size))
            refined = f"upsampled 2x from {first} and refined in {refine_steps} steps"
            if not self.distilled:
                refined += " (without the distilled LoRA the reference refines with)"
            notes.append(refined)
        if segments.split:
            notes.append(
                f"each seam conditioned on the {OVERLAP} frames the segment rendered first made there, and "
                "cross-faded over them"
            )
        elif plan.frames > job.frame_count:
            notes.append(f"kept the first {job.frame_count}")
        if sound:
            notes.append("with sound" + (", cross-faded at the seams" if segments.split else ""))
        return "; ".join(notes)

    # --- the latent upsampler ----------------------------------------------------------------------------
    def upsampler_folder(self) -> Path:
        """The upsampler's model folder: the chosen second stage, else ``latent_upsampler/`` in the model."""
        if self.spec.upscale_path:
            root = Path(self.spec.upscale_path).expanduser()
            # An LTX2LatentUpsamplePipeline folder holds the model in its latent_upsampler component.
            return root / UPSAMPLER_FOLDER if (root / "model_index.json").is_file() else root
        inside = Path(self.spec.path) / UPSAMPLER_FOLDER
        if not inside.is_dir():
            raise ModelFolderError(
                f"The Latent upsampler setting is on, but there is no upsampler: {inside} doesn't exist and no "
                f"upsampler folder is set for this model. Download the {UPSAMPLER_FOLDER} folder of Lightricks/LTX-2 "
                f"into {inside.parent}, or add an LTX-2 latent upsampler in Models, or turn the setting off."
            )
        return inside

    def upsample(self, latents: Any) -> Any:
        """Stage 1's (denormalised) video latents, twice as high and wide.

        What LTX2LatentUpsamplePipeline does with latents and its defaults (no AdaIN, no tone mapping), run on
        the model itself: that pipeline would share this pipeline's VAE, and takes its device from it, which
        is wrong while the VAE is offloaded to the CPU.
        """
        with torch.no_grad():
            return self.upsampler(latents.to(device=self.upsampler.device, dtype=self.upsampler.dtype))

    def load_upsampler(self) -> Any:
        if self.upsampler is not None:
            return self.upsampler
        from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel

        from engine.loader import validate_bare_model

        folder = self.upsampler_folder()
        validate_bare_model(folder)
        try:
            model = LTX2LatentUpsamplerModel.from_pretrained(
                folder, dtype=self.settings.torch_dtype(), use_safetensors=True, local_files_only=True
            )
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise ModelFolderError(
                f"{folder} could not be loaded as an LTX-2 latent upsampler ({exc}); download it again"
            ) from None
        if model.config.in_channels != self.pipe.vae.config.latent_channels:
            raise ModelFolderError(
                f"{folder} upsamples {model.config.in_channels}-channel latents, but this model's VAE makes "
                f"{self.pipe.vae.config.latent_channels}; choose the upsampler that came with the model"
            )
        # Small next to the transformer: it stays on the device even when the pipeline is offloaded.
        self.upsampler = model.to(self.settings.resolve_device()).eval()
        return self.upsampler


@dataclass(frozen=True)
class Conditions:
    """What one segment is conditioned on, in its own frame numbers."""

    pins: list[tuple[int, np.ndarray]]  # (frame in the segment, keyframe image)
    carried: np.ndarray  # frames an earlier segment rendered here (none for the first), uint8
    carried_at: int  # where they start in the segment


@dataclass
class _Call:
    """What every pass of one job shares."""

    embeds: dict[str, Any]
    guidance: float
    audio_guidance: float
    strength: float
    generator: torch.Generator
    counter: StepCounter


@contextmanager
def keyframes_at(pipe: Any, frames: Sequence[int]) -> Iterator[None]:
    """Place each keyframe condition at its pin's exact frame, for the length of one pipeline call.

    ``frames`` are the conditions' frames in order. The pipeline computes coordinates only for conditions
    past latent frame 0, in order, starting from the first frame of the condition's latent; each call gets its
    pin's own frame instead. If diffusers ever places them elsewhere, the render fails instead of quietly
    moving pins. An instance attribute, removed afterwards: the class is untouched.
    """
    pending = [frame for frame in frames if frame > 0]
    temporal = int(pipe.vae_temporal_compression_ratio)
    prepare = pipe._prepare_keyframe_coords
    signature = inspect.signature(prepare)

    @functools.wraps(prepare)
    def at_pin(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        start = int(bound.arguments["pixel_frame_idx"])
        frame = pending.pop(0) if pending else None
        if frame is None or not start <= frame < start + temporal:
            raise EngineError(
                f"diffusers placed an LTX-2 keyframe at frame {start}, where no pin was expected; this diffusers "
                "version conditions differently than Pinframe's LTX-2 backend knows. Use diffusers 0.42."
            )
        bound.arguments["pixel_frame_idx"] = frame
        return prepare(*bound.args, **bound.kwargs)

    pipe._prepare_keyframe_coords = at_pin
    try:
        yield
        if pending:
            raise EngineError(f"diffusers skipped the LTX-2 keyframes at frames {pending}; use diffusers 0.42")
    finally:
        del pipe._prepare_keyframe_coords


@contextmanager
def sigmas_as_given(pipe: Any) -> Iterator[None]:
    """For one call, a scheduler that uses a sigma schedule as given (no dynamic or terminal shift).

    The refining pass runs the stage 2 schedule exactly; a full model's scheduler would shift it. diffusers'
    two-stage recipe swaps the scheduler the same way.
    """
    original = pipe.scheduler
    if is_distilled(original.config):
        yield
        return
    pipe.scheduler = type(original).from_config(original.config, use_dynamic_shifting=False, shift_terminal=None)
    try:
        yield
    finally:
        pipe.scheduler = original
