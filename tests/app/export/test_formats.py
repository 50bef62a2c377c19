"""The export-format table is the one list: the CLI, the runner and the README are views of it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.cli import build_parser
from app.cli import export as cli_export
from app.errors import ExportError
from app.export import formats
from app.export.formats import ExportFormat, WriteJob, export_formats, format_keys, readme_table
from app.export.plan import MOVIE_CODECS, ExportOptions
from app.export.run import REPORT_NAME, export_project
from tests.app.export.project_factory import make_export_project

README = Path(__file__).resolve().parents[3] / "README.md"

# A format the table doesn't have, written by write_note below.
NOTE = ExportFormat(
    "note", "Plain-text note", "file", "{stem} note.txt", f"{__name__}:write_note",
    about="a note", audience="tests",
)  # fmt: skip


def write_note(job: WriteJob) -> list[str]:
    job.path.write_text(f"{job.plan.name}: {len(job.plan.shots)} shots\n", encoding="utf-8")
    return [f"{job.path.name}: a note"]


def export_options_action():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    export = sub.choices["export"]
    return next(a for a in export._actions if a.dest == "formats")


def test_the_table_is_well_formed():
    table = export_formats()
    keys = [f.key for f in table]
    assert len(keys) == len(set(keys)), "two formats share a key"
    option_fields = {f.name for f in dataclasses.fields(ExportOptions)} - {"formats"}
    for fmt in table:
        assert set(fmt.options) <= option_fields, f"{fmt.key} reads options ExportOptions doesn't have"
        assert callable(fmt.load_writer()), f"{fmt.key}'s writer {fmt.writer} doesn't import"
        assert fmt.about and fmt.audience, f"{fmt.key} needs the README's what and for"
    cut_files = [f.file_name("X") for f in table if f.kind != "shot"]
    assert len(cut_files) == len(set(cut_files)), "two formats write the same file"
    assert ExportOptions().formats == frozenset(f.key for f in table if f.default)


def test_the_cli_offers_the_table():
    action = export_options_action()
    keys = format_keys()
    assert action.default == ",".join(f.key for f in export_formats() if f.default)
    assert f"from: {', '.join(keys)}, or 'all'" in action.help
    assert cli_export.parse_formats("all") == frozenset(keys)


def test_the_readme_table_is_the_manifest():
    readme = README.read_text(encoding="utf-8")
    start = readme.index("<!-- export formats")
    table = readme[readme.index("\n", start) + 1 : readme.index("<!-- end export formats -->")].strip()
    assert table == readme_table(), (
        "the README's export table is not the manifest's: run `python -c \"from app.export.formats import "
        'readme_table; print(readme_table())"` and paste it between the export formats markers'
    )
    for fmt in export_formats():
        assert f"| `{fmt.key}` |" in table


def test_not_from_this_export_knows_every_top_level_file():
    suffixes = formats.top_level_extensions(ext for _label, ext in MOVIE_CODECS.values())
    assert {".mov", ".mp4", ".mxf", ".xml", ".fcpxml", ".edl", ".otio", ".otioz", ".aaf", ".pdf", ".csv"} == suffixes


def test_a_timeline_brings_the_shot_movies():
    assert [f.key for f in formats.written({"edl"})] == ["movies", "edl"]
    assert ExportOptions(formats=frozenset({"aaf"})).writes_movies
    assert not ExportOptions(formats=frozenset({"csv", "pdf"})).writes_movies
    assert formats.options_read({"pdf"}) == {"paper", "panels_per_row"}
    assert "codec" in formats.options_read({"edl"})  # through the movies it links


def test_a_new_format_is_one_entry_and_one_writer(monkeypatch, tmp_path):
    assert "note" not in format_keys()
    with pytest.raises(ExportError, match="unknown export format"):
        ExportOptions(formats=frozenset({"note"}))
    monkeypatch.setattr(formats, "EXPORT_FORMATS", (*formats.EXPORT_FORMATS, NOTE))

    action = export_options_action()
    assert "note, or 'all'" in action.help
    assert "note" in cli_export.parse_formats("all")
    assert "| `note` | `NAME note.txt` | a note | tests |" in readme_table()

    made = make_export_project(tmp_path, audio=False)
    report = export_project(made.project, made.media, tmp_path / "out", ExportOptions(formats=frozenset({"note"})))
    assert report.written == ["Export Test note.txt", REPORT_NAME]
    assert (tmp_path / "out" / "Export Test note.txt").read_text(encoding="utf-8") == "Export Test: 4 shots\n"
    assert "Export Test note.txt: a note" in report.notes
