"""Which models Pinframe knows: a built-in list of Hub models plus the user's own folders.

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
from typing import Literal, cast, get_args

from huggingface_hub import constants, get_cached_repo_tree, try_to_load_from_cache
from huggingface_hub.errors import CachedRepoTreeNotFoundError
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.utils import filter_repo_objects

from engine.backend_registry import FolderKind, classify_folder
from engine.errors import EngineError, ModelFolderError
from engine.models.validate import parse_weight_name, validate_lora_file, validate_model_folder

# What a model is for; a backend's main model or the second stage of one (FolderKind.model_kind), a
# LoRA a motion backend loads for some shots ("motion-lora": one safetensors file, not a pipeline folder),
# or the IP-Adapter text-to-image keyframes read reference pictures with ("ip-adapter": weight files and an
# image encoder laid out like h94/IP-Adapter, not a pipeline folder; engine.backends.ip_adapter).
ModelKind = Literal["keyframe", "keyframe-upscale", "draft", "motion", "motion-upscale", "motion-lora", "ip-adapter"]
KINDS: tuple[str, ...] = get_args(ModelKind)

_GB = 1_000_000_000
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")

# What a diffusers repo needs: the pipeline index, each component's configs and tokenizer
# files, and safetensors weights inside component folders. The `*/` prefix keeps out the
# single-file checkpoints many repos also carry at their root (ComfyUI/A1111 formats).
DIFFUSERS_FILES: tuple[str, ...] = (
    "model_index.json",
    "*/config.json",
    "*/*_config.json",  # scheduler_config, tokenizer_config, preprocessor_config...
    "*/special_tokens_map.json",
    "*/added_tokens.json",
    "*/tokenizer.json",
    "*/vocab.json",
    "*/merges.txt",
    "*/vocab.txt",
    "*/spiece.model",
    "*/tokenizer.model",
    "*/*.safetensors",
    "*/*.safetensors.index*.json",
)
# A LoRA repo: its weights file at the root and the model card; LORA_EXCLUDE keeps out subfolders (`*`
# crosses `/` in these patterns).
LORA_FILES: tuple[str, ...] = ("*.safetensors", "README.md")
LORA_EXCLUDE: tuple[str, ...] = ("*/*",)
# Never fetched, whatever a model's patterns say: pickles can run code, the rest Pinframe can't load.
ALWAYS_EXCLUDED: tuple[str, ...] = (
    "*.bin",
    "*.pt",
    "*.pth",
    "*.ckpt",
    "*.pkl",
    "*.pickle",
    "*.msgpack",
    "*.h5",
    "*.onnx",
    "*.onnx_data",
    "*.gguf",
)


@dataclass(frozen=True)
class KnownModel:
    """A model Pinframe can download from the Hub. Sizes and VRAM figures are approximate."""

    id: str  # short id used in the app and the CLI
    repo_id: str
    revision: str
    kind: ModelKind
    pipeline: str  # diffusers class name used to load it
    files: tuple[str, ...]  # glob patterns (fnmatch, `*` crosses `/`) of repo files to fetch
    size_bytes: int  # approximate download size of the selected files
    vram_gb: float  # approximate need at fp16/bf16 with everything on the GPU
    vram_gb_offload: float  # approximate need with diffusers' model CPU offload
    licence: str
    gated: bool  # the Hub asks the user to accept the licence before downloading
    non_commercial: bool
    notes: str = ""
    exclude: tuple[str, ...] = ()  # patterns removed after `files`, on top of ALWAYS_EXCLUDED
    # Weight variant fetched and to pass as `variant=` when loading; components without it
    # fall back to their plain weights, as diffusers does.
    variant: str | None = None
    # The engine backend (engine.backend_registry) that runs it, or whose second stage it is.
    backend: str = ""
    # A camera LoRA: the move it makes, by its canonical name in engine.camera_move.MOVES ("dolly in").
    camera_move: str = ""

    @property
    def page_url(self) -> str:
        return f"{constants.ENDPOINT}/{self.repo_id}"


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


_IF_NOTES = (
    "Accept the DeepFloyd IF licence on the model page first (accepting it for IF-I-XL covers the other IF "
    "models). Load with variant='fp16'. "
)


def _camera_lora(name: str, camera_move: str, what: str) -> KnownModel:
    """One of Lightricks' camera-control LoRAs for LTX-2 19B (``name`` as in its repo: "Dolly-In")."""
    return KnownModel(
        id=f"ltx-2-camera-{name.lower()}",
        repo_id=f"Lightricks/LTX-2-19b-LoRA-Camera-Control-{name}",
        revision="main",
        kind="motion-lora",
        pipeline="LTX2ConditionPipeline",
        backend="ltx2",
        files=LORA_FILES,
        exclude=LORA_EXCLUDE,
        size_bytes=round(0.33 * _GB),
        vram_gb=0.4,
        vram_gb_offload=0.4,
        licence="LTX-2 Community License Agreement",
        gated=False,
        non_commercial=False,
        camera_move=camera_move,
        notes=f"Camera-control LoRA for LTX-2 19B: {what}. An LTX-2 render of a shot whose camera move is "
        f"'{camera_move}' loads it for that shot only, once it is downloaded. Made for LTX-2 19B (the ltx-2 model), "
        "not for other LTX versions; under the base model's licence. Size and VRAM (what it adds to LTX-2's) are "
        "estimates.",
    )


