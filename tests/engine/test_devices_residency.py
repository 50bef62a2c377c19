"""Device settings and the model pool's budget, LRU order and unloading."""

from __future__ import annotations

import pytest
import torch

from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.jobs import ModelSpec
from engine.residency import ModelPool


def test_settings_reject_unknown_values_with_the_choices():
    with pytest.raises(EngineError, match="cuda, mps, cpu"):
        DeviceSettings(device="tpu")
    with pytest.raises(EngineError, match="fp16, bf16, fp32"):
        DeviceSettings(precision="int4")


def test_cpu_runs_full_precision_unless_asked():
    assert DeviceSettings(device="cpu").torch_dtype() is torch.float32
    assert DeviceSettings(device="cpu", precision="bf16").torch_dtype() is torch.bfloat16
    assert DeviceSettings(device="cpu", memory_budget_gb=2).budget_bytes() == 2 * 1024**3


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_asking_for_a_missing_gpu_says_what_to_choose():
    with pytest.raises(EngineError, match="no CUDA GPU"):
        DeviceSettings(device="cuda").resolve_device()


class Weights:
    """A loaded model of a given size (what the pool manages, not what it is tested for)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.closed = False

    def memory_bytes(self) -> int:
        return 0 if self.closed else self.size

    def close(self) -> None:
        self.closed = True


def make_pool(budget: int, sizes: dict[str, int]) -> tuple[ModelPool, dict[str, Weights]]:
    loaded: dict[str, Weights] = {}

    def loader(spec: ModelSpec) -> Weights:
        loaded[spec.path] = Weights(sizes[spec.path])
        return loaded[spec.path]

    return ModelPool(loader, budget, estimate=lambda spec: sizes[spec.path]), loaded


def spec(name: str) -> ModelSpec:
    return ModelSpec("ltx", name)


def test_models_stay_resident_within_the_budget_and_the_least_recent_goes_first():
    pool, loaded = make_pool(100, {"a": 40, "b": 40, "c": 40})
    pool.get(spec("a"))
    pool.get(spec("b"))
    pool.get(spec("a"))  # a is now the most recent
    pool.get(spec("c"))  # needs room: b goes, not a
    assert pool.resident_keys() == [spec("a").key, spec("c").key]
    assert loaded["b"].closed and not loaded["a"].closed
    pool.get(spec("a"))
    assert pool.loads == 3, "a was still resident: no reload"


def test_a_model_bigger_than_the_budget_still_loads_alone():
    pool, loaded = make_pool(50, {"small": 10, "huge": 80})
    pool.get(spec("small"))
    pool.get(spec("huge"))
    assert pool.resident_keys() == [spec("huge").key] and loaded["small"].closed


def test_unload_all_closes_everything():
    pool, loaded = make_pool(1000, {"a": 1, "b": 1})
    pool.get(spec("a"))
    pool.get(spec("b"))
    pool.unload_all()
    assert pool.resident_keys() == [] and all(w.closed for w in loaded.values())
