"""Movies for editors: ProRes 422 HQ .mov, H.264 .mp4 or DNxHR HQ .mxf, with embedded timecode.

Every frame gets an exact pts in a ``1/fps`` time base (``1001/24000`` at 23.976), so no
frame drifts or doubles at NTSC rates. The start timecode goes into the stream's
``timecode`` metadata: the MOV/MP4 muxer turns it into a ``tmcd`` track and the MXF muxer
into the timecode component, drop-frame when written ``HH:MM:SS;FF``.

The reel name (the EDL's reel for the shot) goes where each container keeps a tape name:
in a MOV the ``tmcd`` track's ``name`` (FFmpeg's ``reel_name`` stream metadata), in an MXF
the physical (tape) source package (FFmpeg's ``reel_name`` format metadata), which is the
"Tape" Avid shows for a linked clip. An MP4 has no place for one: FFmpeg writes the ``tmcd``
name only in QuickTime mode.

RGB is converted to the codec's YUV format by one reused swscale context (threaded, BT.709,
video range) rather than per frame in Python, and the encoders run frame- and
slice-threaded, which keeps encoding at the speed of the ``ffmpeg`` command line.

Every movie is tagged BT.709 (primaries, transfer, matrix) and video range twice: on the
stream (the MOV ``colr`` atom, the MXF picture descriptor) and on every frame, because ProRes
writes its own frame-header tags from the frame, and a reader that sees "unspecified" guesses.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import chain
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

from app.errors import ExportError, TimecodeError
from app.export.files import Progress, atomic_dir, atomic_file
from app.timecode import FrameRate, timecode_to_frames

AUDIO_RATE = 48000
# (start sample, count) -> (count, 2) float32 samples of the movie's sound.
AudioSource = Callable[[int, int], np.ndarray]

# AVCOL_* values for BT.709 (primaries, transfer and matrix share the number 1).
BT709 = 1


@dataclass(frozen=True)
class MovieCodec:
    key: str
    label: str
    encoder: str
    decoder: str  # the codec name a decoder reports for the file
    pix_fmt: str
    container: str  # FFmpeg muxer, also the file extension
    options: dict[str, str] = field(default_factory=dict)
    container_options: dict[str, str] = field(default_factory=dict)
    audio_encoder: str | None = None
    min_size: tuple[int, int] = (2, 2)


CODECS: dict[str, MovieCodec] = {
    "prores": MovieCodec(
        "prores",
        "ProRes 422 HQ",
        "prores_ks",
        "prores",
        "yuv422p10le",
        "mov",
        # vendor apl0: Final Cut and some QuickTime readers trust Apple-tagged ProRes more.
        {"profile": "3", "vendor": "apl0"},
    ),
    "h264": MovieCodec(
        "h264",
        "H.264",
        "libx264",
        "h264",
        "yuv420p",
        "mp4",
        {"crf": "16", "preset": "medium"},
        {"movflags": "+faststart"},  # index first, so the movie streams and previews while copying
        audio_encoder="aac",
    ),
    # OP1a MXF (FFmpeg's "mxf" muxer): Media Composer links or imports it; DNxHR has a 256x120 minimum.
    "dnxhr": MovieCodec(
        "dnxhr", "DNxHR HQ", "dnxhd", "dnxhd", "yuv422p", "mxf", {"profile": "dnxhr_hq"}, min_size=(256, 120)
    ),
}


def codec_spec(codec: str) -> MovieCodec:
    try:
        return CODECS[codec]
    except KeyError:
        raise ExportError(f"unknown movie codec '{codec}'; use one of {', '.join(CODECS)}") from None


def write_movie(
    frames: Iterable[np.ndarray],
    final_path: str | os.PathLike[str],
    rate: FrameRate,
    codec: str,
    start_timecode: str,
    progress: Progress,
    frame_count: int,
    *,
    audio: AudioSource | None = None,
    reel: str = "",
) -> None:
    """Encode exactly ``frame_count`` RGB uint8 frames to ``final_path``; nothing is left there on failure.

    ``audio`` (H.264 only) gives the sound: it is asked for exactly the samples under each frame,
    so the sound ends with the picture. ``reel`` is embedded as the tape/reel name in MOV and MXF
    (ignored in MP4, which can't carry one). ``progress`` ticks once a frame (and may cancel).
    """
    spec = codec_spec(codec)
    final = Path(final_path)
    _check_timecode(start_timecode, rate, final)
    if audio is not None and spec.audio_encoder is None:
        raise ValueError(f"{spec.label} movies are written without sound")
    it = iter(frames)
    first = next(it, None)
    if first is None or frame_count < 1:
        raise ExportError(f"no pictures to write to '{final.name}'; the shot has no frames")
    height, width = first.shape[:2]
    _check_size(spec, width, height, final)
    job = _Job(final, spec, rate, (width, height), start_timecode, frame_count, reel)
    with atomic_file(final) as tmp:
        _encode(chain([first], it), tmp, job, progress, audio)


@dataclass(frozen=True)
class _Job:
    final: Path  # named in messages; the bytes go to a temporary file beside it
    spec: MovieCodec
    rate: FrameRate
    size: tuple[int, int]
    timecode: str
    frame_count: int
    reel: str = ""


def _encode(frames: Iterator[np.ndarray], tmp: Path, job: _Job, progress: Progress, audio: AudioSource | None) -> None:
    final, spec, rate, frame_count = job.final, job.spec, job.rate, job.frame_count
    try:
        container = av.open(str(tmp), mode="w", format=spec.container, options=spec.container_options)
    except av.FFmpegError as exc:
        raise _av_error(exc, final, spec) from None
    try:
        video = _video_stream(container, job)
        if job.reel and spec.container == "mxf":
            # The MXF muxer names a tape source package after it (read back as the stream's reel_name).
            container.metadata["reel_name"] = job.reel
        sound = None
        if audio is not None:
            sound = container.add_stream(spec.audio_encoder, rate=AUDIO_RATE, layout="stereo")
            sound.bit_rate = 256_000
        scaler = VideoReformatter()
        samples_done = 0
        count = 0
        for frame in frames:
            if count == frame_count:
                raise ExportError(
                    f"the pictures for '{final.name}' ran past the expected {frame_count} frames; "
                    "this is a bug in Pinframe, please report it"
                )
            if frame.shape[:2] != (video.height, video.width):
                raise ExportError(
                    f"frame {count} of '{final.name}' is {frame.shape[1]}x{frame.shape[0]}, "
                    f"not {video.width}x{video.height}; this is a bug in Pinframe, please report it"
                )
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            picture = scaler.reformat(
                picture,
                format=spec.pix_fmt,
                dst_colorspace=Colorspace.ITU709,
                dst_color_range=ColorRange.MPEG,
                threads=0,
            )
            # Encoders that write colour into each frame's header (ProRes) take it from the frame,
            # not the stream: without this the header says "unspecified" primaries and transfer.
            picture.color_primaries = picture.color_trc = picture.colorspace = BT709
            picture.color_range = int(ColorRange.MPEG)
            picture.pts = count
            container.mux(video.encode(picture))
            count += 1
            if sound is not None and audio is not None:  # sound is made only for audio
                # Exactly the samples under frames 0..count: the sound can't drift from the picture.
                end = int(Fraction(count) * AUDIO_RATE / rate.fps)
                container.mux(sound.encode(_audio_frame(audio(samples_done, end - samples_done), samples_done)))
                samples_done = end
            progress.tick()
        if count != frame_count:
            raise ExportError(
                f"only {count} of {frame_count} pictures arrived for '{final.name}'; "
                "this is a bug in Pinframe, please report it"
            )
        container.mux(video.encode(None))
        if sound is not None:
            container.mux(sound.encode(None))
    except BaseException as exc:
        _close_quietly(container)
        if isinstance(exc, av.FFmpegError):
            raise _av_error(exc, final, spec) from None
        raise
    try:
        container.close()
    except av.FFmpegError as exc:
        raise _av_error(exc, final, spec) from None


def _video_stream(container: av.container.OutputContainer, job: _Job) -> av.VideoStream:
    spec, rate = job.spec, job.rate
    stream = container.add_stream(spec.encoder, rate=rate.fps)
    stream.width, stream.height = job.size
    stream.time_base = rate.frame_duration  # 1/fps exactly: frame n has pts n
    stream.codec_context.time_base = rate.frame_duration
    stream.pix_fmt = spec.pix_fmt
    stream.options = dict(spec.options)
    stream.metadata["timecode"] = job.timecode
    if job.reel and spec.container == "mov":
        stream.metadata["reel_name"] = job.reel  # the tmcd track's name
    ctx = stream.codec_context
    ctx.color_primaries = ctx.color_trc = ctx.colorspace = BT709
    ctx.color_range = int(ColorRange.MPEG)
    ctx.thread_count = 0  # one per core
    ctx.thread_type = "AUTO"  # frame threads where the encoder has them (ProRes), slices otherwise
    if spec.encoder == "libx264":
        ctx.gop_size = rate.timebase  # a keyframe a second: editors scrub without waiting
    return stream


def _audio_frame(samples: np.ndarray, start: int) -> av.AudioFrame:
    planar = np.ascontiguousarray(np.asarray(samples, dtype=np.float32).T)
    frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="stereo")
    frame.sample_rate = AUDIO_RATE
    frame.pts = start
    return frame


def _check_timecode(timecode: str, rate: FrameRate, final: Path) -> None:
    try:
        timecode_to_frames(timecode, rate)
    except TimecodeError as exc:
        raise ExportError(f"can't embed start timecode in '{final.name}': {exc}") from None


def _check_size(spec: MovieCodec, width: int, height: int, final: Path) -> None:
    min_w, min_h = spec.min_size
    if width < min_w or height < min_h:
        raise ExportError(
            f"{spec.label} needs pictures of at least {min_w}x{min_h}, but the project is "
            f"{width}x{height}; choose ProRes or H.264 for '{final.name}', or a larger project size"
        )
    if width % 2 or (spec.pix_fmt.startswith("yuv420") and height % 2):
        raise ExportError(
            f"{spec.label} needs an even picture size, but the project is {width}x{height}; "
            "set an even width and height in the project settings"
        )


def _av_error(exc: av.FFmpegError, final: Path, spec: MovieCodec) -> BaseException:
    if isinstance(exc, OSError):
        return exc  # atomic_file turns it into a disk-full or permission message
    return ExportError(f"can't write '{final.name}' as {spec.label}: {exc}")


def _close_quietly(container: av.container.OutputContainer) -> None:
    try:
        container.close()
    except (av.FFmpegError, OSError):
        pass  # the file is being thrown away; the first error is the one to report


def write_png_sequence(
    frames: Iterable[np.ndarray], final_dir: str | os.PathLike[str], progress: Progress, start_number: int = 0
) -> int:
    """Write ``<folder name>.<7-digit frame number>.png`` files into ``final_dir``; returns the count.

    The name is the folder's name (``001_1A/001_1A.0000000.png``...): a file copied out of its
    folder still says which shot it belongs to, and the dot-separated zero-padded number is
    what Premiere, Resolve, Nuke and After Effects read as one image sequence. Seven digits
    hold a frame number up to 24 hours at 60 fps, so numbers can follow timecode.
    """
    final = Path(final_dir)
    count = 0
    with atomic_dir(final) as tmp:
        for frame in frames:
            ok, data = cv2.imencode(
                ".png", cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3]
            )
            if not ok:
                raise ExportError(f"can't encode frame {count} of '{final.name}' as PNG")
            (tmp / png_name(final.name, start_number + count)).write_bytes(data.tobytes())
            count += 1
            progress.tick()
    return count


def png_name(stem: str, number: int) -> str:
    return f"{stem}.{number:07d}.png"
