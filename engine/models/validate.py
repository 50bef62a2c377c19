"""Check a diffusers model folder before anything loads it.

Loading a half-downloaded or hand-assembled folder fails deep inside diffusers or transformers
with a message about tensors or configs that a person can't act on. Here every problem names
the exact file and says what to do. Weights are only accepted as ``.safetensors``: pickled
weights (``.bin``, ``.pt``, ...) are refused because unpickling can run arbitrary code.

Nothing here loads a tensor. Safetensors files are checked by reading their 8-byte header
length and JSON header, and comparing the byte ranges the header promises with the file size,
which catches truncated downloads without touching the tensor data. Tokenizer folders are checked for
the vocabulary file their class reads; a SentencePiece vocabulary (spiece.model, a few MB) is parsed.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.errors import ModelFolderError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Formats Pinframe doesn't load either, named in the error so the person knows what they have.
OTHER_WEIGHT_SUFFIXES = (".gguf", ".onnx", ".onnx_data", ".msgpack", ".h5", ".pb")
# The safetensors format caps the JSON header at 100 MB; a bigger length means a damaged file.
_MAX_HEADER_BYTES = 100 * 1024 * 1024

_TOKENIZER_CONFIGS = ("tokenizer_config.json", "tokenizer.json")
_TOKENIZER_VOCABS = ("tokenizer.json", "vocab.json", "vocab.txt", "spiece.model", "tokenizer.model")
# The vocabulary file each tokenizer class reads when the folder has no tokenizer.json (transformers'
# ``vocab_files_names``). Without it transformers 5 doesn't fail: a T5Tokenizer missing spiece.model
# loads with only its special tokens and turns every prompt into <unk>. So the file is required by name.
_TOKENIZER_VOCAB_FILE = {
    "T5Tokenizer": "spiece.model",  # T5 (IF, LTX) and UMT5 (Wan)
    "CLIPTokenizer": "vocab.json",
    "LlamaTokenizer": "tokenizer.model",
    "BertTokenizer": "vocab.txt",
    "XLMRobertaTokenizer": "sentencepiece.bpe.model",
}
# Small JSON files transformers also reads when present; a damaged one fails deep in from_pretrained.
_TOKENIZER_EXTRA_JSON = ("special_tokens_map.json", "added_tokens.json")
# Without tokenizer.json transformers reads these as SentencePiece models (needs sentencepiece + protobuf).
_SENTENCEPIECE_FILES = ("spiece.model", "tokenizer.model", "sentencepiece.bpe.model")
_SENTENCEPIECE_MODULES = {"sentencepiece": "sentencepiece", "google.protobuf": "protobuf"}  # module: pip name
_REINSTALL_HINT = (
    "Install Pinframe's pinned dependencies again (./dev.sh setup, or pip install -r requirements.txt "
    "-c constraints.txt)"
)
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
    if not _exists(index_path):
        raise ModelFolderError(
            f"{index_path} is missing, so {root} isn't a diffusers pipeline folder. Choose the folder that "
            "contains model_index.json (the top folder of a model saved with save_pretrained or downloaded "
            "from the Hub in diffusers format)."
        )
    index = _read_json(index_path, what="the pipeline description")
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
    size = _stat_size(path)
    try:
        with path.open("rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise _truncated(path, f"it is only {size} bytes long")
            header_len = int.from_bytes(head, "little")
            if header_len > min(_MAX_HEADER_BYTES, size - 8):
                raise _truncated(path, f"its header claims {header_len} bytes but the file has {size}")
            raw = f.read(header_len)
    except OSError as err:
        raise _unreadable(path, err) from err
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
        raise _truncated(path, f"its tensors need {needed} bytes of data but only {max(data_len, 0)} are there")
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
    if not _exists(file):
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
        raise _unreadable(file, err) from err
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
    if not _exists(folder):
        raise ModelFolderError(f"{folder} is missing: {described}. Re-download the model, or copy the complete folder.")
    if not folder.is_dir():
        raise ModelFolderError(f"{folder} should be a folder: {described}. Re-download the model.")
    files = _list_files(folder)
    role = component_role(class_name)
    if role == "scheduler":
        _require_config(folder, ("scheduler_config.json",), name)
    elif role == "tokenizer":
        _check_tokenizer(folder, name, class_name, files, described)
    elif role == "processor":
        _require_config(folder, _PROCESSOR_CONFIGS, name, files)
    elif role == "config":
        configs = [f for f in files if f.endswith(".json")]
        if not configs:
            raise ModelFolderError(f"{folder} has no config .json file: {described}. Re-download the model.")
        for f in configs:
            _read_json(folder / f, what=f"the config of '{name}'")
    else:
        _require_config(folder, ("config.json",), name)
        return _check_weights(folder, name, library, class_name, files)
    return ComponentReport(name=name, library=library, class_name=class_name, role=role)


def _check_tokenizer(folder: Path, name: str, class_name: str, files: list[str], described: str) -> None:
    """A config, a vocabulary the tokenizer class can read, and no damaged file transformers would open.

    transformers reports these problems badly or not at all: a missing spiece.model loads a tokenizer that
    knows only its special tokens, a damaged one ends in "tiktoken is required", an empty one in
    "The vocabulary is empty". So each is checked here and named.
    """
    has_json = "tokenizer.json" in files
    if "tokenizer_config.json" not in files and not has_json:
        raise ModelFolderError(
            f"{folder / 'tokenizer_config.json'} is missing: {described}, and its tokenizer needs that file for "
            "its class, special tokens and maximum length (there is no tokenizer.json either). Re-download the "
            "model, or copy the complete folder."
        )
    config: Any = {}
    if "tokenizer_config.json" in files:
        config = _read_json(folder / "tokenizer_config.json", what=f"the settings of tokenizer '{name}'")
        if not isinstance(config, dict):
            raise ModelFolderError(
                f"{folder / 'tokenizer_config.json'} should hold a JSON object; the file is damaged. "
                "Re-download the model, or restore the file."
            )
    if has_json:
        data = _read_json(folder / "tokenizer.json", what=f"the vocabulary of tokenizer '{name}'")
        if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
            raise ModelFolderError(
                f'{folder / "tokenizer.json"} has no "model" section, so it holds no vocabulary; the file is '
                "damaged. Re-download the model, or restore the file."
            )
    for extra in _TOKENIZER_EXTRA_JSON:
        if extra in files:
            _read_json(folder / extra, what=f"the special tokens of tokenizer '{name}'")
    vocabularies = [f for f in files if f in _TOKENIZER_VOCABS or f.endswith((".model", ".tiktoken"))]
    for f in vocabularies:
        _check_readable(folder / f)
    if has_json:
        return  # transformers builds the tokenizer from tokenizer.json; the other vocabulary files go unread

    tokenizer_class, from_config = _tokenizer_class(class_name, config)
    expected = _TOKENIZER_VOCAB_FILE.get(tokenizer_class)
    if expected is not None and expected not in files:
        reader = (
            f"its tokenizer_config.json names the class {tokenizer_class}, which" if from_config else tokenizer_class
        )
        raise ModelFolderError(
            f"{folder / expected} is missing: {described}; {reader} reads its vocabulary from {expected} when "
            "the folder has no tokenizer.json. Re-download the model, or copy the complete folder."
        )
    if not vocabularies:
        raise ModelFolderError(
            f"{folder} has no tokenizer vocabulary (one of {', '.join(_TOKENIZER_VOCABS)}): {described}. "
            "Re-download the model."
        )
    for f in vocabularies:
        if f in _SENTENCEPIECE_FILES and (f != "tokenizer.model" or f == expected):
            # A bare tokenizer.model may also be a tiktoken file; only parse it when the class says SentencePiece.
            _check_sentencepiece(folder / f, name)


def _tokenizer_class(class_name: str, config: dict[str, Any]) -> tuple[str, bool]:
    """The class diffusers loads (model_index.json's; tokenizer_config.json's for AutoTokenizer), and whether
    tokenizer_config.json named it. transformers 5 has one class per model: T5TokenizerFast is T5Tokenizer."""
    base = class_name.removesuffix("Fast")
    if base in _TOKENIZER_VOCAB_FILE:
        return base, False
    named = config.get("tokenizer_class")
    if isinstance(named, str) and named:
        return named.removesuffix("Fast"), True
    return base, False


def _check_sentencepiece(path: Path, component: str) -> None:
    """A SentencePiece model that transformers will convert: non-empty, parseable, and convertible here."""
    size = _stat_size(path)
    if size == 0:
        raise ModelFolderError(
            f"{path} is empty, but it should hold the vocabulary of the tokenizer component '{component}'. The "
            "download or copy is incomplete; download the model again, or copy the file again."
        )
    # transformers converts spiece.model with sentencepiece and reads its normalizer with protobuf; without
    # either it falls back to tiktoken and fails with advice to install that, which wouldn't help.
    missing = [package for module, package in _SENTENCEPIECE_MODULES.items() if not _importable(module)]
    if missing:
        raise ModelFolderError(
            f"{path} is a SentencePiece vocabulary and {path.parent} has no tokenizer.json, so loading the "
            f"tokenizer component '{component}' needs the Python packages sentencepiece and protobuf, and "
            f"{' and '.join(missing)} isn't installed. {_REINSTALL_HINT}."
        )
    import sentencepiece

    try:
        data = path.read_bytes()
    except OSError as err:
        raise _unreadable(path, err) from err
    try:
        sentencepiece.SentencePieceProcessor(model_proto=data)
    except (RuntimeError, OSError) as err:
        raise ModelFolderError(
            f"{path} is not a valid SentencePiece model ({size} bytes that don't parse as one), so the tokenizer "
            f"component '{component}' can't be built from it. The file is truncated or damaged; download the "
            "model again, or copy the file again."
        ) from err


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package ("google") raises instead of returning None
        return False


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
            checked[file] = _stat_size(folder / file)

    complete: set[str | None] = set()
    for variant, names in singles.items():
        for f in names:
            check(f)
        complete.add(variant)
    indexed: set[str] = set()
    for index_name, parsed in indexes:
        for shard in _shards_of(folder / index_name):
            if not _exists(folder / shard):
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
    data = _read_json(index_path, what="a weight index")
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        raise ModelFolderError(
            f'{index_path} has no "weight_map", so its shards can\'t be found. The file is damaged; re-download it.'
        )
    return sorted({str(v) for v in weight_map.values()})


def _require_config(folder: Path, names: Iterable[str], component: str, files: list[str] | None = None) -> None:
    """Read the first present config of ``names``; raise naming the expected file when none is there."""
    names = tuple(names)
    present = [n for n in names if (n in files if files is not None else _exists(folder / n))]
    if not present:
        expected = folder / names[0] if len(names) == 1 else f"{folder}/({' or '.join(names)})"
        raise ModelFolderError(
            f"{expected} is missing: component '{component}' needs it. Re-download the model, or copy the "
            "complete folder."
        )
    for n in present:
        if n.endswith(".json"):
            _read_json(folder / n, what=f"the config of '{component}'")


def _read_json(path: Path, *, what: str) -> Any:
    if not _exists(path):
        raise ModelFolderError(f"{path} is missing ({what}). Re-download the model.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ModelFolderError(f"{path} is not text ({what}); the file is damaged. Re-download the model.") from err
    except OSError as err:
        raise _unreadable(path, err) from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ModelFolderError(
            f"{path} is not valid JSON ({err.msg} at line {err.lineno}); it holds {what} and is damaged. "
            "Re-download the model or restore the file."
        ) from err


def _check_readable(path: Path) -> None:
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as err:
        raise _unreadable(path, err) from err


def _list_files(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir() if not p.is_dir())
    except OSError as err:
        raise _unreadable(folder, err) from err


def _stat_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as err:
        raise _unreadable(path, err) from err


def _exists(path: Path) -> bool:
    """Like Path.exists, but a dangling link (a cache file whose blob is gone) reads as a clear error."""
    if path.exists():
        return True
    if path.is_symlink():
        raise _broken_link(path)
    return False


def _broken_link(path: Path) -> ModelFolderError:
    return ModelFolderError(
        f"{path} is a broken link (its target is missing), so the download is incomplete. "
        "Download the model again; it resumes where it stopped."
    )


def _unreadable(path: Path, err: OSError) -> ModelFolderError:
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
            return _broken_link(path)
        return ModelFolderError(f"{path} is missing. Re-download the model, or copy the complete folder.")
    return ModelFolderError(f"Can't read {path}: {err.strerror or err}. Check the disk, then try again.")


def _truncated(path: Path, detail: str) -> ModelFolderError:
    return ModelFolderError(
        f"{path} is truncated or damaged: {detail}. This usually means an interrupted download or copy; "
        "download the model again (it resumes) or copy the file again."
    )
