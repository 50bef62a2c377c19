"""Sound for the viewer: the cut's audio mix played through QtMultimedia while the picture plays.

The picture is the master clock (the viewer reads a monotonic clock and the exact frame
rate); sound starts at the sample of the frame playback starts from and is then fed
continuously, so the two run at the same rate. Files are decoded with PyAV on a worker thread
(:class:`app.audio_mix.AudioMix`); the GUI thread only mixes the few milliseconds the device
asks for, which is a handful of numpy additions.

The sink is pushed to from a GUI-thread timer and none of its signals are connected: a
QMediaPlayer-style design, where Qt's media thread calls back into Python, deadlocked against
the GIL when stopped (PySide6 6.11). With no output device (a headless machine, no sound
server) playback is silent and the status line says so; the picture never waits for sound.
"""

from __future__ import annotations

import asyncio
import logging

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app.audio_mix import CHANNELS, SAMPLE_RATE, AudioMix, PlacedAudio, to_pcm16
from app.document import AudioClip
from ui.state import EditorState

log = logging.getLogger(__name__)

BYTES_PER_SAMPLE = 2 * CHANNELS  # interleaved signed 16-bit stereo
# How much sound is queued ahead in Qt's buffer: enough to ride out a busy GUI thread, small
# enough that stopping or seeking is heard at once.
BUFFER_SECONDS = 0.25
FEED_INTERVAL_MS = 20

try:  # QtMultimedia ships in PySide6-Addons; without it the viewer is picture-only.
    from PySide6.QtMultimedia import QAudioFormat, QAudioSink, QMediaDevices, QtAudio
except ImportError:  # pragma: no cover - depends on the install
    QAudioSink = None  # type: ignore[assignment,misc]


class SoundPlayer(QObject):
    """Plays the project's audio clips from a cut frame on; owned by the viewer."""

    status_changed = Signal(str)

    def __init__(self, state: EditorState, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.mix: AudioMix | None = None
        self._placed: list[PlacedAudio] | None = None
        self._placed_for: tuple[AudioClip, ...] | None = None
        self._decoding: asyncio.Future | None = None
        self._sink = None
        self._io = None
        self.position = 0  # next sample of the cut to hand to the device
        self.samples_written = 0
        self.start_sample = 0
        self._pending_frame: int | None = None
        self._muted = False
        self.status = ""
        self._feeder = QTimer(self)
        self._feeder.setTimerType(Qt.TimerType.PreciseTimer)
        self._feeder.timeout.connect(self._feed)

    # --- setup -----------------------------------------------------------------------------------
    def reset(self, session) -> None:
        self.stop()
        self.mix = AudioMix(session.media) if session is not None else None
        self._placed, self._placed_for = None, None
        self.prepare()

    def prepare(self) -> None:
        """Decode the project's audio files off the GUI thread if its clips changed."""
        project = self.state.project
        if self.mix is None or project is None or project.audio == self._placed_for:
            return
        mix, clips = self.mix, project.audio
        self._placed_for = clips
        future = asyncio.get_event_loop().run_in_executor(None, mix.placed, project)
        self._decoding = future

        def done(f: asyncio.Future) -> None:
            if f is not self._decoding or mix is not self.mix:
                return
            self._decoding = None
            if f.cancelled() or f.exception() is not None:
                log.warning("decoding the soundtrack failed: %s", None if f.cancelled() else f.exception())
                self._placed = []
                return
            self._placed = f.result()
            problems = [f"{ref}: {why}" for ref, why in mix.problems.items()]
            if problems:
                self._set_status("Some sound can't play: " + "; ".join(problems))
            if self._pending_frame is not None:
                frame, self._pending_frame = self._pending_frame, None
                self.start(frame)

        future.add_done_callback(done)

    @property
    def ready(self) -> bool:
        return self._placed is not None and self._placed_for == (
            self.state.project.audio if self.state.project else None
        )

    @property
    def playing(self) -> bool:
        return self._sink is not None

    # --- playing ---------------------------------------------------------------------------------
    def start(self, frame: int) -> None:
        """Start sound at cut frame ``frame``; silent (and says why) when there is no device."""
        self.stop()
        project = self.state.project
        if project is None or self.mix is None or not project.audio:
            return
        if not self.ready:
            self._pending_frame = frame  # starts when decoding finishes, at the picture's frame then
            self.prepare()
            return
        if not self._placed:
            return
        if QAudioSink is None:
            self._set_status("Sound needs QtMultimedia (PySide6-Addons); playing picture only")
            return
        device = QMediaDevices.defaultAudioOutput()
        if device.isNull():
            self._set_status("No sound output device found; playing picture only")
            return
        fmt = QAudioFormat()
        fmt.setSampleRate(SAMPLE_RATE)
        fmt.setChannelCount(CHANNELS)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(fmt):
            self._set_status(
                f"The sound device '{device.description()}' can't play 48 kHz stereo; playing picture only"
            )
            return
        sink = QAudioSink(device, fmt, self)
        sink.setBufferSize(int(SAMPLE_RATE * BUFFER_SECONDS) * BYTES_PER_SAMPLE)
        sink.setVolume(0.0 if self._muted else 1.0)
        io = sink.start()
        if io is None or sink.error() != QtAudio.Error.NoError:
            self._set_status(
                f"The sound device '{device.description()}' didn't start ({sink.error().name}); playing picture only"
            )
            shiboken6.delete(sink)
            return
        self._sink, self._io = sink, io
        self.start_sample = self.position = self.mix.frame_to_sample(project, frame)
        self.samples_written = 0
        self._set_status("")
        self._feed()
        self._feeder.start(FEED_INTERVAL_MS)

    def stop(self) -> None:
        self._pending_frame = None
        self._feeder.stop()
        sink, self._sink, self._io = self._sink, None, None
        if sink is not None:
            sink.stop()
            # Destroyed now, on this thread: a deleteLater still pending when the app quits
            # leaves Qt's audio thread running while QApplication goes away (an abort).
            shiboken6.delete(sink)

    def set_muted(self, muted: bool) -> None:
        self._muted = muted
        if self._sink is not None:
            self._sink.setVolume(0.0 if muted else 1.0)

    @property
    def muted(self) -> bool:
        return self._muted

    def played_seconds(self) -> float:
        """Seconds of sound the device has played since ``start`` (0 when not playing)."""
        return self._sink.processedUSecs() / 1e6 if self._sink is not None else 0.0

    def _feed(self) -> None:
        sink, project = self._sink, self.state.project
        if sink is None or project is None or self.mix is None:
            return
        count = sink.bytesFree() // BYTES_PER_SAMPLE
        if count <= 0:
            return
        placed = self._placed if self.ready else (self._placed or [])
        if not self.ready:
            self.prepare()  # clips moved while playing: keep the old placement until the new one is ready
        data = to_pcm16(self.mix.mix(project, self.position, count, placed))
        written = self._io.write(data)
        if written > 0:
            self.position += written // BYTES_PER_SAMPLE
            self.samples_written += written // BYTES_PER_SAMPLE

    def _set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.status_changed.emit(text)
