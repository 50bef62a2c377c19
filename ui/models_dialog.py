"""Models ▸ Manage: downloadable models and their state, the user's own folders, device settings.

Kinds and backends come from the two registries (engine.models.registry, engine.backend_registry):
a local folder's kind and backend are read from its model_index.json, never asked for.

Whatever touches the disk (cache scans, folder validation, the model list) runs on an executor
thread of the qasync loop. A download runs on a thread of its own: it can take hours, and the
loop's executor is joined when the app quits. Progress, results and engine events come back
through queued Qt signals, so the window never blocks and never polls.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.backend_registry import BackendKind, built_in
from engine.devices import DeviceSettings
from engine.errors import EngineError, JobCancelled
from engine.events import Event
from engine.models.download import download_model
from engine.models.registry import KnownModel, LocalModel, ModelRegistry
from ui.device_settings import DeviceSettingsSection
from ui.device_settings import load_device_settings as load_device_settings  # main_window imports it from here
from ui.engine_bridge import EngineBridge
from ui.labels import wrapping_label
from ui.model_status import ModelState, licence_text, scan_status, size_text
from ui.motion_models import backend_display

ERROR_STYLE = "color: #e8867c;"  # a soft red that reads on the dark theme and on a light one
_PROGRESS_EVERY_S = 0.1  # a fast link reports every MiB: hundreds of repaints a second otherwise

KNOWN_COLUMNS = ("Model", "Kind", "Backend", "Download", "VRAM (GPU / offload)", "Licence", "Status")
LOCAL_COLUMNS = ("Id", "Folder", "Pipeline", "Kind", "Backend")
STATUS_COLUMN = KNOWN_COLUMNS.index("Status")
_NUMBER_COLUMNS = (KNOWN_COLUMNS.index("Download"), KNOWN_COLUMNS.index("VRAM (GPU / offload)"))


class _Relay(QObject):
    """Carries results from worker threads to the GUI thread through queued connections."""

    # Python objects, not ints: byte counts overflow Qt's 32-bit int.
    progress = Signal(str, object, object)  # model id, bytes done, bytes total
    download_ended = Signal(str, object)  # model id, the snapshot Path or the exception raised
    engine_event = Signal(object)


def model_backend(model: KnownModel | LocalModel) -> str:
    """The Backend column: the display name of the backend that runs the model ("—" when unknown)."""
    return backend_display(model.backend) if model.backend else "—"


def built_in_text() -> str:
    """The backends that need no download, by kind, from the backend registry."""
    parts = []
    kinds: tuple[tuple[BackendKind, str], ...] = (("keyframe", "keyframes"), ("motion", "motion"))
    for kind, words in kinds:
        names = ", ".join(b.display_name for b in built_in(kind))
        if names:
            parts.append(f"{names} ({words})")
    return "Built in, nothing to download: " + "; ".join(parts)


def _download_thread(relay: _Relay, model: KnownModel, cancel: threading.Event, cache_dir: Path | None) -> None:
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_EVERY_S or done >= total:
            last[0] = now
            relay.progress.emit(model.id, done, total)

    try:
        outcome: object = download_model(model, cache_dir=cache_dir, on_progress=progress, cancel_event=cancel)
    except Exception as exc:  # noqa: BLE001 - every failure is shown in the dialog, none may kill the thread silently
        outcome = exc
    relay.download_ended.emit(model.id, outcome)


@dataclass
class _Download:
    model: KnownModel
    cancel: threading.Event
    done: int = 0
    total: int = 0


# --- the dialog ------------------------------------------------------------------------------------
class ModelsDialog(DeviceSettingsSection, QDialog):
    """Non-modal: open it with ``show()``; downloads go on while it is hidden."""

    # A model was downloaded, or a folder added or removed: what the model menus offer changed.
    models_changed = Signal()

    def __init__(
        self,
        bridge: EngineBridge,
        registry: ModelRegistry,
        parent: QWidget | None = None,
        *,
        cache_dir: str | Path | None = None,  # Hub cache for downloads; None: huggingface_hub's own
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.registry = registry
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.states: dict[str, ModelState] = {}
        self._known = registry.known()
        self._download: _Download | None = None
        self._control_jobs: dict[str, DeviceSettings | None] = {}  # our engine jobs: settings to save, or None
        self._tasks: set[asyncio.Task] = set()
        self._file_dialog: QFileDialog | None = None

        self.setWindowTitle("Models")
        self.setModal(False)
        # As large as suits the tables, but never past the screen (a 1280x720 laptop panel).
        screen = (parent.screen() if parent is not None else QGuiApplication.primaryScreen()).availableGeometry()
        self.resize(min(1040, screen.width() - 40), min(760, screen.height() - 40))
        self.setMinimumSize(min(760, screen.width() - 40), min(560, screen.height() - 40))

        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self._relay.download_ended.connect(self._on_download_ended, Qt.ConnectionType.QueuedConnection)
        self._relay.engine_event.connect(self._on_engine_event, Qt.ConnectionType.QueuedConnection)
        relay = self._relay

        def forward(event: Event) -> None:
            # Runs on engine threads under its lock: hand on only what this dialog reacts to.
            if event.terminal:
                relay.engine_event.emit(event)

        unsubscribe = bridge.engine.subscribe(forward)
        # Neither closure holds the dialog: a reference from its own signal would keep it alive forever.
        cancels = self._cancel_on_destroy = set[threading.Event]()
        self.destroyed.connect(lambda *_: unsubscribe())
        self.destroyed.connect(lambda *_: _set_all(cancels))
        bridge.job_ended.connect(self._refresh_resident)

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_known(), 3)
        layout.addWidget(self._build_local(), 1)
        layout.addWidget(self._build_settings(), 0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self._fill_known()
        self._fill_local()
        self._show_settings(bridge.engine.settings)
        self._refresh_resident()
        self.refresh_statuses()

    # --- building ------------------------------------------------------------------------------------
    def _build_known(self) -> QGroupBox:
        box = QGroupBox("Downloadable models (Hugging Face Hub)")
        v = QVBoxLayout(box)
        self.built_in_label = QLabel(built_in_text())
        self.built_in_label.setWordWrap(True)
        v.addWidget(self.built_in_label)
        self.known_table = _table(KNOWN_COLUMNS)
        self.known_table.setMinimumHeight(130)  # five rows; the rest scroll
        self.known_table.itemSelectionChanged.connect(self._update_known_buttons)
        v.addWidget(self.known_table, 3)
        self.notes_label = wrapping_label()
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.notes_label.setOpenExternalLinks(True)
        v.addWidget(self.notes_label)
        row = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.cancel_button.setVisible(False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setVisible(False)
        row.addWidget(self.download_button)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        row.addStretch(0)
        v.addLayout(row)
        self.download_message = wrapping_label()
        v.addWidget(self.download_message)
        return box

    def _build_local(self) -> QGroupBox:
        box = QGroupBox("Your model folders (diffusers format, added from disk)")
        v = QVBoxLayout(box)
        self.local_table = _table(LOCAL_COLUMNS)
        self.local_table.setMinimumHeight(70)
        self.local_table.itemSelectionChanged.connect(self._update_local_buttons)
        v.addWidget(self.local_table, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add local folder…")
        self.add_button.setToolTip(
            "A diffusers folder (the one with model_index.json); its kind and backend are read from the folder"
        )
        self.add_button.clicked.connect(self.choose_local_folder)
        row.addWidget(self.add_button)
        row.addStretch(1)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Forget the folder; its files stay on disk")
        self.remove_button.clicked.connect(self.remove_selected_local)
        row.addWidget(self.remove_button)
        v.addLayout(row)
        self.local_message = wrapping_label()
        v.addWidget(self.local_message)
        return box

    # --- known models ---------------------------------------------------------------------------------
    def _fill_known(self) -> None:
        table = self.known_table
        table.setRowCount(len(self._known))
        for row, model in enumerate(self._known):
            cells = (
                model.id,
                model.kind,
                model_backend(model),
                size_text(model.size_bytes),
                f"{model.vram_gb:g} / {model.vram_gb_offload:g} GB",
                licence_text(model),
                "checking…",
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{model.repo_id} @ {model.revision}\n{model.notes}".strip())
                if col in _NUMBER_COLUMNS:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(row, col, item)
        table.resizeColumnsToContents()
        header = table.horizontalHeader()
        header.setSectionResizeMode(KNOWN_COLUMNS.index("Licence"), QHeaderView.ResizeMode.Stretch)
        # Filled in later ("checking…" → "not downloaded"): follow the text rather than the first guess.
        header.setSectionResizeMode(STATUS_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        if self._known:
            table.selectRow(0)
        self._update_known_buttons()

    def refresh_statuses(self) -> asyncio.Task:
        """Re-read every known model's state from the cache, off the GUI thread."""
        return self._spawn(self._refresh_statuses())

    async def _refresh_statuses(self) -> None:
        loop = _loop()
        registry, models, cache = self.registry, list(self._known), self.cache_dir
        states = await loop.run_in_executor(None, lambda: {m.id: scan_status(registry, m, cache) for m in models})
        self.states.update(states)
        for row, model in enumerate(self._known):
            self._show_status(row, model)
        self._update_known_buttons()

    def _show_status(self, row: int, model: KnownModel) -> None:
        item = self.known_table.item(row, STATUS_COLUMN)
        state = self.states.get(model.id)
        if item is None:  # every row of the table has its status cell
            return
        if self._download is not None and self._download.model.id == model.id:
            item.setText("downloading…")
        elif state is not None:
            item.setText(state.word)
            item.setToolTip(state.detail)

    def selected_known(self) -> KnownModel | None:
        rows = {i.row() for i in self.known_table.selectedIndexes()}
        return self._known[min(rows)] if rows else None

    def select_known(self, model_id: str) -> None:
        for row, model in enumerate(self._known):
            if model.id == model_id:
                self.known_table.selectRow(row)
                return
        raise KeyError(model_id)

    def _update_known_buttons(self) -> None:
        model = self.selected_known()
        state = self.states.get(model.id) if model else None
        busy = self._download is not None
        self.download_button.setEnabled(model is not None and not busy and (state is None or state.word != "installed"))
        self.download_button.setText("Resume download" if state and state.word == "partial" else "Download")
        self.notes_label.setVisible(model is not None)
        if model is None:
            return
        page = f'<a href="{model.page_url}">{model.page_url}</a>'
        gated = (
            " Gated: accept the licence on the model page while logged in to Hugging Face first." if model.gated else ""
        )
        self.notes_label.setText(f"<b>{model.id}</b>: {_html(model.notes)}{gated} {page}")

    # --- downloads --------------------------------------------------------------------------------------
    def download_selected(self) -> None:
        model = self.selected_known()
        if model is None or self._download is not None:
            return
        self._download = _Download(model, threading.Event())
        self._cancel_on_destroy.add(self._download.cancel)
        self._set_message(self.download_message, f"Downloading {model.id}…")
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("starting…")
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self._show_status(self._known.index(model), model)
        self._update_known_buttons()
        # A plain thread, not the loop's executor: closing the loop joins its threads, and a 20 GB
        # download must not hold up quitting (the partial file is kept and resumes next time).
        threading.Thread(
            target=_download_thread,
            args=(self._relay, model, self._download.cancel, self.cache_dir),
            name=f"pinframe-download-{model.id}",
            daemon=True,
        ).start()

    def cancel_download(self) -> None:
        if self._download is None:
            return
        self._download.cancel.set()
        self.cancel_button.setEnabled(False)
        self._set_message(self.download_message, f"Stopping the download of {self._download.model.id}…")

    def _on_progress(self, model_id: str, done: int, total: int) -> None:
        if self._download is None or self._download.model.id != model_id:
            return
        self._download.done, self._download.total = done, total
        self.progress_bar.setValue(int(1000 * done / total) if total else 0)
        self.progress_bar.setFormat(f"{size_text(done)} of {size_text(total)}")

    def _on_download_ended(self, model_id: str, outcome: object) -> None:
        download = self._download
        if download is None or download.model.id != model_id:
            return
        self._download = None
        self._cancel_on_destroy.discard(download.cancel)
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self._update_known_buttons()
        if isinstance(outcome, JobCancelled):  # before EngineError: it is one
            fetched = f"the {size_text(download.done)} already fetched are" if download.done else "what was fetched is"
            self._set_message(
                self.download_message,
                f"Download of {model_id} paused: {fetched} kept in the Hugging Face cache; press Resume download "
                "to go on from there.",
            )
        elif isinstance(outcome, EngineError):
            self._set_message(self.download_message, str(outcome), error=True)
        elif isinstance(outcome, BaseException):
            self._set_message(self.download_message, f"Downloading {model_id} failed: {outcome}", error=True)
        else:
            self._set_message(self.download_message, f"{model_id} is ready at {outcome}")
            self.models_changed.emit()
        self.refresh_statuses()

    @property
    def downloading(self) -> bool:
        return self._download is not None

    # --- local folders ----------------------------------------------------------------------------------
    def _fill_local(self) -> None:
        models = self.registry.local()
        table = self.local_table
        table.setRowCount(len(models))
        for row, model in enumerate(models):
            for col, text in enumerate((model.id, str(model.path), model.pipeline, model.kind, model_backend(model))):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, model.id)
                item.setToolTip(str(model.path))
                table.setItem(row, col, item)
        table.resizeColumnsToContents()
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self._update_local_buttons()

    def local_ids(self) -> list[str]:
        items = (self.local_table.item(row, 0) for row in range(self.local_table.rowCount()))
        return [item.text() for item in items if item is not None]

    def _update_local_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.local_table.selectedIndexes()))

    def choose_local_folder(self) -> None:
        # .open(), not exec(): a nested event loop would stall the qasync loop and the engine's events.
        dialog = QFileDialog(self, "Choose a diffusers model folder (the one with model_index.json)")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.add_local_folder)
        dialog.finished.connect(dialog.deleteLater)
        self._file_dialog = dialog
        dialog.open()

    def add_local_folder(self, path: str | Path) -> asyncio.Task:
        """Validate and remember ``path``, off the GUI thread (validation reads files). Its kind and
        backend are read from its model_index.json; a pipeline Pinframe can't use is refused, by name."""
        return self._spawn(self._add_local(Path(path)))

    async def _add_local(self, path: Path) -> None:
        self.add_button.setEnabled(False)
        self._set_message(self.local_message, f"Checking {path}…")
        try:
            model = await _loop().run_in_executor(None, self.registry.add_local, path)
        except EngineError as exc:  # ModelFolderError names the file that is missing or wrong
            self._set_message(self.local_message, str(exc), error=True)
        except OSError as exc:
            self._set_message(self.local_message, f"Couldn't add {path}: {exc.strerror or exc}.", error=True)
        else:
            self._fill_local()
            what = f"{model.pipeline}, a {model.kind} model ({model_backend(model)})"
            self._set_message(self.local_message, f"Added {model.id}: {what}.")
            self.models_changed.emit()
        finally:
            self.add_button.setEnabled(True)

    def remove_selected_local(self) -> asyncio.Task | None:
        rows = {i.row() for i in self.local_table.selectedIndexes()}
        if not rows:
            return None
        item = self.local_table.item(min(rows), 0)
        return self.remove_local(item.text()) if item is not None else None

    def remove_local(self, model_id: str) -> asyncio.Task:
        return self._spawn(self._remove_local(model_id))

    async def _remove_local(self, model_id: str) -> None:
        try:
            await _loop().run_in_executor(None, self.registry.remove_local, model_id)
        except (EngineError, OSError) as exc:
            self._set_message(self.local_message, f"Couldn't remove {model_id}: {exc}", error=True)
            return
        self._fill_local()
        self._set_message(self.local_message, f"Removed {model_id} from the list; its files are still on disk.")
        self.models_changed.emit()

    # --- plumbing -------------------------------------------------------------------------------------------
    def _set_message(self, label: QLabel, text: str, *, error: bool = False) -> None:
        label.setStyleSheet(ERROR_STYLE if error else "")
        label.setText(text)
        label.setVisible(bool(text))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _set_all(events: set[threading.Event]) -> None:
    for event in events:
        event.set()


def _loop() -> asyncio.AbstractEventLoop:
    # qasync runs callbacks from Qt's event dispatch, so a task may be stepped while Qt processes
    # events outside run_forever (a nested processEvents, a test's click), where no loop counts
    # as running; the loop set for this thread is the same qasync loop.
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop()


def _table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    return table


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
