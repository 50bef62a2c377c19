"""Issue 16's "done when": the director's whole loop in the real window at 1280x720, by mouse and keys.

On the demo project: break down the scene in the storyboard grid (insert a shot, write its action), generate
keyframes for it, look at a take full size and compare two, pin them at the playhead, replace one pin from
the timeline and unpin the other, render the shot, and export the cut. Each step is done the way a person
does it (clicks, right-click menus, the documented keys) and leaves a screenshot in artifacts/.
"""

from __future__ import annotations

import asyncio

import opentimelineio as otio
from PySide6.QtCore import QPointF, Qt

from tests.ui.conftest import run_until
from tests.ui.test_main_window import ARTIFACTS
from tests.ui.test_take_compare import _double_click
from tests.ui.test_timeline_menus import right_click


def settle(loop, seconds: float = 0.2) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))


def press(qtbot, loop, widget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    # Window shortcuts need the window active; a popup menu (offscreen) leaves it inactive.
    widget.window().activateWindow()
    qtbot.waitUntil(lambda: widget.window().isActiveWindow())
    widget.setFocus()
    settle(loop, 0.02)
    qtbot.keyClick(widget, key, modifier)


def test_a_director_breaks_down_generates_compares_pins_renders_and_exports_on_a_laptop(window, loop, qtbot, tmp_path):
    state = window.state
    assert loop.run_until_complete(window.open_demo())
    window.resize(1280, 720)
    window.layout_.size_docks()
    window.activateWindow()  # window shortcuts need the window to be the active one
    qtbot.waitUntil(lambda: window.isActiveWindow())
    ARTIFACTS.mkdir(exist_ok=True)
    step = iter(range(1, 20))

    def snap(name: str) -> None:
        settle(loop, 0.3)
        assert window.grab().save(str(ARTIFACTS / f"directors_loop_{next(step)}_{name}.png"))

    # 1. Break down the scene in the grid: a new shot after the last panel, its action written.
    window.dock_storyboard.raise_()
    grid = window.storyboard
    before = [s.id for s in state.project.shots()]
    settle(loop)
    right_click(grid.viewport(), QPointF(grid.panel_rect(before[-1]).center()), "Insert Shot After")
    (new,) = [s.id for s in state.project.shots() if s.id not in before]
    assert state.current_shot == new and grid.shot_ids()[-1] == new
    action = window.shots.shot_form.texts["action"]
    action.setFocus()
    qtbot.keyClicks(action, "Maya looks back at the empty platform")
    assert state.project.shot(new).action == "Maya looks back at the empty platform"
    snap("breakdown")

    # 2. Generate keyframes for it (the sketch model: no download), from the Keyframes panel.
    window.dock_keyframes.raise_()
    panel = window.keyframes
    panel.prompt.setFocus()
    qtbot.keyClicks(panel.prompt, "a woman in a red coat on a night platform")
    panel.variations.setValue(2)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: len(state.project.shot(new).keyframe_takes) == 2, timeout=60)
    run_until(loop, lambda: panel.candidates.count() == 2)
    assert state.project.shot(new).prompt == "a woman in a red coat on a night platform", "the typed prompt is kept"
    snap("generated")

    # 3. One take full size in the viewer, then two side by side; Esc goes back to the cut.
    first, second = panel.candidates.item(0), panel.candidates.item(1)
    _double_click(panel.candidates, first, qtbot)
    run_until(loop, lambda: window.viewer.showing_takes)
    snap("full_size")
    first.setSelected(True)
    second.setSelected(True)
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: window.viewer.showing_takes)
    snap("compare")
    press(qtbot, loop, window.viewer, Qt.Key.Key_Escape)
    run_until(loop, lambda: not window.viewer.showing_takes)

    # 4. Pin: the first take on the shot's first frame (P), the second on its last frame (O, then P).
    takes = [t.id for t in state.project.shot(new).keyframe_takes]
    start = window.state.cut.entries[-1].start
    state.set_playhead(start)
    panel.candidates.clearSelection()
    first.setSelected(True)
    press(qtbot, loop, window.shots.tree, Qt.Key.Key_P)
    press(qtbot, loop, window.shots.tree, Qt.Key.Key_O)
    end = state.playhead - start
    assert end == state.project.shot(new).duration - 1
    panel.candidates.clearSelection()
    second.setSelected(True)
    press(qtbot, loop, window.shots.tree, Qt.Key.Key_P)
    pins = state.project.shot(new).pins
    assert [(p.frame, p.take_id) for p in pins] == [(0, takes[0]), (end, takes[1])]
    window.dock_timeline.raise_()
    window.timeline.zoom_to_fit()
    snap("pinned")

    # 5. Replace the first pin from the timeline, then unpin the last one with Delete.
    timeline = window.timeline
    settle(loop)
    right_click(timeline, QPointF(timeline.pin_rect(new, 0).center()), "Replace With", "seed")
    assert state.project.shot(new).pins[0].take_id == takes[1]
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=timeline.pin_rect(new, end).center().toPoint())
    press(qtbot, loop, timeline, Qt.Key.Key_Delete)
    assert [p.frame for p in state.project.shot(new).pins] == [0]
    snap("replaced_and_unpinned")

    # 6. Render the shot (Render ▸ Motion Model ▸ Crossfade, then Ctrl+R on the selection).
    window.motion.actions["crossfade"].trigger()
    state.set_current_shot(new)
    press(qtbot, loop, window.shots.tree, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    run_until(loop, lambda: state.project.shot(new).current_clip is not None, timeout=120)
    assert window.timeline.badge_for(new) == "clip"
    run_until(loop, lambda: window.viewer.draft_mark() != "DRAFT")  # the rendered clip replaces the live draft
    window.dock_jobs.raise_()
    snap("rendered")

    # 7. Export the cut for the editor (File ▸ Export, Ctrl+E): an OTIO timeline naming every shot.
    press(qtbot, loop, window.shots.tree, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = window.export_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.open_when_done = False  # no file browser in a test
    dialog.destination.setText(str(tmp_path / "to the editor"))
    for key, check in dialog.format_checks.items():
        check.setChecked(key == "otio")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: dialog.report is not None or dialog.error, timeout=120)
    assert dialog.error == ""
    exported = otio.adapters.read_from_file(str(next((tmp_path / "to the editor").glob("*.otio"))))
    assert [c.name for c in exported.find_clips()] == [s.number for s in state.project.shots()]
    assert dialog.grab().save(str(ARTIFACTS / f"directors_loop_{next(step)}_export.png"))