# Which shot moves get a LoRA (engine.camera_move names; its synonyms too: "push in" is a dolly in). A truck
# is a sideways dolly, a crane a jib. Pans, tilts and zooms turn or zoom the camera where these LoRAs move it,
# so they get none; nor do handheld, steadicam and orbit. Every move still reaches the prompt.
CAMERA_LORAS: tuple[KnownModel, ...] = (
    _camera_lora("Dolly-In", "dolly in", "the camera pushes towards the subject"),
    _camera_lora("Dolly-Out", "dolly out", "the camera pulls back, revealing more of the scene"),
    _camera_lora("Dolly-Left", "truck left", "the camera slides sideways to the left, with parallax"),
    _camera_lora("Dolly-Right", "truck right", "the camera slides sideways to the right, with parallax"),
    _camera_lora("Jib-Up", "crane up", "the camera rises"),
    _camera_lora("Jib-Down", "crane down", "the camera descends"),
    _camera_lora("Static", "static", "a locked-off camera that doesn't drift"),
)

# The IP-Adapter text-to-image keyframes read reference pictures with (engine.backends.ip_adapter): listed and
# downloaded beside the text-to-image models, never offered as a model to make pictures with (is_companion).
IP_ADAPTER_MODEL: KnownModel = KnownModel(
    id="ip-adapter",
    repo_id="h94/IP-Adapter",
    revision="main",
    kind="ip-adapter",
    pipeline="IP-Adapter",
    backend="text2image",  # the backend that reads references through it
    files=(
        "models/image_encoder/config.json",
        "models/image_encoder/model.safetensors",
        "models/ip-adapter_sd15.safetensors",
        "sdxl_models/ip-adapter_sdxl_vit-h.safetensors",
    ),
    size_bytes=round(3.3 * _GB),
    vram_gb=1.5,
    vram_gb_offload=1.5,
    licence="Apache-2.0",
    gated=False,
    non_commercial=False,
    notes="Reference pictures (characters, places, a look) for text-to-image keyframes on Stable Diffusion 1.x "
    "and SDXL models: the IP-Adapter weights for both and the ViT-H CLIP image encoder they share. Used only "
    "for shots with references; FLUX and other transformer models don't take it. Size (encoder ~2.5 GB, SDXL "
    "adapter ~0.7 GB, SD 1.x adapter ~45 MB) and VRAM (what it adds) are estimates.",
)


