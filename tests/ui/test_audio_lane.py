"""The audio lane: importing a soundtrack from the window puts it at the playhead."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

from tests.ui.conftest import run_until


def tone(path: Path, seconds: float = 3.0, rate: int = 48000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


def test_import_audio_from_the_window_lands_at_the_playhead(qapp, loop, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.app import create_application
    from ui.main_window import MainWindow

    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    create_application().setQuitOnLastWindowClosed(False)
    window = MainWindow(Engine(tmp_path / "cache", DeviceSettings(device="cpu")))
    try:
        assert loop.run_until_complete(window.open_demo())
        demo_audio = window.state.project.audio  # the demo's own ambience track
        window.state.set_playhead(30)
        assert loop.run_until_complete(window.import_audio(tone(tmp_path / "temp score.wav", 1.0)))
        *before, clip = window.state.project.audio
        assert tuple(before) == demo_audio
        assert (clip.start, clip.name) == (30, "temp score.wav")
        bad = tmp_path / "notes.txt"
        bad.write_text("not audio")
        assert not loop.run_until_complete(window.import_audio(bad))
        run_until(loop, lambda: "can't be stored" in window.statusBar().currentMessage(), timeout=5)
    finally:
        loop.run_until_complete(window.close_project())
        window.bridge.shutdown()
        window.deleteLater()
