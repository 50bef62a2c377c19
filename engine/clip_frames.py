"""The files a rendered clip's frames are handed over in: numbered PNGs (``ClipResult.frame_path``).

The app encodes them into the bundle as soon as a render finishes, the result cache keeps them
and farm workers send them back, so they are written for a fast round trip at a modest size.
Measured on these 2-core machines at 1080p (benchmarks/clip_store.py):

- a typical render frame (smooth, upscaled detail) deflates to ~0.7 MB; zlib level 1 with the
  Up filter on every row writes it in ~35 ms and decodes in ~20 ms, where the adaptive filters
  took ~62 and ~28 ms for the same size;
- a grainy frame barely deflates (~58% of its 6.2 MB) and inflating it costs ~42 ms, slower
  than encoding it into the clip; stored uncompressed it decodes in ~7 ms. So a frame that
  deflate can't halve is kept uncompressed: the disk it costs is small next to its own size.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.errors import EngineError

PACKED = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_UP]
STORED = [cv2.IMWRITE_PNG_COMPRESSION, 0, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]
# Deflate must at least halve a frame to be worth inflating again.
WORTH_PACKING = 0.5


def write_clip_frame(path: str | Path, rgb: np.ndarray) -> None:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", bgr, PACKED)
    if ok and data.size > WORTH_PACKING * bgr.nbytes:
        ok, data = cv2.imencode(".png", bgr, STORED)
    if not ok:
        raise EngineError(f"could not encode clip frame {path} as PNG")
    # A plain file write, not ndarray.tofile (see engine.backends.fit.write_png for why).
    with open(path, "wb") as f:
        f.write(data.tobytes())  # a few MB at most, once per file
