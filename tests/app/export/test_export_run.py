"""A whole export, as `pinframe export` runs it: every format, the report, cancel, bad folders."""

from __future__ import annotations

import threading
import zipfile

import opentimelineio as otio
import pytest

from app.cli import main
from app.errors import ExportCancelled, ExportError
from app.export.plan import FORMATS, ExportOptions
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
        export_project(made.project, made.media, out, ExportOptions(formats=frozenset(FORMATS) - {"aaf"}),
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
