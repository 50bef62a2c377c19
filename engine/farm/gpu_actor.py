"""One Ray actor per GPU: it stays on its GPU and keeps its loaded pipelines between jobs.

Ray gives an actor created with ``num_gpus=1`` one GPU for the actor's whole life (it sets
``CUDA_VISIBLE_DEVICES`` in the actor's process), so a model loaded there is always on the GPU
the next job of that model runs on. The models live in :mod:`engine.residency`'s pool (through
:mod:`engine.farm.worker`), evicted least-recently-used when a new one would not fit the GPU's
budget. The executor keeps the actors for its own lifetime: the window's farm connection keeps
them, and so the models, from one render to the next.
"""

from __future__ import annotations

import os

# Set on a node (in the environment `ray start` runs in) to give its fake GPUs a size: for a
# cluster whose GPUs are a custom resource (tests, or GPUs Ray doesn't detect).
FAKE_VRAM_ENV = "PINFRAME_FAKE_VRAM_GB"


class GpuWorker:
    def __init__(self, index_hint: int) -> None:
        self._index_hint = index_hint

    def info(self) -> dict:
        """Where this actor is and what GPU it has: node, GPU index, name, VRAM in GB."""
        import ray

        from engine.farm.versions import node_name

        context = ray.get_runtime_context()
        gpu_ids = context.get_accelerator_ids().get("GPU") or []
        name, vram = "fake GPU", float(os.environ.get(FAKE_VRAM_ENV, "0") or 0)
        if gpu_ids:
            name, vram = _cuda_device(name, vram)
        return {
            "node_id": context.get_node_id(),
            "node": node_name(),
            "index": int(gpu_ids[0]) if gpu_ids else self._index_hint,
            "name": name,
            "vram_gb": vram,
            "pid": os.getpid(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", ""),
        }

    def run(self, request: dict, hub, *pin_chunks: bytes) -> dict:
        from engine.farm.worker import run_job

        return run_job(request, hub, pin_chunks)


def _cuda_device(name: str, vram: float) -> tuple[str, float]:
    try:
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            return props.name, props.total_memory / (1 << 30)
    except Exception:  # noqa: BLE001 - a GPU torch can't see is reported as unknown
        pass
    return name, vram
