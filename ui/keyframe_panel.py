"""Generate keyframes for the current shot, pick the good ones and pin them at the playhead.

The prompt and negative prompt shown here are the shot's own (typing edits the shot, one undo
step per burst), so nothing typed is lost when another shot is selected. Candidates say which
shot and prompt made them; a take opens full size in the viewer (double-click) or is compared
with another (:mod:`ui.take_compare`). The panel is put together from mixins: the take context
menu (:mod:`ui.keyframe_take_menu`), models and seeds (:mod:`ui.keyframe_models`), starting from a
picture (:mod:`ui.keyframe_from_take`), the two lists and pinning (:mod:`ui.keyframe_lists`) and
importing files (:mod:`ui.keyframe_import`).

Everything that touches the disk (reading thumbnails, storing imported images, asking the
model registry what is installed) runs on a worker thread through qasync's
``run_in_executor`` and comes back to the GUI thread as an awaited result, so the panel keeps
painting. Edits go through :meth:`EditorState.edit`, so every pin and import is one undo step.
"""

from __future__ import annotations

import asyncio
from functools import partial

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QIcon, QKeySequence, QShortcut, QTextCursor, QValidator
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
from app.document import Shot
from app.errors import PinframeError
from engine.jobs import SEED_MAX
from ui.engine_bridge import EngineBridge, JobInfo
from ui.jobs_panel import eta_text, rgb_pixmap
from ui.keyframe_from_take import FromTake
from ui.keyframe_import import ImportImages
from ui.keyframe_lists import CandidatesAndHistory
from ui.keyframe_models import SKETCH, ModelsAndSeeds
from ui.keyframe_take_menu import TakeActions
from ui.state import EditorState
from ui.takes import THUMB, TakeList, ThumbnailLoader


class SeedValidator(QValidator):
    """0..2^32-1; QIntValidator stops at 2^31-1, which would refuse half of the seeds."""

    def validate(self, text: str, pos: int) -> QValidator.State:
        if text == "":
            return QValidator.State.Intermediate
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(SEED_MAX)):
            return QValidator.State.Invalid
        return QValidator.State.Acceptable if int(text) <= SEED_MAX else QValidator.State.Invalid


# --- the panel ------------------------------------------------------------------------------------
class KeyframePanel(TakeActions, ModelsAndSeeds, FromTake, CandidatesAndHistory, ImportImages, QWidget):
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
        picks, settings_form = self.splitter.widget(1), self.settings_area.widget()
        if picks is None or settings_form is None:
            return  # _build hasn't put them in yet
        room = total - takes - picks.minimumSizeHint().height()
        wanted = min(settings_form.sizeHint().height(), int(total * 0.4), room)
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
            # A keyframe job always names its shot; without one its takes would match no shot anyway.
            shot_id = info.shot_id
            self._batch = [(shot_id, take_id) for take_id in info.take_ids] if shot_id is not None else []
        self._show_job(info)
        self._refresh_candidates()

    def _show_job(self, info: JobInfo | None) -> None:
        running = info is not None and info.status in ("queued", "running", "storing")
        self.progress.setVisible(running)
        self.cancel_button.setVisible(info is not None and running and info.active)
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

    # --- shared by the mixins ---------------------------------------------------------------------
    def _file_dialog(self, title: str, mode: QFileDialog.FileMode) -> QFileDialog:
        dialog = QFileDialog(self, title)
        dialog.setFileMode(mode)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one per use; nothing keeps it
        return dialog

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


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
