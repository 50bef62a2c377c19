"""The jobs the GPU benchmark times on each built model: a pinned 5 s clip, or keyframes."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpu_architectures import Architecture

from engine.backend_registry import BackendInfo, get_backend

PROMPT = "EXT. CITY STREET - NIGHT. A woman in a red coat walks slowly through the rain, camera pans left"
NEGATIVE = "blurry, low quality, text, watermark"
CLIP_SECONDS = 5
PROJECT_FRAME, TINY_PROJECT_FRAME = (1280, 720), (128, 72)  # 16:9; backends render at their default size for it
TINY_WORK_PIXELS = 64 * 32
TINY_STEPS = 2


@dataclass
class Case:
    """One job to time on a built folder, and how its steps group into denoising passes."""

    name: str
    label: str  # short, for the table
    job: Any
    # (label, steps run, steps at the backend's default), in the order the engine reports them.
    blocks: list[tuple[str, int, int]]
    images: int = 0  # keyframe jobs: images made (the time is given per image)
    clip: str = ""  # clip jobs: the 5 s clip rendered ("120 frames at 24 fps")
    warm: Any = None  # a second job on the resident model (--warm)


def steps_to_run(arch: Architecture, default: int, tiny: bool, args: argparse.Namespace) -> int:
    if tiny:
        return min(default, TINY_STEPS)
    return min(default, args.steps or arch.run_steps or default)


def cases_for(arch: Architecture, folder: Path, tiny: bool, args: argparse.Namespace) -> list[Case]:
    info = get_backend(arch.backend)
    if info.kind == "keyframe":
        return keyframe_cases(arch, folder, tiny, args)
    return clip_cases(arch, info, folder, tiny, args)


def clip_cases(arch: Architecture, info: BackendInfo, folder: Path, tiny: bool, args: argparse.Namespace) -> list[Case]:
    """A 5 s shot at the backend's trained frame rate, pinned at its first and last frame, at the default size."""
    from engine.jobs import ClipJob, ModelSpec

    fps = info.fps_hint or 24
    frames = CLIP_SECONDS * fps
    width, height = TINY_PROJECT_FRAME if tiny else PROJECT_FRAME
    pins = pin_images(folder.parent, width, height, (0, frames - 1))
    default = int(info.setting("steps").default)
    run = steps_to_run(arch, default, tiny, args)
    spec = ModelSpec(arch.backend, str(folder), f"{arch.name}-random-weights")
    variants: list[tuple[str, dict[str, Any]]] = [("", {})]
    if any(s.name == "upsample" for s in info.settings):
        variants = [(" without the upsampler", {}), (" with the 2x latent upsampler", {"upsample": True})]
    cases = []
    for suffix, params in variants:
        blocks = [("denoise", run, default)]
        if params.get("upsample"):
            from diffusers.pipelines.ltx2.utils import STAGE_2_DISTILLED_SIGMA_VALUES

            refine = len(STAGE_2_DISTILLED_SIGMA_VALUES)  # engine/backends/ltx2.py refines on this schedule
            blocks = [("half size", run, default), ("refine", refine, refine)]

        def job(seed: int, params: dict[str, Any] = params) -> Any:
            return ClipJob(
                spec, frames, fps, 1, width, height, pins, PROMPT, NEGATIVE, seed=seed, steps=run,
                work_pixels=TINY_WORK_PIXELS if tiny else 0, params=tuple(params.items()),
            )  # fmt: skip

        cases.append(
            Case(
                name=f"{arch.title}: {CLIP_SECONDS} s clip, 2 pins{suffix} ({run} of {default} steps)",
                label=f"{CLIP_SECONDS} s clip" + (" + upsampler" if params.get("upsample") else ""),
                job=job(1),
                warm=job(2) if args.warm else None,
                blocks=blocks,
                clip=f"{frames} frames at {fps} fps",
            )
        )
    return cases


def keyframe_cases(arch: Architecture, folder: Path, tiny: bool, args: argparse.Namespace) -> list[Case]:
    from engine.jobs import KeyframeJob, ModelSpec

    kw = (160, 90) if tiny else (1920, 1080)  # keyframes for a 16:9 project
    warm = args.warm
    if arch.backend == "text2image":
        turbo = ModelSpec("text2image", str(folder / "turbo"), "sdxl-turbo")
        base = ModelSpec("text2image", str(folder / "base"), "sdxl-base-1.0")
        base_default = int(get_backend("text2image").setting("steps").default)
        base_steps = steps_to_run(arch, base_default, tiny, args)
        return [
            Case(
                name="sdxl-turbo keyframes x4 (engine defaults: 2 steps, no CFG)",
                label="turbo x4",
                job=KeyframeJob(turbo, PROMPT, (1, 2, 3, 4), *kw),
                warm=KeyframeJob(turbo, PROMPT, (5, 6, 7, 8), *kw) if warm else None,
                blocks=[(f"image {s}", 2, 2) for s in range(1, 5)],
                images=4,
            ),
            Case(
                name=f"sdxl-base-class keyframe x1 (1024-px native, {base_default} steps, CFG 7)",
                label="base x1",
                job=KeyframeJob(base, PROMPT, (1,), *kw, negative_prompt=NEGATIVE, steps=base_steps),
                blocks=[("seed 1", base_steps, base_default)],
                images=1,
            ),
        ]
    if arch.backend == "if":
        spec = ModelSpec("if", str(folder / "stage1"), "if-i-xl", upscale_path=str(folder / "stage2"))
        default = int(get_backend("if").setting("steps").default)
        run = steps_to_run(arch, default, tiny, args)
        return [
            Case(
                name=f"IF-I-XL + IF-II-L keyframe x1 ({default} + {default} steps, CFG)",
                label="I + II x1",
                job=KeyframeJob(spec, PROMPT, (1,), *kw, negative_prompt=NEGATIVE, steps=run),
                warm=KeyframeJob(spec, PROMPT, (2,), *kw, negative_prompt=NEGATIVE, steps=run) if warm else None,
                blocks=[("stage I", run, default), ("stage II", run, default)],
                images=1,
            )
        ]
    raise SystemExit(f"no keyframe case for the {arch.backend} backend ({arch.name}); add one to keyframe_cases")


def pin_images(folder: Path, width: int, height: int, frames: tuple[int, ...]) -> tuple[Any, ...]:
    import cv2
    import numpy as np

    from engine.backends.fit import write_png
    from engine.jobs import PinImage

    pins = []
    for n, frame in enumerate(frames):
        rng = np.random.default_rng(n)
        image = cv2.GaussianBlur(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), (0, 0), 3)
        path = folder / f"pin_{frame}.png"
        write_png(path, image)
        pins.append(PinImage(frame, str(path)))
    return tuple(pins)
