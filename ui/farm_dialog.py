"""Render ▸ Send to Farm: render a batch of shots on a Ray cluster instead of this machine.

The dialog asks for the cluster's address (remembered, with the last few used) and which shots
to send, connects through :meth:`EngineBridge.connect_farm` (off the GUI thread: reaching a
cluster takes seconds, starting a local one longer), then queues the renders on the farm. From
there the jobs are ordinary jobs in the Jobs panel: progress, previews, cancel and results work
as they do for local renders, and the finished clips land in the project the same way.

Each shot renders with its own motion model, else the project's (Render ▸ Motion Model), as a
render on this machine does; the dialog says which models the batch will use, read off the GUI
thread, and resolves them again when Send is pressed (the project may have changed meanwhile).

A studio's farm is a shared, long-lived thing, so the connection stays open after the dialog
closes (Render ▸ Disconnect from Farm lets it go); sending another batch to the same address
(with the same GPU type, minimum VRAM and shared folder) reuses it, and the models its GPU
actors loaded stay loaded.

While connected, the dialog lists the farm's GPUs per node and what each is doing
(:mod:`ui.farm_gpus`), read every second from the executor's own bookkeeping, never from Ray on
the GUI thread. The GPU type, minimum VRAM and shared folder are remembered like the addresses.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCompleter,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app import engine_service as S
from app.clip_state import MediaSnapshot, snapshot_clip_media
from app.errors import PinframeError
from ui.engine_bridge import EngineBridge
from ui.farm_gpus import FarmGpuTable
from ui.labels import wrapping_label
from ui.motion_models import MODELS_HINT, ShotModels, batch_summary, resolve_shot_models
from ui.state import EditorState
from ui.takes import event_loop

log = logging.getLogger(__name__)

SETTINGS_KEY = "farm/addresses"
MAX_ADDRESSES = 8
DEFAULT_ADDRESS = "ray://localhost:10001"
CHOICE_WORDS = {"selected": "Selected shots", "stale": "Stale shots", "all": "All shots with pins"}
GPU_TYPE_KEY, MIN_VRAM_KEY, SHARED_KEY = "farm/gpu_type", "farm/min_vram_gb", "farm/shared_root"
MAX_VRAM_GB = 1024


def saved_addresses() -> list[str]:
    """Farm addresses used before, most recent first (the settings' 'address in settings')."""
    value = QSettings().value(SETTINGS_KEY, [], list)  # a list, as asked for (QSettings converts)
    if not isinstance(value, list):
        return []
    return [a for a in value if isinstance(a, str) and a.strip()][:MAX_ADDRESSES]


def remember_address(address: str) -> None:
    rest = [a for a in saved_addresses() if a != address]
    QSettings().setValue(SETTINGS_KEY, [address, *rest][:MAX_ADDRESSES])


def saved_options() -> dict[str, Any]:
    """The GPU type, minimum VRAM (GB, 0 for any) and shared folder used last ('' / 0 for none)."""
    settings = QSettings()
    raw = settings.value(MIN_VRAM_KEY, 0.0) or 0.0  # a number, or its text from the settings file
    try:
        vram = float(raw) if isinstance(raw, int | float | str | bytes) else 0.0
    except ValueError:
        vram = 0.0
    return {
        "gpu_type": str(settings.value(GPU_TYPE_KEY, "") or ""),
        "min_vram_gb": min(max(vram, 0.0), MAX_VRAM_GB),
        "shared_root": str(settings.value(SHARED_KEY, "") or ""),
    }


def remember_options(gpu_type: str, min_vram_gb: float, shared_root: str) -> None:
    settings = QSettings()
    settings.setValue(GPU_TYPE_KEY, gpu_type)
    settings.setValue(MIN_VRAM_KEY, float(min_vram_gb))
    settings.setValue(SHARED_KEY, shared_root)


class FarmDialog(QDialog):
    def __init__(
        self,
        state: EditorState,
        bridge: EngineBridge,
        selected: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if state.project is None:
            raise ValueError("the farm dialog needs an open project")
        self.setWindowTitle("Send to Render Farm")
        self.setObjectName("farm-dialog")
        self.state, self.bridge, self.selected = state, bridge, list(selected)
        self.sent: list[str] = []  # job ids, once sent
        self.busy = False
        self._task: asyncio.Task | None = None
        self._models: ShotModels | None = None  # every pinned shot's model, once read

        # A line edit with the used addresses as completions (not an editable combo box, whose
        # Return handling replaces the typed text before anyone reads it).
        addresses = saved_addresses()
        if bridge.farm_address and bridge.farm_address not in addresses:
            addresses.insert(0, bridge.farm_address)
        self.address = QLineEdit(bridge.farm_address or (addresses[0] if addresses else DEFAULT_ADDRESS))
        self.address.setMinimumWidth(320)
        self.address.setPlaceholderText("ray://HOST:10001")
        completer = QCompleter(addresses, self.address)
        self.address.setCompleter(completer)
        self.address.setToolTip(
            "ray://HOST:10001: the head of a cluster started with `ray start --head`\n"
            "auto: the cluster this machine is a node of\n"
            "local: a cluster of this machine's own cores (for trying it out)"
        )
        hint = QLabel("ray://HOST:10001 for a cluster's head node · auto on a cluster node · local to try it here")
        hint.setStyleSheet("color: palette(placeholder-text);")
        hint.setWordWrap(True)

        self.choices = QButtonGroup(self)
        choice_row = QVBoxLayout()
        self.choice_buttons: dict[str, QRadioButton] = {}
        self.counts: dict[str, int] = {}
        # Clips whose file is gone count as stale; known once _read_models has looked (off the GUI thread).
        self._media: MediaSnapshot | None = None
        for which in S.RENDER_CHOICES:
            button = QRadioButton()
            button.setProperty("which", which)
            self.choices.addButton(button)
            self.choice_buttons[which] = button
            choice_row.addWidget(button)
        self._count_shots()
        self.choices.buttonToggled.connect(lambda *_: self._refresh())

        self.models_label = QLabel("reading the model list…")
        self.models_label.setWordWrap(True)
        self.models_label.setToolTip("Each shot's own motion model, else the project's (Render ▸ Motion Model)")
        self.connection = QLabel(self._connection_text())
        self.connection.setWordWrap(True)
        self.status = wrapping_label()

        # Which GPUs may take the jobs (Ray's accelerator_type; the VRAM each GPU actor reports)
        # and where workers write clips; all three go to the executor when connecting.
        saved = saved_options()
        self.gpu_type = QLineEdit(saved["gpu_type"])
        self.gpu_type.setPlaceholderText("any")
        self.gpu_type.setToolTip(
            "Only GPUs of this Ray accelerator type, e.g. H100, A100-80G, L40S (as `ray status` lists them)"
        )
        self.min_vram = QDoubleSpinBox()
        self.min_vram.setRange(0, MAX_VRAM_GB)
        self.min_vram.setDecimals(0)
        self.min_vram.setSuffix(" GB")
        self.min_vram.setSpecialValueText("any")
        self.min_vram.setValue(saved["min_vram_gb"])
        self.min_vram.setToolTip("Only GPUs with at least this much memory")
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu_type, 1)
        gpu_row.addWidget(QLabel("at least"))
        gpu_row.addWidget(self.min_vram)
        self.shared = QLineEdit(saved["shared_root"])
        self.shared.setPlaceholderText("none: rendered frames come back over the network")
        self.shared.setToolTip(
            "A folder mounted at this same path on this machine and every worker (e.g. /mnt/farm):\n"
            "workers write clips there and send back only their names; much faster than streaming frames"
        )
        self.browse = QPushButton("Browse…")
        self.browse.setAutoDefault(False)
        self.browse.clicked.connect(self._browse_shared)
        shared_row = QHBoxLayout()
        shared_row.addWidget(self.shared, 1)
        shared_row.addWidget(self.browse)
        self.gpus = FarmGpuTable()
        bridge.farm_changed.connect(self._farm_changed)

        form = QFormLayout()
        form.addRow("Cluster:", self.address)
        form.addRow("", hint)
        form.addRow("GPU type:", gpu_row)
        form.addRow("Shared folder:", shared_row)
        form.addRow("Shots:", choice_row)
        form.addRow("Motion:", self.models_label)
        form.addRow("Connection:", self.connection)
        form.addRow("GPUs:", self.gpus)

        # Plain buttons, not a QDialogButtonBox: the box picks its own default button when shown,
        # and Return must send.
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.send_button = QPushButton("Send")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.cancel_button)
        bottom.addWidget(self.send_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addLayout(bottom)
        self._farm_changed()
        self._refresh()
        self.address.setFocus()  # Return sends; it must not land on Cancel
        # Resolving models reads the model list and the Hub cache: off the GUI thread.
        self.models_ready = asyncio.ensure_future(self._read_models())

    # --- state -------------------------------------------------------------------------------------
    def _count_shots(self) -> None:
        project = self.state.project
        first = None
        for which, button in self.choice_buttons.items():
            count = len(S.shots_to_render(project, which, self.selected, media=self._media)) if project else 0
            self.counts[which] = count
            button.setText(f"{CHOICE_WORDS[which]} ({count})")
            button.setEnabled(count > 0)
            if count and first is None:
                first = button
        if first is not None and not any(b.isChecked() and b.isEnabled() for b in self.choice_buttons.values()):
            first.setChecked(True)

    @property
    def which(self) -> str:
        button = self.choices.checkedButton()
        return button.property("which") if button is not None else ""

    def choose(self, which: str) -> None:
        self.choice_buttons[which].setChecked(True)

    def _connection_text(self) -> str:
        if self.bridge.farm is None:
            return "not connected"
        return f"connected: {self.bridge.farm_description}"

    def options(self) -> dict[str, Any]:
        """What the GPU fields ask of the executor; None for 'any' / 'none'."""
        return {
            "accelerator_type": self.gpu_type.text().strip() or None,
            "min_vram_gb": self.min_vram.value() or None,
            "shared_root": self.shared.text().strip() or None,
        }

    def _farm_changed(self) -> None:
        if not shiboken6.isValid(self):
            return
        farm = self.bridge.farm
        source = getattr(getattr(farm, "executor", None), "gpus", None) if farm is not None else None
        self.gpus.set_source(source)
        self.connection.setText(self._connection_text())

    def _browse_shared(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Shared folder every worker can reach", self.shared.text())
        if folder:
            self.shared.setText(folder)

    def _refresh(self) -> None:
        self.send_button.setEnabled(not self.busy and bool(self.which))
        self.address.setEnabled(not self.busy)
        for field in (self.gpu_type, self.min_vram, self.shared, self.browse):
            field.setEnabled(not self.busy)
        # Ray can't abandon a connection half made; the attempt ends by itself (refused, or Ray's timeout).
        self.cancel_button.setEnabled(not self.busy)
        for which, button in self.choice_buttons.items():
            button.setEnabled(not self.busy and self.counts.get(which, 0) > 0)
        self._show_models()

    async def _read_models(self) -> None:
        project = self.state.project
        if project is None:
            return
        pinned = [s.id for s in project.shots() if s.pins]
        session = self.state.session
        if session is not None:
            media = await event_loop().run_in_executor(None, snapshot_clip_media, project, session.media)
            if shiboken6.isValid(self):
                self._media = media
                self._count_shots()
        models = await event_loop().run_in_executor(None, resolve_shot_models, project, pinned)
        if shiboken6.isValid(self):  # the dialog may have been closed and deleted meanwhile
            self._models = models
            self._show_models()

    def _show_models(self) -> None:
        """'LTX-2 (ltx-2) for 3 shots, Optical flow (CPU) for 1' for the shots the choice covers."""
        project, models = self.state.project, self._models
        if project is None or models is None:
            return
        ids = S.shots_to_render(project, self.which, self.selected, media=self._media) if self.which else []
        batch = models.subset(ids)
        text = batch_summary(batch.specs) or "—"
        failed = [i for i in ids if i in models.failed]
        if failed:
            numbers = ", ".join(project.shot(i).number for i in failed)
            text += f"\nCan't render shot{'s' if len(failed) > 1 else ''} {numbers}: the model isn't available here"
        self.models_label.setText(text)
        self.models_label.setToolTip("\n\n".join([*models.problems, MODELS_HINT]) if failed else "")

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #e06c5a;" if error else "")
        self.status.setText(text)
        self.status.setVisible(bool(text))

    # --- sending -------------------------------------------------------------------------------------
    def send(self) -> asyncio.Task | None:
        if self.busy or not self.which:
            return None
        self.busy = True  # before the task runs: Return can reach both the field and the dialog
        self._refresh()
        self._task = asyncio.ensure_future(self._send(self.address.text().strip(), self.which, self.options()))
        return self._task

    async def _send(self, address: str, which: str, options: dict[str, Any]) -> None:
        wanted = {k: v for k, v in options.items() if v is not None}
        farm = self.bridge
        connected = farm.farm is not None and farm.farm_address == address and farm.farm_options == wanted
        self._say("" if connected else f"Connecting to {address}… (a new local cluster takes a few seconds)")
        try:
            shared = options.get("shared_root")
            if shared and not await event_loop().run_in_executor(None, os.path.isdir, shared):
                raise PinframeError(
                    f"the shared folder {shared} isn't a folder on this machine: mount it here at the same path "
                    "as on the workers, or clear the field to have frames sent back over the network"
                )
            description = await self.bridge.connect_farm(address, options)
            self.connection.setText(f"connected: {description}")
            self._say("")
            remember_address(address)
            remember_options(self.gpu_type.text().strip(), self.min_vram.value(), shared or "")
            project = self.state.project
            if project is None:
                raise PinframeError("the project was closed before the shots were sent")
            session = self.state.session
            media = session.media if session is not None else None
            ids = await event_loop().run_in_executor(
                None, lambda: S.shots_to_render(project, which, self.selected, media=media)
            )
            models = await event_loop().run_in_executor(
                None, resolve_shot_models, project, [i for i in ids if project.shot(i).pins]
            )
            if self.state.session is None or self.state.project is None:
                raise PinframeError("the project was closed before the shots were sent")
            self._models = models
            now = self.state.project
            present = {s.id for s in now.shots()}
            ids = [i for i in ids if i in present and (i in models.specs or not now.shot(i).pins)]
            self.sent = self.bridge.render(ids, models.specs, farm=True, loras=models.loras) if ids else []
            if models.problems:
                self._say("\n\n".join([*models.problems, MODELS_HINT]), error=True)
        except PinframeError as exc:
            self._say(str(exc), error=True)
        except Exception as exc:  # Ray raises many kinds; the window must stay up
            log.exception("connecting to the farm at %s failed", address)
            self._say(f"Could not use the farm at {address}: {type(exc).__name__}: {exc}", error=True)
        finally:
            self.busy = False
            self._refresh()
        if self.sent:
            count = len(self.sent)
            self.state.message.emit(
                f"Sent {count} shot{'s' if count != 1 else ''} to the farm at {address}; see the Jobs panel"
            )
            if not self.status.text():
                self.accept()  # with shots left behind, the dialog stays open to say why
        elif not self.status.text():
            self._say("Nothing was sent: none of those shots has a pinned keyframe", error=True)

    def keyPressEvent(self, event) -> None:
        # Esc while connecting would close the dialog under the running connect; let it finish.
        if event.key() == Qt.Key.Key_Escape and self.busy:
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        if self.busy:
            return
        super().reject()
