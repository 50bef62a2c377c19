"""UI fixtures: a qasync loop, an editor state on a real small project, a CPU engine bridge."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app.document import KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.session import ProjectSession
from app.timecode import FrameRate
from tests.engine.test_runtime import pin_file

# Closed test loops are kept for the whole session. A qasync loop owns a QObject with live Qt
# timers; if the loop were garbage-collected later from a worker thread (executor futures hold
# references to it), Qt would destroy that object off its thread without unregistering the
# timers, and a later test would segfault when one fires. The app has one loop for its life.
_CLOSED_LOOPS: list = []


@pytest.fixture
def loop(qapp):
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()  # joins the executor threads, as leaving `with loop:` does in the app
    asyncio.set_event_loop(None)
    _CLOSED_LOOPS.append(loop)


def run_until(loop, predicate, timeout: float = 60.0) -> None:
    """Run the event loop (Qt events and asyncio tasks) until ``predicate()`` is true."""

    async def wait() -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for the UI")
            await asyncio.sleep(0.01)

    loop.run_until_complete(wait())


def small_project(bundle_media, tmp_path: Path) -> Project:
    """Scene 1: shots 1 (48 fr, pins 0 and 47) and 2 (24 fr, pin 0); scene 2: shot 3 (24 fr, no pins)."""
    takes = [
        KeyframeTake(new_id(), bundle_media.put_file(pin_file(tmp_path, f"k{i}.png", i, size=(160, 90))), 160, 90)
        for i in range(3)
    ]
    s1 = Shot(
        new_id(),
        "1",
        48,
        prompt="a door opens",
        keyframe_takes=tuple(takes[:2]),
        pins=(Pin(0, takes[0].id), Pin(47, takes[1].id)),
    )
    s2 = Shot(new_id(), "2", 24, prompt="she turns", keyframe_takes=(takes[2],), pins=(Pin(0, takes[2].id),))
    s3 = Shot(new_id(), "3", 24, prompt="an empty hall")
    return Project(
        "UI test",
        FrameRate(24),
        width=320,
        height=180,
        scenes=(Scene(new_id(), "INT. HOUSE - NIGHT", shots=(s1, s2)), Scene(new_id(), "EXT. STREET", shots=(s3,))),
    )


@pytest.fixture
def editor(qapp, loop, tmp_path):
    from ui.state import EditorState

    path = tmp_path / "UI.pinframe"
    session = ProjectSession.create(path, Project("UI test", FrameRate(24), width=320, height=180))
    project = small_project(session.media, tmp_path)
    session.bundle.save(project)
    session.close()
    session = ProjectSession.open(path)
    state = EditorState()
    state.attach(session)
    yield state
    state.attach(None)
    session.close()


@pytest.fixture
def bridge(editor, tmp_path):
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.engine_bridge import EngineBridge

    engine = Engine(tmp_path / "engine-cache", DeviceSettings(device="cpu", precision="fp32"), preview_every=1)
    b = EngineBridge(editor, engine)
    yield b
    b.shutdown()
