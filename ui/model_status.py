"""Where a downloadable model stands in the Hub cache, and the words the Models dialog shows for a model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import constants
from huggingface_hub.file_download import repo_folder_name

from engine.errors import EngineError
from engine.models.registry import KnownModel, ModelRegistry


def size_text(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 100_000_000 else f"{n / 1e6:.1f} MB"


def licence_text(model: KnownModel) -> str:
    flags = [name for name, on in (("gated", model.gated), ("non-commercial", model.non_commercial)) if on]
    return model.licence + (f" ({', '.join(flags)})" if flags else "")


@dataclass(frozen=True)
class ModelState:
    word: str  # installed, not downloaded, partial, unknown
    detail: str  # tooltip: where it is, or what is missing


def scan_status(registry: ModelRegistry, model: KnownModel, cache_dir: Path | None) -> ModelState:
    """Where ``model`` stands in the Hub cache; reads the disk, so never call it on the GUI thread."""
    try:
        status = registry.installed(model)
    except (OSError, EngineError) as err:
        return ModelState("unknown", f"Couldn't read the Hugging Face cache: {err}")
    if status.complete:
        return ModelState("installed", str(status.path))
    # A paused download leaves blobs (finished files and *.pinframe-partial ones) but no snapshot yet.
    cache = cache_dir if cache_dir is not None else Path(constants.HF_HUB_CACHE)
    blobs = cache / repo_folder_name(repo_id=model.repo_id, repo_type="model") / "blobs"
    try:
        has_blobs = blobs.is_dir() and any(blobs.iterdir())
    except OSError:
        has_blobs = False
    if status.path is not None or status.missing or has_blobs:
        return ModelState("partial", (status.problem or f"{model.id} is partly downloaded") + "; Download resumes it")
    return ModelState("not downloaded", status.problem)
