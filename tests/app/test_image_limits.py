"""Images are refused from their header, before decoding: non-images, huge images, huge files."""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.errors import MediaError
from app.image_limits import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, check_image, limits_text
from engine.backends.fit import ImageRefused, read_rgb, write_png


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def forged_png(path: Path, width: int, height: int) -> Path:
    """A valid PNG header claiming ``width``x``height`` with one row of data: tiny on disk."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    row = zlib.compress(b"\x00" + b"\x00" * 3 * 16)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", row) + _chunk(b"IEND", b""))
    return path


def test_a_20000_pixel_png_is_refused_from_its_header_without_spending_memory(tmp_path):
    huge = forged_png(tmp_path / "scan.png", 20000, 20000)  # 1.2 GB as RGB, were it decoded
    tracemalloc.start()
    try:
        with pytest.raises(MediaError) as refused:
            check_image(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(refused.value)
    assert "scan.png" in message and "20000x20000" in message and f"{MAX_IMAGE_SIDE}" in message
    assert "scale it down" in message
    assert peak < 5 * 1024**2, f"{peak} bytes allocated to read a header"


def test_a_wide_strip_over_the_side_limit_is_refused_and_the_engine_never_decodes_it(tmp_path):
    # Under PIL's own decompression-bomb threshold, so this goes through the ordinary header path.
    strip = forged_png(tmp_path / "panorama.png", MAX_IMAGE_SIDE + 1, 100)
    with pytest.raises(MediaError, match=rf"panorama\.png is {MAX_IMAGE_SIDE + 1}x100 pixels"):
        check_image(strip)
    with pytest.raises(ImageRefused, match="scale it down"):
        read_rgb(strip)  # the engine's reader checks first: this would otherwise decode (or fail) in full


def test_a_text_file_named_png_is_not_an_image(tmp_path):
    fake = tmp_path / "notes.png"
    fake.write_text("INT. ROOFTOP - NIGHT\nShe runs.\n", encoding="utf-8")
    with pytest.raises(MediaError, match=r"notes\.png is not a readable image; save it as PNG, JPEG or WebP"):
        check_image(fake)
    with pytest.raises(ImageRefused, match="not a readable image"):
        read_rgb(fake)


def test_an_empty_file_is_refused_as_empty(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(MediaError, match=r"empty\.png is empty \(0 bytes\)"):
        check_image(empty)


def test_a_file_over_the_byte_limit_is_refused_before_it_is_opened(tmp_path):
    big = tmp_path / "huge.png"
    with open(big, "wb") as f:
        f.truncate(MAX_IMAGE_BYTES + 1)  # sparse: no disk space used
    with pytest.raises(MediaError, match=r"huge\.png is 100\.0 MB, over the 100\.0 MB limit"):
        check_image(big)


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(MediaError, match="is missing"):
        check_image(tmp_path / "gone.png")


def test_a_normal_image_passes_with_its_size_and_format(tmp_path):
    path = tmp_path / "keyframe.png"
    rgb = np.zeros((90, 160, 3), np.uint8)
    rgb[:, :80] = (200, 30, 30)
    write_png(path, rgb)
    header = check_image(path)
    assert (header.width, header.height, header.format) == (160, 90, "PNG") and header.bytes == path.stat().st_size
    assert np.array_equal(read_rgb(path), rgb)
    jpeg = tmp_path / "photo.jpg"
    cv2.imwrite(str(jpeg), np.full((MAX_IMAGE_SIDE // 64, 64, 3), 128, np.uint8))
    assert check_image(jpeg).format == "JPEG"
    assert limits_text() == f"up to {MAX_IMAGE_SIDE} px a side and 100 MB"
