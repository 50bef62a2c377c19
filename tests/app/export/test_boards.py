"""The storyboard PDF: layouts, page size, pictures, text fitting, missing media, cancel."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import PdfParser

from app.bundle import Bundle
from app.demo import write_demo
from app.document import Camera, Pin, Project, new_id
from app.errors import ExportCancelled
from app.export.board_layout import (
    ELLIPSIS,
    MIN_SIDE_W,
    MIN_TEXT_LINES,
    MIN_THUMB_H,
    SIDE_GAP,
    THUMB_GAP,
    Box,
    Paragraph,
    fit_paragraphs,
    line_height,
    notes_height,
    overlay_area,
    page_layout,
    paragraph_gap,
    shooting_strip_height,
    thumb_grid,
    wrap_text,
)
from app.export.boards import EMPTY_FILL, MISSING_FILL, BoardRenderer, font, write_storyboard_pdf
from app.export.files import Progress
from app.export.plan import ExportOptions, build_plan
from app.media_store import MediaStore
from app.timecode import FrameRate
from tests.app.export.project_factory import make_export_project

RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 200, 30)
# Portrait (width, height) in PostScript points.
PAPER_POINTS = {"letter": (612.0, 792.0), "a4": (595.276, 841.89)}
# What a storyboard artist gets: 1 across is a portrait shooting board, 2 and 3 across landscape.
EXPECTED_PER_PAGE = {("letter", 1): 4, ("letter", 2): 4, ("letter", 3): 6, ("a4", 1): 4, ("a4", 2): 4, ("a4", 3): 6}
SHOTS = 9


@pytest.fixture(scope="module")
def nine(tmp_path_factory):
    """The factory's four shots plus five copies (new ids and numbers): 9 shots in two scenes."""
    ep = make_export_project(tmp_path_factory.mktemp("boards"), audio=False)
    project = ep.project
    base = list(project.shots())
    extra = tuple(replace(base[i % 4], id=new_id(), number=f"{5 + i}") for i in range(SHOTS - 4))
    scene = project.scenes[1]
    project = replace(project, scenes=(project.scenes[0], replace(scene, shots=scene.shots + extra)))
    return ep, project


def options(paper: str = "letter", across: int = 2) -> ExportOptions:
    return ExportOptions(formats=frozenset({"pdf"}), paper=paper, panels_per_row=across)


def pdf_pages(path: Path) -> list[tuple[float, float]]:
    """(width, height) in points of every page, read back through a PDF parser."""
    with PdfParser.PdfParser(str(path)) as pdf:
        boxes = [pdf.read_indirect(ref)[b"MediaBox"] for ref in pdf.pages]
    return [(float(b[2]) - float(b[0]), float(b[3]) - float(b[1])) for b in boxes]


def near(pixel, color, tol: int = 3) -> bool:
    return all(abs(int(a) - int(b)) <= tol for a, b in zip(pixel, color, strict=True))


def color_pixels(page: np.ndarray, box: Box, color, tol: int = 3) -> int:
    region = page[box.y : box.bottom, box.x : box.right].astype(int)
    return int((np.abs(region - np.array(color)).max(axis=2) <= tol).sum())


