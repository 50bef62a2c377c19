"""What can be done to a keyframe take in the Keyframes panel: its context menu and the actions
behind it (open full size, compare, pin, make it the shot's thumbnail, reveal its file, delete).

Every edit goes through :meth:`EditorState.edit` with a command from :mod:`app.commands`, so each
is undoable; the file manager is asked for after the file is checked off the GUI thread. Actions
hold (shot id, take id) keys, never list items: an edit rebuilds the lists and deletes the items.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QListWidgetItem, QMenu, QWidget

from app import commands
from app.document import Project, Shot, new_id
from app.edits import Command
from engine.backend_registry import BACKENDS, get_backend
from engine.errors import EngineError
from engine.jobs import ModelSpec
from ui.reveal import reveal_file
from ui.state import EditorState
from ui.take_compare import FLIP, SIDE_BY_SIDE, SINGLE, TakeRef, take_ref
from ui.takes import SHOT_ROLE, TAKE_ROLE, TakeList, take_caption

TakeKey = tuple[str, str]  # (shot id, take id)

if TYPE_CHECKING:
    # TakeActions is only ever mixed into KeyframePanel, a QWidget: typed as one, the signals it
    # declares read as bound SignalInstances (emit) and its Qt calls are checked; at run time it
    # stays a plain class.
    from PySide6.QtWidgets import QWidget as _PanelBase
else:
    _PanelBase = object


# Which models start from a picture or inpaint is the backend registry's word (one table).
def model_can(spec: ModelSpec, what: str) -> bool:
    """Whether ``spec``'s backend does ``what`` ("image_to_image" or "inpainting")."""
    try:
        return bool(getattr(get_backend(spec.backend), what))
    except (EngineError, KeyError, ValueError):
        return False


def models_that_can(what: str) -> str:
    """'DeepFloyd IF or Text to image (diffusers)': the keyframe backends that do ``what``."""
    names = [b.display_name for b in BACKENDS if b.kind == "keyframe" and getattr(b, what)]
    return " or ".join(names) if names else "none installed"


def item_key(item: QListWidgetItem) -> TakeKey:
    return item.data(SHOT_ROLE), item.data(TAKE_ROLE)


