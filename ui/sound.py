"""Sound for the viewer: the cut's audio mix played through QtMultimedia while the picture plays.

The picture is the master clock (the viewer reads a monotonic clock and the exact frame
rate). Sound starts at the sample of the picture's position and is then fed continuously;
every time the device asks for more, the player predicts which cut sample the device will be
playing when the new samples come out (the picture's position now plus what is still
queued) and, when that is off by more than ``SYNC_TOLERANCE`` (a slow device start, a GUI
thread that stalled, clock drift), skips ahead or pads with silence so sound and picture line
up again. The picture never waits for sound. Files are decoded with PyAV on a worker thread
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
from collections.abc import Callable
from fractions import Fraction

import shiboken6
from PySide6.QtCore import QIODevice, QObject, Qt, QTimer, Signal

from app.audio_mix import CHANNELS, SAMPLE_RATE, AudioMix, PlacedAudio, to_pcm16
from app.document import AudioClip
from ui.state import EditorState

log = logging.getLogger(__name__)

BYTES_PER_SAMPLE = 2 * CHANNELS  # interleaved signed 16-bit stereo
# How much sound is queued ahead in Qt's buffer: enough to ride out a busy GUI thread, small
# enough that stopping or seeking is heard at once.
BUFFER_SECONDS = 0.25
FEED_INTERVAL_MS = 20
# Sound more than this far from the picture is moved back in line (about a frame at 24 fps;
# people notice lip-sync errors from about 45 ms of sound late).
SYNC_TOLERANCE = 0.04

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
        self._decoding_for: tuple[AudioClip, ...] | None = None
        self._decoding: asyncio.Future | None = None
        # Where the picture is, in frames of the cut (exact), while playing; set by the viewer.
        self.picture_position: Callable[[], Fraction] | None = None
        self._sink: QAudioSink | None = None
        self._io: QIODevice | None = None  # the sink's, while it plays
        self.position = 0  # next sample of the cut to hand to the device
        self.samples_written = 0
        self.start_sample = 0
        self.resyncs = 0  # times sound was moved back in line with the picture
        self.last_sync_error = 0.0  # seconds, sound behind (+) or ahead (-) of the picture, before correcting
        self._pending = False
        self._muted = False
        self.status = ""
        self._feeder = QTimer(self)
        self._feeder.setTimerType(Qt.TimerType.PreciseTimer)
        self._feeder.timeout.connect(self._feed)

    # --- setup -----------------------------------------------------------------------------------
    def reset(self, session) -> None:
        self.stop()
        self.mix = AudioMix(session.media) if session is not None else None
        self._placed, self._placed_for, self._decoding_for = None, None, None
        self.prepare()

    def prepare(self) -> None:
        """Decode the project's audio files off the GUI thread if its clips changed."""
        project = self.state.project
        if self.mix is None or project is None or project.audio in (self._placed_for, self._decoding_for):
            return
        mix, clips = self.mix, project.audio
        self._decoding_for = clips
        future = asyncio.get_event_loop().run_in_executor(None, mix.placed, project)
        self._decoding = future

        def done(f: asyncio.Future) -> None:
            if f is not self._decoding or mix is not self.mix:
                return
            self._decoding, self._decoding_for = None, None
            if f.cancelled() or f.exception() is not None:
                log.warning("decoding the soundtrack failed: %s", None if f.cancelled() else f.exception())
                self._placed = []
            else:
                self._placed = f.result()
            self._placed_for = clips
            problems = [f"{ref}: {why}" for ref, why in mix.problems.items()]
            if problems:
                self._set_status("Some sound can't play: " + "; ".join(problems))
            if self._pending and self._sink is None:
                self._pending = False
                self.start(self._picture_frame(0))  # where the picture is now, not where play began

        future.add_done_callback(done)

    @property
    def ready(self) -> bool:
        """The decoded placement matches the project's clips as they are now."""
        return self._placed is not None and self._placed_for == (
            self.state.project.audio if self.state.project else None
        )

    @property
    def playing(self) -> bool:
        return self._sink is not None

    # --- playing ---------------------------------------------------------------------------------
    def start(self, frame: int | Fraction) -> None:
        """Start sound at cut frame ``frame``; silent (and says why) when there is no device."""
        self.stop()
        project = self.state.project
        if project is None or self.mix is None or not project.audio:
            return
        if not self.ready:
            self._pending = True  # starts when decoding finishes, wherever the picture is then
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
        self.start_sample = self.position = self._sample_at(frame)
        self.samples_written = 0
        self.resyncs = 0
        self.last_sync_error = 0.0
        self._set_status("")
        self._feed()
        self._feeder.start(FEED_INTERVAL_MS)

    def stop(self) -> None:
        self._pending = False
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
        sink, io, project = self._sink, self._io, self.state.project
        if sink is None or io is None or project is None or self.mix is None:
            return
        count = sink.bytesFree() // BYTES_PER_SAMPLE
        if count <= 0:
            return
        if not self.ready:
            self.prepare()  # clips moved while playing: keep the old placement until the new one is ready
        placed = self._placed or []
        silence = self._resync(sink)
        if silence:
            # Sound ran ahead of the picture: hold it back with silence rather than repeat samples.
            gap = min(silence, count)
            written = io.write(bytes(gap * BYTES_PER_SAMPLE)) // BYTES_PER_SAMPLE
            self.samples_written += written
            count -= written
            if count <= 0:
                return
        data = to_pcm16(self.mix.mix(project, self.position, count, placed))
        written = io.write(data)
        if written > 0:
            self.position += written // BYTES_PER_SAMPLE
            self.samples_written += written // BYTES_PER_SAMPLE

    def sync_error(self) -> float:
        """Seconds the next sound out of the device will be behind (+) or ahead (-) of the picture."""
        if self._sink is None or self.picture_position is None:
            return 0.0
        queued = self.samples_written - self._played_samples(self._sink)
        due = self._sample_at(self._picture_frame(queued))
        return (due - self.position) / SAMPLE_RATE

    def _resync(self, sink) -> int:
        """Move the feed position back in line with the picture; returns samples of silence to pad."""
        if self.picture_position is None or sink.processedUSecs() <= 0:
            return 0  # the device hasn't started: nothing is coming out to be out of step with yet
        error = self.sync_error()
        if abs(error) <= SYNC_TOLERANCE:
            return 0
        self.last_sync_error = error
        self.resyncs += 1
        shift = round(error * SAMPLE_RATE)
        if shift > 0:
            self.position += shift  # behind: skip the sound the picture has already passed
            return 0
        return -shift

    def _played_samples(self, sink) -> int:
        return sink.processedUSecs() * SAMPLE_RATE // 1_000_000

    def _picture_frame(self, ahead_samples: int) -> Fraction:
        """The picture's cut frame ``ahead_samples`` of sound from now (exact)."""
        project = self.state.require_project()  # only asked while playing one
        now = self.picture_position() if self.picture_position is not None else Fraction(self.state.playhead)
        return now + Fraction(ahead_samples, SAMPLE_RATE) * project.rate.fps

    def _sample_at(self, frame: int | Fraction) -> int:
        project = self.state.require_project()  # only asked while playing one
        return int(Fraction(frame) * SAMPLE_RATE / project.rate.fps)

    def _set_status(self, text: str) -> None:
        if text != self.status:
            self.status = text
            self.status_changed.emit(text)
