"""Generate keyframes for the current shot, pick the good ones and pin them at the playhead.

Everything that touches the disk (reading thumbnails, storing imported images, asking the
model registry what is installed) runs on a worker thread through qasync's
``run_in_executor`` and comes back to the GUI thread as an awaited result, so the panel keeps
painting. Edits go through :meth:`EditorState.edit`, so every pin and import is one undo step.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt
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
from ui.keyframe_models import SKETCH, ModelsAndSeeds
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
    take_summary,
    take_tooltip,
)

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp)"


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
class KeyframePanel(ModelsAndSeeds, QWidget):
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
        self.prompt.setMaximumHeight(72)
        self.negative = QPlainTextEdit()
        self.negative.setPlaceholderText("What to keep out of the frame")
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
        self.candidates = TakeList(grid=True)
        self.candidates.setToolTip("Drag a candidate onto the timeline, or select it and pin it at the playhead")
        self.pin_button = QPushButton("Pin at playhead")
        self.history = TakeList(grid=False)
        self.history.setToolTip("Every keyframe of this shot; double-click one to pin it at the playhead")
        self.import_button = QPushButton("Import images…")

        form = QFormLayout()
        form.addRow("Prompt", self.prompt)
        form.addRow("Negative", self.negative)
        form.addRow("Model", _row(self.model_combo, self.add_model_button))
        form.addRow("Seed", _row(self.seed_edit, self.seed_lock, self.randomize_button))
        form.addRow("Variations", _row(self.variations, QLabel("Steps"), self.steps))
        picks = QWidget()
        picks_layout = QVBoxLayout(picks)
        picks_layout.setContentsMargins(0, 0, 0, 0)
        picks_layout.addWidget(QLabel("Candidates"))
        picks_layout.addWidget(self.candidates)
        picks_layout.addWidget(_row(self.pin_button))
        takes = QWidget()
        takes_layout = QVBoxLayout(takes)
        takes_layout.setContentsMargins(0, 0, 0, 0)
        takes_layout.addWidget(QLabel("Take history"))
        takes_layout.addWidget(self.history)
        takes_layout.addWidget(_row(self.import_button))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(picks)
        splitter.addWidget(takes)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(_row(self.generate_button, self.cancel_button, self.progress, grow_last=True))
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

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
        self.import_button.clicked.connect(self._choose_images)
        for lst, other in ((self.candidates, self.history), (self.history, self.candidates)):
            # One selected take at a time, so "Pin at playhead" is never ambiguous.
            lst.itemSelectionChanged.connect(partial(self._on_selection, lst, other))
            lst.itemDoubleClicked.connect(lambda item: self.pin_at_playhead(item))
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
        self._load_prompts(keep_edits=False)
        self._refresh_history()
        self._refresh_enabled()

    def _on_project(self, _project) -> None:
        self._load_prompts(keep_edits=True)
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

    def _load_prompts(self, *, keep_edits: bool) -> None:
        """Show the shot's prompts; text the director typed stays until the shot changes."""
        shot = self.current_shot()
        self.title.setText(f"Keyframes · shot {shot.number}" if shot else "Keyframes · no shot selected")
        texts = (shot.prompt, shot.negative_prompt) if shot else ("", "")
        for edit, text in zip((self.prompt, self.negative), texts, strict=True):
            if keep_edits and edit.document().isModified():
                continue
            if edit.toPlainText() != text:
                edit.setPlainText(text)
                edit.moveCursor(QTextCursor.MoveOperation.End)  # typing adds to the prompt
            edit.document().setModified(False)

    def _refresh_enabled(self) -> None:
        has_shot = self.current_shot() is not None
        self.generate_button.setEnabled(has_shot)
        self.import_button.setEnabled(has_shot)
        self.pin_button.setEnabled(self._selected_item() is not None)

    # --- generating ------------------------------------------------------------------------------
    def _generate_shortcut(self) -> None:
        if self.generate_button.isEnabled():
            self.generate()

    def generate(self) -> str | None:
        """Queue a generation for the current shot; returns the job id."""
        shot = self.current_shot()
        if shot is None:
            return None
        try:
            job_id = self.bridge.generate(
                shot.id,
                self.model_spec(),
                self.seeds_for_generate(),
                prompt=self.prompt.toPlainText().strip(),
                negative_prompt=self.negative.toPlainText().strip(),
                steps=self.steps.value(),
            )
        except (PinframeError, ValueError) as exc:
            self.state.message.emit(str(exc))
            return None
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

    # --- candidates and history --------------------------------------------------------------------
    def _refresh_candidates(self) -> None:
        info = self.bridge.jobs.get(self._job_id) if self._job_id else None
        running = info is not None and info.status in ("queued", "running", "storing")
        takes = [(s, t) for s, t_id in self._batch if (t := self._take(s, t_id)) is not None]
        key = (running, tuple((s, t.id) for s, t in takes))
        if key == self._candidates_key:
            return
        self._candidates_key = key
        selected = self._selected_take_id(self.candidates)
        self._placeholder = None
        self.candidates.clear()
        if running:
            self._placeholder = QListWidgetItem(QIcon(self.thumbnails.loading), "Generating…")
            self._placeholder.setFlags(Qt.ItemFlag.ItemIsEnabled)  # not selectable, not draggable
            if info.preview is not None:
                self._placeholder.setIcon(QIcon(rgb_pixmap(info.preview, THUMB)))
            self.candidates.addItem(self._placeholder)
        for shot_id, take in takes:
            self._add_take_item(self.candidates, shot_id, take, take_caption(take), selected)

    def _refresh_history(self) -> None:
        shot = self.current_shot()
        if shot is self._history_shot:
            return  # shots are immutable values: the same object means nothing changed
        self._history_shot = shot
        selected = self._selected_take_id(self.history)
        self.history.clear()
        if shot is None:
            return
        for take in reversed(shot.keyframe_takes):  # newest first
            pinned = [p.frame for p in shot.pins if p.take_id == take.id]
            item = self._add_take_item(self.history, shot.id, take, take_summary(take, pinned), selected)
            item.setToolTip(take_tooltip(take))

    def _add_take_item(
        self, lst: TakeList, shot_id: str, take: KeyframeTake, text: str, selected: str | None
    ) -> QListWidgetItem:
        item = QListWidgetItem(text)
        item.setData(TAKE_ROLE, take.id)
        item.setData(SHOT_ROLE, shot_id)
        item.setData(REF_ROLE, take.image)
        item.setIcon(QIcon(self.thumbnails.get(take.image, self.state.session.media.path(take.image))))
        lst.addItem(item)
        item.setSelected(take.id == selected)  # only takes effect once the item is in the list
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

    def _selected_item(self) -> QListWidgetItem | None:
        for lst in (self.candidates, self.history):
            items = [i for i in lst.selectedItems() if i.data(TAKE_ROLE)]
            if items:
                return items[0]
        return None

    @staticmethod
    def _selected_take_id(lst: TakeList) -> str | None:
        items = lst.selectedItems()
        return items[0].data(TAKE_ROLE) if items else None

    # --- pinning ---------------------------------------------------------------------------------
    def pin_at_playhead(self, item: QListWidgetItem | None = None) -> bool:
        """Pin a take (the selected one by default) at the playhead, if the playhead is in its shot."""
        item = item or self._selected_item()
        if item is None or not item.data(TAKE_ROLE):
            self.state.message.emit("Select a keyframe first, then pin it at the playhead.")
            return False
        shot = self._shot(item.data(SHOT_ROLE))
        if shot is None:
            self.state.message.emit("The shot this keyframe belongs to was deleted; it can't be pinned.")
            return False
        found = self.state.shot_at_playhead()
        if found is None or found[0] != shot.id:
            here = self._shot(found[0]) if found else None
            where = f"shot {here.number}" if here else "no shot"
            self.state.message.emit(
                f"The playhead is in {where}; move it into shot {shot.number} to pin this keyframe there."
            )
            return False
        return self.state.edit(commands.set_pin, shot.id, found[1], item.data(TAKE_ROLE))

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