def is_companion(model: KnownModel) -> bool:
    """A model others use (a second stage, a camera LoRA, the IP-Adapter), never one chosen to make pictures."""
    return model.kind.endswith("-upscale") or model.kind in ("motion-lora", "ip-adapter")


BUILTIN_MODELS: tuple[KnownModel, ...] = (
    KnownModel(
        id="if-i-xl",
        repo_id="DeepFloyd/IF-I-XL-v1.0",
        revision="main",
        kind="keyframe",
        pipeline="IFPipeline",
        backend="if",
        files=DIFFUSERS_FILES,
        size_bytes=round(18.8 * _GB),
        vram_gb=22.0,
        vram_gb_offload=14.0,
        licence="DeepFloyd IF License Agreement",
        gated=True,
        non_commercial=True,
        variant="fp16",
        notes=_IF_NOTES
        + "Stage I, 4.3B-parameter pixel UNet at 64x64 plus the T5-XXL text encoder. Size is an estimate "
        "(fp16 UNet 8.6 GB + fp16 T5 ~9.5 GB + safety checker 0.6 GB); 14 GB VRAM with CPU offload is the "
        "model card's figure, the rest are estimates.",
    ),
    KnownModel(
        id="if-i-m",
        repo_id="DeepFloyd/IF-I-M-v1.0",
        revision="main",
        kind="keyframe",
        pipeline="IFPipeline",
        backend="if",
        files=DIFFUSERS_FILES,
        size_bytes=round(10.9 * _GB),
        vram_gb=12.0,
        vram_gb_offload=10.0,
        licence="DeepFloyd IF License Agreement",
        gated=True,
        non_commercial=True,
        variant="fp16",
        notes=_IF_NOTES
        + "Stage I, 400M-parameter UNet: faster, lower quality than XL. The T5-XXL encoder is most of the "
        "download and of the VRAM. Size and VRAM are estimates.",
    ),
    KnownModel(
        id="if-ii-l",
        repo_id="DeepFloyd/IF-II-L-v1.0",
        revision="main",
        kind="keyframe-upscale",
        pipeline="IFSuperResolutionPipeline",
        backend="if",
        files=DIFFUSERS_FILES,
        size_bytes=round(12.7 * _GB),
        vram_gb=6.0,
        vram_gb_offload=4.0,
        licence="DeepFloyd IF License Agreement",
        gated=True,
        non_commercial=True,
        variant="fp16",
        notes=_IF_NOTES
        + "Stage II, 1.2B-parameter 64->256 px super-resolution UNet. It can reuse stage I's prompt embeddings "
        "(load with text_encoder=None); its own T5 copy (~9.5 GB) is still downloaded so the folder validates "
        "as a whole. Size and VRAM (without the text encoder loaded) are estimates.",
    ),
    KnownModel(
        id="sd-x4-upscaler",
        repo_id="stabilityai/stable-diffusion-x4-upscaler",
        revision="main",
        kind="keyframe-upscale",
        pipeline="StableDiffusionUpscalePipeline",
        backend="if",  # IF's stage III: 256 -> 1024 px after stage II (engine.backends.deepfloyd)
        files=DIFFUSERS_FILES,
        size_bytes=round(1.9 * _GB),
        vram_gb=10.0,
        vram_gb_offload=7.0,
        licence="CreativeML Open RAIL++-M",
        gated=False,
        non_commercial=False,
        variant="fp16",
        notes="Stage III for DeepFloyd IF, as its model card recommends: a latent x4 upscaler with its own small "
        "OpenCLIP text encoder, used after stage II when the frame is bigger than 256 px. Size and VRAM (at 1024 "
        "px out) are estimates.",
    ),
    KnownModel(
        id="sdxl-turbo",
        repo_id="stabilityai/sdxl-turbo",
        revision="main",
        kind="draft",
        pipeline="AutoPipelineForText2Image",
        backend="text2image",
        files=DIFFUSERS_FILES,
        size_bytes=round(6.95 * _GB),
        vram_gb=8.0,
        vram_gb_offload=5.0,
        licence="Stability AI Non-Commercial Research Community License (sai-nc-community)",
        gated=False,
        non_commercial=True,
        variant="fp16",
        notes="1-4 step drafts at 512x512 (resolves to StableDiffusionXLPipeline). Commercial use needs a "
        "separate Stability AI licence. Size is an estimate from the fp16 files (UNet 5.1 GB, text encoders "
        "1.6 GB, VAE 0.2 GB); VRAM is an estimate.",
    ),
    KnownModel(
        id="flux-schnell",
        repo_id="black-forest-labs/FLUX.1-schnell",
        revision="main",
        kind="draft",
        pipeline="AutoPipelineForText2Image",
        backend="text2image",
        files=DIFFUSERS_FILES,
        size_bytes=round(33.7 * _GB),
        vram_gb=34.0,
        vram_gb_offload=24.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="1-4 step drafts (resolves to FluxPipeline), weights in bf16. The root-level single-file "
        "checkpoints are not fetched. Size (transformer ~23.8 GB, T5-XXL ~9.5 GB) and VRAM are estimates; "
        "sequential offload fits smaller GPUs, slowly.",
    ),
    KnownModel(
        id="prxpixel-t2i",
        repo_id="Photoroom/prxpixel-t2i",  # the id diffusers' PRXPixelPipeline documents
        revision="main",
        kind="keyframe",
        pipeline="PRXPixelPipeline",
        backend="prx-pixel",
        files=DIFFUSERS_FILES,
        size_bytes=round(22 * _GB),
        vram_gb=24.0,
        vram_gb_offload=16.0,
        licence="see the model card (Photoroom PRX)",
        gated=False,
        non_commercial=False,
        notes="Pixel space, one stage at full resolution: a PRX transformer with a Qwen3-VL text tower, "
        "1024 px aspect buckets, 28 steps / guidance 5 suggested. Size and VRAM are estimates; size, VRAM "
        "and licence not yet checked against the model card (no hub access here).",
    ),
    KnownModel(
        id="ltx-video",
        repo_id="Lightricks/LTX-Video-0.9.5",
        revision="main",
        kind="motion",
        pipeline="LTXConditionPipeline",
        backend="ltx",
        files=DIFFUSERS_FILES,
        size_bytes=round(21 * _GB),
        vram_gb=18.0,
        vram_gb_offload=12.0,
        licence="LTXV Open Weights License",
        gated=False,
        non_commercial=False,
        notes="LTX-Video 0.9.5 in diffusers format: the checkpoint the diffusers docs load with "
        "LTXConditionPipeline (keyframe conditioning at any frame). Its licence carries use restrictions and "
        "commercial terms of its own; read it on the model page (not verified here). Size and VRAM are "
        "estimates.",
    ),
    KnownModel(
        id="wan2.1-flf2v-14b-720p",
        repo_id="Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers",
        revision="main",
        kind="motion",
        pipeline="WanImageToVideoPipeline",
        backend="wan",
        files=DIFFUSERS_FILES,
        size_bytes=round(90 * _GB),
        vram_gb=48.0,
        vram_gb_offload=30.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="First/last-frame to video (pass last_image), 720p. The diffusers repo stores the 14B transformer "
        "and UMT5 text encoder in fp32, hence the size; load in bf16. Size (estimated from the I2V-14B repos: "
        "transformer ~65 GB, text encoder ~23 GB) and VRAM are estimates.",
    ),
    KnownModel(
        id="wan2.1-i2v-14b-480p",
        repo_id="Wan-AI/Wan2.1-I2V-14B-480P-Diffusers",
        revision="main",
        kind="motion",
        pipeline="WanImageToVideoPipeline",
        backend="wan",
        files=DIFFUSERS_FILES,
        size_bytes=round(90 * _GB),
        vram_gb=40.0,
        vram_gb_offload=28.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Image to video at 480p: cheaper to run than the 720p FLF2V model but the same download (Wan 2.1 "
        "has no smaller image-to-video checkpoint; the 1.3B models are text-to-video). Trained on the first "
        "frame only, so last-frame pins hold less tightly. Size and VRAM are estimates.",
    ),
    KnownModel(
        id="ltx-2",
        repo_id="Lightricks/LTX-2",
        revision="main",
        kind="motion",
        pipeline="LTX2Pipeline",
        backend="ltx2",
        files=DIFFUSERS_FILES,
        size_bytes=round(80 * _GB),
        vram_gb=60.0,
        vram_gb_offload=24.0,
        licence="LTX-2 Community License Agreement",
        gated=False,
        non_commercial=False,
        notes="LTX-2 19B audio-video model in diffusers format, loaded with LTX2ConditionPipeline: every pin a "
        "condition at its frame, sound with the picture, up to 20 s. The repo's latent_upsampler/ folder (the "
        "optional 2x stage) comes with it; its root-level single-file checkpoints are not fetched. Free for "
        "companies under the licence's revenue threshold; read it on the model page. Size (19B transformer "
        "and Gemma 3 12B text encoder in bf16) and VRAM are estimates; 24 GB needs model CPU offload plus fp8 "
        "layerwise storage.",
    ),
    *CAMERA_LORAS,  # beside their base model
    IP_ADAPTER_MODEL,  # references for text-to-image keyframes
    KnownModel(
        id="wan2.2-i2v-a14b",
        repo_id="Wan-AI/Wan2.2-I2V-A14B-Diffusers",
        revision="main",
        kind="motion",
        pipeline="WanImageToVideoPipeline",
        backend="wan22",
        files=DIFFUSERS_FILES,
        size_bytes=round(126 * _GB),
        vram_gb=60.0,
        vram_gb_offload=32.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Wan 2.2 image to video, two 14B experts (high noise, then low noise), 480p/720p at 16 fps. "
        "Size (two fp32 transformers and UMT5) and VRAM are estimates; on 24 GB use model CPU offload with fp8 "
        "layerwise storage.",
    ),
    KnownModel(
        id="wan2.2-ti2v-5b",
        repo_id="Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        revision="main",
        kind="motion",
        pipeline="WanPipeline",
        backend="wan22",
        files=DIFFUSERS_FILES,
        size_bytes=round(34 * _GB),
        vram_gb=24.0,
        vram_gb_offload=12.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Wan 2.2 5B text/image to video at 720p and 24 fps with a 16x-compressing VAE: the Wan 2.2 that "
        "fits a 24 GB GPU. Size and VRAM are estimates.",
    ),
    KnownModel(
        id="wan2.1-vace-1.3b",
        repo_id="Wan-AI/Wan2.1-VACE-1.3B-diffusers",
        revision="main",
        kind="motion",
        pipeline="WanVACEPipeline",
        backend="wan-vace",
        files=DIFFUSERS_FILES,
        size_bytes=round(30 * _GB),
        vram_gb=16.0,
        vram_gb_offload=8.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Wan VACE 1.3B: pins at any frame through its video and mask inputs, reference images for "
        "characters and places, 480p. Most of the download is the fp32 UMT5 text encoder. Size and VRAM are "
        "estimates.",
    ),
    KnownModel(
        id="wan2.1-vace-14b",
        repo_id="Wan-AI/Wan2.1-VACE-14B-diffusers",
        revision="main",
        kind="motion",
        pipeline="WanVACEPipeline",
        backend="wan-vace",
        files=DIFFUSERS_FILES,
        size_bytes=round(90 * _GB),
        vram_gb=48.0,
        vram_gb_offload=28.0,
        licence="Apache-2.0",
        gated=False,
        non_commercial=False,
        notes="Wan VACE 14B at 480p/720p: the same any-frame conditioning as 1.3B at the 14B model's quality. "
        "Size and VRAM are estimates.",
    ),
)
