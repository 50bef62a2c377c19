"""Starting the Qt application on a qasync event loop."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

EXIT_NO_DISPLAY = 1


def has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# Debian/Ubuntu packages Qt's X11 plugin loads; most desktops have them, minimal installs don't.
QT_XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0 "
    "libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3"
)


# Set to 1 by packaging/smoke_test.py only: the start-up check then ignores the system's copy of
# the libraries below, so one smoke run proves the bundle's own copy is found. (The dynamic loader
# can't be told to skip /usr/lib, and LD_LIBRARY_PATH only adds folders, so the check is what hides it.)
HIDE_SYSTEM_LIBS_ENV = "PINFRAME_HIDE_SYSTEM_LIBS"


def bundled_library_dirs() -> list[Path]:
    """Folders where a standalone build or the PySide6 wheel keeps shared libraries, besides the system's.

    PyInstaller puts the libraries it collects from system folders (libxcb-cursor.so.0, which
    Qt's xcb plugin links) at the top of the bundle (sys._MEIPASS; when frozen and that is unset,
    the executable's folder), and Qt's own libraries under PySide6/Qt/lib.
    """
    dirs: list[Path] = []
    if getattr(sys, "frozen", False):
        dirs.append(Path(getattr(sys, "_MEIPASS", None) or Path(sys.executable).resolve().parent))
    try:
        import PySide6

        dirs.append(Path(next(iter(PySide6.__path__))) / "Qt" / "lib")
    except (ImportError, StopIteration):
        pass
    return dirs


def find_shared_library(name: str, soname: str) -> str | None:
    """Where ``soname`` (e.g. libxcb-cursor.so.0) would be loaded from, or None.

    The bundle's folders first (an exact file name, one stat() a folder), then the system's
    (ctypes.util.find_library("xcb-cursor") reads ldconfig's cache), unless PINFRAME_HIDE_SYSTEM_LIBS=1.
    """
    for folder in bundled_library_dirs():
        candidate = folder / soname
        if candidate.is_file():
            return str(candidate)
    if os.environ.get(HIDE_SYSTEM_LIBS_ENV) == "1":
        return None
    import ctypes.util

    return ctypes.util.find_library(name)


def missing_qt_library() -> str | None:
    """Name of a system library Qt's X11 plugin can't load, or None when it will start.

    Qt aborts the process (a core dump, no message a person can use) when its platform plugin
    can't load, so look before starting it.
    """
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    import ctypes

    import PySide6

    plugin = Path(next(iter(PySide6.__path__))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if plugin.exists():
        try:
            ctypes.CDLL(str(plugin))
        except OSError as exc:
            return str(exc).split(":")[0]
    if find_shared_library("xcb-cursor", "libxcb-cursor.so.0") is None:  # loaded by Qt at run time
        return "libxcb-cursor.so.0"
    return None


def create_application(argv: list[str] | None = None):
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.paths import resources_dir
    from ui.theme import apply_dark_theme

    existing = QApplication.instance()  # typed QCoreApplication; the GUI's is a QApplication
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("Pinframe")
    app.setOrganizationName("Pinframe")
    # The window icon shows in X11 task bars and on Windows; on Wayland the compositor takes
    # the icon from the desktop entry the app id names (packaging/pinframe.desktop).
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "pinframe.svg")))
    app.setDesktopFileName("pinframe")
    apply_dark_theme(app)
    return app


def run_gui(project: str | None = None, demo: bool = False) -> int:
    if not has_display():
        # Without this check Qt aborts with a core dump and a wall of plugin errors.
        print(
            "pinframe: no display found (DISPLAY is not set); run it on a desktop, "
            "or use the command-line tools (pinframe --help)",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY
    missing = missing_qt_library()
    if missing:
        print(
            f"pinframe: Qt can't open a window: the system library {missing} is missing; install Qt's "
            f"X11 libraries, e.g. 'sudo apt install {QT_XCB_PACKAGES}'",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY
    import qasync

    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    open_window(project, demo)
    quit_event = asyncio.Event()
    app.aboutToQuit.connect(quit_event.set)
    with loop:
        loop.run_until_complete(quit_event.wait())
    return 0


def open_window(project: str | None = None, demo: bool = False, engine=None):
    """Show the main window with ``project`` or the demo opening, or, given neither, the start screen.

    Call it with the application and its qasync loop made (opening runs on that loop).
    """
    from ui.main_window import MainWindow
    from ui.start_screen import show_start_screen

    window = MainWindow(engine)
    window.show()
    if demo:
        window.spawn(window.open_demo())
    elif project:
        window.spawn(window.open_project(project))
    else:
        show_start_screen(window)  # recent projects, New, Open, the demo; Esc leaves the empty editor
    return window
