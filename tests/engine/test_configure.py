"""Engine.configure: a queued control job that unloads resident models, then swaps device settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.devices import DeviceSettings
from engine.errors import EngineError
from engine.events import Failed, Finished
from engine.jobs import Reconfigure, job_from_dict, job_to_dict
from engine.runtime import Engine
from tests.engine.test_runtime import SKETCH, run, sketch_job


@pytest.fixture
def engine(tmp_path: Path):
    e = Engine(tmp_path / "cache", DeviceSettings(device="cpu"), budget_bytes=1 << 30, preview_every=1)
    yield e
    e.shutdown()


def test_configure_unloads_models_and_switches_settings(engine):
    assert isinstance(run(engine, sketch_job(seeds=(1,)))[-1], Finished)
    assert engine.pool.is_resident(SKETCH)

    stream = engine.events()
    job_id = engine.configure(DeviceSettings(device="cpu", precision="bf16", memory_budget_gb=2))
    ended = [e for e in stream.until_done({job_id}, timeout=30) if e.job_id == job_id][-1]
    stream.close()

    assert isinstance(ended, Finished) and ended.outputs == ()
    assert engine.settings.precision == "bf16"
    assert engine.pool.resident_keys() == []
    assert engine.pool.budget_bytes == 2 * 1024**3  # the pool follows the new budget

    # The engine keeps working after the switch, and loads the model again under the new settings.
    later = run(engine, sketch_job(seeds=(2,), prompt="after the switch"))
    assert isinstance(later[-1], Finished) and later[-1].outputs[0].seed == 2
    assert engine.pool.is_resident(SKETCH)
    assert engine.pool.load_counts[SKETCH.key] == 2


def test_configure_rejects_a_missing_device_before_queueing(engine, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(EngineError, match="no CUDA GPU"):
        engine.configure(DeviceSettings(device="cuda"))
    assert engine.queued_jobs() == [] and engine.settings.device == "cpu"


def test_configure_that_fails_on_the_worker_changes_nothing(engine, monkeypatch):
    # The device vanished between the check and the worker reaching the job (say, an eGPU unplugged).
    run(engine, sketch_job(seeds=(1,)))
    stream = engine.events()

    def device_gone(self: DeviceSettings) -> int:
        raise EngineError("gone")

    monkeypatch.setattr(DeviceSettings, "budget_bytes", device_gone)
    job_id = engine.configure(DeviceSettings(device="cpu", precision="fp16"))
    ended = [e for e in stream.until_done({job_id}, timeout=30) if e.job_id == job_id][-1]
    stream.close()
    assert isinstance(ended, Failed) and ended.message == "gone"
    assert engine.settings.precision == "auto" and engine.pool.is_resident(SKETCH)


def test_reconfigure_job_round_trips_through_a_dict():
    job = Reconfigure(DeviceSettings(device="cpu", precision="fp32", cpu_offload=True, memory_budget_gb=6.5))
    assert job_from_dict(job_to_dict(job)) == job
