"""Viewer guides drawn over a real viewer: masks, safe areas, centre cross, onion skin, View menu, settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import QMenu

from tests.ui.conftest import run_until

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "overlays.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def viewer(qtbot, editor):
    from ui.viewer import ViewerWidget

    widget = ViewerWidget(editor)
    qtbot.addWidget(widget)
    widget.resize(640, 388)  # picture area 640x360: the 16:9 project fills it exactly
    widget.show()
    return widget


@pytest.fixture
def overlays(viewer, settings):
    from ui.viewer_overlays import install_overlays

    menu = QMenu()
    result = install_overlays(viewer, menu, settings)
    result.test_menu = menu  # keep the menu (and its actions) alive with the overlay
    return result


def rendered(overlays, background: str = "#ffffff") -> np.ndarray:
    """The overlay painted over a plain picture, as an RGB array."""
    pixmap = QPixmap(overlays.size())
    pixmap.fill(QColor(background))
    overlays.render(pixmap)
    image = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_RGB888)
    width, height = image.width(), image.height()
    return (
        np.frombuffer(image.constBits(), np.uint8)
        .reshape(height, image.bytesPerLine())[:, : width * 3]
        .reshape(height, width, 3)
        .copy()
    )


def test_the_overlay_lies_over_the_picture_and_lets_clicks_through(viewer, overlays, qtbot):
    from PySide6.QtCore import Qt

    assert overlays.geometry().getRect() == (0, 0, 640, 360)
    assert overlays.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    viewer.resize(800, 388)  # wider than 16:9: the picture (and the overlay) is pillarboxed
    qtbot.waitUntil(lambda: overlays.geometry().getRect() == (80, 0, 640, 360))


def test_aspect_masks_darken_outside_the_delivery_frame(overlays):
    action = overlays.guide_actions["mask:2.39"]
    action.trigger()
    assert overlays.guides.mask == "2.39"
    pixels = rendered(overlays)
    bar = round((360 - 640 / 2.39) / 2)  # 46 px letterbox bars on a 640x360 frame
    assert pixels[5, 320].max() < 60 and pixels[360 - 5, 320].max() < 60, "letterbox bars are dark"
    assert pixels[bar + 5, 320].min() == 255 and pixels[180, 5].min() == 255, "the delivery frame is untouched"

    overlays.guide_actions["mask:4:3"].trigger()  # one mask at a time: 4:3 replaces 2.39
    assert overlays.guides.mask == "4:3" and not action.isChecked()
    pixels = rendered(overlays)
    side = round((640 - 360 * 4 / 3) / 2)  # 80 px pillarbox bars
    assert pixels[180, 5].max() < 60 and pixels[180, 640 - 5].max() < 60
    assert pixels[5, side + 5].min() == 255, "no letterbox any more"

    overlays.guide_actions["mask:4:3"].trigger()  # unchecking leaves no mask
    assert overlays.guides.mask == "" and rendered(overlays).min() == 255


def test_safe_areas_and_centre_cross_draw_where_the_standard_puts_them(overlays, loop):
    overlays.guide_actions["action_safe"].trigger()
    overlays.guide_actions["title_safe"].trigger()
    overlays.guide_actions["centre"].trigger()
    pixels = rendered(overlays, "#000000")
    # Action safe: 93% of 640x360 -> inset 22.4 / 12.6 px; title safe: 90% -> inset 32 / 18 px.
    column = pixels[:, 320].max(axis=1)
    assert column[11:14].max() > 100 and column[16:20].max() > 100, "top edges of action and title safe"
    assert column[25:100].max() == 0, "nothing else between the edges and the centre cross"
    row = pixels[100].max(axis=1)
    assert row[21:25].max() > 100 and row[30:34].max() > 100, "left edges of action and title safe"
    assert row[616:619].max() > 100 and row[606:610].max() > 100, "right edges"
    assert pixels[180, 320].max() > 100 and pixels[180, 320 + 10].max() > 100, "centre cross"
    action_colour, title_colour = pixels[100, 21:25].max(axis=0), pixels[100, 30:34].max(axis=0)
    assert action_colour[2] > action_colour[0] and title_colour[0] > title_colour[2], "told apart by colour"
    ARTIFACTS.mkdir(exist_ok=True)
    overlays.guide_actions["mask:2.39"].trigger()
    run_until(loop, lambda: overlays.viewer.shown_pixels() is not None)  # the screenshot shows a real frame
    assert overlays.viewer.grab().save(str(ARTIFACTS / "viewer_overlays.png"))


def test_guides_are_kept_in_settings(viewer, overlays, settings):
    from ui.viewer_overlays import install_overlays

    overlays.guide_actions["mask:1.85"].trigger()
    overlays.guide_actions["title_safe"].trigger()
    menu = QMenu()  # owns the actions
    again = install_overlays(viewer, menu, settings)
    assert again.guides.mask == "1.85" and again.guides.title_safe and not again.guides.action_safe
    assert again.guide_actions["mask:1.85"].isChecked() and again.guide_actions["title_safe"].isChecked()


def test_onion_skin_ghosts_the_neighbouring_pins_while_parked_and_hides_in_playback(editor, viewer, overlays, loop):
    shot = editor.project.scenes[0].shots[0]  # pins at 0 and 47
    overlays.guide_actions["onion"].trigger()
    editor.set_playhead(20)
    assert overlays.neighbour_pins() == {"prev": shot.keyframe_takes[0].image, "next": shot.keyframe_takes[1].image}
    run_until(loop, overlays.onion_ready)
    over_black = rendered(overlays, "#000000")
    plain = overlays.guides.onion
    overlays.set_guide("onion", False)
    assert rendered(overlays, "#000000").max() == 0, "no ghost without onion skin"
    overlays.set_guide("onion", plain)
    run_until(loop, overlays.onion_ready)
    centre = over_black[150:210, 290:350].reshape(-1, 3).mean(axis=0)
    # Both ghosts at 35%: brighter than the black picture, far from a full-strength keyframe.
    assert 5 < centre.max() < 200, centre

    editor.set_playhead(0)  # on the first pin: only the next one is ghosted
    assert overlays.neighbour_pins()["prev"] is None and overlays.onion_keys["next"] is not None

    viewer.speed = 1  # playback moving the playhead hides the ghosts
    editor.set_playhead(5)
    assert overlays.onion_keys == {"prev": None, "next": None}
    viewer.speed = 0
    run_until(loop, lambda: overlays.onion_keys["prev"] is not None)  # back once playback stopped
