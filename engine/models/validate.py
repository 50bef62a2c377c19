"""Check a diffusers model folder before anything loads it.

Loading a half-downloaded or hand-assembled folder fails deep inside diffusers or transformers
with a message about tensors or configs that a person can't act on. Here every problem names
the exact file and says what to do. Weights are only accepted as ``.safetensors``: pickled
weights (``.bin``, ``.pt``, ...) are refused because unpickling can run arbitrary code.

Nothing here loads a tensor. Safetensors files are checked by reading their 8-byte header
length and JSON header, and comparing the byte ranges the header promises with the file size,
which catches truncated downloads without touching the tensor data. Tokenizer folders are checked for
the vocabulary file their class reads; a SentencePiece vocabulary (spiece.model, a few MB) is parsed.

The tokenizer checks live in :mod:`engine.models.tokenizer_check`, the file reads they share (each
failure naming its file) in :mod:`engine.models.folder_files`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.errors import ModelFolderError
from engine.models.folder_files import exists, list_files, read_json, stat_size, truncated, unreadable
from engine.models.tokenizer_check import check_tokenizer

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Formats Pinframe doesn't load either, named in the error so the person knows what they have.
OTHER_WEIGHT_SUFFIXES = (".gguf", ".onnx", ".onnx_data", ".msgpack", ".h5", ".pb")
# The safetensors format caps the JSON header at 100 MB; a bigger length means a damaged file.
_MAX_HEADER_BYTES = 100 * 1024 * 1024

_PROCESSOR_CONFIGS = ("preprocessor_config.json", "processor_config.json", "video_preprocessor_config.json")

_CONVERT_HINT = (
    "Pinframe never loads pickled weights (.bin, .pt, .pth, .ckpt) because loading them can run "
    "arbitrary code. Convert them once, in an environment you trust: load the model there with "
    "diffusers/transformers (e.g. DiffusionPipeline.from_pretrained(folder)) and save it with "
    "save_pretrained(new_folder, safe_serialization=True), then add the new folder."
)

Role = Literal["model", "scheduler", "tokenizer", "processor", "config"]

# `name[.variant]-00001-of-00002[.variant].safetensors` (the second spot is the legacy naming).
_SHARD_RE = re.compile(r"^(?P<stem>[^.]+?)(?:\.(?P<v1>\w+))?-\d{5}-of-\d{5}(?:\.(?P<v2>\w+))?\.safetensors$", re.ASCII)
# `name.safetensors.index[.variant].json`, plus the legacy `name[.variant].safetensors[.variant].index.json`.
_INDEX_RE = re.compile(
    r"^(?P<stem>[^.]+)(?:\.(?P<v0>\w+))?\.safetensors(?:\.(?P<v1>\w+))?\.index(?:\.(?P<v2>\w+))?\.json$", re.ASCII
)
_SINGLE_RE = re.compile(r"^(?P<stem>[^.]+)(?:\.(?P<v>\w+))?\.safetensors$", re.ASCII)


@dataclass(frozen=True)
class WeightName:
    """What a safetensors-related file name says: single file, shard or shard index, and its variant."""

    kind: Literal["single", "shard", "index"]
    stem: str
    variant: str | None  # None: the plain weights (no ``.fp16``-style suffix)


def parse_weight_name(name: str) -> WeightName | None:
    """Classify ``name`` (a bare file name); None when it isn't a safetensors weight or index file."""
    if m := _INDEX_RE.match(name):
        return WeightName("index", m["stem"], m["v0"] or m["v1"] or m["v2"])
    if not name.endswith(".safetensors"):
        return None
    if m := _SHARD_RE.match(name):
        return WeightName("shard", m["stem"], m["v1"] or m["v2"])
    if m := _SINGLE_RE.match(name):
        return WeightName("single", m["stem"], m["v"])
    # Unusual names (e.g. `ltx-video-2b-v0.9.5.safetensors`) are plain single files.
    return WeightName("single", name.removesuffix(".safetensors"), None)


