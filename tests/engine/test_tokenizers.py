"""Tokenizer folders as the real downloads ship them, and each way one goes bad.

DeepFloyd IF and Wan keep their T5 / UMT5 tokenizer as ``spiece.model`` + ``tokenizer_config.json``
(+ ``special_tokens_map.json``) with no ``tokenizer.json``; transformers converts the SentencePiece
model when it loads, which needs the pinned sentencepiece and protobuf packages. The tiny fixtures of
tiny_models.py ship a tokenizer.json instead, so here their tokenizer/ folder is replaced by a real
SentencePiece unigram model trained in memory on a few dozen sentences, and the folders are loaded
and run through the engine's own path (engine.loader.load_backend, load_pipeline).
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import sentencepiece
import torch

from engine.backends.diffusers_common import load_pipeline
from engine.devices import DeviceSettings
from engine.errors import ModelFolderError
from engine.jobs import ClipJob, KeyframeJob, ModelSpec, PinImage
from engine.loader import load_backend
from engine.models.validate import validate_model_folder
from engine.progress import StepReporter
from tests.engine.tiny_models import build_tiny_if, build_tiny_wan

# Tiny models are slower with several threads on a busy machine (see tiny_models.py).
torch.set_num_threads(1)

CPU = DeviceSettings(device="cpu", precision="fp32")
PROMPT = "a man walks in the rain at night"
VOCAB_SIZE = 32
# T5's layout, as the real spiece.model files have it: <pad>=0, </s>=1, <unk>=2, no <s>.
PAD, EOS, UNK = 0, 1, 2
IF_EXTRA_IDS = 100  # DeepFloyd's tokenizer_config.json: extra_ids=100, listed as additional special tokens


def _sentences() -> list[str]:
    subjects = ("a man", "the woman", "a girl", "the dog", "people", "a boy")
    actions = ("walks", "runs", "turns", "stands", "looks up", "opens the door")
    places = ("in the rain", "on the rooftop", "at night", "in the city street", "by the window", "in the snow")
    return [f"{s} {a} {p}" for s, a, p in itertools.islice(itertools.product(subjects, actions, places), 0, None, 4)]


@pytest.fixture(scope="module")
def spiece_bytes() -> bytes:
    """A real SentencePiece unigram model, trained in memory: the bytes of a spiece.model file."""
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(_sentences()),
        model_writer=model,
        model_type="unigram",
        vocab_size=VOCAB_SIZE,
        pad_id=PAD,
        eos_id=EOS,
        unk_id=UNK,
        bos_id=-1,
        minloglevel=2,
    )
    return model.getvalue()


def _spiece_encode(spiece: bytes, text: str) -> list[int]:
    return [*sentencepiece.SentencePieceProcessor(model_proto=spiece).encode(text), EOS]


def use_spiece_tokenizer(folder: Path, spiece: bytes, *, extra_ids: int, max_length: int) -> Path:
    """Replace ``folder``'s tokenizer/ with what the real IF / Wan repos hold: spiece.model and its configs."""
    tokenizer = folder / "tokenizer"
    shutil.rmtree(tokenizer)
    tokenizer.mkdir()
    (tokenizer / "spiece.model").write_bytes(spiece)
    extras = [f"<extra_id_{i}>" for i in range(extra_ids)]
    special = {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}
    config = {
        **special,
        "additional_special_tokens": extras,
        "extra_ids": extra_ids,
        "model_max_length": max_length,
        "sp_model_kwargs": {},
        "tokenizer_class": "T5Tokenizer",
    }
    (tokenizer / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
    (tokenizer / "special_tokens_map.json").write_text(json.dumps({**special, "additional_special_tokens": extras}))
    return folder


def set_tokenizer_class(folder: Path, class_name: str) -> None:
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index["tokenizer"] = ["transformers", class_name]
    index_path.write_text(json.dumps(index, indent=2))


@pytest.fixture(scope="module")
def spiece_if_dir(tmp_path_factory: pytest.TempPathFactory, spiece_bytes: bytes) -> Path:
    folder = build_tiny_if(tmp_path_factory.mktemp("spiece") / "IF-I")
    return use_spiece_tokenizer(folder, spiece_bytes, extra_ids=IF_EXTRA_IDS, max_length=77)


@pytest.fixture(scope="module")
def spiece_wan_dir(tmp_path_factory: pytest.TempPathFactory, spiece_bytes: bytes) -> Path:
    folder = build_tiny_wan(tmp_path_factory.mktemp("spiece") / "Wan-FLF2V")
    # Wan's diffusers export records the Fast name; in transformers 5 it is the same class.
    set_tokenizer_class(folder, "T5TokenizerFast")
    return use_spiece_tokenizer(folder, spiece_bytes, extra_ids=0, max_length=512)


def test_the_tokenizer_folders_hold_no_tokenizer_json(spiece_if_dir: Path, spiece_wan_dir: Path) -> None:
    for folder in (spiece_if_dir, spiece_wan_dir):
        names = sorted(p.name for p in (folder / "tokenizer").iterdir())
        assert names == ["special_tokens_map.json", "spiece.model", "tokenizer_config.json"], names


def test_if_encoder_reads_spiece_model(spiece_if_dir: Path, spiece_bytes: bytes) -> None:
    from diffusers import IFPipeline

    pipe = load_pipeline(IFPipeline, str(spiece_if_dir), CPU, unet=None, safety_checker=None, feature_extractor=None)
    tokenizer = pipe.tokenizer
    # The SentencePiece pieces, then the 100 <extra_id_N>: a tokenizer that missed spiece.model would know
    # only its special tokens and map every word to <unk>.
    assert len(tokenizer) == VOCAB_SIZE + IF_EXTRA_IDS
    ids = tokenizer(PROMPT).input_ids
    assert ids == _spiece_encode(spiece_bytes, PROMPT) and UNK not in ids
    # As in T5, the extra ids count down from the top: <extra_id_0> is the last id.
    assert tokenizer.convert_tokens_to_ids(["<extra_id_99>", "<extra_id_0>"]) == [VOCAB_SIZE, len(tokenizer) - 1]
    # Every id the tokenizer can give has a row in the text encoder's embedding.
    assert len(tokenizer) <= pipe.text_encoder.config.vocab_size


def test_if_with_spiece_tokenizer_generates_through_the_engine(spiece_if_dir: Path, tmp_path: Path) -> None:
    spec = ModelSpec("if", str(spiece_if_dir), "tiny-if-spiece")
    backend = load_backend(spec, DeviceSettings(device="cpu"))
    job = KeyframeJob(spec, PROMPT, (7,), 48, 32, steps=2, negative_prompt="text")
    results = backend.generate(job, tmp_path, StepReporter())
    assert len(results) == 1 and Path(results[0].path).is_file()
    assert backend.encodes == 1
    embeddings, _ = backend.embeddings(PROMPT, "text")
    assert torch.isfinite(embeddings).all()
    # Different words give different T5 states, so the prompt got past the tokenizer as words.
    other, _ = backend.embeddings("the dog opens the door in the snow", "text")
    assert not torch.equal(embeddings, other)


def test_wan_with_spiece_tokenizer_renders_through_the_engine(spiece_wan_dir: Path, spiece_bytes: bytes) -> None:
    spec = ModelSpec("wan", str(spiece_wan_dir), "tiny-wan-spiece")
    backend = load_backend(spec, DeviceSettings(device="cpu"))
    tokenizer = backend.pipe.tokenizer
    assert len(tokenizer) == VOCAB_SIZE
    assert tokenizer(PROMPT).input_ids == _spiece_encode(spiece_bytes, PROMPT)
    assert len(tokenizer) <= backend.pipe.text_encoder.config.vocab_size

    rng = np.random.default_rng(0)
    first, last = (rng.integers(0, 256, (16, 32, 3), dtype=np.uint8) for _ in range(2))
    pins = (PinImage(0, "first.png"), PinImage(4, "last.png"))
    job = ClipJob(spec, 5, 24, 1, 32, 16, pins, prompt=PROMPT, steps=2, work_pixels=32 * 16)
    frames = backend.render(job, [(0, first), (4, last)], StepReporter())
    assert frames.shape == (5, 16, 32, 3) and frames.dtype == np.uint8


# --- folders that are missing or damage their tokenizer files -------------------------------------------------


@pytest.fixture
def broken_if(tmp_path: Path, spiece_if_dir: Path) -> Path:
    """A private copy of the spiece-only IF folder for a test to break."""
    return Path(shutil.copytree(spiece_if_dir, tmp_path / "IF-I"))


def load_fails(folder: Path, *needles: str | Path) -> str:
    """Load ``folder`` the way a keyframe job does; the ModelFolderError must contain every needle."""
    spec = ModelSpec("if", str(folder), "tiny-if")
    with pytest.raises(ModelFolderError) as info:
        backend = load_backend(spec, CPU)
        backend.generate(KeyframeJob(spec, PROMPT, (1,), 48, 32, steps=1), folder.parent, StepReporter())
    message = str(info.value)
    for needle in needles:
        assert str(needle) in message, message
    assert "Re-download" in message or "download the model again" in message, message
    return message


def test_missing_tokenizer_config_is_named(broken_if: Path) -> None:
    config = broken_if / "tokenizer" / "tokenizer_config.json"
    config.unlink()
    load_fails(broken_if, config, "is missing", "'tokenizer'")


def test_missing_spiece_model_is_named(broken_if: Path) -> None:
    spiece = broken_if / "tokenizer" / "spiece.model"
    spiece.unlink()
    load_fails(broken_if, spiece, "is missing", "'tokenizer'", "T5Tokenizer")


def test_vocab_file_of_the_class_the_config_names_is_named(broken_if: Path) -> None:
    # model_index.json leaves the class to AutoTokenizer; tokenizer_config.json says T5Tokenizer, whose
    # vocabulary is spiece.model, but the folder holds some other vocabulary file.
    set_tokenizer_class(broken_if, "AutoTokenizer")
    tokenizer = broken_if / "tokenizer"
    (tokenizer / "spiece.model").rename(tokenizer / "vocab.txt")
    load_fails(broken_if, tokenizer / "spiece.model", "tokenizer_config.json names the class T5Tokenizer")


def test_empty_spiece_model_is_named(broken_if: Path) -> None:
    spiece = broken_if / "tokenizer" / "spiece.model"
    spiece.write_bytes(b"")
    load_fails(broken_if, spiece, "is empty")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"\x00not a sentencepiece model\n" * 20, id="garbage"),
    ],
)
def test_damaged_spiece_model_is_named(broken_if: Path, spiece_bytes: bytes, damage: Callable[[bytes], bytes]) -> None:
    spiece = broken_if / "tokenizer" / "spiece.model"
    spiece.write_bytes(damage(spiece_bytes))
    message = load_fails(broken_if, spiece, "not a valid SentencePiece model")
    assert "tiktoken" not in message


