"""Check a pipeline's tokenizer folder: a config, a vocabulary its class reads, no damaged file.

Part of :func:`engine.models.validate.validate_model_folder`. transformers reports these problems
badly or not at all, so each is named here, with the file and what to do.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from engine.errors import ModelFolderError
from engine.models.folder_files import check_readable, read_json, stat_size, unreadable

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


def check_tokenizer(folder: Path, name: str, class_name: str, files: list[str], described: str) -> None:
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
        config = read_json(folder / "tokenizer_config.json", what=f"the settings of tokenizer '{name}'")
        if not isinstance(config, dict):
            raise ModelFolderError(
                f"{folder / 'tokenizer_config.json'} should hold a JSON object; the file is damaged. "
                "Re-download the model, or restore the file."
            )
    if has_json:
        data = read_json(folder / "tokenizer.json", what=f"the vocabulary of tokenizer '{name}'")
        if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
            raise ModelFolderError(
                f'{folder / "tokenizer.json"} has no "model" section, so it holds no vocabulary; the file is '
                "damaged. Re-download the model, or restore the file."
            )
    for extra in _TOKENIZER_EXTRA_JSON:
        if extra in files:
            read_json(folder / extra, what=f"the special tokens of tokenizer '{name}'")
    vocabularies = [f for f in files if f in _TOKENIZER_VOCABS or f.endswith((".model", ".tiktoken"))]
    for f in vocabularies:
        check_readable(folder / f)
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
    size = stat_size(path)
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
        raise unreadable(path, err) from err
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
