"""Which models Pinframe knows: a built-in list of Hub models plus the user's own folders.

The built-in list is :mod:`engine.models.catalog`; its names are importable from here too, the
registry being the one door the app, the CLI and the farm go through.
Known models are fetched into the Hugging Face cache (see :mod:`engine.models.download`);
local models are folders the user added, validated first and remembered in a small JSON file.
Nothing here touches the network: whether a known model is installed is read from the cache.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from huggingface_hub import constants, get_cached_repo_tree, try_to_load_from_cache
from huggingface_hub.errors import CachedRepoTreeNotFoundError
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.utils import filter_repo_objects

from engine.backend_registry import FolderKind, classify_folder
from engine.errors import EngineError, ModelFolderError
from engine.models.catalog import (
    ALWAYS_EXCLUDED,
    BUILTIN_MODELS,
    CAMERA_LORAS,
    DIFFUSERS_FILES,
    IP_ADAPTER_MODEL,
    KINDS,
    LORA_EXCLUDE,
    LORA_FILES,
    KnownModel,
    ModelKind,
    is_companion,
)
from engine.models.validate import parse_weight_name, validate_lora_file, validate_model_folder

__all__ = [
    "ALWAYS_EXCLUDED",
    "BUILTIN_MODELS",
    "CAMERA_LORAS",
    "DIFFUSERS_FILES",
    "IP_ADAPTER_MODEL",
    "KINDS",
    "LORA_EXCLUDE",
    "LORA_FILES",
    "CacheStatus",
    "KnownModel",
    "LocalModel",
    "Model",
    "ModelKind",
    "ModelRegistry",
    "check_snapshot",
    "find_in_cache",
    "is_companion",
    "known_lora",
    "lora_file",
    "lora_title",
    "select_files",
]

_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class LocalModel:
    """A diffusers folder the user added; validated when added, and again before loading."""

    id: str
    path: Path
    kind: ModelKind
    pipeline: str
    backend: str = ""  # engine.backend_registry name, read from the folder when it was added


@dataclass(frozen=True)
class CacheStatus:
    """Whether a known model is fully in the Hugging Face cache, found without the network."""

    complete: bool
    path: Path | None = None  # the snapshot folder, when one exists (possibly incomplete)
    commit: str | None = None  # exact revision, worth recording with anything made from it
    missing: tuple[str, ...] = ()  # repo files still to download, when the file list is cached
    problem: str = ""  # why it is not complete, for a person


Model = KnownModel | LocalModel


def select_files(model: KnownModel, repo_files: Iterable[str]) -> list[str]:
    """The repo files to fetch for ``model``, given every file path in the repo.

    Applies the model's patterns, then keeps one weight variant per component folder: the
    model's variant where that folder has it, else the plain weights. That drops, for example,
    a 17 GB fp32 UNet sitting next to the 8.6 GB fp16 one the loader will use.
    """
    chosen = list(
        filter_repo_objects(
            list(repo_files), allow_patterns=list(model.files), ignore_patterns=[*model.exclude, *ALWAYS_EXCLUDED]
        )
    )
    weights_by_dir: dict[str, list[tuple[str, str | None]]] = {}
    for p in chosen:
        parsed = parse_weight_name(p.rsplit("/", 1)[-1])
        if parsed is not None:
            weights_by_dir.setdefault(p.rsplit("/", 1)[0] if "/" in p else "", []).append((p, parsed.variant))
    dropped: set[str] = set()
    for entries in weights_by_dir.values():
        variants = {v for _, v in entries}
        if model.variant is not None and model.variant in variants:
            keep: str | None = model.variant
        elif None in variants:
            keep = None
        else:
            continue  # only other variants here: keep them all rather than fetch nothing
        dropped.update(p for p, v in entries if v != keep)
    return sorted(p for p in chosen if p not in dropped)


def find_in_cache(model: KnownModel, cache_dir: str | Path | None = None) -> CacheStatus:
    """Whether ``model`` is fully downloaded in the Hub cache at ``cache_dir``; never uses the network.

    The revision is resolved through the cache's ``refs/``. When the Hub's file list for that
    commit is cached (snapshot downloads store it), every selected file must be present; the
    snapshot folder must then pass :func:`validate_model_folder`, which also catches truncated
    weights and a folder assembled by hand without a file list.
    """
    cache = Path(cache_dir) if cache_dir is not None else Path(constants.HF_HUB_CACHE)
    storage = cache / repo_folder_name(repo_id=model.repo_id, repo_type="model")
    commit = _cached_commit(storage, model.revision)
    if commit is None:
        return CacheStatus(False, problem=f"{model.id} is not downloaded yet")
    snapshot = storage / "snapshots" / commit
    if not snapshot.is_dir():
        return CacheStatus(False, commit=commit, problem=f"{model.id} is not downloaded yet")
    try:
        tree = get_cached_repo_tree(model.repo_id, revision=commit, cache_dir=cache)
    except CachedRepoTreeNotFoundError:
        tree = None
    if tree is not None:
        wanted = select_files(model, [f.path for f in tree])
        missing = tuple(
            p
            for p in wanted
            if not isinstance(try_to_load_from_cache(model.repo_id, p, cache_dir=cache, revision=commit), str)
        )
        if missing:
            return CacheStatus(
                False, snapshot, commit, missing, f"{model.id} is partly downloaded: {len(missing)} file(s) missing"
            )
    try:
        check_snapshot(model, snapshot)
    except ModelFolderError as err:
        return CacheStatus(False, snapshot, commit, (), str(err))
    return CacheStatus(True, snapshot, commit)


def check_snapshot(model: KnownModel, folder: str | Path) -> None:
    """Raise ModelFolderError unless ``folder`` holds a usable copy of ``model``.

    A pipeline is a diffusers folder (:func:`validate_model_folder`); a LoRA is one safetensors file.
    """
    if model.kind == "motion-lora":
        lora_file(folder)
    elif model.kind == "ip-adapter":
        from engine.backends.ip_adapter import check_folder

        check_folder(folder)
    else:
        validate_model_folder(folder)


def lora_file(folder: str | Path) -> Path:
    """The one LoRA file at the root of a LoRA model's folder, checked (:func:`validate_lora_file`)."""
    root = Path(folder)
    try:
        found = sorted(p for p in root.iterdir() if p.name.lower().endswith(".safetensors"))
    except OSError as err:
        raise ModelFolderError(f"Can't read the LoRA folder {root}: {err.strerror or err}. Download it again.") from err
    if len(found) != 1:
        names = ", ".join(p.name for p in found)
        what = f"{len(found)} ({names})" if found else "none"
        raise ModelFolderError(
            f"{root} should hold one LoRA .safetensors file and has {what}. Download the LoRA again, or keep only "
            "the file you mean to use."
        )
    validate_lora_file(found[0])
    return found[0]