@pytest.mark.parametrize(("module", "package"), [("sentencepiece", "sentencepiece"), ("google.protobuf", "protobuf")])
def test_missing_sentencepiece_packages_are_named(
    broken_if: Path, monkeypatch: pytest.MonkeyPatch, module: str, package: str
) -> None:
    # Without either, transformers falls back to tiktoken and says to install that. A None entry in
    # sys.modules makes the import machinery treat the package as not installed.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ModelFolderError) as info:
        validate_model_folder(broken_if)
    message = str(info.value)
    assert str(broken_if / "tokenizer" / "spiece.model") in message, message
    assert f"{package} isn't installed" in message and "requirements.txt" in message, message


def test_tokenizer_failure_past_validation_names_the_tokenizer_folder(broken_if: Path) -> None:
    # Valid JSON with a "model" section passes validation, but holds no vocabulary: the tokenizers library
    # raises a bare Exception, which used to escape load_pipeline untranslated.
    tokenizer = broken_if / "tokenizer"
    tokenizer_json = {"version": "1.0", "added_tokens": [], "model": {"type": "Unigram", "vocab": []}}
    (tokenizer / "tokenizer.json").write_text(json.dumps(tokenizer_json))
    validate_model_folder(broken_if)
    from diffusers import IFPipeline

    with pytest.raises(ModelFolderError) as info:
        load_pipeline(IFPipeline, str(broken_if), CPU, unet=None, safety_checker=None, feature_extractor=None)
    message = str(info.value)
    assert f"The tokenizer in {tokenizer} (component 'tokenizer', T5Tokenizer)" in message, message
    assert "tokenizer.json" in message and "re-download" in message, message
