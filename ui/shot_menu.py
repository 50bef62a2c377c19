"""What a right-click on shots offers, wherever the shots are shown (list, storyboard grid, timeline).

The menu and the shot edits behind it live here once, so every view offers the same entries and
they all behave alike: each edit is one command through :meth:`EditorState.edit` (one undo step),
and an edit that makes shots selects what it made, so the playhead follows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from app import commands
from app.document import Project
from app.edits import Command, Op
from ui.motion_models import MODELS_HINT, choice_name
from ui.state import EditorState


def shots_label(n: int) -> str:
    return f"{n} shot" if n == 1 else f"{n} shots"


# --- the edits, shared by the menu and the views' keys --------------------------------------------
def pick(state: EditorState, shot_ids: Sequence[str]) -> None:
    """Make ``shot_ids`` the selection, the first one current (the playhead follows it)."""
    if shot_ids:
        state.set_current_shot(shot_ids[0])
        state.set_selection(list(shot_ids))


def edit_and_pick_new(state: EditorState, build: Callable[..., Command | None], *args: object) -> list[str]:
    """Run an edit that makes shots, then select what it made (their ids are new, so diff them)."""
    if state.project is None:
        return []
    before = {s.id for s in state.project.shots()}
    if not state.edit(build, *args):
        return []
    made = [s.id for s in state.project.shots() if s.id not in before]
    pick(state, made)
    return made


def neighbour(state: EditorState, shot_ids: Sequence[str]) -> str | None:
    """The shot to land on after a delete: the next one that stays, else the one before."""
    order = [s.id for s in state.project.shots()] if state.project else []
    gone = set(shot_ids)
    present = [order.index(i) for i in shot_ids if i in order]
    if not present:
        return None
    last = max(present)
    after = [i for i in order[last:] if i not in gone]
    before = [i for i in order[:last] if i not in gone]
    return after[0] if after else (before[-1] if before else None)


def delete_shots(state: EditorState, shot_ids: Sequence[str]) -> bool:
    ids = list(shot_ids)
    if not ids or state.project is None:
        return False
    follow = neighbour(state, ids)
    if not state.edit(commands.remove_shots, ids):
        return False
    if follow:
        pick(state, [follow])
    state.message.emit(f"Deleted {shots_label(len(ids))} (Edit ▸ Undo brings {'it' if len(ids) == 1 else 'them'} back)")
    return True


def duplicate_shots(state: EditorState, shot_ids: Sequence[str]) -> list[str]:
    return edit_and_pick_new(state, commands.duplicate_shots, list(shot_ids)) if shot_ids else []


def insert_shot(state: EditorState, shot_id: str, *, after: bool) -> list[str]:
    """A new shot right before or after ``shot_id``, in the same scene."""
    project = state.project
    if project is None:
        return []
    si, hi = project.locate_shot(shot_id)
    return edit_and_pick_new(state, commands.add_shot, project.scenes[si].id, hi + int(after))


def set_motion_model(project: Project, shot_ids: Sequence[str], choice: str) -> Command | None:
    """One undo step that sets (or, with "", clears) the motion model of every shot; None: no change."""
    ops: list[Op] = []
    for shot_id in shot_ids:
        if project.shot(shot_id).motion_model != choice:
            ops += commands.set_shot_fields(project, shot_id, motion_model=choice).ops
    return Command("Shot Motion Model", tuple(ops)) if ops else None


# --- the menu --------------------------------------------------------------------------------------
def shot_menu(state: EditorState, shot_ids: Sequence[str], parent: QWidget | None = None) -> QMenu:
    """Render, Duplicate, Delete, Insert Shot Before / After and Motion Model ▸ for ``shot_ids``."""
    project = state.project
    ids = [i for i in shot_ids if project is not None and _has(project, i)]
    menu = QMenu(parent)
    menu.setToolTipsVisible(True)
    many = len(ids) > 1
    what = shots_label(len(ids)) if many else "Shot"

    def add(text: str, slot: Callable[[], object], tip: str = "", enabled: bool = True) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda _=False: slot())
        action.setToolTip(tip)
        action.setEnabled(enabled and bool(ids))
        return action

    add(f"Render {what}", lambda: state.render_requested.emit(list(ids)), "Render the motion between the pins")
    menu.addSeparator()
    add(f"Duplicate {what}", lambda: duplicate_shots(state, ids), "Copies land right after each shot")
    add(f"Delete {what}", lambda: delete_shots(state, ids), "Edit ▸ Undo brings them back")
    menu.addSeparator()
    first, last = (ids[0], ids[-1]) if ids else ("", "")
    add("Insert Shot Before", lambda: insert_shot(state, first, after=False))
    add("Insert Shot After", lambda: insert_shot(state, last, after=True))
    menu.addSeparator()
    _motion_submenu(state, ids, menu)
    return menu


def _has(project: Project, shot_id: str) -> bool:
    return any(s.id == shot_id for s in project.shots())


def _motion_submenu(state: EditorState, ids: list[str], menu: QMenu) -> QMenu:
    """The entries of the shot form's Motion combo (the shared ``state.motion_models``)."""
    sub = menu.addMenu("Motion Model")
    sub.setToolTipsVisible(True)
    sub.setEnabled(bool(ids))
    if not ids:
        return sub
    project = state.require_project()  # ids are shots of the open project
    entries = state.motion_models
    chosen = {project.shot(i).motion_model for i in ids}
    common = next(iter(chosen)) if len(chosen) == 1 else None  # mixed: nothing is checked
    group = QActionGroup(sub)

    def choose(choice: str) -> None:
        if state.edit(set_motion_model, ids, choice):
            name = (
                f"the project's ({choice_name(project.motion_model, entries)})"
                if not choice
                else (choice_name(choice, entries))
            )
            state.message.emit(f"{shots_label(len(ids)).capitalize()} render with {name}")

    def entry(text: str, choice: str, tip: str, installed: bool = True) -> None:
        action = sub.addAction(text)
        action.setToolTip(tip)
        action.setCheckable(True)
        action.setChecked(choice == common)
        action.setEnabled(installed)
        group.addAction(action)
        action.triggered.connect(lambda _=False, c=choice: choose(c))

    entry(f"Follow Project ({choice_name(project.motion_model, entries)})", "", "Follows Render ▸ Motion Model")
    sub.addSeparator()
    group_key = None
    for e in entries:
        key = e.backend if (e.model_id or not e.choice) else ""
        if group_key is not None and key != group_key:
            sub.addSeparator()
        group_key = key
        # Not installed yet: shown (so the list matches the shot form) but not choosable here.
        entry(e.label, e.choice, e.detail if e.installed else f"{e.detail}\n{MODELS_HINT}".strip(), e.installed)
    if common and common not in {e.choice for e in entries}:
        sub.addSeparator()
        entry(f"{choice_name(common, entries)} (not in the model list)", common, "Chosen outside this menu")
    return sub
