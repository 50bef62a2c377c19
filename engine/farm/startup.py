"""Connecting to the farm's nodes: their names and versions, and one actor per GPU."""

from __future__ import annotations

from typing import Any

from engine.errors import EngineError
from engine.farm import versions
from engine.farm.slots import Slot

# How long to wait for the nodes' version reports and the GPU actors to start.
CONNECT_TIMEOUT_SECONDS = 180.0


def on_node(node_id: str) -> dict:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return {"num_cpus": 0, "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id, soft=False)}


def check_versions(ray, nodes: dict[str, dict]) -> dict[str, str]:
    """Every node's name, by node id; EngineError naming the first node that runs other versions."""
    probe = ray.remote(versions.probe_node)
    refs = {node_id: probe.options(**on_node(node_id)).remote() for node_id in nodes}
    reports: dict[str, dict] = {}
    for node_id, ref in refs.items():
        address = nodes[node_id].get("NodeManagerAddress", node_id[:8])
        try:
            reports[node_id] = ray.get(ref, timeout=CONNECT_TIMEOUT_SECONDS)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            raise EngineError(
                f"the farm node at {address} can't run Pinframe ({type(cause).__name__}: {cause}): install the "
                "same Pinframe version and requirements there as on this machine"
            ) from None
        except ray.exceptions.GetTimeoutError:
            raise EngineError(
                f"the farm node at {address} didn't answer within {CONNECT_TIMEOUT_SECONDS:.0f} s: is it "
                "overloaded, or its Ray worker processes failing to start? See its logs under "
                "/tmp/ray/session_latest/logs"
            ) from None
    names = distinct_names({node_id: r["name"] for node_id, r in reports.items()})
    mine = versions.versions()
    for node_id, report in reports.items():
        problem = versions.mismatch(names[node_id], report["versions"], mine)
        if problem:
            raise EngineError(problem)
    return names


def start_gpu_actors(
    ray,
    nodes: dict[str, dict],
    names: dict[str, str],
    *,
    gpu_resource: str,
    accelerator_type: str | None,
    min_vram_gb: float | None,
) -> list[Slot]:
    """One actor per GPU of ``gpu_resource`` (of ``accelerator_type``), those with less than
    ``min_vram_gb`` let go; EngineError when that leaves none."""
    from engine.farm.gpu_actor import GpuWorker

    wanted = f"accelerator_type:{accelerator_type}" if accelerator_type else ""
    options: dict[str, Any] = {"max_restarts": -1, "max_task_retries": 0}
    if gpu_resource == "GPU":
        options["num_gpus"] = 1
    else:
        options["resources"] = {gpu_resource: 1}
    if accelerator_type:
        options["accelerator_type"] = accelerator_type
    actor_class = ray.remote(GpuWorker)
    actors = []
    types: set[str] = set()
    for node_id, node in nodes.items():
        have = node.get("Resources", {})
        types |= {k.split(":", 1)[1] for k in have if k.startswith("accelerator_type:")}
        if wanted and wanted not in have:
            continue
        for index in range(int(have.get(gpu_resource, 0))):
            actor = actor_class.options(**options, **on_node(node_id)).remote(index)
            actors.append((actor, node_id))
    if wanted and not actors:
        offered = ", ".join(sorted(types)) or "no GPU types Ray knows of"
        raise EngineError(
            f"the farm has no GPU of type {accelerator_type} (its nodes have {offered}): pick one of those "
            "types, or leave the GPU type out"
        )
    infos = ray.get([a.info.remote() for a, _ in actors], timeout=CONNECT_TIMEOUT_SECONDS)
    slots = [
        Slot(actor, info, names.get(node_id, info["node"]))
        for (actor, node_id), info in zip(actors, infos, strict=True)
    ]
    if min_vram_gb:
        small = [s for s in slots if s.vram_gb < min_vram_gb]
        for slot in small:
            kill(ray, slot.actor)  # it gets no jobs, so it must not hold its GPU either
        slots = [s for s in slots if s.vram_gb >= min_vram_gb]
        if not slots and small:
            largest = max(s.vram_gb for s in small)
            raise EngineError(
                f"no GPU on the farm has {min_vram_gb:g} GB of memory (the largest has {largest:g} GB): "
                "lower the minimum VRAM, or add bigger GPUs"
            )
    return sorted(slots, key=lambda s: (s.node, s.index))


def kill(ray, actor) -> None:
    try:
        ray.kill(actor)
    except Exception:  # noqa: BLE001 - the cluster may already be gone
        pass


def distinct_names(names: dict[str, str]) -> dict[str, str]:
    """Node id -> a name to show; nodes that report the same name get their id's start added."""
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name] = seen.get(name, 0) + 1
    return {node_id: name if seen[name] == 1 else f"{name} ({node_id[:6]})" for node_id, name in names.items()}
