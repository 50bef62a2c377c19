"""Issue 18 item 16: ProRes / DNxHR (and H.264) movies carry BT.709 colour tags and video range.

Read back with PyAV at both levels an editor looks at: the stream (container: the MOV ``colr``
atom, the MXF picture descriptor) and the decoded frame (the ProRes frame header; the MXF/DNx
essence). Untagged primaries/transfer make Resolve and Final Cut guess, and a guess can shift
the colours of the whole cut.
"""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest

from app.export.files import Progress
from app.export.movies import CODECS, write_movie
from app.timecode import FrameRate
from tests.app.export.project_factory import clip_frame

SIZES = {"prores": (128, 72), "h264": (128, 72), "dnxhr": (256, 144)}
# AVCOL_PRI_BT709 / AVCOL_TRC_BT709 / AVCOL_SPC_BT709 are 1; AVCOL_RANGE_MPEG (video range) is 1.
BT709, VIDEO_RANGE = 1, 1


def write(tmp_path: Path, codec: str, rate: FrameRate | None = None) -> Path:
    rate = rate or FrameRate(24)
    width, height = SIZES[codec]
    final = tmp_path / f"colour.{CODECS[codec].container}"
    write_movie((clip_frame(i, width, height) for i in range(3)), final, rate, codec, "01:00:00:00", Progress(), 3)
    return final


def tags(obj: object) -> tuple[int, int, int, int]:
    return (
        int(obj.color_primaries),  # type: ignore[attr-defined]
        int(obj.color_trc),  # type: ignore[attr-defined]
        int(obj.colorspace),  # type: ignore[attr-defined]
        int(obj.color_range),  # type: ignore[attr-defined]
    )


@pytest.mark.parametrize("rate", [FrameRate(24), FrameRate(30000, 1001)], ids=str)
@pytest.mark.parametrize("codec", list(CODECS))
def test_movies_carry_bt709_colour_tags_in_stream_and_frames(tmp_path: Path, codec: str, rate: FrameRate) -> None:
    final = write(tmp_path, codec, rate)
    expected = (BT709, BT709, BT709, VIDEO_RANGE)
    with av.open(str(final)) as container:
        stream = container.streams.video[0]
        assert tags(stream.codec_context) == expected, "stream (container) colour tags"
        frames = list(container.decode(stream))
    assert len(frames) == 3
    for frame in frames:
        assert tags(frame) == expected, "decoded frame colour tags (the codec's own header)"


def test_prores_mov_has_an_nclc_colour_atom_for_bt709(tmp_path: Path) -> None:
    # QuickTime and Final Cut read the 'colr' atom: type 'nclc', then primaries, transfer, matrix.
    data = write(tmp_path, "prores").read_bytes()
    at = data.find(b"colrnclc")
    assert at > 0, "no colr/nclc atom in the ProRes .mov"
    assert struct.unpack(">HHH", data[at + 8 : at + 14]) == (BT709, BT709, BT709)


def test_prores_frame_header_carries_bt709_primaries_and_transfer(tmp_path: Path) -> None:
    # The ProRes frame header has its own primaries/transfer/matrix bytes (read by Resolve even
    # when the container's atom is dropped by a re-wrap): they must not say "unspecified" (2).
    final = write(tmp_path, "prores")
    with av.open(str(final)) as container:
        frame = next(container.decode(video=0))
    assert (int(frame.color_primaries), int(frame.color_trc), int(frame.colorspace)) == (BT709, BT709, BT709)
