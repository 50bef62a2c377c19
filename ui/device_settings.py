"""Device and memory settings: saved between runs (QSettings), and the Models dialog's group that applies them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from engine.devices import DEVICES, PRECISIONS, DeviceSettings
from engine.errors import EngineError
from engine.events import Event, Failed, Finished
from ui.engine_bridge import EngineBridge
from ui.labels import wrapping_label

SETTINGS_GROUP = "engine"


# --- persisted device settings ---------------------------------------------------------------------
def load_device_settings() -> DeviceSettings:
    """The device settings saved by the dialog (QSettings group "engine"); defaults where unset or damaged."""
    default = DeviceSettings()
    qs = QSettings()
    qs.beginGroup(SETTINGS_GROUP)
    try:
        device = str(qs.value("device", default.device))
        precision = str(qs.value("precision", default.precision))
        try:
            budget = max(0.0, float(str(qs.value("memory_budget_gb", default.memory_budget_gb))))  # text or number
        except (TypeError, ValueError):
            budget = default.memory_budget_gb
        return DeviceSettings(
            # A hand-edited or older settings file must not stop the app from starting.
            device=device if device in DEVICES else default.device,
            precision=precision if precision in PRECISIONS else default.precision,
            cpu_offload=_bool(qs.value("cpu_offload"), default.cpu_offload),
            vae_tiling=_bool(qs.value("vae_tiling"), default.vae_tiling),
            free_text_encoder=_bool(qs.value("free_text_encoder"), default.free_text_encoder),
            group_offload=_bool(qs.value("group_offload"), default.group_offload),
            fp8_storage=_bool(qs.value("fp8_storage"), default.fp8_storage),
            memory_budget_gb=budget,
        )
    finally:
        qs.endGroup()


def save_device_settings(settings: DeviceSettings) -> None:
    qs = QSettings()
    qs.beginGroup(SETTINGS_GROUP)
    qs.setValue("device", settings.device)
    qs.setValue("precision", settings.precision)
    qs.setValue("cpu_offload", settings.cpu_offload)
    qs.setValue("vae_tiling", settings.vae_tiling)
    qs.setValue("free_text_encoder", settings.free_text_encoder)
    qs.setValue("group_offload", settings.group_offload)
    qs.setValue("fp8_storage", settings.fp8_storage)
    qs.setValue("memory_budget_gb", float(settings.memory_budget_gb))
    qs.endGroup()
    qs.sync()  # the engine already runs on them; a crash before Qt's lazy write must not lose them


def _bool(value: object, default: bool) -> bool:
    # Native formats hand bools back as "true"/"false" strings on some platforms.
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def describe(settings: DeviceSettings) -> str:
    parts = [settings.device, settings.precision]
    if settings.group_offload:
        parts.append("group offload")
    elif settings.cpu_offload:
        parts.append("CPU offload")
    if settings.fp8_storage:
        parts.append("fp8 weights")
    if settings.vae_tiling:
        parts.append("VAE tiling")
    if settings.free_text_encoder:
        parts.append("text encoder freed")
    parts.append(f"budget {settings.memory_budget_gb:g} GB" if settings.memory_budget_gb else "auto budget")
    return ", ".join(parts)


class DeviceSettingsSection:
    """The "Device and memory" group of :class:`~ui.models_dialog.ModelsDialog` (a mixin of it)."""

    bridge: EngineBridge
    _control_jobs: dict[str, DeviceSettings | None]
    _set_message: Callable[..., None]

    def _build_settings(self) -> QGroupBox:
        box = QGroupBox("Device and memory")
        v = QVBoxLayout(box)
        h = QHBoxLayout()
        form = QFormLayout()
        self.device_combo = QComboBox()
        self.device_combo.addItems(list(DEVICES))
        self.precision_combo = QComboBox()
        self.precision_combo.addItems(list(PRECISIONS))
        self.precision_combo.setToolTip("auto: bf16 or fp16 on a GPU, fp32 on the CPU")
        self.offload_check = QCheckBox("Model CPU offload (slower, far less VRAM)")
        self.tiling_check = QCheckBox("VAE tiling (needed for 1080p video on most cards)")
        self.free_te_check = QCheckBox("Free the text encoder after each prompt")
        self.group_offload_check = QCheckBox("Group offload (least VRAM: layers stream to the GPU as they run)")
        self.fp8_check = QCheckBox("fp8 weight storage (about half the weight memory; GPU only)")
        self.budget_spin = QDoubleSpinBox()
        self.budget_spin.setRange(0.0, 1024.0)
        self.budget_spin.setDecimals(1)
        self.budget_spin.setSuffix(" GB")
        self.budget_spin.setSpecialValueText("auto")
        self.budget_spin.setToolTip("How much loaded models may hold; auto (0): 90% of the GPU, half the RAM on CPU")
        for field in (self.device_combo, self.precision_combo, self.budget_spin):
            field.setMinimumWidth(150)
            field.setMaximumWidth(340)
        form.addRow("Device", self.device_combo)
        form.addRow("Precision", self.precision_combo)
        form.addRow("Memory budget", self.budget_spin)
        h.addLayout(form, 3)
        checks = QVBoxLayout()
        for check in (
            self.offload_check,
            self.group_offload_check,
            self.fp8_check,
            self.tiling_check,
            self.free_te_check,
        ):
            checks.addWidget(check)
        checks.addStretch(1)
        h.addLayout(checks, 3)

        memory = QVBoxLayout()
        self.resident_label = QLabel()
        memory.addWidget(self.resident_label)
        self.unload_button = QPushButton("Unload models")
        self.unload_button.setToolTip("Free the GPU and RAM the loaded models hold (after the running job)")
        self.unload_button.clicked.connect(self.unload_models)
        memory.addWidget(self.unload_button, 0, Qt.AlignmentFlag.AlignLeft)
        memory.addStretch(1)
        h.addLayout(memory, 2)
        v.addLayout(h)

        bottom = QHBoxLayout()
        self.settings_message = wrapping_label()
        bottom.addWidget(self.settings_message, 1)
        bottom.addStretch(0)
        self.apply_button = QPushButton("Apply settings")
        self.apply_button.setToolTip("Unloads the models in memory, then uses these settings from the next job on")
        self.apply_button.clicked.connect(self.apply_settings)
        bottom.addWidget(self.apply_button, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        v.addLayout(bottom)
        return box

    # --- device settings ----------------------------------------------------------------------------------
    def _show_settings(self, settings: DeviceSettings) -> None:
        self.device_combo.setCurrentText(settings.device)
        self.precision_combo.setCurrentText(settings.precision)
        self.offload_check.setChecked(settings.cpu_offload)
        self.tiling_check.setChecked(settings.vae_tiling)
        self.free_te_check.setChecked(settings.free_text_encoder)
        self.group_offload_check.setChecked(settings.group_offload)
        self.fp8_check.setChecked(settings.fp8_storage)
        self.budget_spin.setValue(settings.memory_budget_gb)

    def chosen_settings(self) -> DeviceSettings:
        return DeviceSettings(
            device=self.device_combo.currentText(),
            precision=self.precision_combo.currentText(),
            cpu_offload=self.offload_check.isChecked(),
            vae_tiling=self.tiling_check.isChecked(),
            free_text_encoder=self.free_te_check.isChecked(),
            group_offload=self.group_offload_check.isChecked(),
            fp8_storage=self.fp8_check.isChecked(),
            memory_budget_gb=self.budget_spin.value(),
        )

    def apply_settings(self) -> None:
        try:
            settings = self.chosen_settings()
            # On the GUI thread on purpose: configure only asks torch whether the device exists (the
            # engine asked once at startup, so it is cached), and knowing the job id before any of its
            # events can arrive keeps the bookkeeping race-free.
            job_id = self.bridge.engine.configure(settings)
        except EngineError as exc:
            self._set_message(self.settings_message, f"Not applied: {exc}.", error=True)
            return
        self._control_jobs[job_id] = settings
        self.apply_button.setEnabled(False)
        self._set_message(self.settings_message, "Applying: the loaded models are unloaded after the running job…")

    def unload_models(self) -> None:
        self._control_jobs[self.bridge.engine.unload_all()] = None
        self.unload_button.setEnabled(False)

    def _on_engine_event(self, event: Event) -> None:
        if event.job_id not in self._control_jobs:
            return
        settings = self._control_jobs.pop(event.job_id)
        self._refresh_resident()
        if settings is None:
            self.unload_button.setEnabled(True)
            return
        self.apply_button.setEnabled(True)
        if isinstance(event, Finished):
            save_device_settings(settings)
            self._set_message(self.settings_message, f"Applied: {describe(settings)}. The next job loads with them.")
        elif isinstance(event, Failed):
            self._set_message(self.settings_message, f"Not applied: {event.message}", error=True)
        else:
            self._set_message(self.settings_message, "Not applied: the change was cancelled.", error=True)

    def _refresh_resident(self, *_: object) -> None:
        try:
            keys = self.bridge.engine.pool.resident_keys()
        except RuntimeError:  # the worker changed the pool mid-read; the next event refreshes it
            return
        names = sorted({k.split("|", 1)[0] for k in keys})
        self.resident_label.setText(f"Models in memory: {len(keys)}" + (f" ({', '.join(names)})" if names else ""))
        self.resident_label.setToolTip("\n".join(keys))