class TakeActions(_PanelBase):
    """The take actions of :class:`~ui.keyframe_panel.KeyframePanel` (a mixin: the panel owns the lists)."""

    takes_opened: Signal  # (list[TakeRef], mode): the viewer shows them (ui.take_compare.connect_take_compare)
    state: EditorState
    candidates: TakeList
    history: TakeList
    _spawn: Callable[[Coroutine[Any, Any, None]], asyncio.Task]
    _shot: Callable[[str | None], Shot | None]
    pin_at_playhead: Callable[..., bool]
    draw_requested: Signal  # (TakeKey | None): the drawing layer opens over it (ui.drawing)
    inpaint_requested: Signal  # (TakeKey): the drawing layer opens in mask mode over it
    generate_from_take: Callable[..., str | None]  # ui.keyframe_from_take
    inpaint_tooltip: Callable[[], str]
    model_spec: Callable[[], ModelSpec]

    # --- which takes ----------------------------------------------------------------------------
    def selected_items(self) -> list[QListWidgetItem]:
        """The selected takes (one list at a time holds a selection), in the list's order."""
        for lst in (self.candidates, self.history):
            items = [lst.item(r) for r in range(lst.count()) if lst.item(r).isSelected()]
            items = [i for i in items if i.data(TAKE_ROLE)]
            if items:
                return items
        return []

    def take_ref(self, key: TakeKey) -> TakeRef | None:
        session = self.state.session
        return take_ref(session.project, session.media, *key) if session is not None else None

    def _refs(self, keys: list[TakeKey]) -> list[TakeRef] | None:
        refs = [ref for k in keys if (ref := self.take_ref(k)) is not None]
        if not refs or len(refs) != len(keys):
            self.state.message.emit("That keyframe was deleted meanwhile; there is nothing to show.")
            return None
        return refs

    # --- looking ----------------------------------------------------------------------------------
    def open_full_size(self, take: QListWidgetItem | TakeKey) -> bool:
        refs = self._refs([item_key(take) if isinstance(take, QListWidgetItem) else take])
        if refs:
            self.takes_opened.emit(refs, SINGLE)
        return bool(refs)

    def compare(self, keys: list[TakeKey] | None = None, mode: str = SIDE_BY_SIDE) -> bool:
        """Two takes (the two selected by default) side by side, or flipped A/B, in the viewer."""
        keys = [item_key(i) for i in self.selected_items()] if keys is None else keys
        if len(keys) != 2:
            self.state.message.emit("Select two keyframes to compare (Ctrl-click the second one).")
            return False
        refs = self._refs(keys)
        if refs:
            self.takes_opened.emit(refs, mode)
        return bool(refs)

    # --- editing ----------------------------------------------------------------------------------
    def set_as_thumbnail(self, key: TakeKey, on: bool = True) -> bool:
        shot_id, take_id = key
        shot = self._shot(shot_id)
        if shot is None or not self.state.edit(commands.set_shot_thumbnail, shot_id, take_id if on else ""):
            return False
        take = shot.keyframe(take_id)
        if on:
            self.state.message.emit(f"Shot {shot.number} shows take {take_caption(take)} in the storyboard")
        else:
            self.state.message.emit(f"Shot {shot.number} shows its first pinned keyframe in the storyboard again")
        return True

    def delete_takes(self, keys: list[TakeKey] | None = None) -> int:
        """Delete takes (the selected ones by default) as one undo step; their pins go with them."""
        wanted = [item_key(i) for i in self.selected_items()] if keys is None else keys
        session = self.state.session
        if session is None or not wanted:
            return 0
        pins = sum(1 for s, t in wanted if (shot := self._shot(s)) for p in shot.pins if p.take_id == t)
        # remove_keyframe_take takes one take; a shared merge key makes several one undo step.
        key = ("delete-keyframes", new_id())
        session.history.close_merge()
        done = 0
        for shot_id, take_id in wanted:
            merged = partial(_merged, commands.remove_keyframe_take, key)
            done += self.state.edit(merged, shot_id, take_id)
        session.history.close_merge()
        if done:
            what = "1 keyframe" if done == 1 else f"{done} keyframes"
            pinned = (
                f" and {pins} pin{'s' if pins != 1 else ''} showing {'it' if done == 1 else 'them'}" if pins else ""
            )
            self.state.message.emit(f"Deleted {what}{pinned} (Edit ▸ Undo brings {'it' if done == 1 else 'them'} back)")
        return done

    def reveal_file(self, key: TakeKey) -> asyncio.Future | None:
        ref = self.take_ref(key)
        if ref is None:
            return None
        missing = f"{ref.label}: its image file is missing ({ref.path}); delete the take or import the image again"
        return reveal_file(self.state, ref.path, what=ref.label, missing=missing)

    # --- the menu ---------------------------------------------------------------------------------
    def take_menu(self, lst: TakeList, item: QListWidgetItem) -> QMenu:
        """The right-click menu of a take (and of the two selected, for comparing)."""
        parent = self if isinstance(self, QWidget) else None
        menu = QMenu(parent)
        key = item_key(item)
        selected = [item_key(i) for i in self.selected_items()]
        menu.addAction("Open Full Size", partial(self.open_full_size, key))
        if len(selected) == 2 and key in selected:
            menu.addAction("Compare Side by Side", partial(self.compare, selected, SIDE_BY_SIDE))
            menu.addAction("Compare A/B (X flips)", partial(self.compare, selected, FLIP))
        shot = self._shot(key[0])
        others = [t for t in reversed(shot.keyframe_takes) if t.id != key[1]] if shot else []
        pins = shot.pins if shot else ()
        compare_menu = menu.addMenu("Compare With")
        compare_menu.setEnabled(bool(others))
        for take in others:
            pinned = [str(p.frame) for p in pins if p.take_id == take.id]
            label = take_caption(take) + (f" · pinned {', '.join(pinned)}" if pinned else "")
            compare_menu.addAction(label, partial(self.compare, [key, (key[0], take.id)], SIDE_BY_SIDE))
        menu.addSeparator()
        menu.addAction("Pin at Playhead", partial(self.pin_at_playhead, key))
        thumb = menu.addAction("Set as Shot Thumbnail")
        thumb.setCheckable(True)  # checked: this take is the thumbnail; unchecking goes back to the default
        thumb.setChecked(shot is not None and shot.thumbnail_take == key[1])
        thumb.setToolTip("Show this take for the shot in the storyboard and the shot list")
        thumb.toggled.connect(partial(self.set_as_thumbnail, key))
        menu.addSeparator()
        self._picture_actions(menu, key)
        menu.addSeparator()
        menu.addAction("Reveal File", partial(self.reveal_file, key))
        targets = selected if key in selected else [key]
        delete = menu.addAction(
            "Delete" if len(targets) == 1 else f"Delete {len(targets)} Keyframes", partial(self.delete_takes, targets)
        )
        delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))  # shown as a hint; the list handles the key
        return menu

    def _picture_actions(self, menu: QMenu, key: TakeKey) -> None:
        """Draw over the take, start keyframes from it, repaint a region of it."""
        menu.setToolTipsVisible(True)  # the disabled entries say which models can
        draw = menu.addAction("Draw Over…", partial(self.draw_requested.emit, key))
        draw.setToolTip("Draw on this take in the viewer and save the result as a new take")
        spec = self.model_spec()
        from_take = menu.addAction("Generate From This Take", partial(self.generate_from_take, key))
        from_take.setEnabled(model_can(spec, "image_to_image"))
        from_take.setToolTip(
            "Keyframes that keep this take's composition, at the panel's strength"
            if from_take.isEnabled()
            else f"The chosen model can't start from a picture; choose {models_that_can('image_to_image')}"
        )
        inpaint = menu.addAction("Inpaint…", partial(self.inpaint_requested.emit, key))
        inpaint.setEnabled(model_can(spec, "inpainting"))
        inpaint.setToolTip(self.inpaint_tooltip())

    def _show_take_menu(self, lst: TakeList, pos: QPoint) -> None:
        item = lst.itemAt(pos)
        if item is None or not item.data(TAKE_ROLE):
            return
        menu = self.take_menu(lst, item)
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(lst.viewport().mapToGlobal(pos))


def _merged(build: Callable[..., Command], key: object, project: Project, *args: Any) -> Command:
    return replace(build(project, *args), merge_key=key)
