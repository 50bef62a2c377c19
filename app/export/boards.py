"""The storyboard PDF: a grid of panels (picture, shot number, duration, camera, action, dialogue).

Pages are drawn with Pillow and saved as raster pages through Pillow's PDF writer, so the
export needs neither Qt nor a PDF library. The text is pixels, not selectable text: real
text would need the font embedded with a Unicode map (fontTools / reportlab territory).

Pages stream: page 1 is saved, then each later page is appended to the same file
(Pillow's ``append=True``, an incremental update), so only one page image (about 6 MB at
150 dpi) is in memory at a time, however long the film.
"""

from __future__ import annotations

import datetime
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from app.errors import ExportError
from app.export.board_layout import (
    DPI,
    Box,
    PageLayout,
    PanelBoxes,
    PanelContent,
    Paragraph,
    arrange_panel,
    ellipsize,
    line_height,
    page_layout,
)
from app.export.files import Progress, atomic_file
from app.export.formats import WriteJob
from app.export.plan import ExportPlan, ExportShot, PinnedImage
from app.media_store import MediaStore
from app.paths import resources_dir
from app.timecode import format_duration

FONT_DIR = resources_dir() / "fonts"
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"

WHITE = (255, 255, 255)
INK = (20, 20, 20)
GREY = (110, 110, 110)
RULE = (170, 170, 170)
EMPTY_FILL = (236, 236, 236)
MISSING_FILL = (224, 214, 214)
JPEG_QUALITY = 90  # pages are JPEG inside the PDF; 4:4:4 and q90 keep small text crisp


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = FONT_DIR / (BOLD if bold else REGULAR)
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        raise ExportError(
            f"the storyboard font {path} is missing or unreadable; reinstall Pinframe to restore resources/fonts"
        ) from None


