"""Generate keyframes for the current shot, pick the good ones and pin them at the playhead.

The prompt and negative prompt shown here are the shot's own (typing edits the shot, one undo
step per burst), so nothing typed is lost when another shot is selected. Candidates say which
shot and prompt made them; a take opens full size in the viewer (double-click) or is compared
with another (:mod:`ui.take_compare`); its context menu is :mod:`ui.keyframe_take_menu`.

Everything that touches the disk (reading thumbnails, storing imported images, asking the
model registry what is installed) runs on a worker thread through qasync's
``run_in_executor`` and comes back to the GUI thread as an awaited result, so the panel keeps
painting. Edits go through :meth:`EditorState.edit`, so every pin and import is one undo step.
"""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
    QShortcut,
    QTextCursor,
    QValidator,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import commands
from app.document import KeyframeTake, Shot, new_id
from app.errors import PinframeError
from app.media_ref import MediaRef
from engine.jobs import SEED_MAX
from ui.engine_bridge import EngineBridge, JobInfo
from ui.jobs_panel import eta_text, rgb_pixmap
from ui.keyframe_from_take import FromTake
from ui.keyframe_models import SKETCH, ModelsAndSeeds
from ui.keyframe_take_menu import TakeActions, TakeKey, item_key
from ui.state import EditorState
from ui.takes import (
    REF_ROLE,
    SHOT_ROLE,
    TAKE_ROLE,
    THUMB,
    TakeList,
    ThumbnailLoader,
    event_loop,
    store_image,
    take_caption,
    take_strip_text,
    take_summary,
    take_tooltip,
)

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp)"
OTHER_SHOT_COLOUR = "#d9a441"


