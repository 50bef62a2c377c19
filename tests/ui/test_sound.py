"""Sound in the viewer, through a real QtMultimedia sink into a real PulseAudio server.

The server runs a null sink; ``parec`` records its monitor, so the test hears exactly what
the viewer played. ``./dev.sh test`` installs pulseaudio when it runs as root. Each playback
runs in its own process (see sound_child.py) so the sound server is chosen before Qt starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.audio_mix import SAMPLE_RATE
from app.document import AudioClip, Project, Scene, Shot, new_id
from app.session import ProjectSession
from app.timecode import FrameRate
from tests.app.export.project_factory import sine_wav
from tests.helpers import Reports

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("sound_child.py")
STARTED = "Daemon startup complete."  # pulseaudio's info-level line when it is ready for clients


@pytest.fixture(scope="module")
def pulse(tmp_path_factory):
    if not (shutil.which("pulseaudio") and shutil.which("parec")):
        pytest.skip("needs pulseaudio and parec (apt install pulseaudio pulseaudio-utils; dev.sh does as root)")
    runtime = tmp_path_factory.mktemp("pulse")
    socket = runtime / "native"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HOME=str(runtime))
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--disallow-exit",
         "--log-target=stderr", "--log-level=info",
         "-L", "module-null-sink sink_name=pinframe_test rate=48000 channels=2",
         "-L", f"module-native-protocol-unix auth-anonymous=1 socket={socket}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = Reports()  # the server's log lines, then None when it exits

    def read_log() -> None:  # all of it, as it comes: a full pipe would stall the server
        for line in server.stderr:
            log(line)
        log(None)

    threading.Thread(target=read_log, name="pulseaudio-log", daemon=True).start()
    try:
        # The server says so once its modules (the null sink, the socket) are loaded.
        log.wait(lambda: any(line is None or STARTED in line for line in log.items), 20, "pulseaudio to start")
        assert None not in log.items and socket.exists(), "pulseaudio exited while starting"
    except AssertionError as exc:
        server.kill()
        raise AssertionError(f"{exc}: {''.join(line for line in log.items if line)[-500:]}") from None
    yield dict(env, PULSE_SERVER=f"unix:{socket}")
    server.terminate()
    server.wait(10)


class Recorder:
    """``parec`` on the null sink's monitor, read on a thread as it comes (a full pipe would drop sound)."""

    def __init__(self, env: dict) -> None:
        self.proc = subprocess.Popen(
            ["parec", "-d", "pinframe_test.monitor", "--raw", "--format=s16le", f"--rate={SAMPLE_RATE}",
             "--channels=2", "--latency-msec=20"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.chunks = Reports()  # bytes as parec hands them over, then b"" when it exits
        self._reader = threading.Thread(target=self._read, name="parec", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while chunk := self.proc.stdout.read1(1 << 16):
            self.chunks(chunk)
        self.chunks(b"")

    def received(self) -> int:
        return sum(len(chunk) for chunk in self.chunks.items)

    def wait_for(self, size: int, what: str) -> None:
        self.chunks.wait(lambda: self.received() >= size or b"" in self.chunks.items, 20, what)
        assert b"" not in self.chunks.items, f"parec exited while waiting for {what}"

    def stop(self) -> bytes:
        self.proc.terminate()
        self.proc.wait(10)
        self._reader.join(10)
        return b"".join(self.chunks.items)


# After playing stops, sound still in the server's buffers reaches the recorder within this much of
# the recording (counted in recorded samples, so a slow machine waits longer, not records less).
TAIL_BYTES = int(0.3 * SAMPLE_RATE) * 4  # s16le, two channels


# The tone plays from 1 s to 9 s of the cut: a sound server under load can take seconds to start
# playing, and the player then skips the sound the picture has passed, so the tone is long.
TONE_START, TONE_SECONDS = 24, 8.0


@pytest.fixture(scope="module")
def tone_bundle(tmp_path_factory) -> Path:
    """A 24 fps project, one 15-second shot, a 440 Hz tone from 1 s to 9 s."""
    root = tmp_path_factory.mktemp("sound")
    path = root / "Tone.pinframe"
    session = ProjectSession.create(path, Project("Tone", FrameRate(24), 320, 180))
    try:
        tone = session.media.put_file(sine_wav(root / "tone.wav", TONE_SECONDS))
        project = replace(session.project, scenes=(Scene(new_id(), "INT. ROOM", shots=(Shot(new_id(), "1", 360),)),),
                          audio=(AudioClip(new_id(), tone, TONE_START, "tone"),))  # fmt: skip
        session.bundle.save(project)
    finally:
        session.close()
    return path


def play(env: dict, bundle: Path, frame: int, seconds: float, *options: str, mute: bool = False,
         record: bool = True) -> tuple[dict, np.ndarray]:  # fmt: skip
    recorder = Recorder(env) if record else None
    if recorder is not None:
        # The monitor streams (silence) as soon as parec is connected: its first bytes say it listens.
        recorder.wait_for(1, "parec to connect before anything plays")
    child_env = dict(env, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    try:
        out = subprocess.run(
            [sys.executable, str(CHILD), str(bundle), str(frame), str(seconds), "mute" if mute else "play", *options],
            env=child_env, capture_output=True, text=True, timeout=120, cwd=ROOT,
        )  # fmt: skip
    finally:
        pcm = b""
        if recorder is not None:
            try:
                recorder.wait_for(recorder.received() + TAIL_BYTES, "the end of the sound to be recorded")
            finally:
                pcm = recorder.stop()
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    samples = np.frombuffer(pcm[: len(pcm) // 4 * 4], "<i2").reshape(-1, 2).astype(np.float32) / 32768
    return result, samples


def loudest_frequency(samples: np.ndarray) -> tuple[float, float]:
    """(frequency in Hz, RMS) of the loudest 100 ms window of a recording."""
    mono = samples.mean(axis=1)
    win = SAMPLE_RATE // 10
    best = max(range(0, max(1, len(mono) - win), win // 2), key=lambda i: float(np.square(mono[i : i + win]).mean()))
    chunk = mono[best : best + win]
    spectrum = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(chunk)), float(np.sqrt(np.square(chunk).mean()))


SYNCED = 0.05  # seconds: what the player promises (its tolerance plus a feed interval)


def test_playing_over_a_clip_sounds_its_tone_in_step_with_the_picture(pulse, tone_bundle):
    result, recording = play(pulse, tone_bundle, 0, 8.0)
    assert result["status"] == ""
    assert result["start_sample"] == 0
    assert result["samples_written"] > SAMPLE_RATE  # the device kept asking for sound
    assert result["picture_frames"] > 48  # the picture played meanwhile, never waiting on sound
    assert abs(result["sync_error"]) < SYNCED, result
    assert result["stopped"]
    freq, rms = loudest_frequency(recording)
    assert rms > 0.05, "nothing audible came out of the sound device"
    assert abs(freq - 440) < 15  # 44.1 kHz source resampled to 48 kHz: still an A


def test_sound_catches_up_after_the_gui_thread_stalls(pulse, tone_bundle):
    result, _ = play(pulse, tone_bundle, 0, 4.0, "freeze=0.8", record=False)
    assert result["resyncs"] >= 1  # the stall left sound behind the picture, and it was moved back
    assert abs(result["sync_error"]) < SYNCED, result


def test_play_pressed_before_the_sound_is_decoded_starts_sound_where_the_picture_is(pulse, tone_bundle):
    result, _ = play(pulse, tone_bundle, 0, 4.0, "slow-decode=1.0", record=False)
    assert result["playing_sound"]
    assert result["start_sample"] >= SAMPLE_RATE  # not frame 0, where play was pressed a second earlier
    assert abs(result["sync_error"]) < SYNCED, result


def test_playing_after_the_clip_is_silent_and_starts_at_the_frame(pulse, tone_bundle):
    result, recording = play(pulse, tone_bundle, 240, 3.0)
    assert result["start_sample"] == 10 * SAMPLE_RATE  # frame 240 at 24 fps is exactly 10 s in
    assert result["samples_written"] > 0
    # The recorder can join late on a loaded machine; the tone test shows it hears what plays.
    assert len(recording) > 0
    assert float(np.abs(recording).max()) < 0.01


def test_mute_silences_the_device(pulse, tone_bundle):
    result, recording = play(pulse, tone_bundle, 0, 5.0, mute=True)
    assert result["samples_written"] > SAMPLE_RATE
    assert len(recording) > 0  # see above: how much is recorded depends on the machine's load
    assert float(np.abs(recording).max()) < 0.01


def test_no_sound_device_plays_picture_only(tmp_path, tone_bundle):
    # A sound server address that doesn't exist: QtMultimedia finds no output device.
    env = dict(os.environ, PULSE_SERVER=f"unix:{tmp_path / 'none'}", PIPEWIRE_REMOTE=str(tmp_path / "none"),
               XDG_RUNTIME_DIR=str(tmp_path))  # fmt: skip
    result, _ = play(env, tone_bundle, 0, 1.0, record=False)
    assert "No sound output device" in result["status"]
    assert not result["playing_sound"]
    assert result["picture_frames"] > 12