@dataclass(frozen=True)
class ComponentReport:
    """One entry of model_index.json as found on disk."""

    name: str
    library: str
    class_name: str
    role: Role
    # Weight files that passed the header check, relative to the component folder.
    weight_files: tuple[str, ...] = ()
    # Complete weight sets by variant; None is the plain (un-suffixed) weights.
    variants: tuple[str | None, ...] = ()
    weight_bytes: int = 0
    # Pickled files sitting next to safetensors weights: never loaded, reported so nobody wonders.
    ignored_pickles: tuple[str, ...] = ()


@dataclass(frozen=True)
class FolderReport:
    """A validated diffusers folder: what it contains and which weight variants can be loaded."""

    path: Path
    pipeline_class: str
    components: tuple[ComponentReport, ...]
    skipped: tuple[str, ...]  # listed as null in model_index.json, or skipped by the caller
    total_weight_bytes: int  # all safetensors weights on disk, every variant
    diffusers_version: str | None = None

    @property
    def variants(self) -> dict[str, tuple[str | None, ...]]:
        """Weight variants present per weight-bearing component."""
        return {c.name: c.variants for c in self.components if c.role == "model"}

    @property
    def loadable_variants(self) -> tuple[str | None, ...]:
        """Variants to pass as ``variant=`` to ``from_pretrained``.

        Diffusers falls back to the plain weights for a component that lacks the requested
        variant, so a variant is loadable when every component has it or has plain weights.
        """
        per_component = [set(v) for v in self.variants.values()]
        if not per_component:
            return (None,)
        candidates = set().union(*per_component)
        ok = [v for v in candidates if all(v in s or (v is not None and None in s) for s in per_component)]
        return tuple(sorted(ok, key=lambda v: (v is not None, v or "")))


def validate_model_folder(path: str | Path, *, skip: Collection[str] = ()) -> FolderReport:
    """Check that ``path`` is a complete diffusers folder Pinframe may load; raise ModelFolderError if not.

    ``skip`` names components the caller will supply itself (e.g. ``text_encoder`` for a
    super-resolution stage loaded with ``text_encoder=None``); their folders aren't required.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise ModelFolderError(f"Model folder {root} doesn't exist. Check the path, or add the model again.")
    if not root.is_dir():
        raise ModelFolderError(
            f"{root} is a file, not a folder. Choose the model's folder: the one that contains model_index.json."
        )
    index_path = root / "model_index.json"
    if not exists(index_path):
        raise ModelFolderError(
            f"{index_path} is missing, so {root} isn't a diffusers pipeline folder. Choose the folder that "
            "contains model_index.json (the top folder of a model saved with save_pretrained or downloaded "
            "from the Hub in diffusers format)."
        )
    index = read_json(index_path, what="the pipeline description")
    if not isinstance(index, dict):
        raise ModelFolderError(f"{index_path} should hold a JSON object; the file is damaged. Re-download the model.")
    pipeline_class = index.get("_class_name")
    if not isinstance(pipeline_class, str) or not pipeline_class:
        raise ModelFolderError(
            f'{index_path} has no "_class_name", so Pinframe can\'t tell which pipeline this is. '
            "Re-download the model, or restore model_index.json from where the model came from."
        )

    components: list[ComponentReport] = []
    skipped: list[str] = []
    for name, entry in sorted(index.items()):
        if name.startswith("_") or not isinstance(entry, list | tuple) or len(entry) < 2:
            continue  # metadata and flags such as "requires_safety_checker": true
        library, class_name = entry[0], entry[1]
        if library is None or class_name is None or name in skip:
            skipped.append(name)
            continue
        components.append(_check_component(root, name, str(library), str(class_name)))

    version = index.get("_diffusers_version")
    return FolderReport(
        path=root,
        pipeline_class=pipeline_class,
        components=tuple(components),
        skipped=tuple(skipped),
        total_weight_bytes=sum(c.weight_bytes for c in components),
        diffusers_version=version if isinstance(version, str) else None,
    )


def component_role(class_name: str) -> Role:
    """What a component needs on disk, judged from its class name."""
    if "Scheduler" in class_name:
        return "scheduler"
    if "Tokenizer" in class_name:
        return "tokenizer"
    if "Processor" in class_name or "FeatureExtractor" in class_name:  # also e.g. CLIPImageProcessorPil
        return "processor"
    if "Guider" in class_name or class_name.endswith("Guidance"):
        return "config"
    return "model"


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file, after checking the file is as long as it promises."""
    size = stat_size(path)
    try:
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise truncated(path, f"it is only {size} bytes long")
            header_len = int.from_bytes(head, "little")
            if header_len > min(_MAX_HEADER_BYTES, size - 8):
                raise truncated(path, f"its header claims {header_len} bytes but the file has {size}")
            raw = f.read(header_len)
    except OSError as err:
        raise unreadable(path, err) from err
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFolderError(
            f"{path} is not a valid safetensors file: its header is not JSON ({err}). The file is damaged or "
            "isn't safetensors; re-download it."
        ) from err
    if not isinstance(header, dict):
        raise ModelFolderError(f"{path} is not a valid safetensors file: bad header. Re-download it.")
    data_len = size - 8 - header_len
    needed = 0
    for key, info in header.items():
        if key == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]
        ):
            raise ModelFolderError(
                f"{path} is not a valid safetensors file: tensor '{key}' has no valid data_offsets. Re-download it."
            )
        needed = max(needed, offsets[1])
    if needed > data_len:
        raise truncated(path, f"its tensors need {needed} bytes of data but only {max(data_len, 0)} are there")
    return header


