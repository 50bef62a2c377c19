"""The cut's sound mix: clips decoded with PyAV, placed at exact samples, gained and summed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.audio_mix import SAMPLE_RATE, AudioMix, to_pcm16
from app.document import AudioClip, Project, new_id
from app.media_store import MediaStore
from app.timecode import FrameRate
from tests.app.export.project_factory import sine_wav


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    (tmp_path / "b.pinframe").mkdir()
    return MediaStore(tmp_path / "b.pinframe")


def first_sound(samples: np.ndarray, threshold: float = 0.02) -> int:
    loud = np.flatnonzero(np.abs(samples[:, 0]) > threshold)
    return int(loud[0]) if len(loud) else -1


@pytest.mark.parametrize("rate", [FrameRate(24), FrameRate(25), FrameRate(24000, 1001), FrameRate(30000, 1001)])
def test_a_clip_starts_at_the_exact_sample_of_its_frame(store, tmp_path, rate):
    ref = store.put_file(sine_wav(tmp_path / "tone.wav", 0.5, rate=48000))
    start_frame = 1001  # large enough that a float rate would be off by samples
    project = Project("p", rate, audio=(AudioClip(new_id(), ref, start_frame),))
    mix = AudioMix(store)
    expected = start_frame * SAMPLE_RATE * rate.den // rate.num
    assert mix.frame_to_sample(project, start_frame) == expected
    out = mix.mix(project, expected - 1000, 3000)
    # A sine starts at zero: its first loud sample is a few samples in, never before the start.
    assert 1000 <= first_sound(out) < 1000 + 20
    assert not out[:1000].any()


def test_resamples_gains_sums_and_clips(store, tmp_path):
    tone = store.put_file(sine_wav(tmp_path / "a.wav", 1.0, freq=440, rate=44100))
    project = Project("p", FrameRate(24), audio=(AudioClip(new_id(), tone, 0),))
    mix = AudioMix(store)
    one = mix.mix(project, 0, SAMPLE_RATE)
    assert len(mix.decoded(tone)) == pytest.approx(SAMPLE_RATE, abs=64)  # 44.1 kHz became 48 kHz
    spectrum = np.abs(np.fft.rfft(one[:, 0]))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1  # one second: bins are 1 Hz apart
    quiet = replace(project, audio=(replace(project.audio[0], gain_db=-6.0),))
    assert np.abs(mix.mix(quiet, 0, SAMPLE_RATE)).max() == pytest.approx(np.abs(one).max() * 10 ** (-6 / 20), rel=1e-3)
    loud = replace(project, audio=tuple(replace(project.audio[0], id=new_id(), gain_db=12.0) for _ in range(3)))
    summed = mix.mix(loud, 0, SAMPLE_RATE)
    assert np.abs(summed).max() == 1.0  # clipped, never wrapped around
    pcm = np.frombuffer(to_pcm16(summed), "<i2")
    assert pcm.max() == 32767 and pcm.min() == -32767


def test_past_the_end_is_silence(store, tmp_path):
    ref = store.put_file(sine_wav(tmp_path / "a.wav", 0.25, rate=48000))
    project = Project("p", FrameRate(25), audio=(AudioClip(new_id(), ref, 0),))
    out = AudioMix(store).mix(project, SAMPLE_RATE // 4 + 10, 500)
    assert out.shape == (500, 2) and not out.any()


def test_missing_and_broken_files_are_reported_not_raised(store, tmp_path):
    missing = store.put_bytes(b"RIFF not really a wave file", "wav")
    gone = store.put_file(sine_wav(tmp_path / "b.wav", 0.1))
    store.path(gone).unlink()
    project = Project("p", FrameRate(24), audio=(AudioClip(new_id(), missing, 0), AudioClip(new_id(), gone, 0)))
    mix = AudioMix(store)
    out = mix.mix(project, 0, 1000)
    assert not out.any()
    assert "decoded" in mix.problems[missing] and "relink" in mix.problems[gone]
