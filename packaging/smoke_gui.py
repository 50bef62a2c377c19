"""The smoke test's window checks: start the built app's window, keep it up a few seconds, read its stderr.

Offscreen always (Qt's offscreen platform plugin, no display needed); on X11 through the
xcb plugin where Xvfb is installed, pressing Space there so playback starts and QtMultimedia
loads its backend plugin. Where PulseAudio is installed too, the window plays into a private
null sink and parec records it: the demo's soundtrack must come out. A window that exits
early, or stderr with a traceback or a Qt plugin that failed to load, fails the step.
"""

from __future__ import annotations

import array
import math
import os
import re
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from smoke_checks import StepFailed, StepSkipped

# What a broken bundle prints: Python errors, and Qt plugins (platform, multimedia) that are
# missing or can't load their libraries. Harmless Qt chatter (no PipeWire here, offscreen's
# "does not support propagateSizeHints") is not matched.
FATAL = re.compile(
    r"Traceback \(most recent call last\)|\[PYI-\d+:ERROR\]|ModuleNotFoundError|ImportError"
    r"|Could not (?:load|find) the Qt platform plugin|No QtMultimedia backends found|Cannot load library"
    r"|This application failed to start"
)


def _watch(runner, env: dict, seconds: float, during=None) -> str:
    """Run `pinframe gui --demo` for ``seconds`` (calling ``during(pid)`` half-way); return its stderr."""
    err_path = runner.work / f"gui-{time.monotonic_ns()}.err"
    with open(err_path, "w") as err, open(os.devnull, "w") as out:
        proc = subprocess.Popen([str(runner.exe), "gui", "--demo"], cwd=runner.work, env=env, stdout=out, stderr=err)
        try:
            deadline = time.monotonic() + seconds
            poked = during is None
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise StepFailed(f"the window exited with code {proc.returncode}: {err_path.read_text()[-2000:]}")
                if not poked and time.monotonic() > deadline - seconds / 2:
                    during(proc.pid)
                    poked = True
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    stderr = err_path.read_text()
    fatal = FATAL.search(stderr)
    if fatal:
        raise StepFailed(f"stderr has '{fatal.group(0)}':\n{stderr[-2000:]}")
    return stderr


