"""Engine test fixtures (the tiny model folders live in tests/conftest.py, shared with app tests)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch


@pytest.fixture
def single_thread() -> Iterator[None]:
    """Tiny models on a busy 2-core machine: one torch thread is many times faster (tests/engine/tiny_models.py)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def engine(tmp_path: Path):
    """A CPU engine with room for every tiny model at once; shut down after the test."""
    from engine.devices import DeviceSettings
    from engine.runtime import Engine

    e = Engine(tmp_path / "cache", DeviceSettings(device="cpu", precision="fp32"), budget_bytes=1 << 34)
    yield e
    e.shutdown()
