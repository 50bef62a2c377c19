"""Shared fixtures: small real projects and bundles in temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tests never reach a model hub, and Qt never needs a screen.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.document import KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.timecode import FrameRate
from tests.engine import tiny_models
from tests.helpers import png_bytes  # noqa: F401  (re-exported for tests)


@pytest.fixture
def project() -> Project:
    """Two scenes, three shots, a pinned keyframe (no media on disk)."""
    from app.media_ref import MediaRef

    take = KeyframeTake(new_id(), MediaRef("ab" * 32, "png"), 64, 36)
    shots = (
        Shot(new_id(), "1", 48, prompt="a rooftop at night", keyframe_takes=(take,), pins=(Pin(0, take.id),)),
        Shot(new_id(), "2", 24, action="She turns."),
    )
    return Project(
        name="Test",
        rate=FrameRate(24000, 1001),
        scenes=(
            Scene(new_id(), "EXT. ROOF - NIGHT", shots=shots),
            Scene(new_id(), "INT. HALL", shots=(Shot(new_id(), "3", 30),)),
        ),
    )


@pytest.fixture
def bundle_path(tmp_path: Path) -> Path:
    return tmp_path / "Test.pinframe"


# Tiny random-weight pipeline folders (diffusers layout, safetensors), built once per session.


@pytest.fixture(scope="session")
def tiny_if_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build_tiny_if(tmp_path_factory.mktemp("models") / "tiny-if")


@pytest.fixture(scope="session")
def tiny_if_sr_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build_tiny_if_sr(tmp_path_factory.mktemp("models") / "tiny-if-sr")


@pytest.fixture(scope="session")
def tiny_sd_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")


@pytest.fixture(scope="session")
def tiny_ltx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build_tiny_ltx(tmp_path_factory.mktemp("models") / "tiny-ltx")


@pytest.fixture(scope="session")
def tiny_wan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_models.build_tiny_wan(tmp_path_factory.mktemp("models") / "tiny-wan")


@pytest.fixture(scope="session")
def tiny_ltx2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.engine.tiny_ltx2 import build_tiny_ltx2

    return build_tiny_ltx2(tmp_path_factory.mktemp("models") / "tiny-ltx2")


@pytest.fixture(scope="session")
def tiny_wan22_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.engine.tiny_wan_family import build_tiny_wan22

    return build_tiny_wan22(tmp_path_factory.mktemp("models") / "tiny-wan22")


@pytest.fixture(scope="session")
def tiny_vace_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.engine.tiny_wan_family import build_tiny_wan_vace

    return build_tiny_wan_vace(tmp_path_factory.mktemp("models") / "tiny-vace")
