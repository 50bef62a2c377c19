"""The Models dialog: known models and their state, local folders, downloads, device settings."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from engine.backend_registry import get_backend
from engine.devices import DeviceSettings
from engine.errors import JobCancelled
from engine.jobs import ModelSpec
from engine.models.registry import BUILTIN_MODELS, ModelRegistry
from tests.ui.conftest import run_until
from ui.models_dialog import KNOWN_COLUMNS


@pytest.fixture
def settings_dir(tmp_path: Path) -> Path:
    # Never the user's real settings: QSettings() anywhere in the process now writes here.
    folder = tmp_path / "settings"
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def dialog(qtbot, bridge, loop, tmp_path, monkeypatch, settings_dir):
    from ui.models_dialog import ModelsDialog

    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    hub = tmp_path / "hub"  # an empty Hub cache: every known model is "not downloaded"
    registry = ModelRegistry(tmp_path / "data" / "models.json", cache_dir=hub)
    d = ModelsDialog(bridge, registry, cache_dir=hub)
    qtbot.addWidget(d)
    d.show()
    yield d
    run_until(loop, lambda: not d._tasks, timeout=10)  # no task left pending on a closing loop


def table_column(table, col: int) -> list[str]:
    return [table.item(row, col).text() for row in range(table.rowCount())]


def test_lists_every_known_model_and_fills_in_statuses(dialog, loop):
    table = dialog.known_table
    assert table_column(table, 0) == [m.id for m in BUILTIN_MODELS]
    xl = next(m for m in BUILTIN_MODELS if m.id == "if-i-xl")
    row = dict(zip(KNOWN_COLUMNS, [table.item(0, col).text() for col in range(table.columnCount())], strict=True))
    assert row["Download"] == "18.8 GB" and row["VRAM (GPU / offload)"] == f"{xl.vram_gb:g} / {xl.vram_gb_offload:g} GB"
    assert row["Licence"] == "DeepFloyd IF License Agreement (gated, non-commercial)"
    assert row["Backend"] == get_backend("if").display_name
    assert "Apache-2.0" in table_column(table, KNOWN_COLUMNS.index("Licence"))

    run_until(loop, lambda: len(dialog.states) == len(BUILTIN_MODELS), timeout=10)
    assert set(table_column(table, KNOWN_COLUMNS.index("Status"))) == {"not downloaded"}


def test_download_while_offline_says_so_without_touching_the_network(dialog, loop, qtbot, monkeypatch):
    import engine.models.download as download

    def no_network(*args, **kwargs):
        raise AssertionError("the dialog reached for the network")

    monkeypatch.setattr(download, "_Hub", no_network)
    dialog.select_known("ltx-video")
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: not dialog.downloading, timeout=10)
    text = dialog.download_message.text()
    assert "offline mode is on" in text and "ltx-video" in text
    assert dialog.download_message.isVisibleTo(dialog) and dialog.download_button.isEnabled()


def test_download_progress_and_cancel_keeps_the_partial(dialog, loop, qtbot, monkeypatch):
    import ui.models_dialog as md

    reported = threading.Event()

    def fake_download(model, *, cache_dir, on_progress, cancel_event):
        on_progress(3_200_000_000, 21_000_000_000)
        reported.set()
        assert cancel_event.wait(10)
        raise JobCancelled("cancelled")

    monkeypatch.setattr(md, "download_model", fake_download)
    dialog.select_known("ltx-video")
    dialog.download_selected()
    assert not dialog.download_button.isEnabled()  # one download at a time
    run_until(loop, lambda: dialog.progress_bar.format() == "3.2 GB of 21.0 GB", timeout=10)
    assert dialog.progress_bar.value() == round(1000 * 3.2 / 21)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: not dialog.downloading, timeout=10)
    text = dialog.download_message.text()
    assert "paused" in text and "3.2 GB already fetched are kept" in text
    assert not dialog.progress_bar.isVisibleTo(dialog)


def test_add_and_remove_local_folders(dialog, loop, tiny_sd_dir, tmp_path):
    changed: list[bool] = []
    dialog.models_changed.connect(lambda: changed.append(True))
    task = dialog.add_local_folder(tiny_sd_dir)  # what choosing a folder in the file dialog calls
    run_until(loop, task.done, timeout=10)
    assert dialog.local_ids() == ["local-tiny-sd"], dialog.local_message.text()
    # No kind to pick: it is read from the folder, as is the backend.
    assert table_column(dialog.local_table, 3) == ["keyframe"]
    assert table_column(dialog.local_table, 4) == [get_backend("text2image").display_name]
    assert table_column(dialog.local_table, 2) == ["StableDiffusionPipeline"]
    assert changed == [True]
    assert [m.id for m in dialog.registry.local()] == ["local-tiny-sd"]

    empty = tmp_path / "not-a-model"
    empty.mkdir()
    task = dialog.add_local_folder(empty)
    run_until(loop, task.done, timeout=10)
    assert "model_index.json" in dialog.local_message.text()
    assert dialog.local_ids() == ["local-tiny-sd"]

    dialog.local_table.selectRow(0)
    task = dialog.remove_selected_local()
    run_until(loop, task.done, timeout=10)
    assert dialog.local_ids() == [] and dialog.registry.local() == []
    assert changed == [True, True], "a failed add changes nothing; a removal does"


def test_a_folder_of_an_unsupported_pipeline_is_refused_by_its_class_name(dialog, loop, tiny_ltx_dir, tmp_path):
    import json
    import shutil

    # A real, complete diffusers folder whose pipeline class Pinframe has no backend for.
    folder = tmp_path / "svd"
    shutil.copytree(tiny_ltx_dir, folder)
    index = json.loads((folder / "model_index.json").read_text())
    index["_class_name"] = "StableVideoDiffusionPipeline"
    (folder / "model_index.json").write_text(json.dumps(index))
    task = dialog.add_local_folder(folder)
    run_until(loop, task.done, timeout=10)
    assert "StableVideoDiffusionPipeline" in dialog.local_message.text()
    assert dialog.local_ids() == []

    task = dialog.add_local_folder(tiny_ltx_dir)  # the same folder as LTX saved it: a motion model
    run_until(loop, task.done, timeout=10)
    assert table_column(dialog.local_table, 3) == ["motion"]
    assert table_column(dialog.local_table, 4) == [get_backend("ltx").display_name]


def test_a_finished_download_says_the_models_changed(dialog, loop, monkeypatch, tmp_path):
    import ui.models_dialog as md

    monkeypatch.setattr(md, "download_model", lambda model, **kwargs: tmp_path / "snapshot")
    changed: list[bool] = []
    dialog.models_changed.connect(lambda: changed.append(True))
    dialog.select_known("ltx-2")
    dialog.download_selected()
    run_until(loop, lambda: not dialog.downloading, timeout=10)
    assert changed == [True] and "ltx-2 is ready" in dialog.download_message.text()


def test_apply_settings_reconfigures_the_engine_and_persists(dialog, loop, bridge):
    from ui.models_dialog import load_device_settings

    dialog.device_combo.setCurrentText("cpu")
    dialog.precision_combo.setCurrentText("fp32")
    dialog.offload_check.setChecked(True)
    dialog.tiling_check.setChecked(False)
    dialog.budget_spin.setValue(3)
    dialog.apply_button.click()
    expected = DeviceSettings(device="cpu", precision="fp32", cpu_offload=True, vae_tiling=False, memory_budget_gb=3)
    run_until(loop, lambda: bridge.engine.settings == expected, timeout=10)
    run_until(loop, dialog.apply_button.isEnabled, timeout=10)
    assert "Applied" in dialog.settings_message.text()

    qs = QSettings()
    assert qs.value("engine/precision") == "fp32"
    assert load_device_settings() == expected


def test_cuda_without_a_gpu_is_refused_in_words(dialog, bridge, monkeypatch):
    import torch

    from ui.models_dialog import load_device_settings

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    before = bridge.engine.settings
    dialog.device_combo.setCurrentText("cuda")
    dialog.apply_button.click()
    assert "no CUDA GPU is available" in dialog.settings_message.text()
    assert bridge.engine.settings == before and bridge.engine.queued_jobs() == []
    assert load_device_settings() == DeviceSettings()  # nothing saved


def test_damaged_saved_settings_fall_back_to_defaults(settings_dir):
    from ui.models_dialog import load_device_settings

    qs = QSettings()
    qs.setValue("engine/device", "tpu")
    qs.setValue("engine/precision", "bf16")
    qs.setValue("engine/memory_budget_gb", "lots")
    qs.sync()
    assert load_device_settings() == DeviceSettings(precision="bf16")


def test_unload_models_empties_the_pool(dialog, loop, bridge, editor):
    shot = editor.project.scenes[0].shots[0]
    job_id = bridge.generate(shot.id, ModelSpec("sketch"), (1,))
    run_until(loop, lambda: bridge.jobs[job_id].status == "done", timeout=10)
    # Refreshed by the bridge's job_ended, not by polling the engine.
    assert dialog.resident_label.text().startswith("Models in memory: 1")

    dialog.unload_button.click()
    run_until(loop, lambda: bridge.engine.pool.resident_keys() == [], timeout=10)
    run_until(loop, lambda: dialog.resident_label.text() == "Models in memory: 0", timeout=10)
    assert dialog.unload_button.isEnabled()