class SeedValidator(QValidator):
    """0..2^32-1; QIntValidator stops at 2^31-1, which would refuse half of the seeds."""

    def validate(self, text: str, pos: int) -> QValidator.State:
        if text == "":
            return QValidator.State.Intermediate
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(SEED_MAX)):
            return QValidator.State.Invalid
        return QValidator.State.Acceptable if int(text) <= SEED_MAX else QValidator.State.Invalid


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- the panel ------------------------------------------------------------------------------------
class KeyframePanel(TakeActions, ModelsAndSeeds, FromTake, QWidget):
    takes_opened = Signal(list, str)  # (TakeRef list, ui.take_compare mode): show them in the viewer
    # The drawing layer (ui.drawing) opens on these: a take key to draw over (None: the shot at the
    # playhead), and a take key to paint an inpainting mask on.
    draw_requested = Signal(object)
    inpaint_requested = Signal(object)

    def __init__(self, state: EditorState, bridge: EngineBridge) -> None:
        super().__init__()
        self.state = state
        self.bridge = bridge
        self.thumbnails = ThumbnailLoader()
        self._tasks: set[asyncio.Task] = set()
        self._job_id: str | None = None  # the generation shown in the candidates grid
        self._batch: list[tuple[str, str]] = []  # (shot id, take id) it added
        self._candidates_key: tuple | None = None
        self._placeholder: QListWidgetItem | None = None
        self._history_shot: Shot | None = None
        self._loading_prompts = False
        self._splitter_placed = False  # until the director drags it, the panel's own split is kept
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        self._on_session(state.session)
        self.reload_models()

    # --- layout ----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("What the frame shows (the shot's prompt; its style is added)")
        self.prompt.setToolTip("The shot's prompt: what you type here is saved to the shot (Edit ▸ Undo reverts it)")
        self.prompt.setMaximumHeight(72)
        self.negative = QPlainTextEdit()
        self.negative.setPlaceholderText("What to keep out of the frame")
        self.negative.setToolTip("The shot's negative prompt, saved to the shot as you type")
        self.negative.setMaximumHeight(44)
        self.model_combo = QComboBox()
        self.model_combo.addItem("Sketch (no model)", SKETCH)
        self.add_model_button = QPushButton("Add model folder…")
        self.seed_edit = QLineEdit()
        self.seed_edit.setValidator(SeedValidator(self.seed_edit))
        self.seed_edit.setPlaceholderText("random")
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.setToolTip("Locked: every Generate uses this seed. Unlocked: a new random seed each time.")
        self.randomize_button = QPushButton("Randomize")
        self.variations = QSpinBox(minimum=1, maximum=16, value=4)
        self.variations.setToolTip("How many pictures to make; their seeds count up from the seed")
        self.steps = QSpinBox(minimum=0, maximum=500, value=0)
        self.steps.setSpecialValueText("model default")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Make keyframes for the current shot (Ctrl+Return)")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.candidates_label = QLabel("Candidates")
        self.candidates_label.setWordWrap(True)
        self.candidates = TakeList(grid=True)
        self.candidates.setToolTip(
            "Drag a candidate onto the timeline or pin it at the playhead; double-click: full size; "
            "Ctrl-click a second one to compare; right-click for more"
        )
        self.pin_button = QPushButton("Pin at playhead")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Show the two selected keyframes side by side in the viewer (X flips A/B)")
        self.history = TakeList(grid=False)
        self.history.setToolTip(
            "Every keyframe of this shot, newest first; double-click: full size; right-click for more"
        )
        self.import_button = QPushButton("Import images…")
        self.draw_button = QPushButton("Draw…")
        self.draw_button.setToolTip(
            "Draw on the shot under the playhead, over its keyframe or on blank paper (Ctrl+Shift+D)"
        )
        self._build_from_take()  # ui.keyframe_from_take: strength, Generate from Take

        form = QFormLayout()
        form.addRow("Prompt", self.prompt)
        form.addRow("Negative", self.negative)
        form.addRow("Model", _row(self.model_combo, self.add_model_button))
        form.addRow("Seed", _row(self.seed_edit, self.seed_lock, self.randomize_button))
        form.addRow("Variations", _row(self.variations, QLabel("Steps"), self.steps))
        form.addRow("", self.source_label)
        form.addRow("Strength", _row(self.strength, self.strength_label, self.from_take_button, grow_last=False))
        # The form scrolls and the lists shrink, so the panel works in a short dock (a laptop's
        # 720 px shared with the Jobs panel); the splitter lets the director give either the room.
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 0, 0)
        settings_layout.addLayout(form)
        settings_layout.addStretch(1)
        self.settings_area = QScrollArea()
        self.settings_area.setWidget(settings)
        self.settings_area.setWidgetResizable(True)
        self.settings_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.settings_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.settings_area.setMinimumHeight(48)  # the prompt's first lines
        picks = QWidget()
        picks_layout = QVBoxLayout(picks)
        picks_layout.setContentsMargins(0, 0, 0, 0)
        picks_layout.setSpacing(4)
        # Generate stays in sight however far the settings above are scrolled.
        picks_layout.addWidget(_row(self.generate_button, self.cancel_button, self.progress, grow_last=True))
        picks_layout.addWidget(self.status)
        picks_layout.addWidget(self.candidates_label)
        picks_layout.addWidget(self.candidates, 1)
        picks_layout.addWidget(_row(self.pin_button, self.compare_button))
        takes = QWidget()
        takes_layout = QVBoxLayout(takes)
        takes_layout.setContentsMargins(0, 0, 0, 0)
        takes_layout.setSpacing(4)
        takes_layout.addWidget(_row(QLabel("Take history"), self.import_button, self.draw_button))
        takes_layout.addWidget(self.history, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        for index, (widget, stretch) in enumerate(((self.settings_area, 0), (picks, 1), (takes, 0))):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(index, stretch)
        self.splitter.splitterMoved.connect(lambda *_: setattr(self, "_splitter_placed", True))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.splitter, 1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self._splitter_placed:
            self._fit_splitter()

    def _fit_splitter(self) -> None:
        """The whole history strip; the settings as far as they fit (up to 40%; they scroll); the
        candidates the rest."""
        total = self.splitter.height()
        header = self.import_button.sizeHint().height() + 4
        takes = header + self.history.maximumHeight()
        room = total - takes - self.splitter.widget(1).minimumSizeHint().height()
        wanted = min(self.settings_area.widget().sizeHint().height(), int(total * 0.4), room)
        settings = max(self.settings_area.minimumHeight(), wanted)
        self.splitter.setSizes([settings, max(1, total - settings - takes), takes])

    def _connect(self) -> None:
        self.state.session_changed.connect(self._on_session)
        self.state.current_shot_changed.connect(self._on_current_shot)
        self.state.project_changed.connect(self._on_project)
        self.bridge.job_updated.connect(self._on_job_updated)
        self.bridge.job_ended.connect(self._on_job_ended)
        self.thumbnails.loaded.connect(self._on_thumbnail)
        self.add_model_button.clicked.connect(self._choose_model_folder)
        self.seed_edit.textEdited.connect(lambda _: self.seed_lock.setChecked(True))  # a typed seed is meant
        self.randomize_button.clicked.connect(self.randomize_seed)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self._cancel)
        self.pin_button.clicked.connect(lambda: self.pin_at_playhead())
        self.compare_button.clicked.connect(lambda: self.compare())
        self.import_button.clicked.connect(self._choose_images)
        self.draw_button.clicked.connect(lambda: self.draw_requested.emit(None))
        self.model_combo.currentIndexChanged.connect(lambda _i: self._refresh_enabled())
        for edit, field in ((self.prompt, "prompt"), (self.negative, "negative_prompt")):
            edit.textChanged.connect(partial(self._save_prompt, edit, field))
            edit.installEventFilter(self)
        for lst, other in ((self.candidates, self.history), (self.history, self.candidates)):
            # Takes are selected in one list at a time, so "Pin at playhead" is never ambiguous.
            lst.itemSelectionChanged.connect(partial(self._on_selection, lst, other))
            lst.itemDoubleClicked.connect(self.open_full_size)
            lst.customContextMenuRequested.connect(partial(self._show_take_menu, lst))
            lst.delete_pressed.connect(self.delete_takes)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self._generate_shortcut)

    # --- state signals ---------------------------------------------------------------------------
    def _on_session(self, _session) -> None:
        self._job_id, self._batch = None, []
        self._on_current_shot(self.state.current_shot)
        self._refresh_candidates()
        self._show_job(None)

    def _on_current_shot(self, _shot_id: str | None) -> None:
        self._load_prompts(keep_cursor=False)
        self._refresh_history()
        self._refresh_candidates()
        self._refresh_enabled()

    def _on_project(self, _project) -> None:
        self._load_prompts(keep_cursor=True)
        self._refresh_history()
        self._refresh_candidates()

    def current_shot(self) -> Shot | None:
        return self._shot(self.state.current_shot)

    def _shot(self, shot_id: str | None) -> Shot | None:
        project = self.state.project
        if project is None or shot_id is None:
            return None
        try:
            return project.shot(shot_id)
        except PinframeError:
            return None

    def _load_prompts(self, *, keep_cursor: bool) -> None:
        """Show the shot's prompts (edited here, in the shot form, or by an undo)."""
        shot = self.current_shot()
        self.title.setText(f"Keyframes · shot {shot.number}" if shot else "Keyframes · no shot selected")
        texts = (shot.prompt, shot.negative_prompt) if shot else ("", "")
        self._loading_prompts = True
        try:
            for edit, text in zip((self.prompt, self.negative), texts, strict=True):
                edit.setEnabled(shot is not None)
                if edit.toPlainText() == text:
                    continue  # the usual case while typing here: the edit came from this box
                position = edit.textCursor().position()
                edit.setPlainText(text)
                if keep_cursor:  # an edit elsewhere must not throw the cursor of a typist here
                    cursor = edit.textCursor()
                    cursor.setPosition(min(position, len(text)))
                    edit.setTextCursor(cursor)
                else:
                    edit.moveCursor(QTextCursor.MoveOperation.End)  # typing adds to the prompt
        finally:
            self._loading_prompts = False

    def _save_prompt(self, edit: QPlainTextEdit, field: str) -> None:
        """Typing here edits the shot; set_shot_fields merges a burst of typing into one undo step."""
        shot = self.current_shot()
        if self._loading_prompts or shot is None:
            return
        text = edit.toPlainText()
        if getattr(shot, field) != text:
            self.state.edit(commands.set_shot_fields, shot.id, **{field: text})

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Entering or leaving a prompt box starts a new undo step: typing here never merges with
        # the same field typed in the shot form just before.
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut) and self.state.session is not None:
            self.state.session.history.close_merge()
        return False

    def _refresh_enabled(self) -> None:
        has_shot = self.current_shot() is not None
        self.generate_button.setEnabled(has_shot)
        self.import_button.setEnabled(has_shot)
        self.draw_button.setEnabled(has_shot)
        count = len(self.selected_items())
        self.pin_button.setEnabled(count == 1)
        self.compare_button.setEnabled(count == 2)
        self._refresh_from_take()

    # --- generating ------------------------------------------------------------------------------
    def _generate_shortcut(self) -> None:
        if self.generate_button.isEnabled():
            self.generate()

    def generate(self) -> str | None:
        """Queue a generation for the current shot; returns the job id."""
        shot = self.current_shot()
        return None if shot is None else self._start_generation(shot.id)

    def _start_generation(self, shot_id: str, source: str = "", *, prompt: str | None = None, **picture) -> str | None:
        """Queue keyframes of ``shot_id`` with the panel's model, seeds and steps and show them as the
        candidates. The prompts are the boxes' for the current shot, the shot's own for another one;
        ``picture``: init_image, strength, mask_image; ``source`` says so on the candidates."""
        current = shot_id == self.state.current_shot
        if prompt is None and current:
            prompt = self.prompt.toPlainText().strip()
        try:
            job_id = self.bridge.generate(
                shot_id,
                self.model_spec(),
                self.seeds_for_generate(),
                prompt=prompt,
                negative_prompt=self.negative.toPlainText().strip() if current else None,
                steps=self.steps.value(),
                **picture,
            )
        except (PinframeError, ValueError) as exc:
            self.state.message.emit(str(exc))
            return None
        if source:
            self._sources[job_id] = source
        self._job_id, self._batch = job_id, []
        self._show_job(self.bridge.jobs[job_id])
        self._refresh_candidates()
        return job_id

    def _cancel(self) -> None:
        if self._job_id is not None:
            self.bridge.cancel(self._job_id)

    def _on_job_updated(self, job_id: str) -> None:
        if job_id != self._job_id:
            return
        info = self.bridge.jobs[job_id]
        self._show_job(info)
        if self._placeholder is not None and info.preview is not None:
            self._placeholder.setIcon(QIcon(rgb_pixmap(info.preview, THUMB)))

    def _on_job_ended(self, job_id: str) -> None:
        if job_id != self._job_id:
            return
        info = self.bridge.jobs[job_id]
        if info.status == "done":
            self._batch = [(info.shot_id, take_id) for take_id in info.take_ids]
        self._show_job(info)
        self._refresh_candidates()

    def _show_job(self, info: JobInfo | None) -> None:
        running = info is not None and info.status in ("queued", "running", "storing")
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running and info.active)
        if info is None:
            self.status.setText("")
        elif running:
            self.progress.setRange(0, max(info.total, 1))
            self.progress.setValue(info.step)
            words = {"queued": "Waiting for the engine…", "storing": "Saving…"}.get(info.status, "Generating")
            step = f" · step {info.step} of {info.total}" if info.total and info.status == "running" else ""
            eta = eta_text(info.eta)
            self.status.setText(f"{words}{step}{' · ' + eta if eta else ''}")
        elif info.status == "failed":
            self.status.setText(f"Generation failed: {info.message}")
        elif info.status == "cancelled":
            self.status.setText("Generation cancelled.")
        else:
            self.status.setText(f"{len(info.take_ids)} new keyframe(s): drag one onto the timeline or pin it.")
        self.status.setVisible(bool(self.status.text()))  # an empty line would cost a short dock a row

    # --- candidates and history --------------------------------------------------------------------
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
            if info.preview is not None:
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
        item.setIcon(QIcon(self.thumbnails.get(take.image, self.state.session.media.path(take.image))))
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

    # --- importing -------------------------------------------------------------------------------
    def _choose_images(self) -> None:
        dialog = self._file_dialog("Import keyframe images", QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(IMAGE_FILTER)
        dialog.filesSelected.connect(self.import_files)
        dialog.open()

    def _file_dialog(self, title: str, mode: QFileDialog.FileMode) -> QFileDialog:
        dialog = QFileDialog(self, title)
        dialog.setFileMode(mode)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one per use; nothing keeps it
        return dialog

    def import_files(self, paths: list[str]) -> list[asyncio.Task]:
        """Add image files as keyframe takes of the current shot (stored off the GUI thread)."""
        shot_id = self.state.current_shot
        if shot_id is None or self.state.session is None:
            self.state.message.emit("Select a shot first; imported images become its keyframes.")
            return []
        return [self._spawn(self._import_one(shot_id, Path(p))) for p in paths]

    async def _import_one(self, shot_id: str, path: Path) -> None:
        session = self.state.session
        try:
            ref, width, height = await event_loop().run_in_executor(None, store_image, session.media, path)
        except PinframeError as exc:
            self.state.message.emit(f"{path.name} can't be imported: {exc}")
            return
        if self.state.session is not session:
            return  # the project was closed meanwhile; the stored file is harmless
        take = KeyframeTake(new_id(), ref, width, height, _now(), None, imported_from=path.name)
        self.state.edit(commands.add_keyframe_take, shot_id, take)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _local_files(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.import_files(paths)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _local_files(mime: QMimeData) -> list[str]:
    # Every local file is taken, so a dropped PDF is refused with a message rather than silently.
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []


def _row(*widgets: QWidget, grow_last: bool = False) -> QWidget:
    """Widgets side by side, packed to the left unless the last one takes the spare room."""
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if grow_last and widget is widgets[-1] else 0)
    if not grow_last:
        layout.addStretch(1)
    return box
