"""The main window's menu bar: File, Edit, Shot, Project, Render, View, Playback, Models, Help.

Built here so the window's module keeps to its own work (projects, rendering, dialogs). The
actions stay the window's attributes (``window.act_save``...), and the menus too
(``window.view_menu``...), so a later panel can add its entries where they belong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from ui.drawing_actions import draw_on_shot, inpaint_selected, install_drawing
from ui.motion_menu import MotionMenu
from ui.references_dialog import show_references
from ui.shortcuts import install_shortcuts

if TYPE_CHECKING:
    from ui.main_window import MainWindow


def menu_action(
    w: MainWindow,
    menu: QMenu,
    text: str,
    shortcut: QKeySequence | QKeySequence.StandardKey | None,
    slot: Callable | None,
) -> QAction:
    """An action of the window (its shortcut works with the menu closed), listed in ``menu``."""
    act = QAction(text, w)
    if shortcut is not None:
        act.setShortcut(shortcut)
    if slot is not None:
        act.triggered.connect(slot)
    menu.addAction(act)
    return act


def build_menus(w: MainWindow) -> None:
    """Every menu of the window. Call it after the docks exist (the playback keys guard them too)."""
    bar = w.menuBar()
    file_menu = w.file_menu = bar.addMenu("&File")
    w.act_new = menu_action(w, file_menu, "&New Project…", QKeySequence.StandardKey.New, w._choose_new)
    w.act_open = menu_action(w, file_menu, "&Open…", QKeySequence.StandardKey.Open, w._choose_open)
    w.recent_menu = file_menu.addMenu("Open &Recent")
    menu_action(w, file_menu, "Open &Demo", None, lambda: w.spawn(w.open_demo()))
    file_menu.addSeparator()
    w.act_import_audio = menu_action(w, file_menu, "Import &Audio…", QKeySequence("Ctrl+Shift+I"), w._choose_audio)
    w.act_import_script = menu_action(w, file_menu, "Import &Script…", QKeySequence("Ctrl+Shift+O"), w._choose_script)
    w.act_save = menu_action(w, file_menu, "&Save", QKeySequence.StandardKey.Save, lambda: w.spawn(w.save()))
    w.act_export = menu_action(w, file_menu, "&Export…", QKeySequence("Ctrl+E"), w.show_export)
    w.act_close = menu_action(
        w, file_menu, "&Close Project", QKeySequence.StandardKey.Close, lambda: w.spawn(w.close_project())
    )
    menu_action(w, file_menu, "&Quit", QKeySequence.StandardKey.Quit, w.close)

    edit_menu = w.edit_menu = bar.addMenu("&Edit")
    w.act_undo = menu_action(w, edit_menu, "&Undo", QKeySequence.StandardKey.Undo, w.state.undo)
    w.act_redo = menu_action(w, edit_menu, "&Redo", QKeySequence.StandardKey.Redo, w.state.redo)

    shot_menu = w.shot_menu = bar.addMenu("&Shot")
    for action in (
        w.shots.act_add_shot,
        w.shots.act_add_scene,
        w.shots.act_duplicate,
        w.shots.act_delete,
        w.shots.act_up,
        w.shots.act_down,
    ):
        shot_menu.addAction(action)
    shot_menu.addSeparator()
    # Drawing, sketch -> keyframe and inpainting (ui.drawing over the viewer, the Keyframes panel's jobs).
    w.drawing = install_drawing(w)
    w.act_draw = menu_action(
        w, shot_menu, "&Draw on Shot…", QKeySequence("Ctrl+Shift+D"), lambda: draw_on_shot(w, w.drawing)
    )
    w.act_draw.setStatusTip("Draw on the shot under the playhead, over its keyframe or on blank paper")
    w.act_from_take = menu_action(
        w, shot_menu, "Generate from Selected &Take", None, lambda: w.keyframes.generate_from_take()
    )
    w.act_from_take.setStatusTip("Keyframes that keep the selected take's composition (Keyframes panel strength)")
    w.act_inpaint = menu_action(w, shot_menu, "&Inpaint Selected Take…", None, lambda: inpaint_selected(w))
    w.act_inpaint.setStatusTip("Paint a mask over the selected take and repaint only that region")

    project_menu = w.project_menu = bar.addMenu("&Project")
    w.act_prompt_template = menu_action(w, project_menu, "Prompt &Template…", None, w.show_prompt_template)
    w.act_references = menu_action(w, project_menu, "&References and LoRAs…", None, lambda: show_references(w))
    w.act_references.setStatusTip("Reference pictures of characters and places, and LoRA files, for keyframes")
    w.act_references.setEnabled(w.state.project is not None)  # no project, nothing to refer to
    w.state.session_changed.connect(lambda session: w.act_references.setEnabled(session is not None))

    render_menu = w.render_menu = bar.addMenu("&Render")
    w.act_render_selected = menu_action(
        w, render_menu, "Render &Selected Shots", QKeySequence("Ctrl+R"), lambda: w.spawn(w.render_shots("selected"))
    )
    w.act_render_stale = menu_action(
        w, render_menu, "Render S&tale Shots", QKeySequence("Ctrl+Shift+R"), lambda: w.spawn(w.render_shots("stale"))
    )
    w.act_render_all = menu_action(w, render_menu, "Render &All", None, lambda: w.spawn(w.render_shots("all")))
    # Render Stale renders drafts (fewer steps, smaller) in full unless this is on; kept across sessions.
    w.act_keep_drafts = menu_action(w, render_menu, "&Keep Drafts When Rendering Stale", None, None)
    w.act_keep_drafts.setCheckable(True)
    w.act_keep_drafts.setChecked(bool(QSettings().value("render/keep_drafts", False, bool)))
    w.act_keep_drafts.toggled.connect(lambda on: QSettings().setValue("render/keep_drafts", on))
    render_menu.addSeparator()
    w.motion_menu = render_menu.addMenu("&Motion Model")
    w.motion = MotionMenu(w.state, w.motion_menu, w.spawn)
    w.motion.models_wanted.connect(w.show_models_for)
    w.motion.chosen.connect(lambda text: w.statusBar().showMessage(text, 5000))
    w.act_place_sound = menu_action(
        w, render_menu, "&Place Clip Sound on Audio Lane", None, lambda: w.spawn(w.place_clip_sound())
    )
    w.act_place_sound.setToolTip("Put the sound the model made with the current shot's clip on the audio lane")
    render_menu.addSeparator()
    w.act_send_to_farm = menu_action(w, render_menu, "Send to &Farm…", QKeySequence("Ctrl+Alt+R"), w.show_farm_dialog)
    w.act_disconnect_farm = menu_action(
        w, render_menu, "&Disconnect from Farm", None, lambda: w.spawn(w.disconnect_farm())
    )
    w.bridge.farm_changed.connect(w._refresh_actions)
    render_menu.addSeparator()
    menu_action(w, render_menu, "Cancel All Jobs", None, w.bridge.cancel_all)

    view_menu = w.view_menu = bar.addMenu("&View")
    w.act_mute = menu_action(w, view_menu, "&Mute Sound", QKeySequence("Shift+M"), None)
    w.act_mute.setCheckable(True)
    w.act_mute.toggled.connect(w.viewer.sound.set_muted)
    w.act_live_drafts = menu_action(w, view_menu, "Live Motion &Drafts", None, None)
    w.act_live_drafts.setCheckable(True)
    w.act_live_drafts.setChecked(w.live_drafts.enabled)
    w.act_live_drafts.setToolTip("Draft an edited shot's motion with optical flow at once, until it is rendered")
    w.act_live_drafts.toggled.connect(w._set_live_drafts)
    view_menu.addSeparator()
    view_menu.addMenu(w.layout_.panels_menu)
    view_menu.addAction(w.layout_.act_reset)

    # Space, J/K/L, arrows, I/O, pins: one table (ui.shortcuts), here with their keys shown.
    w.playback_menu = bar.addMenu("&Playback")
    w.shortcut_actions = install_shortcuts(w, w.playback_menu)

    models_menu = w.models_menu = bar.addMenu("&Models")
    menu_action(w, models_menu, "&Models and Settings…", None, w.show_models)
    menu_action(w, models_menu, "&Unload Models", None, w.bridge.engine.unload_all)

    help_menu = w.help_menu = bar.addMenu("&Help")
    w.act_shortcuts = menu_action(w, help_menu, "&Keyboard Shortcuts…", QKeySequence("Ctrl+/"), w.show_shortcuts)
    w.act_show_log = menu_action(w, help_menu, "Show &Log", None, lambda: show_log(w.state))
    w.act_show_log.setStatusTip("Every job, error and traceback, in a file to send with a bug report")
    w._fill_recent()


def show_log(state) -> object:
    """Help ▸ Show Log: the log file in the file manager (app.log_file says what it holds)."""
    from app.log_file import log_path
    from ui.reveal import reveal_file

    path = log_path()
    missing = f"There is no log at {path} yet: it starts with the first job or error"
    return reveal_file(state, path, what="The log", missing=missing)
