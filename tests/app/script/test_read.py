"""read_script: the parser picked by extension, encodings, and clear errors for bad input."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from app.errors import PinframeError, ScriptError
from app.script.read import (
    MAX_SCRIPT_BYTES,
    FileTooBig,
    NotARegularFile,
    read_limited,
    read_script,
    read_script_text,
)
from tests.helpers import png_bytes

SCRIPTS = Path(__file__).resolve().parents[2] / "data" / "scripts"
UNICODE = SCRIPTS / "unicode_names.fountain"


def test_extensions_pick_the_parser(tmp_path: Path) -> None:
    text = UNICODE.read_text(encoding="utf-8")
    expected = read_script(UNICODE)
    for suffix in (".spmd", ".txt", ".FOUNTAIN"):
        copy = tmp_path / f"script{suffix}"
        copy.write_text(text, encoding="utf-8")
        assert read_script(copy) == expected
    assert read_script(SCRIPTS / "last_train.fdx").source_format == "fdx"


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_marks_and_windows_line_endings(tmp_path: Path, bom: bytes, codec: str) -> None:
    text = UNICODE.read_text(encoding="utf-8").replace("\n", "\r\n")
    path = tmp_path / "script.fountain"
    path.write_bytes(bom + text.encode(codec))
    # Same scenes, shots and line numbers as the plain UTF-8 file.
    assert read_script(path) == read_script(UNICODE)


def test_fdx_in_the_encoding_it_declares(tmp_path: Path) -> None:
    path = tmp_path / "cafe.fdx"
    path.write_bytes(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<FinalDraft><Content>'
        '<Paragraph Type="Scene Heading"><Text>INT. CAFÉ - DAY</Text></Paragraph>'
        '<Paragraph Type="Action"><Text>Crème brûlée.</Text></Paragraph></Content></FinalDraft>'.encode("latin-1")
    )
    doc = read_script(path)
    assert doc.scenes[0].heading == "INT. CAFÉ - DAY"
    assert doc.scenes[0].shots[0].action == "Crème brûlée."


def test_undecodable_text_names_the_line_and_offset() -> None:
    path = SCRIPTS / "bad" / "latin1.fountain"
    with pytest.raises(ScriptError) as err:
        read_script(path)
    message = str(err.value)
    assert message.startswith(f"{path} line 1: byte 0xC9 at offset 8 is not valid UTF-8 text.")
    assert "Windows-1252" in message and "Save the script as UTF-8" in message
    assert err.value.line == 1


def test_bad_byte_on_a_later_line(tmp_path: Path) -> None:
    path = tmp_path / "late.fountain"
    path.write_bytes(b"INT. HALL - DAY\n\nAll fine here.\n\nBut not \xff here.\n")
    with pytest.raises(ScriptError, match=r"late\.fountain line 5: byte 0xFF at offset 41 "):
        read_script(path)


def test_empty_and_blank_files(tmp_path: Path) -> None:
    for name, data in (("empty.fountain", b""), ("blank.fountain", b"\n  \n\t\n"), ("bom.fdx", codecs.BOM_UTF8)):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ScriptError, match=rf"{name} is empty"):
            read_script(path)
    with pytest.raises(ScriptError, match="preview is empty"):
        read_script_text("\ufeff \n", "fountain", "preview")


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.fountain"
    with path.open("wb") as f:  # sparse: no 20 MB written to disk
        f.truncate(MAX_SCRIPT_BYTES + 1)
    with pytest.raises(ScriptError, match=r"huge\.fountain is 20\.0 MB; Pinframe reads screenplays up to 20 MB"):
        read_script(path)
    with pytest.raises(ScriptError, match="up to 20 MB"):
        read_script_text("x" * (MAX_SCRIPT_BYTES + 1), "fountain")


@pytest.mark.skipif(not Path("/dev/zero").is_char_device() or not hasattr(os, "mkfifo"), reason="POSIX devices")
@pytest.mark.timeout(20)  # reading /dev/zero or opening a FIFO without a writer never ended
def test_devices_and_pipes_are_refused_without_reading_them(tmp_path: Path) -> None:
    zero = tmp_path / "endless.fountain"
    zero.symlink_to("/dev/zero")  # its size says 0 bytes; reading it never ends
    with pytest.raises(ScriptError, match=r"endless\.fountain is a device, not a file; .* Pick the script file"):
        read_script(zero)
    fifo = tmp_path / "pipe.fdx"
    os.mkfifo(fifo)  # opening it waits for a writer that never comes
    with pytest.raises(ScriptError, match=r"pipe\.fdx is a named pipe \(FIFO\), not a file"):
        read_script(fifo)
    with pytest.raises(NotARegularFile):
        read_limited(zero, 10)


def test_reads_stop_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "small.fountain"
    path.write_bytes(b"x" * 100)
    assert read_limited(path, 100) == b"x" * 100
    with pytest.raises(FileTooBig):
        read_limited(path, 99)


def test_missing_file_folder_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"nope\.fountain was not found"):
        read_script(tmp_path / "nope.fountain")
    folder = tmp_path / "folder.fountain"
    folder.mkdir()
    with pytest.raises(ScriptError, match="is a folder"):
        read_script(folder)
    doc = tmp_path / "script.docx"
    doc.write_bytes(b"PK\x03\x04")
    with pytest.raises(ScriptError, match=r"has the extension '\.docx'; Pinframe imports screenplays ending in"):
        read_script(doc)


def test_an_image_renamed_fountain(tmp_path: Path) -> None:
    path = tmp_path / "storyboard.fountain"
    path.write_bytes(png_bytes(1))
    with pytest.raises(ScriptError, match=r"storyboard\.fountain is a PNG image, not a screenplay\. Export"):
        read_script(path)


def test_binary_data_with_zero_bytes(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"INT. HALL\x00\x01\x02")
    with pytest.raises(ScriptError, match=r"binary data \(a zero byte at offset 9\)"):
        read_script(path)


def test_json_and_prose_are_not_screenplays() -> None:
    with pytest.raises(ScriptError, match=r"settings\.json\.fountain is JSON data, not a screenplay"):
        read_script(SCRIPTS / "bad" / "settings.json.fountain")
    with pytest.raises(ScriptError, match=r"prose\.txt doesn't look like a screenplay: it has no scene headings"):
        read_script(SCRIPTS / "bad" / "prose.txt")


def test_final_draft_file_with_a_fountain_extension(tmp_path: Path) -> None:
    path = tmp_path / "last_train.fountain"
    path.write_bytes((SCRIPTS / "last_train.fdx").read_bytes())
    with pytest.raises(ScriptError, match="rename it to end in .fdx"):
        read_script(path)


def test_fdx_without_scenes_or_dialogue() -> None:
    text = '<FinalDraft><Content><Paragraph Type="Action"><Text>Just words.</Text></Paragraph></Content></FinalDraft>'
    with pytest.raises(ScriptError, match="no Scene Heading and no Dialogue paragraphs"):
        read_script_text(text, "fdx", "words.fdx")


def test_dialogue_without_headings_is_still_a_screenplay() -> None:
    doc = read_script_text("ANNA\nHello?\n\nBEN\nHi.\n", "fountain", "sketch")
    assert [d.character for d in doc.scenes[0].shots[0].dialogue] == ["ANNA", "BEN"]


def test_read_script_text_for_previews() -> None:
    text = (SCRIPTS / "last_train.fountain").read_text(encoding="utf-8")
    assert read_script_text(text, "fountain") == read_script(SCRIPTS / "last_train.fountain")
    with pytest.raises(ScriptError, match="unknown script format 'pdf'"):
        read_script_text(text, "pdf")


def test_every_bad_input_is_a_pinframe_error() -> None:
    # The CLI and the GUI catch PinframeError and show its message: no traceback for bad input.
    for path in sorted((SCRIPTS / "bad").iterdir()):
        with pytest.raises(PinframeError):
            read_script(path)


def test_pathological_lines_are_fast_or_refused() -> None:
    # Long lines that made fountain-py's patterns quadratic read in linear time...
    for line in ("ANNA" + " " * 200_000 + "x", "@a" + " " * 200_000 + "(x", "[[ " * 50_000, "INT. A " + " " * 200_000):
        read_script_text(f"INT. HALL - DAY\n\n{line}\n\nANNA\nHi.\n", "fountain")
    # ...and a line the parser can't follow is a clear error, not a RecursionError.
    with pytest.raises(ScriptError, match=r"big\.fountain line 3 has 5000 boneyard comments"):
        read_script_text("INT. HALL - DAY\n\n" + "a/*b*/" * 5000 + "\n", "fountain", "big.fountain")