@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("across", [1, 2, 3])
def test_pdf_pages_and_paper(nine, tmp_path, paper, across):
    ep, project = nine
    plan = build_plan(project, options(paper, across))
    final = tmp_path / "Storyboard Ü.pdf"
    progress = Progress()

    notes = write_storyboard_pdf(plan, ep.media, final, progress)

    assert notes == []
    assert progress.done == SHOTS
    per_page = EXPECTED_PER_PAGE[(paper, across)]
    pages = pdf_pages(final)
    assert len(pages) == -(-SHOTS // per_page)
    w, h = PAPER_POINTS[paper]
    expected = (w, h) if across == 1 else (h, w)
    for size in pages:
        assert size == pytest.approx(expected, abs=0.5)
    data = final.read_bytes()
    # The raw file agrees: its current page tree counts every page, every MediaBox is the paper.
    assert int(re.findall(rb"/Count (\d+)", data)[-1]) == len(pages)
    for box in re.findall(rb"/MediaBox \[\s*([\d.\s]+)\]", data):
        x0, y0, x1, y1 = (float(v) for v in box.split())
        assert (x1 - x0, y1 - y0) == pytest.approx(expected, abs=0.5)
    with PdfParser.PdfParser(str(final)) as pdf:
        assert pdf.info[b"Title"].decode("utf-16") == "Export Test"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Storyboard Ü.pdf"]


@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("across", [1, 2, 3])
@pytest.mark.parametrize("aspect", [(1920, 1080), (2048, 858), (1080, 1920), (1440, 1080)])
def test_layout_geometry(paper, across, aspect):
    layout = page_layout(paper, across, *aspect)
    assert layout.per_page == (EXPECTED_PER_PAGE[(paper, across)] if aspect == (1920, 1080) else layout.per_page)
    assert layout.per_page >= across
    page = Box(0, 0, layout.width, layout.height)
    assert layout.landscape == (across > 1)
    for i, frame in enumerate(layout.slots):
        assert page.inset(59).contains(frame)
        assert not frame.y < layout.header.bottom
        for other in layout.slots[i + 1 :]:
            assert frame.right <= other.x or frame.bottom <= other.y  # no overlaps
        boxes = layout.panel(i)
        for part in (boxes.heading, boxes.caption, boxes.picture, boxes.text, boxes.side or boxes.text):
            assert frame.contains(part)
        pic, text, side = boxes.picture, boxes.text, boxes.side
        assert not pic.overlaps(text)
        # Pictures sit left; whatever is right of one is a usable side column or a sliver.
        assert pic.x == frame.x
        assert side is not None or across == 1 or frame.right - pic.right < SIDE_GAP + MIN_SIDE_W
        # The notes keep their lines: six under or beside the picture, or five under it
        # plus a side column for the camera line (two lines) and at least one thumbnail.
        body = layout.fonts.body
        if across == 1:
            assert side is None
            strip = shooting_strip_height(pic.h, text.h)
            assert text.h - strip - THUMB_GAP >= notes_height(body, MIN_TEXT_LINES)
        elif side is not None:
            assert side.w >= MIN_SIDE_W and not side.overlaps(pic) and not side.overlaps(text)
            assert text.h >= notes_height(body, MIN_TEXT_LINES - 1) - paragraph_gap(body)
            assert side.h >= 2 * line_height(body) + THUMB_GAP + MIN_THUMB_H
        else:
            assert text.h >= notes_height(body, MIN_TEXT_LINES)
        # The picture box has the project's aspect ratio (to a pixel of rounding).
        assert abs(boxes.picture.w / boxes.picture.h - Fraction(*aspect)) < Fraction(aspect[0], aspect[1]) / 50


def test_panel_pictures_show_the_pinned_keyframes(nine):
    ep, project = nine
    plan = build_plan(project, options("letter", 2))
    renderer = BoardRenderer(plan, ep.media, date="2024-05-01")
    page = np.asarray(renderer.render(0))
    assert page.shape == (1275, 1650, 3)  # letter landscape at 150 dpi
    by_number = {s.number: i for i, s in enumerate(renderer.shots_on_page(0))}
    assert list(by_number) == ["1A", "2", "3 Ü", "4"]

    def center(slot):
        pic = renderer.layout.panel(slot).picture
        return page[pic.y + pic.h // 2, pic.x + pic.w // 2]

    assert near(center(by_number["1A"]), RED)
    assert near(center(by_number["2"]), BLUE)
    assert near(center(by_number["3 Ü"]), RED)
    # Shot 3's second pin (green, frame 20) is in the side column, not in the big picture or the notes.
    panel3 = renderer.layout.panel(by_number["3 Ü"])
    assert panel3.side is not None
    assert color_pixels(page, panel3.picture, GREEN, tol=10) == 0
    assert color_pixels(page, panel3.text, GREEN, tol=10) == 0
    assert color_pixels(page, panel3.side, GREEN) > 500
    # The slate shot has an empty frame, no keyframe colour anywhere in its panel.
    panel4 = renderer.layout.panel(by_number["4"])
    pic4 = panel4.picture
    assert near(page[pic4.y + pic4.h // 4, pic4.x + pic4.w // 2], EMPTY_FILL)  # above the "no keyframe" label
    for color in (RED, GREEN, BLUE):
        assert color_pixels(page, panel4.frame, color, tol=40) == 0
    # Most of each pinned picture box is the keyframe (a pin label takes a corner).
    pic1 = renderer.layout.panel(by_number["1A"]).picture
    assert color_pixels(page, pic1, RED) > 0.9 * pic1.w * pic1.h
    assert renderer.notes == []


def test_long_text_never_leaves_its_panel(nine):
    ep, project = nine
    words = "The detective crosses the rain-soaked street, stops, and looks up at the window. " * 40
    long_word = "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" * 3
    shot = replace(next(project.shots()), number="12" * 40, action=f"{long_word} {words}",
                   dialogue="ÜBER: Line one.\nLine two, " + "ja " * 200, notes="n" * 300)  # fmt: skip
    scene = replace(project.scenes[0], heading="INT. " + "VERY LONG PLACE NAME " * 20 + "- NIGHT",
                    shots=(shot, *project.scenes[0].shots[1:]))  # fmt: skip
    project = replace(project, name="Ä project with a name far too long " * 8, scenes=(scene, *project.scenes[1:]))
    for across in (1, 2, 3):
        plan = build_plan(project, options("a4", across))
        renderer = BoardRenderer(plan, ep.media, date="2024-05-01")
        page = np.asarray(renderer.render(0))
        inside = np.zeros(page.shape[:2], bool)
        for box in (renderer.layout.header, *renderer.layout.slots):
            inside[box.y : box.bottom, box.x : box.right] = True
        # Everything outside the header and the panel frames (gutters, margins) is blank paper.
        assert (page[~inside] == 255).all(), f"{across} across: ink outside the panels"
        # Inside shot 1's panel, the text box got text right down to its last line.
        text = renderer.layout.panel(0).text
        rows = np.nonzero((page[text.y : text.bottom, text.x : text.right] < 128).any(axis=(1, 2)))[0]
        assert rows.size and rows[-1] > text.h - 2 * line_height(renderer.layout.fonts.body)
        assert renderer.cut_text[0] == shot.number


@pytest.mark.parametrize("width", [40, 120, 333])
def test_wrap_text_fits_width(width):
    f = font(18)
    text = "Supercalifragilisticexpialidocious " * 3 + "short words here and there,\nnew line " * 10 + "x" * 200
    lines = wrap_text(text, f, width)
    assert all(f.getlength(line) <= width for line in lines)
    # Nothing is lost or reordered when there is no line limit.
    assert "".join(lines).replace(" ", "") == "".join(text.split())
    assert "new line" in " ".join(lines) or width < f.getlength("new line")

    cut = wrap_text(text, f, width, max_lines=3)
    assert len(cut) == 3
    assert cut[-1].endswith(ELLIPSIS)
    assert all(f.getlength(line) <= width for line in cut)


def test_wrap_text_keeps_line_breaks_and_short_text():
    f = font(18)
    assert wrap_text("ANNA: Who?\nBEN: Me.", f, 500) == ["ANNA: Who?", "BEN: Me."]
    assert wrap_text("  fits  ", f, 500, max_lines=1) == ["fits"]
    assert wrap_text("", f, 500) == []
    assert wrap_text("anything", f, 500, max_lines=0) == []


def test_fit_paragraphs_stays_in_box():
    body, bold = font(16), font(16, bold=True)
    box = Box(100, 200, 250, 120)
    paragraphs = [Paragraph("Medium, low, 35mm", body), Paragraph("word " * 100, body), Paragraph("Dialogue", bold)]
    lines, cut = fit_paragraphs(paragraphs, box)
    assert cut
    assert lines[-1].text.endswith(ELLIPSIS)
    for line in lines:
        assert box.y <= line.y and line.y + line.height <= box.bottom
        assert line.x == box.x and line.font.getlength(line.text) <= box.w
    lines, cut = fit_paragraphs(paragraphs[:1], box)
    assert not cut and [line.text for line in lines] == ["Medium, low, 35mm"]


def test_thumb_grid_sizes_and_overflow_tile():
    area = Box(10, 20, 300, 100)
    aspect = Fraction(16, 9)
    boxes, hidden = thumb_grid(area, 2, aspect, 40)
    assert hidden == 0 and [(b.w, b.h) for b in boxes] == [(71, 39), (71, 39)]
    # Without a height cap pins grow to fill the area: side by side here, stacked in a side column.
    boxes, hidden = thumb_grid(area, 2, aspect, 1000)
    assert hidden == 0 and [(b.w, b.h) for b in boxes] == [(146, 82), (146, 82)] and boxes[0].y == boxes[1].y
    column = Box(10, 20, 150, 200)
    boxes, hidden = thumb_grid(column, 2, aspect, 1000)
    assert [(b.w, b.h) for b in boxes] == [(150, 84), (150, 84)] and boxes[1].y == boxes[0].bottom + THUMB_GAP
    # Ten pins can't all be 40 px tall: 3 x 2 boxes, five thumbnails and a "+5" tile.
    boxes, hidden = thumb_grid(area, 10, aspect, 40, min_h=40)
    assert len(boxes) == 6 and hidden == 5
    assert all(area.contains(b) for b in boxes)
    boxes, _ = thumb_grid(area, 2, aspect, 40, align="right")
    assert boxes[-1].right == area.right and boxes[0].right + THUMB_GAP == boxes[1].x
    assert thumb_grid(Box(0, 0, 0, 50), 3, aspect, 40) == ([], 3)


def test_missing_and_broken_keyframes_give_notes_not_crashes(tmp_path):
    ep = make_export_project(tmp_path, audio=False)
    plan = build_plan(ep.project, options("letter", 3))
    shots = {s.number: s for s in plan.shots}
    blue = shots["2"].pinned[0].image
    green = shots["3 Ü"].pinned[1].image
    ep.media.path(blue).unlink()
    ep.media.path(green).write_bytes(b"not a png at all")

    final = tmp_path / "boards.pdf"
    notes = write_storyboard_pdf(plan, ep.media, final, Progress())

    assert len(pdf_pages(final)) == 1
    assert len(notes) == 2
    missing = next(n for n in notes if "missing" in n)
    assert "shot 2" in missing and blue.relpath in missing and "placeholder" in missing
    broken = next(n for n in notes if "can't be read" in n)
    assert "shot 3 Ü" in broken and "frame 20" in broken

    renderer = BoardRenderer(plan, ep.media)
    page = np.asarray(renderer.render(0))
    pic = renderer.layout.panel(1).picture
    assert near(page[pic.y + pic.h // 3, pic.x + pic.w // 2], MISSING_FILL)
    assert color_pixels(page, renderer.layout.panel(1).frame, BLUE, tol=40) == 0


def test_cancel_midway_leaves_no_file(nine, tmp_path):
    ep, project = nine
    plan = build_plan(project, options("letter", 3))
    cancel = threading.Event()

    def stop_after_first_page(done, total, stage):
        if done >= 7:
            cancel.set()

    final = tmp_path / "boards.pdf"
    with pytest.raises(ExportCancelled):
        write_storyboard_pdf(plan, ep.media, final, Progress(SHOTS, stop_after_first_page, cancel))
    assert list(tmp_path.iterdir()) == []


def test_empty_project_gets_one_page(tmp_path):
    plan = build_plan(Project("Nothing yet", FrameRate(25)), options("a4", 1))
    final = tmp_path / "empty.pdf"
    assert write_storyboard_pdf(plan, MediaStore(tmp_path), final, Progress()) == []
    assert pdf_pages(final) == [pytest.approx(PAPER_POINTS["a4"], abs=0.5)]


# --- the notes are complete: camera line, action, dialogue and note, nothing cut ---------------

# As long as the demo's longest texts, a little longer, with a long camera line.
DEMO_LIKE = {
    "action": "The train pulls away. Maya stands alone on the platform as the camera rises over the empty tracks.",
    "dialogue": "MAYA: Hold it — hold the door! Please!",
    "notes": "End on the empty tunnel; music out.",
}
DEMO_LIKE_CAMERA = Camera("ECU", "worm's eye", 135, "dolly in, tilt up")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The bundled demo project, as `pinframe demo` writes it."""
    bundle, project, _ = Bundle.open(write_demo(tmp_path_factory.mktemp("demo")), readonly=True)
    yield project, bundle.media
    bundle.close()


def demo_like(project: Project) -> Project:
    """Every shot gets demo-length notes; shot 1A gets two more pins (three in all)."""
    scenes = []
    for scene in project.scenes:
        shots = []
        for shot in scene.shots:
            shot = replace(shot, camera=DEMO_LIKE_CAMERA, **DEMO_LIKE)
            if shot.number == "1A":
                take = shot.keyframe_takes[0]
                shot = replace(shot, pins=(*shot.pins, Pin(10, take.id), Pin(20, take.id)))
            shots.append(shot)
        scenes.append(replace(scene, shots=tuple(shots)))
    return replace(project, scenes=tuple(scenes))


def assert_notes_complete(renderer: BoardRenderer) -> None:
    """Every panel on every page shows its camera line, action, dialogue and note in full."""
    for page in range(renderer.page_count):
        for slot, shot in enumerate(renderer.shots_on_page(page)):
            boxes = renderer.layout.panel(slot)
            content = renderer.arrange(boxes, shot)
            where = f"shot {shot.number}, {renderer.layout.across} across on {renderer.layout.paper}"
            assert not content.cut, where
            shown = " ".join(line.text for line in content.lines)
            assert ELLIPSIS not in shown, where
            note = f"Note: {shot.shot.notes}" if shot.shot.notes else ""
            for part in (shot.camera_text, shot.shot.action, shot.shot.dialogue, note):
                assert " ".join(part.split()) in shown, f"{where}: {part!r} not in {shown!r}"
            # Lines and thumbnails stay in the panel and out of each other's and the picture's way.
            if content.thumbs:
                assert len(content.thumbs) == len(shot.pinned) - 1 and content.hidden == 0, where
            for line in content.lines:
                box = Box(line.x, line.y, round(line.font.getlength(line.text)), line.height)
                assert boxes.frame.contains(box), where
                assert not box.overlaps(boxes.picture), where
                assert not any(box.overlaps(t) for t in content.thumbs), where
            for thumb in content.thumbs:
                assert boxes.frame.contains(thumb), where
                assert boxes.picture.contains(thumb) == content.overlay, where
        renderer.render(page)
    assert renderer.cut_text == [] and renderer.notes == []


@pytest.mark.parametrize("paper", ["letter", "a4"])
@pytest.mark.parametrize("across", [1, 2, 3])
def test_notes_are_never_cut_for_demo_length_text(nine, demo, paper, across):
    ep, project = nine
    assert_notes_complete(BoardRenderer(build_plan(project, options(paper, across)), ep.media))
    assert_notes_complete(BoardRenderer(build_plan(demo_like(project), options(paper, across)), ep.media))
    demo_project, demo_media = demo
    assert_notes_complete(BoardRenderer(build_plan(demo_project, options(paper, across)), demo_media))


def test_extra_pins_overlay_the_picture_when_there_is_no_side_column(nine):
    ep, project = nine
    plan = build_plan(demo_like(project), options("letter", 3))
    renderer = BoardRenderer(plan, ep.media)
    page = np.asarray(renderer.render(0))
    slot = next(i for i, s in enumerate(renderer.shots_on_page(0)) if s.number == "3 Ü")
    boxes = renderer.layout.panel(slot)
    assert boxes.side is None
    content = renderer.arrange(boxes, renderer.shots_on_page(0)[slot])
    assert content.overlay and len(content.thumbs) == 1
    # The green pin is a thumbnail along the picture's bottom edge; the red keyframe keeps the rest.
    pic = boxes.picture
    assert overlay_area(pic).contains(content.thumbs[0])
    assert color_pixels(page, content.thumbs[0], GREEN) > 0.8 * content.thumbs[0].w * content.thumbs[0].h
    assert color_pixels(page, pic, RED) > 0.6 * pic.w * pic.h
    assert color_pixels(page, boxes.text, GREEN, tol=10) == 0
