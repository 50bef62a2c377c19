"""The start-up check for libxcb-cursor finds the standalone build's own copy, not only the system's.

The packaged app carries libxcb-cursor.so.0 (Qt's xcb plugin links it; PyInstaller collects it
to the top of the bundle), so a desktop without the system package must still open the window.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from ui import app as ui_app

LIB = "libxcb-cursor.so.0"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def x11_without_system_cursor(monkeypatch):
    """An X11 desktop (no offscreen, no Wayland) whose system folders have no libxcb-cursor."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv(ui_app.HIDE_SYSTEM_LIBS_ENV, raising=False)
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)


def frozen_in(monkeypatch, folder) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(folder), raising=False)


def test_the_bundled_copy_passes_the_check(x11_without_system_cursor, monkeypatch, tmp_path):
    (tmp_path / LIB).write_bytes(b"\x7fELF")  # only its name is looked at
    frozen_in(monkeypatch, tmp_path)
    assert ui_app.find_shared_library("xcb-cursor", LIB) == str(tmp_path / LIB)
    assert ui_app.missing_qt_library() is None


def test_the_executables_folder_when_meipass_is_unset(x11_without_system_cursor, monkeypatch, tmp_path):
    (tmp_path / LIB).write_bytes(b"\x7fELF")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "pinframe"))
    assert ui_app.missing_qt_library() is None


def test_pyside6s_qt_lib_folder_is_looked_in(x11_without_system_cursor, monkeypatch, tmp_path):
    monkeypatch.delattr(sys, "frozen", raising=False)
    qt_lib = tmp_path / "PySide6" / "Qt" / "lib"
    qt_lib.mkdir(parents=True)
    (qt_lib / LIB).write_bytes(b"\x7fELF")
    import PySide6

    assert ui_app.bundled_library_dirs()[-1] == Path(next(iter(PySide6.__path__))) / "Qt" / "lib"
    monkeypatch.setattr(ui_app, "bundled_library_dirs", lambda: [qt_lib])
    assert ui_app.missing_qt_library() is None


def test_without_any_copy_the_window_is_refused_with_the_message(
    x11_without_system_cursor, monkeypatch, tmp_path, capsys
):
    frozen_in(monkeypatch, tmp_path)  # a bundle without the library
    assert ui_app.missing_qt_library() == LIB
    assert ui_app.run_gui() == ui_app.EXIT_NO_DISPLAY
    err = capsys.readouterr().err
    assert f"the system library {LIB} is missing" in err and "libxcb-cursor0" in err


def test_hide_system_libs_ignores_the_system_copy_only(monkeypatch, tmp_path):
    """PINFRAME_HIDE_SYSTEM_LIBS=1 (the smoke test's run): the system copy doesn't count, the bundle's does."""
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: f"/usr/lib/lib{name}.so.0")
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr(ui_app, "bundled_library_dirs", lambda: [tmp_path])
    assert ui_app.missing_qt_library() is None  # the system's copy
    monkeypatch.setenv(ui_app.HIDE_SYSTEM_LIBS_ENV, "1")
    assert ui_app.missing_qt_library() == LIB
    (tmp_path / LIB).write_bytes(b"\x7fELF")
    assert ui_app.missing_qt_library() is None


def load_smoke(name: str):
    """A packaging/ module by path (a top-level 'packaging' import would find the PyPI package)."""
    folder = ROOT / "packaging"
    sys.path.insert(0, str(folder))  # smoke_test imports its siblings by name
    try:
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def stand_in_bundle(folder: Path, carry: bool) -> Path:
    """A folder shaped like the built one whose `pinframe` runs this checkout as if frozen.

    sitecustomize sets sys.frozen and sys._MEIPASS (_internal/, as PyInstaller does), so the
    start-up check looks where it looks in the real bundle; ``carry`` puts libxcb-cursor there.
    """
    internal = folder / "_internal"
    (folder / "freeze").mkdir(parents=True)
    internal.mkdir()
    (internal / "resources").symlink_to(ROOT / "resources")
    (folder / "freeze" / "sitecustomize.py").write_text(
        f"import sys\nsys.frozen = True\nsys._MEIPASS = {str(internal)!r}\n", encoding="utf-8"
    )
    if carry:
        (internal / LIB).symlink_to(SYSTEM_LIB)
    exe = folder / "pinframe"
    exe.write_text(
        f'#!/bin/sh\nPYTHONPATH="{folder / "freeze"}:{ROOT}" exec "{sys.executable}" "{ROOT / "main.py"}" "$@"\n',
        encoding="utf-8",
    )
    exe.chmod(0o755)
    return folder


SYSTEM_LIB = Path("/usr/lib/x86_64-linux-gnu") / LIB


@pytest.mark.skipif(
    shutil.which("Xvfb") is None or not SYSTEM_LIB.exists(), reason="needs Xvfb and the system libxcb-cursor"
)
@pytest.mark.parametrize("carry", [True, False], ids=["bundle-carries-it", "bundle-lacks-it"])
def test_the_smoke_step_with_the_system_copy_hidden(tmp_path, carry):
    """The smoke test's step, on a stand-in bundle: passes when the bundle carries the library, fails when not."""
    smoke_test, smoke_gui = load_smoke("smoke_test"), load_smoke("smoke_gui")
    folder = stand_in_bundle(tmp_path / "pinframe", carry)
    runner = smoke_test.Runner(folder / "pinframe", tmp_path / "work")
    ok = runner.step(
        "window, X11, system libxcb-cursor hidden",
        lambda: smoke_gui.check_gui_x11_bundled_xcb_cursor(runner, folder, 6.0),
    )
    name, _, _, detail = runner.results[-1]
    assert ok is carry, detail
    if carry:
        assert "opened the demo" in detail and "_internal/libxcb-cursor.so.0" in detail
    else:
        assert "doesn't carry libxcb-cursor.so.0" in detail
        # Carrying it somewhere the check doesn't look is refused with the app's own message.
        (folder / "elsewhere").mkdir()
        (folder / "elsewhere" / LIB).symlink_to(SYSTEM_LIB)
        assert not runner.step(name, lambda: smoke_gui.check_gui_x11_bundled_xcb_cursor(runner, folder, 6.0))
        assert f"the system library {LIB} is missing" in runner.results[-1][3]
