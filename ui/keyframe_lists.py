"""The keyframe panel's two lists: the candidates of the last generation and the shot's take history.

A mixin of :class:`~ui.keyframe_panel.KeyframePanel` (the panel builds the widgets): what each list
shows and its thumbnails, one selection across both, and pinning the selected take at the playhead.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QListWidgetItem

from app import commands
from app.document import KeyframeTake, Shot
from app.media_ref import MediaRef
from ui.engine_bridge import EngineBridge, JobInfo
from ui.jobs_panel import rgb_pixmap
from ui.keyframe_take_menu import TakeKey, item_key
from ui.state import EditorState
from ui.takes import (
    REF_ROLE,
    SHOT_ROLE,
    TAKE_ROLE,
    THUMB,
    TakeList,
    ThumbnailLoader,
    take_caption,
    take_strip_text,
    take_summary,
    take_tooltip,
)

OTHER_SHOT_COLOUR = "#d9a441"


class CandidatesAndHistory:
    """Fills and reads the candidates grid and the history strip (the panel calls the refreshes)."""

    state: EditorState
    bridge: EngineBridge
    thumbnails: ThumbnailLoader
    candidates: TakeList
    candidates_label: QLabel
    history: TakeList
    _job_id: str | None
    _batch: list[tuple[str, str]]  # (shot id, take id) the shown generation added
    _candidates_key: tuple | None
    _placeholder: QListWidgetItem | None
    _history_shot: Shot | None
    _sources: dict[str, str]
    current_shot: Callable[[], Shot | None]
    _shot: Callable[[str | None], Shot | None]
    selected_items: Callable[[], list[QListWidgetItem]]
    _refresh_enabled: Callable[[], None]

    def _refresh_candidates(self) -> None:
        info = self.bridge.jobs.get(self._job_id) if self._job_id else None
        running = info is not None and info.status in ("queued", "running", "storing")
        takes = [(s, t) for s, t_id in self._batch if (t := self._take(s, t_id)) is not None]
        source = info.shot_id if info is not None else None
        mine = source is None or source == self.state.current_shot
        key = (running, mine, tuple((s, t) for s, t in takes))  # takes are values: a changed one redraws
        if key == self._candidates_key:
            return
        self._candidates_key = key
        self._label_candidates(info if running or takes else None, takes, mine)
        selected = self._selected_take_ids(self.candidates)
        self._placeholder = None
        self.candidates.clear()
        if running:
            self._placeholder = QListWidgetItem(QIcon(self.thumbnails.loading), "Generating…")
            self._placeholder.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable, not draggable
            if info is not None and info.preview is not None:
                self._placeholder.setIcon(QIcon(rgb_pixmap(info.preview, THUMB)))
            self.candidates.addItem(self._placeholder)
        for shot_id, take in takes:
            shot = self._shot(shot_id)
            # A candidate of another shot says so on its face, not only in a tooltip.
            text = take_caption(take) if mine or shot is None else f"shot {shot.number} · {take_caption(take)}"
            item = self._add_take_item(self.candidates, shot_id, take, text, selected)
            whose = f"<p><b>Shot {shot.number}</b>{'' if mine else ' (not the current shot)'}</p>" if shot else ""
            item.setToolTip(whose + take_tooltip(take))

    def _label_candidates(self, info: JobInfo | None, takes: list[tuple[str, KeyframeTake]], mine: bool) -> None:
        """'Candidates · shot 1 · “prompt”': whose they are and what made them."""
        shot = self._shot(info.shot_id) if info is not None else None
        if info is None or shot is None:
            self.candidates_label.setText("Candidates")
            self.candidates_label.setStyleSheet("")
            self.candidates_label.setToolTip("")
            return
        generation = takes[0][1].generation if takes else None
        prompt = generation.prompt if generation is not None else getattr(info.job, "prompt", "")
        short = prompt if len(prompt) <= 60 else prompt[:59].rstrip() + "…"
        quoted = f" · “{short}”" if short else ""
        source = self._sources.get(info.job_id, "")
        quoted = f" · {source}{quoted}" if source else quoted
        if mine:
            self.candidates_label.setText(f"Candidates · shot {shot.number}{quoted}")
            self.candidates_label.setStyleSheet("")
        else:
            self.candidates_label.setText(f"Candidates of shot {shot.number}, not this shot{quoted}")
            self.candidates_label.setStyleSheet(f"color: {OTHER_SHOT_COLOUR};")
        self.candidates_label.setToolTip(prompt)

    def _refresh_history(self) -> None:
        shot = self.current_shot()
        if shot is self._history_shot:
            return  # shots are immutable values: the same object means nothing changed
        self._history_shot = shot
        selected = self._selected_take_ids(self.history)
        self.history.clear()
        if shot is None:
            return
        for take in reversed(shot.keyframe_takes):  # newest first
            pinned = [p.frame for p in shot.pins if p.take_id == take.id]
            star = "★ " if shot.thumbnail_take == take.id else ""  # the storyboard shows this one
            item = self._add_take_item(self.history, shot.id, take, star + take_strip_text(take, pinned), selected)
            thumbnail = "<p>★ The shot's storyboard thumbnail</p>" if star else ""
            item.setToolTip(f"<p><b>{html.escape(take_summary(take, pinned))}</b></p>{thumbnail}{take_tooltip(take)}")

    def _add_take_item(
        self, lst: TakeList, shot_id: str, take: KeyframeTake, text: str, selected: set[str]
    ) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setData(TAKE_ROLE, take.id)
        item.setData(SHOT_ROLE, shot_id)
        item.setData(REF_ROLE, take.image)
        media = self.state.require_session().media  # a take to list: a project is open
        item.setIcon(QIcon(self.thumbnails.get(take.image, media.path(take.image))))
        lst.addItem(item)
        item.setSelected(take.id in selected)  # only takes effect once the item is in the list
        return item

    def _on_thumbnail(self, ref: MediaRef) -> None:
        for lst in (self.candidates, self.history):
            for row in range(lst.count()):
                item = lst.item(row)
                pixmap = self.thumbnails.cached(ref)
                if pixmap is not None and item.data(REF_ROLE) == ref:
                    item.setIcon(QIcon(pixmap))

    def _take(self, shot_id: str, take_id: str) -> KeyframeTake | None:
        shot = self._shot(shot_id)
        return next((t for t in shot.keyframe_takes if t.id == take_id), None) if shot else None

    def _on_selection(self, lst: TakeList, other: TakeList) -> None:
        if lst.selectedItems():
            other.clearSelection()
        self._refresh_enabled()

    @staticmethod
    def _selected_take_ids(lst: TakeList) -> set[str]:
        return {i.data(TAKE_ROLE) for i in lst.selectedItems() if i.data(TAKE_ROLE)}

    # --- pinning ---------------------------------------------------------------------------------
    def pin_at_playhead(self, item: QListWidgetItem | TakeKey | None = None) -> bool:
        """Pin a take (the selected one by default) at the playhead, if the playhead is in its shot.

        The shot is always the one under the playhead, whatever is selected elsewhere; the status
        bar says what was pinned where, or why not.
        """
        if item is None:
            selected = self.selected_items()
            if len(selected) > 1:
                self.state.message.emit("Select one keyframe to pin (two are selected: Compare shows them).")
                return False
            item = selected[0] if selected else None
        shot_id, take_id = item_key(item) if isinstance(item, QListWidgetItem) else (item or (None, None))
        if not take_id:
            self.state.message.emit("Select a keyframe first, then pin it at the playhead.")
            return False
        shot = self._shot(shot_id)
        if shot is None:
            self.state.message.emit("The shot this keyframe belongs to was deleted; it can't be pinned.")
            return False
        found = self.state.shot_at_playhead()
        if found is None or found[0] != shot.id:
            here = self._shot(found[0]) if found else None
            where = f"shot {here.number}" if here else "no shot"
            self.state.message.emit(
                f"This keyframe belongs to shot {shot.number} and the playhead is in {where}; "
                f"move the playhead into shot {shot.number} to pin it there."
            )
            return False
        take = self._take(shot.id, take_id)
        replaced = shot.pin_at(found[1]) is not None
        if take is None or not self.state.edit(commands.set_pin, shot.id, found[1], take.id):
            return False
        verb = "Replaced the pin with take" if replaced else "Pinned take"
        self.state.message.emit(f"{verb} {take_caption(take)} at frame {found[1]} of shot {shot.number}")
        return True
