"""Burn-ins: drawn where they belong, readable at any size, never drawn onto the caller's frame."""

from __future__ import annotations

import numpy as np
import pytest

from app.export.burnin import BurnInPainter


def boxes(burned: np.ndarray, clean: np.ndarray) -> np.ndarray:
    """Columns of the top row band where anything was drawn."""
    return np.flatnonzero(np.any(burned != clean, axis=(0, 2)))


@pytest.mark.parametrize(("width", "height"), [(128, 72), (1920, 1080)])
def test_labels_sit_in_their_corners_without_overlapping(width: int, height: int) -> None:
    painter = BurnInPainter(width, height)
    clean = np.full((height, width, 3), 128, np.uint8)
    clean.setflags(write=False)
    layer = painter.shot_layer("12A  INT. A VERY LONG PLACE NAME THAT NEVER ENDS — Ünïcødé 東京 - NIGHT", "")
    burned = painter.draw(clean, layer, "01:00:00:00", "frame 07")
    assert burned is not clean and (clean == 128).all()
    band = slice(0, painter.margin + painter.row)
    drawn = boxes(burned[band], clean[band])
    # Two boxes in the top band: the label (cut short with "…") and the timecode, with a gap between.
    gaps = np.flatnonzero(np.diff(drawn) > 1)
    assert len(gaps) == 1
    assert drawn[0] == painter.margin and drawn[-1] == width - painter.margin - 1
    bottom = slice(height - painter.margin - painter.row, height)
    assert boxes(burned[bottom], clean[bottom])[0] == painter.margin
    middle = slice(height // 4, height // 2)
    assert (burned[middle] == clean[middle]).all()


def test_text_scales_with_the_frame_and_stays_legible_when_tiny() -> None:
    assert BurnInPainter(128, 72).size == 9
    assert BurnInPainter(1920, 1080).size == 36
    assert BurnInPainter(3840, 2160).size == 71


def test_dialogue_wraps_above_the_counter_and_is_cut_on_small_frames() -> None:
    painter = BurnInPainter(128, 72)
    long_line = "ANNA: " + "I heard something at the door and it was not the wind. " * 3
    layer = painter.shot_layer("1", long_line)
    subtitle = layer.patches[-1]
    lines = (subtitle.premul.shape[0] - 2 * painter.pad) // painter.line
    assert lines == 2  # at most ~40% of a 72-pixel frame
    assert subtitle.y + subtitle.premul.shape[0] <= 72 - painter.margin - painter.row
    big = BurnInPainter(1920, 1080).shot_layer("1", long_line).patches[-1]
    assert big.premul.shape[1] <= 1920
    assert (big.premul.shape[0] - 2 * BurnInPainter(1920, 1080).pad) // BurnInPainter(1920, 1080).line == 2