def check_gui_offscreen(runner, seconds: float) -> str:
    data = runner.work / "gui-offscreen-data"
    env = {**runner.env, "PINFRAME_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
    _watch(runner, env, seconds)
    # The window writes the demo on first use from its event loop: proof the loop ran.
    if not (data / "Demo.pinframe" / "project.db").is_file():
        raise StepFailed("the window didn't open the demo (no Demo.pinframe in its data folder)")
    return f"up {seconds:.0f} s, opened the demo, stderr clean"


@contextmanager
def _xvfb(work: Path):
    for display in range(91, 110):
        if not Path(f"/tmp/.X11-unix/X{display}").exists() and not Path(f"/tmp/.X{display}-lock").exists():
            break
    server = subprocess.Popen(
        ["Xvfb", f":{display}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=open(work / "xvfb.log", "w"),  # noqa: SIM115 - closed with the server
    )
    try:
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{display}").exists():
                break
            time.sleep(0.1)
        yield f":{display}"
    finally:
        server.terminate()
        server.wait(10)


@contextmanager
def _pulse(work: Path):
    """A private PulseAudio server with a null sink; yields the env that points at it (None without pulseaudio)."""
    if not (shutil.which("pulseaudio") and shutil.which("parec")):
        yield None
        return
    runtime = work / "pulse"
    runtime.mkdir(exist_ok=True)
    socket = runtime / "native"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(runtime)}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--disallow-exit",
         "-L", "module-null-sink sink_name=smoke rate=48000 channels=2",
         "-L", f"module-native-protocol-unix auth-anonymous=1 socket={socket}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not socket.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise StepFailed("pulseaudio didn't start")
            time.sleep(0.05)
        yield {"PULSE_SERVER": f"unix:{socket}", "PULSE_SINK": "smoke"}
    finally:
        server.terminate()
        server.wait(10)


def _recorded_rms(pulse_env: dict, seconds: float) -> float:
    """RMS (16-bit full scale 32768) of what the null sink played during ``seconds``."""
    rec = subprocess.Popen(
        ["parec", "-d", "smoke.monitor", "--raw", "--format=s16le", "--rate=48000", "--channels=2"],
        env={**os.environ, **pulse_env}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(seconds)
    rec.terminate()
    data = rec.communicate(timeout=10)[0]
    samples = array.array("h", data[: len(data) // 2 * 2])
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


def check_gui_x11(
    runner, seconds: float, screenshot: Path | None = None, extra_env: dict | None = None, data_name: str = "gui-x11"
) -> str:
    """The window on X11 (Xvfb); ``extra_env`` goes to the app (the run with the system libraries hidden)."""
    if shutil.which("Xvfb") is None:
        raise StepSkipped("no Xvfb here ('apt install xvfb' to check the X11 plugin too)")
    data = runner.work / f"{data_name}-data"
    notes = []
    with _xvfb(runner.work) as display, _pulse(runner.work) as pulse:
        env = {k: v for k, v in runner.env.items() if k != "QT_QPA_PLATFORM"}
        env.update(DISPLAY=display, PINFRAME_DATA_DIR=str(data), **(pulse or {}), **(extra_env or {}))

        def during(pid: int) -> None:
            if shutil.which("xdotool"):
                # Space plays the cut: the sound player asks QtMultimedia for a device, which
                # loads its backend plugin (a missing one says so on stderr).
                found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "Pinframe"],
                                       env=env, capture_output=True, text=True, timeout=20)  # fmt: skip
                window = found.stdout.split()[0] if found.stdout.split() else None
                if window is None:
                    raise StepFailed("no visible 'Pinframe' window on the X display")
                subprocess.run(["xdotool", "windowfocus", "--sync", window, "key", "space"], env=env, timeout=20)
                notes.append("played with Space")
                if pulse is None:
                    time.sleep(1.5)
                else:
                    rms = _recorded_rms(pulse, 2.5)
                    if rms < 30:  # the demo's ambience is a few hundred; digital silence is 0
                        raise StepFailed(f"no sound came out of the player (RMS {rms:.0f} of 32768)")
                    notes.append(f"sound played (RMS {rms:.0f})")
            if screenshot is not None and shutil.which("import"):
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                subprocess.run(["import", "-display", display, "-window", "root", str(screenshot)], timeout=30)
                notes.append(f"screenshot {screenshot}")

        _watch(runner, env, seconds, during)
    if not (data / "Demo.pinframe" / "project.db").is_file():
        raise StepFailed("the window didn't open the demo (no Demo.pinframe in its data folder)")
    return ", ".join([f"up {seconds:.0f} s on {display} (xcb), opened the demo, stderr clean", *notes])


BUNDLED_XCB_CURSOR = "libxcb-cursor.so.0"


def check_gui_x11_bundled_xcb_cursor(runner, folder: Path, seconds: float) -> str:
    """The window on X11 with the system's libxcb-cursor hidden from the start-up check: the bundle's copy must do.

    The dynamic loader can't be kept out of /usr/lib without root, so the app is told to ignore
    the system copy (PINFRAME_HIDE_SYSTEM_LIBS=1, read by ui.app only): a bundle that doesn't
    carry the library, or a check that doesn't look in the bundle, then refuses to start.
    """
    carried = sorted(str(p.relative_to(folder)) for p in folder.rglob(BUNDLED_XCB_CURSOR + "*"))
    if not carried:
        raise StepFailed(f"the bundle doesn't carry {BUNDLED_XCB_CURSOR} (Qt's xcb plugin links it)")
    detail = check_gui_x11(runner, seconds, extra_env={"PINFRAME_HIDE_SYSTEM_LIBS": "1"}, data_name="gui-x11-hidden")
    return f"{detail}; bundled: {', '.join(carried)}"