class BoardRenderer:
    """Draws storyboard pages of a plan; :meth:`render` is one page, before any PDF encoding.

    Problems that don't stop the board (a keyframe image that is missing or unreadable,
    text cut to fit) are collected in :attr:`notes` for the export report.
    """

    def __init__(self, plan: ExportPlan, media: MediaStore, *, date: str | None = None) -> None:
        self.plan = plan
        self.media = media
        self.layout: PageLayout = page_layout(plan.options.paper, plan.options.panels_per_row, plan.width, plan.height)
        self.aspect = Fraction(plan.width, plan.height)
        self.date = date if date is not None else datetime.date.today().isoformat()
        self.notes: list[str] = []
        self.cut_text: list[str] = []  # shot numbers whose text was shortened

    @property
    def page_count(self) -> int:
        return self.layout.page_count(len(self.plan.shots))

    def shots_on_page(self, page: int) -> tuple[ExportShot, ...]:
        n = self.layout.per_page
        return self.plan.shots[page * n : (page + 1) * n]

    def render(self, page: int, progress: Progress | None = None) -> Image.Image:
        if not 0 <= page < self.page_count:
            raise IndexError(f"page {page} is outside 0-{self.page_count - 1}")
        image = Image.new("RGB", (self.layout.width, self.layout.height), WHITE)
        draw = ImageDraw.Draw(image)
        self._header(draw, page)
        shots = self.shots_on_page(page)
        if not shots:
            box = self.layout.panel(0).frame
            draw.text((box.x, box.y), "This project has no shots yet.", font=font(self.layout.fonts.body), fill=GREY)
        for slot, shot in enumerate(shots):
            if progress is not None:
                progress.tick()
            self._panel(image, draw, self.layout.panel(slot), shot, first_on_page=slot == 0)
        return image

    # --- page parts ----------------------------------------------------------------

    def _header(self, draw: ImageDraw.ImageDraw, page: int) -> None:
        plan, box = self.plan, self.layout.header
        page_font, date_font = font(22, bold=True), font(16)
        page_text = f"Page {page + 1} of {self.page_count}"
        right_w = int(max(page_font.getlength(page_text), date_font.getlength(self.date)))
        draw.text((box.right, box.y), page_text, font=page_font, fill=INK, anchor="ra")
        draw.text((box.right, box.y + 36), self.date, font=date_font, fill=GREY, anchor="ra")
        left_w = box.w - right_w - 40
        title_font, sub_font = font(30, bold=True), font(17)
        draw.text((box.x, box.y), ellipsize(plan.name or "Untitled", title_font, left_w), font=title_font, fill=INK)
        running = format_duration(plan.length, plan.rate, drop_frame=plan.drop_frame)
        count = len(plan.shots)
        shots = f"{count} shot{'s' * (count != 1)}"
        sub = f"Storyboard · {shots} · {running} · {plan.rate.label} · {plan.width}×{plan.height}"
        draw.text((box.x, box.y + 44), ellipsize(sub, sub_font, left_w), font=sub_font, fill=GREY)
        draw.line([(box.x, box.bottom - 2), (box.right - 1, box.bottom - 2)], fill=RULE, width=2)

    def _panel(
        self, image: Image.Image, draw: ImageDraw.ImageDraw, boxes: PanelBoxes, shot: ExportShot, first_on_page: bool
    ) -> None:
        sizes = self.layout.fonts
        heading = self._heading(shot, first_on_page)
        if heading:
            hf = font(sizes.heading, bold=True)
            draw.text((boxes.heading.x, boxes.heading.y), ellipsize(heading, hf, boxes.heading.w), font=hf, fill=INK)

        cap = boxes.caption
        duration = (
            f"{shot.duration} fr · {format_duration(shot.duration, self.plan.rate, drop_frame=self.plan.drop_frame)}"
        )
        small = font(sizes.small)
        dur_w = int(small.getlength(duration))
        number_font = font(sizes.caption, bold=True)
        number = ellipsize(f"SHOT {shot.number}", number_font, max(0, cap.w - dur_w - 12))
        draw.text((cap.x, cap.y), number, font=number_font, fill=INK)
        # Align the small duration with the shot number's baseline.
        baseline = cap.y + number_font.getmetrics()[0]
        draw.text((cap.right, baseline), duration, font=small, fill=GREY, anchor="rs")

        pins = shot.pinned
        if pins:
            self._picture(image, draw, boxes.picture, shot, pins[0])
        else:
            self._placeholder(draw, boxes.picture, "no keyframe", EMPTY_FILL)

        content = self.arrange(boxes, shot)
        self._thumbs(image, draw, content, shot, pins[1:])
        for line in content.lines:
            draw.text((line.x, line.y), line.text, font=line.font, fill=line.fill)
        if content.cut:
            self.cut_text.append(shot.number)

    def arrange(self, boxes: PanelBoxes, shot: ExportShot) -> PanelContent:
        """Where ``shot``'s text lines and extra-pin thumbnails go in the panel ``boxes``; draws nothing."""
        sizes = self.layout.fonts
        body = font(sizes.body)
        camera = Paragraph(shot.camera_text, body, GREY)
        notes = [
            Paragraph(shot.shot.action, body, INK),
            Paragraph(shot.shot.dialogue, font(sizes.body, bold=True), INK),
            Paragraph(f"Note: {shot.shot.notes}" if shot.shot.notes.strip() else "", body, GREY),
        ]
        extra = max(0, len(shot.pinned) - 1)
        return arrange_panel(self.layout, boxes, camera, notes, extra, self.aspect)

    def _heading(self, shot: ExportShot, first_on_page: bool) -> str:
        prev = self.plan.shots[shot.index - 1] if shot.index > 0 else None
        label = f"SC {shot.scene_number}" + (f" · {shot.scene_heading}" if shot.scene_heading.strip() else "")
        if prev is None or prev.scene_number != shot.scene_number:
            return label
        return f"{label} (cont'd)" if first_on_page else ""

    def _picture(
        self, image: Image.Image, draw: ImageDraw.ImageDraw, box: Box, shot: ExportShot, pin: PinnedImage
    ) -> None:
        picture = self._load(shot, pin, box.w, box.h)
        if picture is None:
            self._placeholder(draw, box, "missing keyframe", MISSING_FILL, cross=True)
        else:
            draw.rectangle([box.x, box.y, box.right - 1, box.bottom - 1], fill=(0, 0, 0))
            image.paste(picture, (box.x + (box.w - picture.width) // 2, box.y + (box.h - picture.height) // 2))
            draw.rectangle([box.x, box.y, box.right - 1, box.bottom - 1], outline=INK, width=2)
        self._pin_tag(draw, box, pin.frame)

    def _thumbs(
        self,
        image: Image.Image,
        draw: ImageDraw.ImageDraw,
        content: PanelContent,
        shot: ExportShot,
        pins: tuple[PinnedImage, ...],
    ) -> None:
        boxes = content.thumbs
        shown = boxes[:-1] if content.hidden else boxes
        if content.overlay:
            # A white keyline separates a thumbnail from the picture under it.
            for box in boxes:
                draw.rectangle([box.x - 2, box.y - 2, box.right + 1, box.bottom + 1], fill=WHITE)
        for box, pin in zip(shown, pins, strict=False):
            self._picture(image, draw, box, shot, pin)
        if content.hidden and boxes:
            self._placeholder(draw, boxes[-1], f"+{content.hidden}", EMPTY_FILL)

    def _load(self, shot: ExportShot, pin: PinnedImage, w: int, h: int) -> Image.Image | None:
        path = self.media.path(pin.image)
        where = f"storyboard: shot {shot.number}, pin at frame {pin.frame}"
        try:
            with Image.open(path) as src:
                src.draft("RGB", (w, h))  # JPEG decodes straight at a smaller scale
                return ImageOps.contain(src.convert("RGB"), (w, h), Image.Resampling.LANCZOS)
        except FileNotFoundError:
            self.notes.append(
                f"{where}: keyframe image {pin.image.relpath} is missing from the project; "
                "the panel shows a placeholder. Relink the media or pin the keyframe again."
            )
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            self.notes.append(
                f"{where}: keyframe image {pin.image.relpath} can't be read ({exc}); "
                "the panel shows a placeholder. Replace the keyframe and export again."
            )
        return None

    def _placeholder(
        self, draw: ImageDraw.ImageDraw, box: Box, label: str, fill: tuple[int, int, int], cross: bool = False
    ) -> None:
        draw.rectangle([box.x, box.y, box.right - 1, box.bottom - 1], fill=fill, outline=RULE, width=2)
        if cross:
            draw.line([(box.x, box.y), (box.right - 1, box.bottom - 1)], fill=RULE, width=2)
            draw.line([(box.x, box.bottom - 1), (box.right - 1, box.y)], fill=RULE, width=2)
        f = font(max(10, min(self.layout.fonts.body, box.h // 3)))
        text = ellipsize(label, f, box.w - 8)
        if text:
            draw.text((box.x + box.w // 2, box.y + box.h // 2), text, font=f, fill=GREY, anchor="mm")

    def _pin_tag(self, draw: ImageDraw.ImageDraw, box: Box, frame: int) -> None:
        f = font(max(10, min(self.layout.fonts.small, box.h // 4)))
        text = f"fr {frame}"
        w, h = int(f.getlength(text)) + 8, line_height(round(f.size))
        if w > box.w - 4 or h > box.h - 4:
            return  # a thumbnail too small to label stays unlabelled rather than covered
        x, y = box.x + 2, box.bottom - 2 - h
        draw.rectangle([x, y, x + w - 1, y + h - 1], fill=(0, 0, 0))
        draw.text((x + 4, y + h // 2), text, font=f, fill=WHITE, anchor="lm")


def write_storyboard_pdf(plan: ExportPlan, media: MediaStore, final_path: Path, progress: Progress) -> list[str]:
    """Write the storyboard PDF to ``final_path``; returns notes for the export report.

    Ticks ``progress`` once per shot. A missing keyframe image becomes a placeholder panel
    and a note, never an error; a failure or cancel leaves no file under ``final_path``.
    """
    renderer = BoardRenderer(plan, media)
    progress.begin("storyboard PDF")
    pages = renderer.page_count
    save = {
        "resolution": float(DPI),
        "quality": JPEG_QUALITY,
        "subsampling": 0,
    }
    with atomic_file(final_path) as tmp:
        for page in range(pages):
            image = renderer.render(page, progress)
            if page == 0:
                # Title must be explicit: Pillow would take it from the temporary file name.
                image.save(
                    tmp, "PDF", title=plan.name or "Storyboard", subject="Storyboard", creator="Pinframe", **save
                )
            else:
                image.save(tmp, "PDF", append=True, **save)
            image.close()
    notes = list(renderer.notes)
    if renderer.cut_text:
        shots = ", ".join(renderer.cut_text[:10]) + (" …" if len(renderer.cut_text) > 10 else "")
        notes.append(
            f"storyboard: the text of shot(s) {shots} was shortened to fit the panels; "
            "the shot list CSV has it in full (or choose 1 panel per row for more room)."
        )
    return notes


def export_storyboard(job: WriteJob) -> list[str]:
    """The "pdf" format's writer (see app.export.formats)."""
    return write_storyboard_pdf(job.plan, job.media, job.path, job.progress)
