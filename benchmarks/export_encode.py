"""ProRes 422 HQ and H.264 encode speed of our movie writer against the ``ffmpeg`` command line.

Both encode the same synthetic 1920x1080 RGB frames with the same settings in the same run:
ours through ``app.export.movies.write_movie`` (PyAV), ffmpeg reading raw rgb24 on stdin and
converting with the same BT.709 video-range matrix. Target: ours >= 0.9 of ffmpeg's fps.

Run: .venv/bin/python benchmarks/export_encode.py [--frames 120] [--repeats 2] [--codecs prores h264]
Needs ``ffmpeg`` on PATH (Debian/Ubuntu: sudo apt install ffmpeg; macOS: brew install ffmpeg).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.export.files import Progress
from app.export.movies import write_movie
from app.timecode import FrameRate

WIDTH, HEIGHT, RATE = 1920, 1080, FrameRate(24)
DISTINCT = 24  # distinct pictures, cycled: realistic detail without holding 120 x 6 MB in memory

COLOR = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"]
FFMPEG_ARGS = {
    "prores": ["-c:v", "prores_ks", "-profile:v", "3", "-vendor", "apl0", "-pix_fmt", "yuv422p10le", *COLOR],
    "h264": ["-c:v", "libx264", "-crf", "16", "-preset", "medium", "-g", str(RATE.timebase), "-pix_fmt", "yuv420p",
             *COLOR, "-movflags", "+faststart"],
}  # fmt: skip
EXT = {"prores": "mov", "h264": "mp4"}


def synthetic_frames() -> list[np.ndarray]:
    """Moving gradients with fine texture, so the encoders have real detail to spend bits on."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 24, (HEIGHT, WIDTH), dtype=np.uint8)
    frames = []
    for i in range(DISTINCT):
        r = (x / WIDTH * 200 + i * 4) % 256
        g = (y / HEIGHT * 180 + 40 * np.sin((x + i * 30) / 90)) % 256
        b = (128 + 100 * np.sin((x + y + i * 20) / 140)) % 256
        frame = np.stack([r, g, b], axis=2).astype(np.uint8)
        frame[:, :, 1] += texture
        frames.append(frame)
    return frames


def ours(frames: list[np.ndarray], count: int, codec: str, out: Path) -> float:
    path = out / f"ours.{EXT[codec]}"
    start = time.perf_counter()
    write_movie((frames[i % DISTINCT] for i in range(count)), path, RATE, codec, "01:00:00:00", Progress(), count)
    return time.perf_counter() - start


def theirs(frames: list[np.ndarray], count: int, codec: str, out: Path) -> float:
    path = out / f"ffmpeg.{EXT[codec]}"
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{WIDTH}x{HEIGHT}", "-r", str(RATE), "-i", "-",
           "-vf", "scale=out_color_matrix=bt709:out_range=tv", *FFMPEG_ARGS[codec],
           "-timecode", "01:00:00:00", str(path)]  # fmt: skip
    raw = [f.tobytes() for f in frames]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(count):
        proc.stdin.write(raw[i % DISTINCT])
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit(f"ffmpeg failed encoding {codec}: {' '.join(cmd)}")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs each")
    parser.add_argument("--codecs", nargs="+", default=["prores", "h264"], choices=list(FFMPEG_ARGS))
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        print("ffmpeg is not on PATH; install it to compare (Debian/Ubuntu: sudo apt install ffmpeg; "
              "macOS: brew install ffmpeg; Windows: winget install ffmpeg)", file=sys.stderr)  # fmt: skip
        return 2
    import av

    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"ffmpeg CLI: {version}")
    print(f"ours: PyAV {av.__version__}, libavcodec {'.'.join(map(str, av.library_versions['libavcodec']))}")
    print(f"{args.frames} frames {WIDTH}x{HEIGHT} @ {RATE.label}, best of {args.repeats}")
    frames = synthetic_frames()
    worst = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for codec in args.codecs:
            t_ours = min(ours(frames, args.frames, codec, out) for _ in range(args.repeats))
            t_ffmpeg = min(theirs(frames, args.frames, codec, out) for _ in range(args.repeats))
            fps_ours, fps_ffmpeg = args.frames / t_ours, args.frames / t_ffmpeg
            ratio = fps_ours / fps_ffmpeg
            worst = min(worst, ratio)
            print(f"{codec:7s} ours {fps_ours:6.1f} fps   ffmpeg {fps_ffmpeg:6.1f} fps   ours/ffmpeg {ratio:.2f}")
    print("target ours/ffmpeg >= 0.90:", "met" if worst >= 0.9 else "NOT met")
    return 0 if worst >= 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
