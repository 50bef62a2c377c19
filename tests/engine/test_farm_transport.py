"""The farm's file transport and version checks, without a cluster."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from engine.errors import EngineError
from engine.farm import transport, versions


def a_folder(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.bin").write_bytes(os.urandom(300_000))
    (root / "sub" / "b.txt").write_text("hello")
    return root


def test_a_packed_folder_unpacks_to_the_same_files_and_damage_is_caught(tmp_path):
    source = a_folder(tmp_path / "out")
    manifest = transport.folder_manifest(source)
    chunks = list(transport.chunks_of(source, manifest, size=65536))
    assert len(chunks) == 5 and all(len(c) <= 65536 for c in chunks)
    assert transport.unpack(manifest, chunks, tmp_path / "back") == 300_005
    assert (tmp_path / "back" / "a.bin").read_bytes() == (source / "a.bin").read_bytes()
    assert (tmp_path / "back" / "sub" / "b.txt").read_text() == "hello"

    damaged = [chunks[0][:-1] + b"\0", *chunks[1:]]
    with pytest.raises(EngineError, match="a.bin arrived from the farm damaged"):
        transport.unpack(manifest, damaged, tmp_path / "again")
    with pytest.raises(EngineError, match="ended early"):
        transport.unpack(manifest, chunks[:2], tmp_path / "short")
    with pytest.raises(EngineError, match="outside its output folder"):
        transport.unpack([("../elsewhere", 1, "x")], [b"x"], tmp_path / "evil")


def test_the_model_hash_ignores_modification_times_but_not_contents(tmp_path):
    model = a_folder(tmp_path / "model")
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)  # copytree keeps mtimes; change them on purpose
    os.utime(copy / "a.bin", (1, 1))
    assert versions.folder_hash(copy) == versions.folder_hash(model)
    data = bytearray((copy / "a.bin").read_bytes())
    data[10] ^= 1  # another checkpoint of the same size
    (copy / "a.bin").write_bytes(bytes(data))
    assert versions.folder_hash(copy) != versions.folder_hash(model)


def test_a_version_mismatch_names_the_node_and_the_package():
    mine = {"Pinframe": "1.0.0", "diffusers": "0.35.0", "torch": "2.8.0"}
    assert versions.mismatch("node-3", dict(mine), mine) == ""
    assert versions.mismatch("node-3", {**mine, "Pinframe": "0.9.0"}, mine) == (
        "node-3 runs Pinframe 0.9.0, this machine 1.0.0: install the same version there"
    )
    assert versions.mismatch("node-5", {**mine, "torch": "2.7.1"}, mine).startswith("node-5 runs torch 2.7.1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-vram", "0"], "--min-vram 0 is out of range; use 1 to 4096 GB"),
        (["--gpu-type", "H 100"], "--gpu-type 'H 100' is not an accelerator type"),
    ],
)
def test_the_farm_options_are_range_checked(tmp_path, capsys, args, message):
    from main import main

    with pytest.raises(SystemExit) as exited:
        main(["render", str(tmp_path / "S.pinframe"), "--ray", "auto", *args])
    assert exited.value.code == 2 and message in capsys.readouterr().err
