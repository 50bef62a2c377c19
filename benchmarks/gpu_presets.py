"""Memory presets of the GPU benchmark, and which architectures it runs for the registry's backends.

A preset is a set of ``DeviceSettings`` memory fields; ``recommended`` reads the registry's
``vram_preset`` for the model, so the benchmark measures what the README recommends.
"""

from __future__ import annotations

import re

from gpu_architectures import ARCHITECTURES, Architecture

from engine.backend_registry import BackendInfo, backends, get_backend

MEMORY_FIELDS = ("cpu_offload", "group_offload", "vae_tiling", "fp8_storage")  # DeviceSettings fields
PRESETS: dict[str, dict[str, bool]] = {
    "none": {"vae_tiling": False},
    "offload": {"vae_tiling": False, "cpu_offload": True},
    "group-offload": {"vae_tiling": False, "group_offload": True},
    "vae-tiling": {"vae_tiling": True},
    "fp8": {"vae_tiling": False, "fp8_storage": True},
}
RECOMMENDED = "recommended"
ALL_PRESETS = (*PRESETS, RECOMMENDED)
# engine.backends.diffusers_common.place() applies these on a CUDA device only (elsewhere it ignores them).
CUDA_ONLY = ("cpu_offload", "group_offload", "fp8_storage")
# The words of the registry's vram_preset, and the settings each turns on.
PRESET_TERMS: dict[str, dict[str, bool]] = {
    "all on the GPU": {},
    "model CPU offload": {"cpu_offload": True},
    "group offload": {"group_offload": True},
    "VAE tiling": {"vae_tiling": True},
    "fp8 layerwise storage": {"fp8_storage": True},
}


def recommended_terms(info: BackendInfo, variant: str) -> list[str]:
    """The terms of the registry's vram_preset that apply to one model of the backend.

    Terms are separated by commas (and ";"); a "(qualifier)" closes a group of terms meant for one model
    variant, as in "model CPU offload, fp8 layerwise storage (A14B); all on the GPU (5B)". Terms outside any
    group are for every model of the backend.
    """
    groups: list[tuple[list[str], str]] = []
    for chunk in info.vram_preset.split(";"):
        pending: list[str] = []
        for raw in chunk.split(","):
            term = raw.strip()
            qualified = re.fullmatch(r"(.+?)\s*\((.+)\)", term)
            if qualified:
                groups.append(([*pending, qualified[1]], qualified[2]))
                pending = []
            elif term:
                pending.append(term)
        if pending:
            groups.append((pending, ""))
    terms = [t for group, qualifier in groups if qualifier.lower() in ("", variant.lower()) for t in group]
    if not terms:
        raise ValueError(
            f"the {info.name} backend's vram_preset ({info.vram_preset!r}) names nothing for the {variant} model; "
            "give the variant in the registry or fix Architecture.variant in benchmarks/gpu_architectures.py"
        )
    unknown = [t for t in terms if t not in PRESET_TERMS]
    if unknown:
        raise ValueError(
            f"the {info.name} backend's vram_preset uses {', '.join(map(repr, unknown))}, which the benchmark can't "
            f"turn into settings; add it to PRESET_TERMS in benchmarks/gpu_presets.py"
        )
    return terms


def preset_flags(preset: str, arch: Architecture) -> dict[str, bool]:
    """The memory settings of a preset; ``recommended`` starts from the app's defaults (VAE tiling on)."""
    if preset != RECOMMENDED:
        return dict(PRESETS[preset])
    from engine.devices import DeviceSettings

    flags = {name: bool(getattr(DeviceSettings(), name)) for name in MEMORY_FIELDS}
    for term in recommended_terms(get_backend(arch.backend), arch.variant):
        flags.update(PRESET_TERMS[term])
    return flags


def model_backends() -> tuple[BackendInfo, ...]:
    return tuple(b for b in backends() if b.needs_model)


def all_architectures() -> list[Architecture]:
    """Every architecture, in the registry's order of backends (a backend unknown to the registry is an error)."""
    for arch in ARCHITECTURES:
        get_backend(arch.backend)
    return [a for b in model_backends() for a in ARCHITECTURES if a.backend == b.name]


def uncovered_backends() -> list[str]:
    """Registry backends with a model but no real-size architecture to benchmark them with."""
    return [b.name for b in model_backends() if not any(a.backend == b.name for a in ARCHITECTURES)]


def select(names: str) -> list[Architecture]:
    """``--models``: architecture names and backend names (all of that backend's architectures), in the order
    given (a backend's architectures in table order); all of them, in table order, when none is given."""
    order = list(dict.fromkeys(n.strip() for n in names.split(",") if n.strip()))
    wanted = set(order)
    known = {a.name for a in ARCHITECTURES} | {a.backend for a in ARCHITECTURES}
    unknown = sorted(wanted - known)
    if unknown:
        raise SystemExit(
            f"unknown --models {', '.join(unknown)}; use architectures ({', '.join(a.name for a in ARCHITECTURES)}) "
            f"or backends ({', '.join(dict.fromkeys(a.backend for a in ARCHITECTURES))})"
        )
    every = all_architectures()
    if not order:
        return every
    picked = [a for name in order for a in every if name in (a.name, a.backend)]
    return list(dict.fromkeys(picked))  # an architecture named twice (by name and by backend) runs once
