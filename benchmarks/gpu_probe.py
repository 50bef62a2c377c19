"""Timing and peak memory of each phase of a job, measured in place by wrapping what the backends call."""

from __future__ import annotations

import functools
import statistics
import threading
import time
from typing import Any

from gpu_builders import gib


class Probe:
    """Times named phases (synchronizing the GPU at their edges) and peak memory per phase.

    Phases nest only at the top level (an inner wrapped call is part of the outer phase). The
    time between phases is "denoise" (the engine's progress events mark each step there).
    """

    def __init__(self) -> None:
        import torch

        self.cuda = torch.cuda.is_available()
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.depth = 0
        self.timeline: list[tuple[float, str, str]] = []  # (time, "start"/"end"/"step", label)
        self.phase_s: dict[str, float] = {}
        self.phase_n: dict[str, int] = {}
        self.phase_peak: dict[str, int] = {}
        self.between_peak = 0
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()

    def _sync(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize()

    def _take_peak(self) -> int:
        if not self.cuda:
            return 0
        import torch

        peak = torch.cuda.max_memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        return peak

    def wrap(self, owner: Any, attr: str, label: str) -> None:
        original = getattr(owner, attr)
        if getattr(original, "_probe_label", None):
            return
        probe = self

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if probe.depth:
                return original(*args, **kwargs)
            probe._sync()
            probe.between_peak = max(probe.between_peak, probe._take_peak())
            start = time.perf_counter()
            probe.timeline.append((start, "start", label))
            probe.depth = 1
            try:
                return original(*args, **kwargs)
            finally:
                probe._sync()
                end = time.perf_counter()
                probe.depth = 0
                probe.timeline.append((end, "end", label))
                probe.phase_s[label] = probe.phase_s.get(label, 0.0) + end - start
                probe.phase_n[label] = probe.phase_n.get(label, 0) + 1
                probe.phase_peak[label] = max(probe.phase_peak.get(label, 0), probe._take_peak())

        timed._probe_label = label  # type: ignore[attr-defined]
        setattr(owner, attr, timed)

    def step(self) -> None:
        """Called from the engine's progress event, on the worker thread, inside the step callback."""
        self._sync()
        self.timeline.append((time.perf_counter(), "step", ""))
        if self.cuda:
            import torch

            self.between_peak = max(self.between_peak, torch.cuda.max_memory_allocated())

    def summary(self, blocks: list[tuple[str, int]]) -> dict[str, Any]:
        """Per-step times from the timeline; ``blocks`` names consecutive runs of steps (label, count)."""
        self.between_peak = max(self.between_peak, self._take_peak())
        step_dts = []
        prev = None
        for t, kind, _ in self.timeline:
            if kind == "step" and prev is not None:
                step_dts.append(t - prev)
            prev = t
        out: dict[str, Any] = {
            "phases_s": {k: round(v, 3) for k, v in self.phase_s.items()},
            "phase_calls": dict(self.phase_n),
            "peak_gib": {k: gib(v) for k, v in self.phase_peak.items()},
        }
        out["peak_gib"]["denoise_and_rest"] = gib(self.between_peak)
        out["peak_allocated_gib"] = max(out["peak_gib"].values())
        steps = []
        i = 0
        for label, count in blocks:
            dts = step_dts[i : i + count]
            i += count
            if not dts:
                continue
            steady = dts[1:] or dts
            steps.append(
                {
                    "block": label,
                    "steps": len(dts),
                    "first_step_s": round(dts[0], 3),
                    "median_step_s": round(statistics.median(steady), 4),
                    "total_s": round(sum(dts), 3),
                }
            )
        out["denoise"] = steps
        out["denoise_s"] = round(sum(s["total_s"] for s in steps), 3)
        return out


def instrument(probe: Probe) -> None:
    """Wrap what the backends call, so each phase is timed in place (nothing in engine/ changes)."""
    import diffusers

    from engine.backends.deepfloyd import IFBackend
    from engine.backends.ltx2 import LTX2Backend

    probe.wrap(IFBackend, "_text_encoder", "load_text_encoder")
    probe.wrap(IFBackend, "_load_stages", "load_unets")
    probe.wrap(LTX2Backend, "load_upsampler", "load_upsampler")
    pipelines = (
        "IFPipeline",
        "LTXConditionPipeline",
        "LTX2ConditionPipeline",
        "WanImageToVideoPipeline",
        "WanVACEPipeline",
        "StableDiffusionXLPipeline",
    )
    for name in pipelines:
        probe.wrap(getattr(diffusers, name), "encode_prompt", "encode_prompt")
    probe.wrap(diffusers.WanImageToVideoPipeline, "encode_image", "encode_image")
    # LTX-2's latent upsampler doubles the first pass's latents between its two denoising passes.
    probe.wrap(diffusers.LTX2LatentUpsamplePipeline, "__call__", "upsample")
    for name in ("AutoencoderKLLTXVideo", "AutoencoderKLLTX2Video", "AutoencoderKLWan", "AutoencoderKL"):
        probe.wrap(getattr(diffusers, name), "encode", "vae_encode")
        probe.wrap(getattr(diffusers, name), "decode", "vae_decode")
    probe.wrap(diffusers.AutoencoderKLLTX2Audio, "decode", "audio_decode")
