"""Render resources/icons/pinframe.svg into the icon files each platform wants.

Linux desktops take PNGs in the hicolor theme sizes (plus the SVG itself), Windows an .ico,
macOS an .icns. They are generated at build time instead of committed, so the SVG is the
only source and the sizes can't drift from it. Qt's SVG renderer draws (it is already a
dependency); Pillow writes the .ico and .icns containers.

    .venv/bin/python packaging/make_icons.py OUT_DIR
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "pinframe.svg"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZE = 1024  # Pillow derives the smaller .icns members from the largest


def render_png(svg: Path, size: int, target: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(target), "PNG"):
        raise SystemExit(f"make_icons: could not write {target}")


def make_icons(out: Path) -> None:
    # QGuiApplication is needed for QImage text/raster setup; offscreen so a build needs no display.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    hicolor = out / "hicolor"
    for size in HICOLOR_SIZES:
        render_png(SVG, size, hicolor / f"{size}x{size}" / "apps" / "pinframe.png")
    scalable = hicolor / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, scalable / "pinframe.svg")

    big = out / f"pinframe-{ICNS_SIZE}.png"
    render_png(SVG, ICNS_SIZE, big)
    with Image.open(big) as image:
        image.save(out / "pinframe.icns")
        # Each .ico member is drawn by Qt at its own size (sharper than Pillow's downscale).
        members = [Image.open(hicolor / f"{s}x{s}" / "apps" / "pinframe.png") for s in ICO_SIZES]
        members[-1].save(out / "pinframe.ico", sizes=[(s, s) for s in ICO_SIZES], append_images=members[:-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write hicolor/, pinframe.ico and pinframe.icns into")
    make_icons(parser.parse_args().out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
