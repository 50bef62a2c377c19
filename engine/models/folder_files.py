"""Reading a model folder's files, where every failure names the file and says what to do.

Shared by the folder check (:mod:`engine.models.validate`) and its tokenizer part
(:mod:`engine.models.tokenizer_check`): a dangling cache link, a permission problem or a damaged
JSON file reads the same wherever it is met.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.errors import ModelFolderError


def read_json(path: Path, *, what: str) -> Any:
    if not exists(path):
        raise ModelFolderError(f"{path} is missing ({what}). Re-download the model.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ModelFolderError(f"{path} is not text ({what}); the file is damaged. Re-download the model.") from err
    except OSError as err:
        raise unreadable(path, err) from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelFolderError(
            f"{path} is not valid JSON ({err.msg} at line {err.lineno}); it holds {what} and is damaged. "
            "Re-download the model or restore the file."
        ) from err


def check_readable(path: Path) -> None:
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as err:
        raise unreadable(path, err) from err


def list_files(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir() if not p.is_dir())
    except OSError as err:
        raise unreadable(folder, err) from err


def stat_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as err:
        raise unreadable(path, err) from err


def exists(path: Path) -> bool:
    """Like Path.exists, but a dangling link (a cache file whose blob is gone) reads as a clear error."""
    if path.exists():
        return True
    if path.is_symlink():
        raise broken_link(path)
    return False


def broken_link(path: Path) -> ModelFolderError:
    return ModelFolderError(
        f"{path} is a broken link (its target is missing), so the download is incomplete. "
        "Download the model again; it resumes where it stopped."
    )


def unreadable(path: Path, err: OSError) -> ModelFolderError:
    if isinstance(err, PermissionError):
        return ModelFolderError(
            f"Pinframe can't read {path}: permission denied. Give your user read access "
            f"(e.g. chmod -R u+rX '{path.parent}') or copy the model to a folder you own."
        )
    if isinstance(err, IsADirectoryError):
        return ModelFolderError(
            f"{path} is a folder, but a file was expected there. The model folder is damaged; re-download it "
            "or restore the file."
        )
    if isinstance(err, FileNotFoundError):
        if path.is_symlink():
            return broken_link(path)
        return ModelFolderError(f"{path} is missing. Re-download the model, or copy the complete folder.")
    return ModelFolderError(f"Can't read {path}: {err.strerror or err}. Check the disk, then try again.")


def truncated(path: Path, detail: str) -> ModelFolderError:
    return ModelFolderError(
        f"{path} is truncated or damaged: {detail}. This usually means an interrupted download or copy; "
        "download the model again (it resumes) or copy the file again."
    )
