"""Storyboard page geometry and text fitting, in pixels at :data:`DPI`; no drawing here.

Layouts follow what storyboard artists print. 1 across is a portrait shooting board:
picture left, notes right. 2 and 3 across are landscape grids with the notes under each
picture. Rows per page are chosen so the notes keep :data:`MIN_TEXT_LINES` lines at the
body size and pictures stay large; a picture that can't use its panel's full width sits
left, and the space to its right becomes a side column (camera line, extra pins) rather
than a margin. Extra pins never take text room: they go to the side column, to the foot
of the shooting board's notes, or along the bottom edge inside the picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from PIL import ImageFont

DPI = 150
# Paper as (width, height) in inches, portrait.
PAPER_INCHES: dict[str, tuple[Fraction, Fraction]] = {
    "letter": (Fraction(17, 2), Fraction(11)),
    "a4": (Fraction(210) / Fraction(254, 10), Fraction(297) / Fraction(254, 10)),
}
MARGIN = 60  # 0.4 in: inside every printer's unprintable edge
HEADER_H = 84
HEADER_GAP = 20
GAP_X = 30  # between panel columns
GAP_Y = 24  # between panel rows (the scene-heading line above each panel adds to it)
PICTURE_GAP = 8  # picture to the notes under it
SIDE_GAP = 20  # picture to the side column right of it
MIN_SIDE_W = 150  # a narrower strip right of a picture holds nothing readable: leave it blank
SIDE_PICTURE_SHARE = 0.58  # 1 across: the picture column's share of the panel width
# Another row per page only while pictures keep this share of their column: the shooting
# board and 3 across are for big pictures; at 2 across a narrower picture still leaves a
# side column worth having (a 4:3 frame gets 2 rows, not 1).
MIN_PICTURE_SHARE = {1: 0.7, 2: 0.45, 3: 0.7}
MIN_TEXT_LINES = 6  # camera line, two or three lines of action, dialogue, a note
THUMB_GAP = 8
MIN_THUMB_H = 36  # smaller thumbnails are unreadable; show fewer and a "+N" tile
THUMB_SHARE = 0.3  # extra-pin thumbnails at most this share of the picture height (overlay, shooting board)
OVERLAY_INSET = 6  # overlaid thumbnails keep this far from the picture's edges
ELLIPSIS = "…"


@dataclass(frozen=True)
class FontSizes:
    """Pixel sizes at :data:`DPI` (18 px is about 8.6 pt)."""

    heading: int
    caption: int
    body: int
    small: int


# Smaller type as panels get narrower, so a line still holds a readable phrase.
FONT_SIZES: dict[int, FontSizes] = {
    1: FontSizes(heading=21, caption=28, body=21, small=16),
    2: FontSizes(heading=18, caption=26, body=18, small=15),
    3: FontSizes(heading=16, caption=22, body=16, small=14),
}


def line_height(size: int) -> int:
    # DejaVu's ascent + descent is about 1.17 em; a little leading on top keeps lines apart.
    return round(size * 1.3)


def paragraph_gap(size: int) -> int:
    """Extra space between two paragraphs of body text."""
    return line_height(size) // 3


def notes_height(size: int, lines: int) -> int:
    """Height of ``lines`` lines of body text in three paragraphs (action, dialogue, note)."""
    return lines * line_height(size) + 2 * paragraph_gap(size)


def shooting_strip_height(picture_h: int, notes_h: int) -> int:
    """The extra-pin strip at the foot of a shooting board's notes column."""
    return max(MIN_THUMB_H, min(round(picture_h * THUMB_SHARE), notes_h // 3))


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def top(self, h: int) -> tuple[Box, Box]:
        """Split off the top ``h`` pixels: (top part, the rest)."""
        h = max(0, min(h, self.h))
        return Box(self.x, self.y, self.w, h), Box(self.x, self.y + h, self.w, self.h - h)

    def inset(self, d: int) -> Box:
        return Box(self.x + d, self.y + d, max(0, self.w - 2 * d), max(0, self.h - 2 * d))

    def contains(self, other: Box) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom

    def overlaps(self, other: Box) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


@dataclass(frozen=True)
class PanelBoxes:
    """Where one shot's parts go.

    ``text`` is right of the picture at 1 across, under it otherwise (then as wide as the
    panel). ``side`` is the column right of a picture narrower than its panel, or None.
    """

    frame: Box  # the whole panel; nothing is drawn outside it
    heading: Box
    caption: Box
    picture: Box
    text: Box
    side: Box | None


@dataclass(frozen=True)
class PageLayout:
    paper: str
    across: int
    rows: int
    width: int
    height: int
    header: Box
    slots: tuple[Box, ...]  # panel frames, row by row
    picture_w: int
    picture_h: int
    fonts: FontSizes

    @property
    def per_page(self) -> int:
        return self.across * self.rows

    @property
    def landscape(self) -> bool:
        return self.width > self.height

    @property
    def side_by_side(self) -> bool:
        return self.across == 1

    def page_count(self, shots: int) -> int:
        return max(1, -(-shots // self.per_page))

    def panel(self, slot: int) -> PanelBoxes:
        frame = self.slots[slot]
        heading, rest = frame.top(line_height(self.fonts.heading) + 2)
        caption, rest = rest.top(line_height(self.fonts.caption) + 4)
        # Pictures sit left: a centred narrower picture only makes margins nobody can use.
        picture = Box(rest.x, rest.y, self.picture_w, self.picture_h)
        side = None
        if self.side_by_side:
            text_x = picture.right + GAP_X
            text = Box(text_x, rest.y, frame.right - text_x, rest.h)
        else:
            _, text = rest.top(self.picture_h + PICTURE_GAP)
            side_x = picture.right + SIDE_GAP
            if frame.right - side_x >= MIN_SIDE_W:
                side = Box(side_x, picture.y, frame.right - side_x, picture.h)
        return PanelBoxes(frame, heading, caption, picture, text, side)


def page_size(paper: str, landscape: bool) -> tuple[int, int]:
    w_in, h_in = PAPER_INCHES[paper]
    w, h = round(w_in * DPI), round(h_in * DPI)
    return (h, w) if landscape else (w, h)


def page_layout(paper: str, across: int, width: int, height: int) -> PageLayout:
    """The grid for ``across`` panels per row of pictures with aspect ``width:height``."""
    if paper not in PAPER_INCHES:
        raise ValueError(f"unknown paper {paper!r}")
    if across not in FONT_SIZES:
        raise ValueError(f"unknown layout {across!r} across")
    fonts = FONT_SIZES[across]
    aspect = Fraction(width, height)
    side_by_side = across == 1
    page_w, page_h = page_size(paper, landscape=not side_by_side)
    header = Box(MARGIN, MARGIN, page_w - 2 * MARGIN, HEADER_H)
    top = header.bottom + HEADER_GAP
    area = Box(MARGIN, top, page_w - 2 * MARGIN, page_h - MARGIN - top)
    panel_w = (area.w - (across - 1) * GAP_X) // across
    titles = line_height(fonts.heading) + 2 + line_height(fonts.caption) + 4
    share = MIN_PICTURE_SHARE[across]
    if side_by_side:
        # The notes sit beside the picture, as tall as the panel below the titles.
        column, below = round(panel_w * SIDE_PICTURE_SHARE), 0
    else:
        column, below = panel_w, PICTURE_GAP + notes_height(fonts.body, MIN_TEXT_LINES)

    def panel_h(rows: int) -> int:
        return (area.h - (rows - 1) * GAP_Y) // rows

    def picture_w(rows: int, below: int = below) -> int:
        return min(column, int((panel_h(rows) - titles - below) * aspect))

    def fits(rows: int) -> bool:
        pic_w = picture_w(rows)
        if pic_w < share * column:
            return False
        if not side_by_side:
            return True  # ``below`` already keeps the lines under the picture
        notes = panel_h(rows) - titles
        strip = shooting_strip_height(int(pic_w / aspect), notes)
        return notes - strip - THUMB_GAP >= notes_height(fonts.body, MIN_TEXT_LINES)

    rows = 1
    while fits(rows + 1):
        rows += 1
    pic_w = max(16, picture_w(rows))
    if not side_by_side and panel_w - pic_w - SIDE_GAP >= MIN_SIDE_W:
        # A side column takes the camera line, so the notes under the picture need a line
        # less; the picture grows into it if the side column stays wide enough.
        wider = picture_w(rows, below - line_height(fonts.body) - paragraph_gap(fonts.body))
        if panel_w - wider - SIDE_GAP >= MIN_SIDE_W:
            pic_w = wider
    pic_h = max(9, int(pic_w / aspect))
    h = panel_h(rows)
    slots = tuple(
        Box(area.x + c * (panel_w + GAP_X), area.y + r * (h + GAP_Y), panel_w, h)
        for r in range(rows)
        for c in range(across)
    )
    return PageLayout(paper, across, rows, page_w, page_h, header, slots, pic_w, pic_h, fonts)


def thumb_grid(
    area: Box,
    count: int,
    aspect: Fraction,
    max_h: int,
    *,
    min_h: int = MIN_THUMB_H,
    align: Literal["left", "right"] = "left",
    gap: int = THUMB_GAP,
) -> tuple[list[Box], int]:
    """Boxes for ``count`` thumbnails in a grid inside ``area``, as large as fits (up to ``max_h`` tall).

    Returns the boxes and how many pins are hidden. When not all fit at ``min_h``, the
    last box is left for a "+N" tile, so the boxes then hold ``len(boxes) - 1`` thumbnails
    and ``hidden`` counts the rest. An area too small for one thumbnail gives no boxes.
    """
    if count <= 0 or area.w <= 0 or area.h <= 0:
        return [], max(0, count)
    best: tuple[int, int] | None = None  # (thumbnail width, columns)
    for cols in range(1, count + 1):
        rows = -(-count // cols)
        w = min((area.w - (cols - 1) * gap) // cols, int((area.h - (rows - 1) * gap) // rows * aspect),
                int(max_h * aspect))  # fmt: skip
        # On a tie the wider grid wins: a row of pins reads left to right like the shot.
        if int(w / aspect) >= min_h and (best is None or w >= best[0]):
            best = (w, cols)
    hidden = 0
    if best is None:
        h = min(min_h, area.h)
        w = min(area.w, max(1, int(h * aspect)))
        cols = max(1, (area.w + gap) // (w + gap))
        slots = cols * max(1, (area.h + gap) // (int(w / aspect) + gap))
        best = (w, cols)
        if slots < count:
            hidden = count - slots + 1
            count = slots
    w, cols = best
    h = max(1, int(w / aspect))
    boxes = [Box(area.x + (i % cols) * (w + gap), area.y + (i // cols) * (h + gap), w, h) for i in range(count)]
    if align == "right":
        # Shift each row so it ends at the area's right edge.
        shift: dict[int, int] = {}
        for b in boxes:
            shift[b.y] = max(shift.get(b.y, 0), b.right)
        boxes = [Box(b.x + area.right - shift[b.y], b.y, b.w, b.h) for b in boxes]
    return boxes, hidden


def overlay_area(picture: Box) -> Box:
    """Where extra pins go when a panel has no side column: the picture's bottom edge.

    The left third stays clear for the main picture's own frame tag.
    """
    band = max(MIN_THUMB_H, round(picture.h * THUMB_SHARE))
    left = picture.x + picture.w // 3
    return Box(left, picture.bottom - OVERLAY_INSET - band, picture.right - OVERLAY_INSET - left, band)


# --- text -----------------------------------------------------------------------------


def wrap_text(text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int | None = None) -> list[str]:
    """Lines of ``text`` no wider than ``width`` pixels in ``font``.

    Breaks at spaces, keeps the writer's line breaks, splits a word longer than a line
    (a URL, a run of letters) by characters, and when there are more than ``max_lines``
    ends the last kept line with an ellipsis.
    """
    if max_lines is not None and max_lines <= 0:
        return []
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        words = raw.split()
        if not words:
            lines.append("")
            continue
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            while font.getlength(word) > width:
                cut = _fit_chars(word, font, width)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    # Blank lines at the ends only waste a panel's scarce height.
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = ellipsize(lines[-1], font, width, force=True)
    return lines


def ellipsize(text: str, font: ImageFont.FreeTypeFont, width: int, *, force: bool = False) -> str:
    """``text`` cut to fit ``width`` with a trailing ellipsis (always one when ``force``)."""
    if not force and font.getlength(text) <= width:
        return text
    text = text.rstrip()
    while text and font.getlength(text + ELLIPSIS) > width:
        text = text[:-1]
    text = text.rstrip()
    return text + ELLIPSIS if font.getlength(ELLIPSIS) <= width else ""


def _fit_chars(word: str, font: ImageFont.FreeTypeFont, width: int) -> int:
    """How many leading characters of ``word`` fit in ``width`` (at least one, so wrapping ends)."""
    lo, hi = 1, len(word)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(word[:mid]) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass(frozen=True)
class Paragraph:
    text: str
    font: ImageFont.FreeTypeFont
    fill: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class TextLine:
    text: str
    font: ImageFont.FreeTypeFont
    fill: tuple[int, int, int]
    x: int
    y: int  # top of the line box, in page pixels

    @property
    def height(self) -> int:
        return line_height(round(self.font.size))


def fit_paragraphs(paragraphs: list[Paragraph], box: Box) -> tuple[list[TextLine], bool]:
    """Lay paragraphs into ``box`` top to bottom; returns the lines and whether text was cut.

    Every returned line fits inside the box, width and height; the last line of a cut
    paragraph ends with an ellipsis and later paragraphs are dropped.
    """
    out: list[TextLine] = []
    y = box.y
    for i, para in enumerate(p for p in paragraphs if p.text.strip()):
        lh = line_height(round(para.font.size))
        if i:
            y += paragraph_gap(round(para.font.size))
        room = (box.bottom - y) // lh
        if room <= 0:
            if out:
                last = out[-1]
                out[-1] = TextLine(ellipsize(last.text, last.font, box.w, force=True), last.font, last.fill,
                                   last.x, last.y)  # fmt: skip
            return out, True
        lines = wrap_text(para.text, para.font, box.w)
        cut = len(lines) > room
        if cut:
            lines = wrap_text(para.text, para.font, box.w, max_lines=room)
        for line in lines:
            out.append(TextLine(line, para.font, para.fill, box.x, y))
            y += lh
        if cut:
            return out, True
    return out, False


@dataclass(frozen=True)
class PanelContent:
    """What one panel shows besides its titles and main picture, placed and fitted."""

    lines: list[TextLine]
    cut: bool  # some text was shortened with an ellipsis
    thumbs: list[Box]  # extra-pin thumbnails, in pin order; the last is a "+N" tile when ``hidden``
    hidden: int
    overlay: bool  # thumbnails are drawn on top of the main picture


def arrange_panel(
    layout: PageLayout, boxes: PanelBoxes, camera: Paragraph, notes: list[Paragraph], extra_pins: int,
    aspect: Fraction,
) -> PanelContent:  # fmt: skip
    """Place the camera line, the other paragraphs (action, dialogue, note) and extra-pin thumbnails.

    With a side column, the camera line heads it and the thumbnails fill the rest, so the
    notes under the picture get the panel's full width. On the shooting board the
    thumbnails sit at the foot of the notes column, level with the picture's bottom.
    Otherwise they are overlaid along the picture's bottom edge. Text never shares room
    with thumbnails and every line stays inside its box.
    """
    text = boxes.text
    paragraphs = [camera, *notes]
    lines: list[TextLine] = []
    cut = False
    thumbs: list[Box] = []
    hidden = 0
    overlay = False
    if boxes.side is not None:
        side = boxes.side
        lh = line_height(round(camera.font.size))
        wanted = len(wrap_text(camera.text, camera.font, side.w)) if camera.text.strip() else 0
        room = (side.h - (MIN_THUMB_H + THUMB_GAP if extra_pins else 0)) // lh
        camera_box, rest = side.top(min(wanted, max(1, room)) * lh)
        lines, cut = fit_paragraphs([camera], camera_box)
        if extra_pins:
            _, area = rest.top(THUMB_GAP if wanted else 0)
            thumbs, hidden = thumb_grid(area, extra_pins, aspect, area.h)
        paragraphs = notes
    elif extra_pins and layout.side_by_side:
        strip_h = shooting_strip_height(boxes.picture.h, text.h)
        bottom = min(text.bottom, max(boxes.picture.bottom, text.y + strip_h))
        area = Box(text.x, bottom - strip_h, text.w, strip_h)
        thumbs, hidden = thumb_grid(area, extra_pins, aspect, strip_h)
        text = Box(text.x, text.y, text.w, max(0, area.y - THUMB_GAP - text.y))
    elif extra_pins:
        area = overlay_area(boxes.picture)
        thumbs, hidden = thumb_grid(area, extra_pins, aspect, area.h, align="right")
        overlay = True
    more, more_cut = fit_paragraphs(paragraphs, text)
    return PanelContent(lines + more, cut or more_cut, thumbs, hidden, overlay)
