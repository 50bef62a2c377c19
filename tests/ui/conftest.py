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
def messages(editor) -> list[str]:
    """What the window would show in its status bar (EditorState.message), in order."""
    said: list[str] = []
    editor.message.connect(said.append)
    return said


@pytest.fixture
def bridge(editor, tmp_path):
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.engine_bridge import EngineBridge

    engine = Engine(tmp_path / "engine-cache", DeviceSettings(device="cpu", precision="fp32"), preview_every=1)
    b = EngineBridge(editor, engine)
    yield b
    b.shutdown()


PPF = 8.0  # timeline pixels a frame: shot 1 (48 frames) is 384 px wide, room for precise drags


@pytest.fixture
def timeline(qtbot, editor, loop):
    from ui.timeline import TimelineWidget

    w = TimelineWidget(editor)
    qtbot.addWidget(w)
    w.resize(1200, 200)
    w.set_pixels_per_frame(PPF)
    w.show()
    qtbot.waitExposed(w)
    yield w
    # Let thumbnail decodes started by painting finish before the loop closes under them.
    run_until(loop, lambda: w.thumbnails_pending() == 0, timeout=10)


@pytest.fixture
def panel(qtbot, editor, bridge, loop, tmp_path, monkeypatch):
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))  # an empty model list, not the user's
    from ui.keyframe_panel import KeyframePanel

    widget = KeyframePanel(editor, bridge)
    qtbot.addWidget(widget)
    widget.resize(560, 820)
    widget.show()
    return widget


@pytest.fixture
def window(qtbot, loop, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.app import create_application
    from ui.main_window import MainWindow

    app = create_application()
    app.setQuitOnLastWindowClosed(False)  # closing one window must not stop the test's event loop
    w = MainWindow(Engine(tmp_path / "engine-cache", DeviceSettings(device="cpu", precision="fp32")))
    w.show()
    yield w
    # Close the project on the running loop first; then the window has nothing left to save.
    loop.run_until_complete(w.close_project())
    w.close()
    w.bridge.shutdown()
    w.deleteLater()
