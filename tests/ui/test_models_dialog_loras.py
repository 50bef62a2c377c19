"""The Models dialog lists LTX-2's camera LoRAs beside their base model, and downloads them like any model."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from engine.backend_registry import get_backend
from engine.models.registry import BUILTIN_MODELS, CAMERA_LORAS, KnownModel
from tests.app.test_camera_loras import install
from tests.ui.conftest import run_until
from tests.ui.test_models_dialog import dialog, settings_dir, table_column  # noqa: F401  (fixtures)
from ui.models_dialog import KNOWN_COLUMNS


def row_of(dialog, model_id: str) -> dict[str, str]:  # noqa: F811
    table = dialog.known_table
    row = table_column(table, 0).index(model_id)
    return {name: table.item(row, col).text() for col, name in enumerate(KNOWN_COLUMNS)}


def test_camera_loras_are_listed_after_ltx2_as_ltx2_loras(dialog, loop):  # noqa: F811
    ids = table_column(dialog.known_table, 0)
    after = ids.index("ltx-2") + 1
    assert ids[after : after + len(CAMERA_LORAS)] == [m.id for m in CAMERA_LORAS]
    row = row_of(dialog, "ltx-2-camera-dolly-in")
    assert row["Kind"] == "motion-lora" and row["Backend"] == get_backend("ltx2").display_name == "LTX-2"
    assert row["Download"] == "0.3 GB" and row["Licence"] == "LTX-2 Community License Agreement"
    run_until(loop, lambda: len(dialog.states) == len(BUILTIN_MODELS), timeout=10)
    assert row_of(dialog, "ltx-2-camera-static")["Status"] == "not downloaded"


def test_download_button_fetches_a_lora_and_it_shows_installed(dialog, loop, qtbot, monkeypatch, tmp_path):  # noqa: F811
    import ui.models_dialog as md

    asked: list[KnownModel] = []

    def download(model: KnownModel, *, cache_dir: Path, **kwargs) -> Path:
        # Where the network would be: leave the snapshot a download leaves, with a real LoRA file.
        asked.append(model)
        return install(cache_dir, model.camera_move).parent

    monkeypatch.setattr(md, "download_model", download)
    run_until(loop, lambda: len(dialog.states) == len(BUILTIN_MODELS), timeout=10)
    dialog.select_known("ltx-2-camera-dolly-in")
    assert dialog.download_button.isEnabled()
    assert "Camera-control LoRA" in dialog.notes_label.text()
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    run_until(loop, lambda: not dialog.downloading, timeout=10)
    assert [m.id for m in asked] == ["ltx-2-camera-dolly-in"]
    assert "ltx-2-camera-dolly-in is ready" in dialog.download_message.text()
    # The status comes from the registry's own check of the snapshot: one sound LoRA file.
    run_until(loop, lambda: row_of(dialog, "ltx-2-camera-dolly-in")["Status"] == "installed", timeout=10)
    assert not dialog.download_button.isEnabled()  # installed: nothing to download