# How pickles start: a torch.save zip archive, or a bare pickle (protocol 2 and later open with 0x80).
_PICKLE_MAGIC = (b"PK\x03\x04", b"\x80")


def validate_lora_file(path: str | Path) -> dict[str, Any]:
    """Check that ``path`` is a LoRA Pinframe may load and return its safetensors header.

    A LoRA is one ``.safetensors`` file (no folder, no config). Pickled LoRAs are refused, even under a
    ``.safetensors`` name, and so is a file without LoRA tensors (a whole checkpoint picked by mistake).
    Like the folder check, nothing here reads the tensors themselves.
    """
    file = Path(path).expanduser()
    if not exists(file):
        raise ModelFolderError(f"LoRA file {file} doesn't exist. Download it again, or choose the file again.")
    if file.is_dir():
        raise ModelFolderError(f"LoRA {file} is a folder; choose the .safetensors file inside it.")
    suffix = file.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise ModelFolderError(
            f"LoRA {file} is a pickle ({suffix}); Pinframe never loads pickled weights because loading them can run "
            "arbitrary code. Use the .safetensors version of the LoRA, or convert it once in an environment you "
            "trust (safetensors.torch.save_file)."
        )
    if suffix != ".safetensors":
        raise ModelFolderError(f"LoRA {file} isn't a .safetensors file; Pinframe loads LoRAs only from safetensors.")
    try:
        with file.open("rb") as f:
            head = f.read(4)
    except OSError as err:
        raise unreadable(file, err) from err
    if head.startswith(_PICKLE_MAGIC):
        raise ModelFolderError(
            f"LoRA {file} is named .safetensors but holds a pickle, which Pinframe never loads (it can run "
            "arbitrary code). Download the LoRA again from its model page."
        )
    header = read_safetensors_header(file)
    tensors = [key for key in header if key != "__metadata__"]
    if not any("lora" in key.lower() for key in tensors):
        sample = ", ".join(tensors[:3]) or "no tensors at all"
        raise ModelFolderError(
            f"{file} holds no LoRA weights (its tensors: {sample}); it is a model checkpoint or another kind of "
            "adapter, not a LoRA. Choose the LoRA's .safetensors file."
        )
    return header


def _check_component(root: Path, name: str, library: str, class_name: str) -> ComponentReport:
    folder = root / name
    described = f"model_index.json lists the component '{name}' ({library} {class_name})"
    if not exists(folder):
        raise ModelFolderError(f"{folder} is missing: {described}. Re-download the model, or copy the complete folder.")
    if not folder.is_dir():
        raise ModelFolderError(f"{folder} should be a folder: {described}. Re-download the model.")
    files = list_files(folder)
    role = component_role(class_name)
    if role == "scheduler":
        _require_config(folder, ("scheduler_config.json",), name)
    elif role == "tokenizer":
        check_tokenizer(folder, name, class_name, files, described)
    elif role == "processor":
        _require_config(folder, _PROCESSOR_CONFIGS, name, files)
    elif role == "config":
        configs = [f for f in files if f.endswith(".json")]
        if not configs:
            raise ModelFolderError(f"{folder} has no config .json file: {described}. Re-download the model.")
        for f in configs:
            read_json(folder / f, what=f"the config of '{name}'")
    else:
        _require_config(folder, ("config.json",), name)
        return _check_weights(folder, name, library, class_name, files)
    return ComponentReport(name=name, library=library, class_name=class_name, role=role)


