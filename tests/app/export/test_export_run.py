"""A whole export, as `pinframe export` runs it: every format, the report, cancel, bad folders."""

from __future__ import annotations

import csv
import re
import threading
import zipfile
from dataclasses import replace

import av
import opentimelineio as otio
import pytest

from app.cli import main
from app.errors import ExportCancelled, ExportError
from app.export.formats import format_keys
from app.export.plan import ExportOptions, build_plan
from app.export.run import REPORT_NAME, export_project
from app.timecode import FrameRate
from app.video import probe
from tests.app.export.project_factory import NUMBERS, make_export_project


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    made = make_export_project(root, FrameRate(24000, 1001), handles=2)
    out = root / "Export für Schnitt"
    code = main([
        "export", str(made.bundle_path), "--to", str(out), "--formats", "all", "--codec", "h264", "--paper", "a4",
    ])  # fmt: skip
    assert code == 0
    return made, out


def test_every_format_is_written_and_reported(exported):
    _made, out = exported
    report = (out / REPORT_NAME).read_text(encoding="utf-8")
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    for suffix in (".xml", ".fcpxml", ".edl", ".otio", ".otioz", " reference.mp4", " storyboard.pdf", " shot list.csv"):
        assert f"Export Test{suffix}" in names, suffix
        assert f"Export Test{suffix}" in report
    movies = sorted(n for n in names if n.startswith("media/"))
    assert movies == [f"media/{i:03d}_{n}.mp4" for i, n in enumerate(NUMBERS, 1)]
    png_dirs = {p.name for p in (out / "png").iterdir()}
    assert png_dirs == {f"{i:03d}_{n}" for i, n in enumerate(NUMBERS, 1)}
    assert not [n for n in names if ".partial" in n]
    # What stood in for what is said: the stale shot and the never-rendered ones.
    assert "pin preview" in report and "slate" in report
    assert "AAF" in report  # written or, for H.264 movies, why not


def test_shot_movies_have_handles_and_the_timelines_agree(exported):
    made, out = exported
    shots = list(made.project.shots())
    for i, shot in enumerate(shots, 1):
        info = probe(out / "media" / f"{i:03d}_{shot.number}.mp4")
        assert info.frame_count == shot.duration + 2 * shot.handles
        assert info.rate == FrameRate(24000, 1001).fps
    timeline = otio.adapters.read_from_file(str(out / "Export Test.otio"))
    clips = list(timeline.find_clips())
    assert [c.name for c in clips] == list(NUMBERS)
    assert [c.source_range.duration.to_frames() for c in clips] == [s.duration for s in shots]
    assert [c.source_range.start_time.to_frames() - c.available_range().start_time.to_frames() for c in clips] == [
        s.handles for s in shots
    ]
    with zipfile.ZipFile(out / "Export Test.otioz") as z:
        assert sum(1 for n in z.namelist() if n.startswith("media/")) == len(shots)


def test_reference_movie_is_the_whole_cut(exported):
    made, out = exported
    info = probe(out / "Export Test reference.mp4")
    assert info.frame_count == made.project.running_time


def test_cancel_leaves_only_whole_files(tmp_path):
    made = make_export_project(tmp_path)
    cancel = threading.Event()
    seen = []

    def progress(done, total, stage):
        seen.append(stage)
        if done >= 30:  # part-way through the second shot's movie
            cancel.set()

    out = tmp_path / "out"
    with pytest.raises(ExportCancelled):
        export_project(made.project, made.media, out, ExportOptions(formats=frozenset(format_keys()) - {"aaf"}),
                       on_progress=progress, cancel=cancel)  # fmt: skip
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in files if "partial" in p.name]
    assert not (out / REPORT_NAME).exists()
    for movie in files:  # what was finished is whole
        assert probe(movie).frame_count > 0


def test_unwritable_destination_is_a_clear_error(tmp_path):
    made = make_export_project(tmp_path, audio=False)
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError, match="a file"):
        export_project(made.project, made.media, blocker / "export", ExportOptions(formats=frozenset({"csv"})))


