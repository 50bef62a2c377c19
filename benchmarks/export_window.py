"""Export of the demo project from the window against the same export from the command line.

Both export the same freshly written demo project (app/demo.py) with the same default formats
in the same run: the CLI as ``main.py export`` in a child process, the window as a person
does it (a real MainWindow with its engine, File ▸ Export, the Export button) on an offscreen
(or Xvfb) display. Times are the exports' own ("Took N s" in each export report), so Python
and Qt start-up don't count; the child process's wall time is printed too. While the window
exports, a 10 ms Qt timer measures the longest the GUI thread went without running it. CPU
seconds are printed as well: on a shared machine they say more than wall time (the CLI's
include its start-up, the window's everything its process did meanwhile).

Target: window/CLI <= 1.10 (they run the same code; only the process around it differs).

With ``--render flow`` the demo's shots are rendered first (``main.py render``), so the export
decodes rendered clips rather than crossfading pins.

Run: .venv/bin/python benchmarks/export_window.py [--repeats 1] [--formats movies,reference,...]
     [--codec prores] [--order window-first|cli-first] [--render flow]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 1.10


def took(folder: Path) -> float:
    """The export's own time, from the report it wrote."""
    text = (folder / "export-report.txt").read_text(encoding="utf-8")
    found = re.search(r"Took ([0-9.]+) s\.", text)
    if found is None:
        raise SystemExit(f"no 'Took' line in {folder / 'export-report.txt'}")
    return float(found.group(1))


def cli_export(bundle: Path, out: Path, formats: str, codec: str) -> tuple[float, float, float]:
    """Export in a child process; returns (export seconds, process wall seconds, process CPU seconds)."""
    cmd = [sys.executable, str(ROOT / "main.py"), "export", str(bundle), "--to", str(out),
           "--formats", formats, "--codec", codec]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"CLI export failed ({done.returncode}):\n{done.stderr}")
    return took(out), wall, cpu


class WindowRun:
    """One QApplication and MainWindow for every window export of this run, as in the app."""

    def __init__(self, settings_dir: Path) -> None:
        import qasync
        from PySide6.QtCore import QSettings

        from ui.app import create_application

        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(settings_dir))
        self.app = create_application()
        self.app.setQuitOnLastWindowClosed(False)
        self.loop = qasync.QEventLoop(self.app)
        asyncio.set_event_loop(self.loop)
        from ui.main_window import MainWindow

        self.window = MainWindow()
        self.window.resize(1280, 720)
        self.window.show()

    def open(self, bundle: Path) -> None:
        if not self.loop.run_until_complete(self.window.open_project(bundle)):
            raise SystemExit(f"the window couldn't open {bundle}")
        # Let the window settle as it does for a person (thumbnails, the viewer's frame, drafts).
        self.loop.run_until_complete(asyncio.sleep(2.0))

    def export(
        self, out: Path, formats: set[str], codec: str, handles: int | None = None
    ) -> tuple[float, float, float, int]:
        """Export through the dialog; returns (export seconds, CPU seconds of the whole window process,
        longest GUI stall in s, progress updates)."""
        from PySide6.QtCore import QTimer

        dialog = self.window.show_export()
        if dialog is None:
            raise SystemExit("File ▸ Export is not available")
        dialog.open_when_done = False
        for key, check in dialog.format_checks.items():
            check.setChecked(key in formats)
        dialog.codec.setCurrentIndex(dialog.codec.findData(codec))
        dialog.own_handles.setChecked(handles is None)
        dialog.handles.setValue(handles or 0)
        dialog.destination.setText(str(out))
        updates = [0]
        dialog.progress.valueChanged.connect(lambda _v: updates.__setitem__(0, updates[0] + 1))
        stall = [0.0]
        last = [time.perf_counter()]

        def beat() -> None:
            now = time.perf_counter()
            stall[0] = max(stall[0], now - last[0])
            last[0] = now

        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(beat)
        timer.start()
        cpu = time.process_time()
        dialog.export_button.click()

        async def finished() -> None:
            while dialog.running or (dialog.report is None and not dialog.error):
                await asyncio.sleep(0.02)

        self.loop.run_until_complete(finished())
        cpu = time.process_time() - cpu
        timer.stop()
        if dialog.error:
            raise SystemExit(f"window export failed: {dialog.error}")
        dialog.close()
        return took(out), cpu, stall[0], updates[0]

    def close(self) -> None:
        self.loop.run_until_complete(self.window.close_project())
        self.window.close()
        self.window.bridge.shutdown()
        self.window.deleteLater()
        self.loop.run_until_complete(asyncio.sleep(0.5))  # let the window's threads see it go
        self.loop.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="best of this many exports each")
    parser.add_argument("--formats", default="", help="comma-separated (default: the Export dialog's defaults)")
    parser.add_argument("--codec", default="prores")
    parser.add_argument("--order", choices=("window-first", "cli-first"), default="cli-first")
    parser.add_argument("--render", metavar="MODEL", help="render the shots with this motion model first (flow)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from app.demo import write_demo
    from app.export.plan import DEFAULT_FORMATS, FORMATS

    formats = set(args.formats.split(",")) if args.formats else set(DEFAULT_FORMATS)
    formats_arg = ",".join(k for k in FORMATS if k in formats)
    with tempfile.TemporaryDirectory(prefix="pinframe-export-bench-") as tmp_name:
        tmp = Path(tmp_name)
        # The window's data, cache and settings stay in the temporary folder.
        os.environ["PINFRAME_DATA_DIR"] = str(tmp / "data")
        os.environ["PINFRAME_CACHE_DIR"] = str(tmp / "cache")
        bundle = write_demo(tmp / "project")
        if args.render:
            cmd = [sys.executable, str(ROOT / "main.py"), "render", str(bundle), "--model", args.render]
            if subprocess.run(cmd, capture_output=True).returncode != 0:
                raise SystemExit(f"couldn't render the demo with {args.render}: {' '.join(cmd)}")
        rendered = f" rendered with {args.render}" if args.render else ""
        print(f"demo project: {bundle.name}{rendered}; formats: {formats_arg}; codec: {args.codec}; "
              f"{os.cpu_count()} CPUs; best of {args.repeats}")  # fmt: skip
        run = WindowRun(tmp / "settings")
        run.open(bundle)
        cli_times, win_times, stalls = [], [], []
        try:
            for i in range(args.repeats):
                order = ("cli", "window") if args.order == "cli-first" else ("window", "cli")
                for who in order:
                    out = tmp / f"{who}-{i}"
                    if who == "cli":
                        seconds, wall, cpu = cli_export(bundle, out, formats_arg, args.codec)
                        cli_times.append(seconds)
                        print(f"  CLI    export {seconds:6.1f} s  (process {wall:.1f} s, CPU {cpu:.1f} s)")
                    else:
                        seconds, cpu, stall, updates = run.export(out, formats, args.codec)
                        win_times.append(seconds)
                        stalls.append(stall)
                        print(f"  window export {seconds:6.1f} s  (window process CPU {cpu:.1f} s, longest GUI "
                              f"stall {stall * 1000:.0f} ms, {updates} progress-bar updates)")  # fmt: skip
        finally:
            run.close()
    t_cli, t_win = min(cli_times), min(win_times)
    ratio = t_win / t_cli
    print(f"CLI {t_cli:.1f} s   window {t_win:.1f} s   window/CLI {ratio:.2f}   "
          f"longest GUI stall {max(stalls) * 1000:.0f} ms")  # fmt: skip
    print(f"target window/CLI <= {TARGET:.2f}:", "met" if ratio <= TARGET else "NOT met")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
