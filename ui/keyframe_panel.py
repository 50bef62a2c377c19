"""Generate keyframes for the current shot, pick the good ones and pin them at the playhead.

Everything that touches the disk (reading thumbnails, storing imported images, asking the
model registry what is installed) runs on a worker thread through qasync's
``run_in_executor`` and comes back to the GUI thread as an awaited result, so the panel keeps
painting. Edits go through :meth:`EditorState.edit`, so every pin and import is one undo step.
"""

from __future__ import annotations

import asyncio
import html
from collections import OrderedDict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import shiboken6
from PySide6.QtCore import QMimeData, QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
    QPainter,
    QPixmap,
    QShortcut,
    QTextCursor,
    QValidator,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
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
from app.cli_models import registry
from app.document import KeyframeTake, Shot, new_id
from app.engine_service import random_seeds, resolve_model
from app.errors import MediaError, PinframeError
from app.media_ref import MediaRef
from app.media_store import MediaStore
from engine.errors import EngineError
from engine.jobs import SEED_MAX, ModelSpec
from ui.engine_bridge import EngineBridge, JobInfo
from ui.jobs_panel import eta_text, rgb_pixmap
from ui.mime import take_mime
from ui.state import EditorState

THUMB = QSize(160, 90)
HISTORY_ICON = QSize(96, 54)
TAKE_ROLE = Qt.ItemDataRole.UserRole
SHOT_ROLE = Qt.ItemDataRole.UserRole + 1
REF_ROLE = Qt.ItemDataRole.UserRole + 2
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp)"
MODEL_KINDS = ("keyframe", "draft")  # registry kinds that make stills
SKETCH = ModelSpec("sketch")


class SeedValidator(QValidator):
    """0..2^32-1; QIntValidator stops at 2^31-1, which would refuse half of the seeds."""

    def validate(self, text: str, pos: int) -> QValidator.State:
        if text == "":
            return QValidator.State.Intermediate
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(SEED_MAX)):
            return QValidator.State.Invalid
        return QValidator.State.Acceptable if int(text) <= SEED_MAX else QValidator.State.Invalid


# --- work for a worker thread (no Qt objects in here) ----------------------------------------------
def read_thumbnail(path: Path, width: int, height: int) -> np.ndarray | None:
    """The image at ``path`` as RGB scaled to fit width x height; None if it can't be read."""
    try:
        image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
    except (OSError, ValueError, cv2.error):
        return None
    if image is None:
        return None
    scale = min(width / image.shape[1], height / image.shape[0], 1.0)
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)