def test_cli_refuses_unknown_formats(tmp_path, capsys):
    made = make_export_project(tmp_path, audio=False)
    assert main(["export", str(made.bundle_path), "--to", str(tmp_path / "o"), "--formats", "movies,gif"]) == 1
    assert "gif" in capsys.readouterr().err


def test_report_says_what_stood_in_for_a_missing_clip(tmp_path):
    made = make_export_project(tmp_path, audio=False)
    first = next(made.project.shots())
    made.media.path(first.current_clip_take.media).unlink()  # the rendered clip's file is gone
    out = tmp_path / "out"
    report = export_project(made.project, made.media, out, ExportOptions(formats=frozenset({"movies", "csv"})))

    text = (out / REPORT_NAME).read_text(encoding="utf-8")
    sources = text.split("Sources:\n")[1].split("\n\n")[0].splitlines()
    assert sources == [
        "  1A       rendered clip — clip file missing, pin preview exported, see notes",
        "  2        pin preview (no current clip)",
        "  3 Ü      pin preview (no current clip)",
        "  4        slate (no pins)",
    ]
    assert any(n.startswith("shot 1A: the rendered clip") and "missing" in n for n in report.notes)
    with open(out / "Export Test shot list.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["Source"] == "rendered clip — clip file missing, pin preview exported"


def test_missing_clip_is_reported_even_without_pictures_in_the_export(tmp_path):
    made = make_export_project(tmp_path, audio=False)
    made.media.path(next(made.project.shots()).current_clip_take.media).unlink()
    out = tmp_path / "out"
    export_project(made.project, made.media, out, ExportOptions(formats=frozenset({"csv"})))
    text = (out / REPORT_NAME).read_text(encoding="utf-8")
    assert "  1A       rendered clip — clip file missing from the project, see notes" in text


def test_reexport_of_a_shorter_cut_lists_what_the_earlier_one_left(tmp_path):
    made = make_export_project(tmp_path, audio=False)
    out = tmp_path / "out"
    (out).mkdir()
    (out / "my notes.txt").write_text("the editor's own file")
    export_project(made.project, made.media, out, ExportOptions(formats=frozenset({"edl", "png"})))
    # The cut loses its last shot; the second export asks for no PNGs.
    scenes = made.project.scenes
    shorter = replace(made.project, scenes=(scenes[0], replace(scenes[1], shots=scenes[1].shots[:1])))
    report = export_project(shorter, made.media, out, ExportOptions(formats=frozenset({"edl"})))

    assert report.not_ours == ["media/004_4.mov"] + [f"png/{i:03d}_{n}/" for i, n in enumerate(NUMBERS, 1)]
    assert (out / "media" / "004_4.mov").is_file()  # nothing is deleted
    text = (out / REPORT_NAME).read_text(encoding="utf-8")
    listed = text.split("Not from this export (left as they were):\n")[1].split("\n\n")[0].splitlines()
    assert [line.strip() for line in listed] == report.not_ours
    assert "my notes.txt" not in text
    assert any("5 file(s) in this folder were not written by this export" in n for n in report.notes)
    edl = (out / "Export Test.edl").read_text(encoding="utf-8")
    events = [line.split() for line in edl.splitlines() if re.match(r"^\d{3,} ", line)]
    assert len(events) == 3
    # Each movie carries its EDL reel as the tmcd track's name.
    for i, (event, shot) in enumerate(zip(events, shorter.shots(), strict=False), 1):
        with av.open(str(out / "media" / f"{i:03d}_{shot.number}.mov")) as movie:
            assert {s.metadata.get("reel_name") for s in movie.streams.data} == {event[1]}


def test_plan_notes_reach_the_report(tmp_path):
    made = make_export_project(tmp_path, audio=False, handles=2)  # shot 1A's handles start before 00:00:00:00
    out = tmp_path / "out"
    report = export_project(made.project, made.media, out, ExportOptions(formats=frozenset({"csv"})))
    plan_notes = build_plan(made.project, ExportOptions(formats=frozenset({"csv"}))).notes
    assert plan_notes and all(note in report.notes for note in plan_notes)
