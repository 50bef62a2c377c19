"""Burn-ins for the reference movie: text drawn into the pictures an editor cuts against.

Each label is a small RGBA patch (white DejaVu text on a translucent dark box) blended into
only its own corner of the frame, so a 1080p frame costs a few small blends, not a full-frame
composite. The labels that stay put for a whole shot (shot and scene, dialogue) are rendered
once per shot; only the timecode and the frame counter are rendered per frame.

Sizes follow the frame height, with a floor so the text stays legible on tiny test frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from app.paths import resources_dir

FONT_DIR = resources_dir() / "fonts"
REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

TEXT = (255, 255, 255, 255)
BOX = (0, 0, 0, 165)  # dark enough to read white on snow, light enough to see the picture through


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(BOLD if bold else REGULAR), size)


@dataclass(frozen=True)
class Patch:
    """A label ready to blend: premultiplied colour and 1 - alpha, both scaled to 0..255 integers."""

    x: int
    y: int
    premul: np.ndarray  # (h, w, 3) uint16: rgb * alpha / 255
    keep: np.ndarray  # (h, w, 1) uint16: 255 - alpha

    def blend(self, frame: np.ndarray) -> None:
        """Blend into ``frame`` in place (the caller owns ``frame``)."""
        h, w = self.premul.shape[:2]
        fh, fw = frame.shape[:2]
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(fw, self.x + w), min(fh, self.y + h)
        if x0 >= x1 or y0 >= y1:
            return
        region = frame[y0:y1, x0:x1]
        sy, sx = slice(y0 - self.y, y1 - self.y), slice(x0 - self.x, x1 - self.x)
        # Integer blend: (dst * (255 - a) + 255 * src * a / 255) / 255, rounded.
        mixed = region.astype(np.uint16) * self.keep[sy, sx] + self.premul[sy, sx] * 255 + 127
        region[:] = (mixed // 255).astype(np.uint8)


def _patch(image: Image.Image, x: int, y: int) -> Patch:
    rgba = np.asarray(image, dtype=np.uint16)
    alpha = rgba[:, :, 3:4]
    premul = (rgba[:, :, :3] * alpha + 127) // 255
    return Patch(x, y, premul, 255 - alpha)


@dataclass(frozen=True)
class ShotLayer:
    """What stays the same for every frame of a shot."""

    patches: tuple[Patch, ...]


class BurnInPainter:
    """Draws the four burn-ins into frames of one size."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        # ~36 px text at 1080p; never below 9 px, the smallest DejaVu stays readable at.
        self.size = max(9, round(height * 0.033))
        self.pad = max(2, self.size // 4)  # box padding around text
        self.margin = max(2, round(height * 0.02))  # distance from the frame edge
        self.font = font(self.size)
        self.bold = font(self.size, bold=True)
        ascent, descent = self.font.getmetrics()
        self.line = ascent + descent
        self.row = self.line + 2 * self.pad  # height of a one-line box
        # The top-right timecode box's width, for cutting the top-left label short of it.
        self.tc_width = self._text_width("00:00:00:00", self.font) + 2 * self.pad

    # --- per shot --------------------------------------------------------------------------------
    def shot_layer(self, label: str, dialogue: str = "") -> ShotLayer:
        """The shot's top-left label ("1A  INT. HOUSE - NIGHT") and its dialogue subtitle, if any."""
        room = self.width - 3 * self.margin - self.tc_width - 2 * self.pad
        text = self._ellipsize(label, self.bold, room)
        patches = [self._label(text, self.bold, self.margin, self.margin)] if text else []
        if dialogue.strip():
            patches.append(self._subtitle(dialogue.strip()))
        return ShotLayer(tuple(patches))

    # --- per frame -------------------------------------------------------------------------------
    def draw(self, frame: np.ndarray, layer: ShotLayer, top_right: str, bottom_left: str) -> np.ndarray:
        """A copy of ``frame`` with the shot's labels, ``top_right`` (timecode) and ``bottom_left`` (counter)."""
        out = np.array(frame, dtype=np.uint8, copy=True)
        for patch in layer.patches:
            patch.blend(out)
        tc = self._label(top_right, self.font, 0, self.margin)
        tc = Patch(self.width - self.margin - tc.premul.shape[1], tc.y, tc.premul, tc.keep)
        tc.blend(out)
        self._label(bottom_left, self.font, self.margin, self.height - self.margin - self.row).blend(out)
        return out

    # --- drawing ---------------------------------------------------------------------------------
    def _label(self, text: str, face: ImageFont.FreeTypeFont, x: int, y: int) -> Patch:
        w = self._text_width(text, face) + 2 * self.pad
        image = Image.new("RGBA", (max(1, w), self.row), BOX)
        ImageDraw.Draw(image).text((self.pad, self.pad), text, font=face, fill=TEXT)
        return _patch(image, x, y)

    def _subtitle(self, text: str) -> Patch:
        """Dialogue centred at the bottom, above the counter row, wrapped to at most three lines.

        Small frames get fewer lines (the box may cover at most ~40% of the height); a cut line ends in "…".
        """
        max_width = self.width - 2 * self.margin - 2 * self.pad
        max_lines = max(1, min(3, int(self.height * 0.4) // self.line))
        lines = _wrap(text, self.font, max_width)
        if len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = self._ellipsize(lines[-1] + " …", self.font, max_width)
        lines = [self._ellipsize(line, self.font, max_width) for line in lines]
        w = max(self._text_width(line, self.font) for line in lines) + 2 * self.pad
        h = self.line * len(lines) + 2 * self.pad
        image = Image.new("RGBA", (w, h), BOX)
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(lines):
            lw = self._text_width(line, self.font)
            draw.text(((w - lw) // 2, self.pad + i * self.line), line, font=self.font, fill=TEXT)
        y = self.height - self.margin - self.row - self.margin // 2 - h
        return _patch(image, (self.width - w) // 2, y)

    def _text_width(self, text: str, face: ImageFont.FreeTypeFont) -> int:
        return int(np.ceil(face.getlength(text)))

    def _ellipsize(self, text: str, face: ImageFont.FreeTypeFont, room: int) -> str:
        if self._text_width(text, face) <= room:
            return text
        while text and self._text_width(text + "…", face) > room:
            text = text[:-1]
        return text.rstrip() + "…" if text else ""


def _wrap(text: str, face: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if line and face.getlength(candidate) > max_width:
                lines.append(line)
                line = word
            else:
                line = candidate
        if line:
            lines.append(line)
    return lines or [""]
