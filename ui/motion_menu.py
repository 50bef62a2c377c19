"""Render ▸ Motion Model: the project's motion model, chosen from what the registries offer.

The entries are the shared :attr:`EditorState.motion_models` (built by ui.motion_models from the
backend registry and the model list, off the GUI thread), so this menu and the shot form's
Motion combo always agree. Choosing an installed entry sets the project's motion model as one
undo step; an entry that isn't installed asks for the Models dialog instead. The check mark is
redrawn from the project after every edit, undo and redo, and when another project opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from app import commands
from ui.motion_models import NOT_INSTALLED, MotionEntry, choice_name, entry_for, load_motion_entries
from ui.state import EditorState
from ui.takes import event_loop


class MotionMenu(QObject):
    models_wanted = Signal(str)  # a not-installed entry was picked: open the Models dialog at this id
    chosen = Signal(str)  # the project's motion model was set from the menu, in words

    def __init__(self, state: EditorState, menu: QMenu, spawn: Callable[..., asyncio.Task]) -> None:
        super().__init__(menu)
        self.state, self.menu, self._spawn = state, menu, spawn
        self.actions: dict[str, QAction] = {}  # choice -> its checkable entry
        self.extra = ""  # the project's choice when no installed entry offers it
        self._refreshes = 0  # a read overtaken by a newer one is dropped
        menu.setToolTipsVisible(True)  # an entry's tooltip says where its model is, or why not
        self.group = QActionGroup(self)
        # Optional: with no project open nothing is checked.
        self.group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        state.motion_models_changed.connect(self.fill)
        state.project_changed.connect(lambda _p: self.sync())
        state.session_changed.connect(lambda _s: self.sync())
        self.fill()

    def fill(self) -> None:
        """Rebuild from the shared entries: one separator between backends, each model labelled
        with its backend's display name."""
        for action in self.group.actions():
            self.group.removeAction(action)
        self.menu.clear()  # the entries are the menu's own actions: clear() deletes them
        self.actions = {}
        entries = self.state.motion_models
        project = self.state.project
        current = project.motion_model if project is not None else ""
        group = None
        for entry in entries:
            key = entry.backend if (entry.model_id or not entry.choice) else ""  # the built-ins: one group
            if group is not None and key != group:
                self.menu.addSeparator()
            group = key
            self._add(entry)
        self.extra = current if current not in self.actions else ""
        if self.extra:
            # Chosen where no entry offers it (a folder set with `pinframe motion`, a model since
            # removed or not downloaded here): shown, so the check mark never lies.
            self.menu.addSeparator()
            offered = entry_for(current, entries)
            if offered is not None:
                action = self.menu.addAction(f"{offered.name} — chosen, {NOT_INSTALLED}")
                action.setToolTip(f"{offered.detail}\nRendering needs it installed (Models ▸ Models and Settings)")
            else:
                action = self.menu.addAction(f"{choice_name(current, entries)} (not in the model list)")
                action.setToolTip("Chosen outside this menu; choose an entry above to replace it")
            action.setCheckable(True)
            self.group.addAction(action)
            self.actions[current] = action
        self.sync()

    def _add(self, entry: MotionEntry) -> None:
        action = self.menu.addAction(entry.label)
        action.setToolTip(entry.detail)
        if entry.installed:
            action.setCheckable(True)
            self.group.addAction(action)
            self.actions[entry.choice] = action
            action.triggered.connect(lambda _=False, c=entry.choice: self.choose(c))
        else:
            # Not choosable yet: the Models dialog is where it gets downloaded or added.
            action.triggered.connect(lambda _=False, e=entry: self.models_wanted.emit(e.model_id))

    def sync(self) -> None:
        """Check the project's choice."""
        project = self.state.project
        current = project.motion_model if project is not None else ""
        offered = {e.choice for e in self.state.motion_models if e.installed}
        if (current if current not in offered else "") != self.extra:
            self.fill()  # the extra entry comes or goes; fill syncs again
            return
        for choice, action in self.actions.items():
            action.setEnabled(project is not None)
            action.setChecked(choice == current)

    def choose(self, choice: str) -> bool:
        """Set the project's motion model (one undo step, saved with the project)."""
        project = self.state.project
        if project is None or project.motion_model == choice:
            self.sync()
            return False
        done = self.state.edit(commands.set_project_settings, motion_model=choice)
        self.sync()  # a refused edit must not leave the new entry checked
        if done:
            name = choice_name(choice, self.state.motion_models)
            self.chosen.emit(f"Shots render with {name} unless they choose their own")
        return done

    def refresh(self) -> asyncio.Task:
        """Re-read which motion models are installed or added (the disk: off the GUI thread)."""
        return self._spawn(self._refresh())

    async def _refresh(self) -> None:
        self._refreshes += 1
        ticket = self._refreshes
        entries, problem = await event_loop().run_in_executor(None, load_motion_entries)
        if ticket != self._refreshes:
            return  # a newer read is on its way
        self.state.set_motion_models(entries)
        if problem:
            self.state.message.emit(problem)
