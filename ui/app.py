"""Starting the Qt application on a qasync event loop."""

from __future__ import annotations

import asyncio
import os
import sys

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


def missing_qt_library() -> str | None:
    """Name of a system library Qt's X11 plugin can't load, or None when it will start.

    Qt aborts the process (a core dump, no message a person can use) when its platform plugin
    can't load, so look before starting it.
    """
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    import ctypes
    import ctypes.util
    from pathlib import Path

    import PySide6

    plugin = Path(next(iter(PySide6.__path__))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if plugin.exists():
        try:
            ctypes.CDLL(str(plugin))
        except OSError as exc:
            return str(exc).split(":")[0]
    if ctypes.util.find_library("xcb-cursor") is None:  # loaded by Qt at run time, not linked
        return "libxcb-cursor.so.0"
    return None


def create_application(argv: list[str] | None = None):
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.paths import resources_dir
    from ui.theme import apply_dark_theme

    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
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

    from ui.main_window import MainWindow

    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow()
    window.show()
    if demo:
        window.spawn(window.open_demo())
    elif project:
        window.spawn(window.open_project(project))
    quit_event = asyncio.Event()
    app.aboutToQuit.connect(quit_event.set)
    with loop:
        loop.run_until_complete(quit_event.wait())
    return 0
