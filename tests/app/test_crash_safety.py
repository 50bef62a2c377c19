"""kill -9 a process that is editing and autosaving a real bundle, at random moments, many
times, and reopen the project after each kill.

Each reopened project must open, must be exactly the document after some number of edits
(never a torn mix), must hold every edit applied more than 2 seconds before the kill, and
must find every picture it refers to, byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.autosave import MAX_DELAY_SECONDS, QUIET_SECONDS
from app.bundle import Bundle
from app.document import Project, Scene
from app.timecode import FrameRate
from tests.app.crash_child import expected_state, observed_state
from tests.helpers import png_bytes

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("PINFRAME_CRASH_KILLS", "50"))
PROMISED_LOSS_SECONDS = 2.0


def spawn(path: Path, quiet: float, max_delay: float, out: Path, err: Path) -> subprocess.Popen:
    # Files, not pipes: what the child printed up to the kill is all there, unbuffered by us.
    with open(out, "w") as stdout, open(err, "w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.app.crash_child", str(path), str(quiet), str(max_delay)],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
        )


def wait_ready(proc: subprocess.Popen, out: Path, err: Path) -> None:
    deadline = time.monotonic() + 60
    while not out.read_text().startswith("ready\n"):
        assert proc.poll() is None, f"child died while starting: {err.read_text()}"
        assert time.monotonic() < deadline, "child took over a minute to start"
        time.sleep(0.005)


def test_kill_9_at_random_moments_never_breaks_the_project(tmp_path: Path):
    path = tmp_path / "Crash.pinframe"
    Bundle.create(path, Project("Crash", FrameRate(24), scenes=(Scene("scene", "EXT. ANYWHERE"),))).close()
    rng = random.Random(20261121)
    durable_before = 0
    long_runs_checked = 0
    for run in range(KILLS):
        # Even runs use the real autosave timing (which the 2 s promise is about); odd runs
        # save continuously so that kills land inside SQLite commits and media renames.
        quiet, max_delay = (QUIET_SECONDS, MAX_DELAY_SECONDS) if run % 2 == 0 else (0.0, 0.01)
        out_file, err_file = tmp_path / f"out{run}.txt", tmp_path / f"err{run}.txt"
        proc = spawn(path, quiet, max_delay, out_file, err_file)
        if run % 10 == 5:
            # Kill while the child is still starting up and opening the bundle.
            time.sleep(rng.uniform(0.0, 0.4))
        else:
            wait_ready(proc, out_file, err_file)
            long_run = run % 8 == 0
            time.sleep(rng.uniform(2.6, 3.4) if long_run else rng.uniform(0.0, 1.0))
        kill_time = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        out, err = out_file.read_text(), err_file.read_text()
        assert "Traceback" not in err, err

        # The kill may cut the last line short: only whole lines carry a time.
        *whole, cut = out.split("\n")
        try:
            applied = [(int(i), float(t)) for i, t in (line.split() for line in whole if line != "ready")]
        except ValueError:
            raise AssertionError(f"run {run}: unreadable child output {out[-300:]!r}") from None
        if cut.strip() and cut.strip() != "ready":
            applied.append((int(cut.split()[0]), float("inf")))  # applied, time unknown: never "2 s before"
        bundle, project, report = Bundle.open(path)
        bundle.close()

        k = project.shot_count()
        assert observed_state(project) == expected_state(k), f"run {run}: not a state the edits produce"
        assert report.missing_media == (), f"run {run}: missing {report.missing_media}"
        for shot in project.shots():
            for take in shot.keyframe_takes:
                data = (path / take.image.relpath).read_bytes()
                assert hashlib.sha256(data).hexdigest() == take.image.sha256
                assert data == png_bytes(int(take.imported_from))

        # Durability: everything applied more than 2 s before the kill is on disk.
        must_have = max((i for i, t in applied if t <= kill_time - PROMISED_LOSS_SECONDS), default=durable_before)
        assert k >= must_have, f"run {run}: lost edits {k + 1}..{must_have} applied over 2 s before the kill"
        if any(t <= kill_time - PROMISED_LOSS_SECONDS for _, t in applied):
            long_runs_checked += 1
        # And nothing appears that was never applied (one edit may land between save and print).
        last_applied = max((i for i, _ in applied), default=durable_before)
        assert k <= last_applied + 1
        assert k >= durable_before, f"run {run}: a previous run's saved edits disappeared"
        durable_before = k

    assert durable_before > KILLS, "the children made too few edits for this test to mean anything"
    assert long_runs_checked >= KILLS // 10, "too few runs lasted past 2 s to check the promise"