def known_lora(path: str | Path) -> KnownModel | None:
    """The built-in LoRA whose Hub cache folder holds ``path``, if any (for its name in notes)."""
    parts = Path(path).parts
    for model in BUILTIN_MODELS:
        if model.kind == "motion-lora" and repo_folder_name(repo_id=model.repo_id, repo_type="model") in parts:
            return model
    return None


def lora_title(model: KnownModel) -> str:
    """A LoRA's short name for notes and the jobs panel: "Dolly In" for ...-Camera-Control-Dolly-In."""
    name = model.repo_id.rsplit("/", 1)[-1]
    return name.rsplit("Camera-Control-", 1)[-1].replace("-", " ")


class ModelRegistry:
    """Known models plus local folders; the local ones persist to ``store_path`` (JSON)."""

    def __init__(
        self,
        store_path: str | Path,
        *,
        known: Sequence[KnownModel] | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        self._store = Path(store_path)
        self._known = tuple(BUILTIN_MODELS if known is None else known)
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        ids = [m.id for m in self._known]
        if len(set(ids)) != len(ids):
            raise ValueError(f"known model ids must be unique: {ids}")
        self._local: dict[str, LocalModel] = {m.id: m for m in self._load()}

    def all(self) -> list[Model]:
        with self._lock:
            return [*self._known, *self._local.values()]

    def known(self) -> list[KnownModel]:
        return list(self._known)

    def local(self) -> list[LocalModel]:
        with self._lock:
            return list(self._local.values())

    def get(self, model_id: str) -> Model:
        with self._lock:
            for m in self._known:
                if m.id == model_id:
                    return m
            if model_id in self._local:
                return self._local[model_id]
            ids = ", ".join([m.id for m in self._known] + list(self._local))
        raise EngineError(f"No model with id '{model_id}'. Known ids: {ids}.")

    def add_local(self, path: str | Path, kind: str | None = None, *, model_id: str | None = None) -> LocalModel:
        """Validate the folder at ``path``, then remember it.

        Its backend and kind are read from model_index.json (engine.backend_registry); ``kind``
        may narrow a keyframe model to a draft one, but a motion folder can't be added as a
        keyframe model or the other way round.
        """
        if kind is not None and kind not in KINDS:
            raise EngineError(f"Unknown model kind '{kind}'; use one of: {', '.join(KINDS)}.")
        folder = Path(path).expanduser().resolve()
        report = validate_model_folder(folder)  # raises before anything is remembered
        found = classify_folder(folder)
        kind = _fit_kind(found, kind, folder)
        with self._lock:
            for m in self._local.values():
                if m.path == folder:
                    raise EngineError(f"{folder} is already in the model list as '{m.id}'.")
            taken = {m.id for m in self._known} | set(self._local)
            if model_id is not None:
                if model_id in taken:
                    raise EngineError(f"The model id '{model_id}' is taken; choose another.")
                new_id = model_id
            else:
                new_id = _unique_id(f"local-{_slug(folder.name)}", taken)
            model = LocalModel(
                id=new_id,
                path=folder,
                kind=cast(ModelKind, kind),
                pipeline=report.pipeline_class,
                backend=found.backend.name,
            )
            self._save([*self._local.values(), model])
            self._local[new_id] = model
        return model

    def remove_local(self, model_id: str) -> None:
        with self._lock:
            if model_id not in self._local:
                raise EngineError(f"No local model with id '{model_id}' (built-in models can't be removed).")
            remaining = [m for m in self._local.values() if m.id != model_id]
            self._save(remaining)
            del self._local[model_id]

    def installed(self, model: KnownModel) -> CacheStatus:
        return find_in_cache(model, self._cache_dir)

    def _load(self) -> list[LocalModel]:
        if not self._store.exists():
            return []
        try:
            data = json.loads(self._store.read_text(encoding="utf-8"))
            entries = data["local"]
            models = [
                LocalModel(
                    id=str(e["id"]),
                    path=Path(e["path"]),
                    kind=e["kind"],
                    pipeline=str(e["pipeline"]),
                    backend=str(e.get("backend") or _backend_of(Path(e["path"]))),
                )
                for e in entries
            ]
        except OSError as err:
            raise EngineError(f"Can't read the model list {self._store}: {err.strerror or err}.") from err
        except (ValueError, KeyError, TypeError) as err:
            raise EngineError(
                f"The model list {self._store} is damaged ({err}). Fix it, or move it away to start with no "
                "local models (built-in models are not stored there)."
            ) from err
        bad = [m.kind for m in models if m.kind not in KINDS]
        if bad:
            raise EngineError(f"The model list {self._store} has an unknown model kind '{bad[0]}'; fix or remove it.")
        return models

    def _save(self, models: Iterable[LocalModel]) -> None:
        """Write the whole list to a temporary file and rename it over the old one: never half-written."""
        data = {
            "format": "pinframe-models",
            "version": 1,
            "local": [
                {"id": m.id, "path": str(m.path), "kind": m.kind, "pipeline": m.pipeline, "backend": m.backend}
                for m in models
            ],
        }
        self._store.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self._store.name}.", suffix=".tmp", dir=self._store.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=2)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._store)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(self._store.parent)


def _fit_kind(found: FolderKind, asked: str | None, folder: Path) -> str:
    natural = found.model_kind
    if asked is None or asked == natural:
        return natural
    if natural == "keyframe" and asked == "draft":
        return asked  # a fast text-to-image model offered for drafts
    raise EngineError(
        f"{folder} holds a {found.pipeline_class} ({found.backend.display_name}), which is a {natural} model, "
        f"not a {asked} one. Add it as {natural}, or leave the kind out and Pinframe reads it from the folder."
    )


def _backend_of(folder: Path) -> str:
    """The backend of a folder listed before backends were recorded; "" while it is missing."""
    try:
        return classify_folder(folder).backend.name
    except ModelFolderError:
        return ""


def _cached_commit(storage: Path, revision: str) -> str | None:
    if _COMMIT_RE.match(revision):
        return revision
    ref = storage / "refs" / revision
    try:
        commit = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return commit or None


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "model"


def _unique_id(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows can't open folders, and doesn't need it.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