def _check_weights(folder: Path, name: str, library: str, class_name: str, files: list[str]) -> ComponentReport:
    singles: dict[str | None, list[str]] = {}
    indexes: list[tuple[str, WeightName]] = []
    shards: list[str] = []
    for f in files:
        parsed = parse_weight_name(f)
        if parsed is None:
            continue
        if parsed.kind == "single":
            singles.setdefault(parsed.variant, []).append(f)
        elif parsed.kind == "index":
            indexes.append((f, parsed))
        else:
            shards.append(f)

    checked: dict[str, int] = {}  # file -> size, each header read once

    def check(file: str) -> None:
        if file not in checked:
            read_safetensors_header(folder / file)
            checked[file] = stat_size(folder / file)

    complete: set[str | None] = set()
    for variant, names in singles.items():
        for f in names:
            check(f)
        complete.add(variant)
    indexed: set[str] = set()
    for index_name, parsed in indexes:
        for shard in _shards_of(folder / index_name):
            if not exists(folder / shard):
                raise ModelFolderError(
                    f"{folder / shard} is missing: {folder / index_name} lists it as part of the weights. "
                    "The download is incomplete; download the model again (it resumes), or remove the index "
                    "if you meant to keep only another variant."
                )
            check(shard)
            indexed.add(shard)
        complete.add(parsed.variant)

    pickles = [f for f in files if f.endswith(PICKLE_SUFFIXES)]
    if not complete:
        if pickles:
            listed = ", ".join(str(folder / f) for f in pickles)
            raise ModelFolderError(f"{folder} has only pickled weights ({listed}). {_CONVERT_HINT}")
        orphans = [f for f in shards if f not in indexed]
        if orphans:
            raise ModelFolderError(
                f"{folder / orphans[0]} is a weight shard but {folder} has no *.safetensors.index.json that "
                "lists it, so the shards can't be put together. Download the model again."
            )
        others = [f for f in files if f.endswith(OTHER_WEIGHT_SUFFIXES)]
        found = f" (found {', '.join(others)}, a format Pinframe doesn't load)" if others else ""
        raise ModelFolderError(
            f"{folder} has no .safetensors weights for component '{name}' ({library} {class_name}){found}. "
            "Re-download the model in diffusers format with safetensors weights."
        )
    for f in shards:
        # Shards no index mentions are never loaded, but a truncated one still means a broken download.
        if f not in indexed:
            check(f)
    return ComponentReport(
        name=name,
        library=library,
        class_name=class_name,
        role="model",
        weight_files=tuple(sorted(checked)),
        variants=tuple(sorted(complete, key=lambda v: (v is not None, v or ""))),
        weight_bytes=sum(checked.values()),
        ignored_pickles=tuple(pickles),
    )


def _shards_of(index_path: Path) -> list[str]:
    data = read_json(index_path, what="a weight index")
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise ModelFolderError(
            f'{index_path} has no "weight_map", so its shards can\'t be found. The file is damaged; re-download it.'
        )
    return sorted({str(v) for v in weight_map.values()})


def _require_config(folder: Path, names: Iterable[str], component: str, files: list[str] | None = None) -> None:
    """Read the first present config of ``names``; raise naming the expected file when none is there."""
    names = tuple(names)
    present = [n for n in names if (n in files if files is not None else exists(folder / n))]
    if not present:
        expected = folder / names[0] if len(names) == 1 else f"{folder}/({' or '.join(names)})"
        raise ModelFolderError(
            f"{expected} is missing: component '{component}' needs it. Re-download the model, or copy the "
            "complete folder."
        )
    for n in present:
        if n.endswith(".json"):
            read_json(folder / n, what=f"the config of '{component}'")


# engine.loader.validate_bare_model reads a bare model's config.json through this name.
_read_json = read_json