def store_image(media: MediaStore, path: Path) -> tuple[MediaRef, int, int]:
    """Check ``path`` is a readable image, copy it into the bundle; (ref, width, height)."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise MediaError("only PNG, JPEG and WebP images can be keyframes")
    try:
        image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except (OSError, ValueError, cv2.error) as exc:
        raise MediaError(f"the file can't be read ({exc})") from None
    if image is None or image.ndim < 2:
        raise MediaError("the file is not an image Pinframe can read; save it as PNG or JPEG and try again")
    return media.put_file(path), int(image.shape[1]), int(image.shape[0])


def available_models() -> list[tuple[str, ModelSpec]]:
    """Installed registry models that make stills, as (label, spec); reads the disk."""
    try:
        reg = registry()
        ids = [(m.id, m.id) for m in reg.known() if m.kind in MODEL_KINDS and reg.installed(m).complete]
        ids += [(m.id, f"{m.id} ({m.path.name})") for m in reg.local() if m.kind in MODEL_KINDS]
    except (EngineError, PinframeError, OSError):
        return []  # a damaged model list must not break the panel; `pinframe models` explains it
    found = []
    for model_id, label in ids:
        try:
            found.append((label, resolve_model(model_id, kind="keyframe")))
        except (EngineError, PinframeError):
            continue  # e.g. a draft pipeline that can't make stills
    return found


# --- words for a take ---------------------------------------------------------------------------
def take_caption(take: KeyframeTake) -> str:
    return f"seed {take.generation.seed}" if take.generation else (take.imported_from or "imported")


def take_summary(take: KeyframeTake, pinned: list[int]) -> str:
    """'seed 7 · if-i-m · 30 steps · guidance 7 · 64×64 · pinned at 0'."""
    g = take.generation
    if g is None:
        parts = [f"imported {take.imported_from}".strip(), f"{take.width}×{take.height}"]
    else:
        parts = [f"seed {g.seed}", g.model_id or g.backend]
        parts += [f"{g.steps} steps"] if g.steps else []
        parts += [f"guidance {g.guidance:g}"] if g.guidance else []
        parts.append(f"{g.width or take.width}×{g.height or take.height}")
    if pinned:
        parts.append(f"pinned at {', '.join(map(str, pinned))}")
    return " · ".join(parts)


def take_tooltip(take: KeyframeTake) -> str:
    g = take.generation
    if g is None:
        rows = [("Imported from", take.imported_from or "an image file")]
    else:
        revision = f" @ {g.model_revision[:12]}" if g.model_revision else ""
        rows = [
            ("Backend", g.backend),
            ("Model", f"{g.model_id}{revision}" if g.model_id else ""),
            ("Prompt", g.prompt),
            ("Negative", g.negative_prompt),
            ("Seed", str(g.seed)),
            ("Steps", str(g.steps) if g.steps else "default"),
            ("Guidance", f"{g.guidance:g}" if g.guidance else "default"),
            ("Generated at", f"{g.width}×{g.height}" if g.width else ""),
            ("Fit", g.fit),
        ]
    rows += [("Stored at", f"{take.width}×{take.height}"), ("Created", take.created)]
    cells = "".join(f"<tr><td><b>{k}</b>&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows if v)
    return f"<table>{cells}</table>"


def _blank(box: QSize, text: str) -> QPixmap:
    pixmap = QPixmap(box)
    pixmap.fill(QColor("#2a2b30"))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#7c7d84"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


def _loop() -> asyncio.AbstractEventLoop:
    # qasync steps tasks from Qt's event dispatch; when Qt events are processed outside the loop's
    # run (a test's processEvents), asyncio reports no running loop, yet the thread's loop is the same.
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- thumbnails -----------------------------------------------------------------------------------
class ThumbnailLoader(QObject):
    """Thumbnails of stored images, decoded on a worker thread; ``loaded`` says one is ready."""

    loaded = Signal(object)  # MediaRef

    def __init__(self, box: QSize = THUMB, capacity: int = 512) -> None:
        super().__init__()
        self.box = box
        self.capacity = capacity
        self._cache: OrderedDict[MediaRef, QPixmap] = OrderedDict()
        self._pending: set[MediaRef] = set()
        self._tasks: set[asyncio.Task] = set()
        self.loading = _blank(box, "…")

    def has(self, ref: MediaRef) -> bool:
        return ref in self._cache

    def cached(self, ref: MediaRef) -> QPixmap | None:
        return self._cache.get(ref)

    def get(self, ref: MediaRef, path: Path) -> QPixmap:
        """The thumbnail if it is ready; otherwise a placeholder, and ``loaded`` fires later."""
        pixmap = self._cache.get(ref)
        if pixmap is not None:
            self._cache.move_to_end(ref)
            return pixmap
        if ref not in self._pending:
            self._pending.add(ref)
            task = asyncio.ensure_future(self._load(ref, path))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return self.loading

    async def _load(self, ref: MediaRef, path: Path) -> None:
        try:
            rgb = await _loop().run_in_executor(None, read_thumbnail, path, self.box.width(), self.box.height())
        finally:
            self._pending.discard(ref)
        if not shiboken6.isValid(self):
            return
        # Media are content-addressed and never change, so a missing file stays missing for this ref.
        self._cache[ref] = rgb_pixmap(rgb) if rgb is not None else _blank(self.box, "missing")
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        self.loaded.emit(ref)


class TakeList(QListWidget):
    """Keyframe takes that can be dragged onto the timeline (as ``ui.mime.take_mime``)."""

    def __init__(self, grid: bool) -> None:
        super().__init__()
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setWordWrap(True)
        if grid:
            self.setViewMode(QListView.ViewMode.IconMode)
            self.setMovement(QListView.Movement.Static)  # a drag leaves the grid, never reorders it
            self.setResizeMode(QListView.ResizeMode.Adjust)
            self.setIconSize(THUMB)
            self.setGridSize(QSize(THUMB.width() + 8, THUMB.height() + 28))
            self.setUniformItemSizes(True)
        else:
            self.setIconSize(HISTORY_ICON)
            self.setSpacing(2)

    def drag_mime(self, item: QListWidgetItem) -> QMimeData | None:
        shot_id, take_id = item.data(SHOT_ROLE), item.data(TAKE_ROLE)
        return take_mime(shot_id, take_id) if shot_id and take_id else None

    def startDrag(self, supported_actions: Qt.DropAction) -> None:
        item = self.currentItem()
        mime = self.drag_mime(item) if item is not None else None
        if mime is None:
            return
        drag = QDrag(self)
        drag.setMimeData(mime)
        if not item.icon().isNull():
            drag.setPixmap(item.icon().pixmap(HISTORY_ICON))
        drag.exec(Qt.DropAction.CopyAction)


# --- the panel ------------------------------------------------------------------------------------
class KeyframePanel(QWidget):
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

    # --- models and seeds ------------------------------------------------------------------------
    def reload_models(self) -> asyncio.Task:
        """Add newly installed or registered models (after a download, say) to the picker."""
        return self._spawn(self._load_models())

    async def _load_models(self) -> None:
        models = await _loop().run_in_executor(None, available_models)
        if shiboken6.isValid(self):
            for label, spec in models:
                self._add_model(spec, label)

    def _add_model(self, spec: ModelSpec, label: str) -> int:
        for index in range(self.model_combo.count()):
            if self.model_combo.itemData(index) == spec:
                return index
        self.model_combo.addItem(label, spec)
        self.model_combo.setItemData(self.model_combo.count() - 1, spec.path or label, Qt.ItemDataRole.ToolTipRole)
        return self.model_combo.count() - 1

    def set_model(self, spec: ModelSpec, label: str) -> None:
        """Choose ``spec`` (adding it to the picker for this session if it is new)."""
        self.model_combo.setCurrentIndex(self._add_model(spec, label))

    def model_spec(self) -> ModelSpec:
        return self.model_combo.currentData() or SKETCH

    def _choose_model_folder(self) -> None:
        dialog = self._file_dialog("Add a diffusers model folder", QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly)
        dialog.fileSelected.connect(self.add_model_folder)
        dialog.open()  # not exec(): the engine keeps reporting while the director browses

    def add_model_folder(self, path: str) -> asyncio.Task:
        return self._spawn(self._add_model_folder(path))

    async def _add_model_folder(self, path: str) -> None:
        try:
            spec = await _loop().run_in_executor(None, partial(resolve_model, path, kind="keyframe"))
        except (PinframeError, EngineError) as exc:
            self.state.message.emit(str(exc))
            return
        if shiboken6.isValid(self):
            self.set_model(spec, f"{Path(path).name} (folder)")

    def randomize_seed(self) -> int:
        seed = random_seeds(1)[0]
        self.seed_edit.setText(str(seed))
        return seed

    def seeds_for_generate(self) -> tuple[int, ...]:
        """The locked seed, or a fresh random one, then the next ones for each variation."""
        text = self.seed_edit.text()
        valid = self.seed_edit.validator().validate(text, 0) == QValidator.State.Acceptable
        seed = int(text) if self.seed_lock.isChecked() and valid else self.randomize_seed()
        return tuple((seed + i) % (SEED_MAX + 1) for i in range(self.variations.value()))

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
            ref, width, height = await _loop().run_in_executor(None, store_image, session.media, path)
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
