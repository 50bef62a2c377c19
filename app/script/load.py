"""Open any script file the importer takes: a screenplay (Fountain, Final Draft) or a shot list CSV."""

from __future__ import annotations

from pathlib import Path

from app.script.model import ScriptDocument
from app.timecode import FrameRate

SCRIPT_SUFFIXES = (".fountain", ".spmd", ".txt", ".fdx", ".csv")


def load_script(path: str | Path, rate: FrameRate) -> ScriptDocument:
    """Read ``path`` by its kind; a shot list needs the project's rate to read durations as frames."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        from app.script.shotlist_csv import read_shot_list_csv

        return read_shot_list_csv(path, rate)
    from app.script.read import read_script

    return read_script(path)
