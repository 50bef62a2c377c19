"""Per-file progress of a whole export: which file, n of m, frames done; and its throttle."""

from __future__ import annotations

from app.export.files import ExportStatus, Progress, Throttle
from app.export.plan import ExportOptions
from app.export.run import REPORT_NAME, export_project
from tests.app.export.project_factory import make_export_project


def test_status_names_every_written_file_in_order_with_its_frames(tmp_path):
    made = make_export_project(tmp_path, handles=2, audio=False)
    formats = frozenset({"movies", "png", "reference", "edl", "pdf", "csv"})
    seen: list[ExportStatus] = []
    report = export_project(made.project, made.media, tmp_path / "out", ExportOptions(formats=formats),
                            on_status=seen.append)  # fmt: skip

    order = list(dict.fromkeys(s.file for s in seen))  # each file once, in the order it was written
    written = [name for name in report.written if name != REPORT_NAME]
    assert order == [name + "/" if name.startswith("png/") else name for name in written]
    assert {s.file_count for s in seen} == {len(written)}
    assert list(dict.fromkeys(s.file_number for s in seen)) == list(range(1, len(written) + 1))

    shots = list(made.project.shots())
    first_movie = [s for s in seen if s.file == "media/001_1A.mov"]
    # Shot 1A has 2 handles each side: 28 frames, counted one by one from 0.
    assert [s.file_done for s in first_movie] == list(range(0, 28 + 1))
    assert {s.file_units for s in first_movie} == {shots[0].duration + 4} and first_movie[0].unit == "frames"
    board = [s for s in seen if s.file.endswith("storyboard.pdf")]
    assert board[-1].file_done == board[-1].file_units == len(shots) and board[-1].unit == "panels"
    reference = [s for s in seen if s.file.endswith("reference.mp4")]
    assert reference[-1].file_done == made.project.running_time
    assert seen[-1].done == seen[-1].total  # the whole export's units add up


def test_a_timeline_is_one_step_and_counts_as_a_file(tmp_path):
    made = make_export_project(tmp_path, audio=False)
    seen: list[ExportStatus] = []
    export_project(made.project, made.media, tmp_path / "out", ExportOptions(formats=frozenset({"edl", "csv"})),
                   on_status=seen.append)  # fmt: skip
    # Asking for an EDL writes the shot movies it points at: 4 movies, the EDL, the CSV.
    assert [s.file for s in seen if s.file_done == 0][-2:] == ["Export Test.edl", "Export Test shot list.csv"]
    assert seen[-1].file_number == seen[-1].file_count == 6


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttle_thins_frames_but_passes_every_file_and_the_end():
    clock = FakeClock()
    passed: list[ExportStatus] = []
    progress = Progress(200, on_status=Throttle(passed.append, interval=0.1, clock=clock), file_count=2)
    for name in ("a.mov", "b.mov"):
        progress.begin(name, file=name, units=100)
        for _ in range(100):
            clock.now += 0.01  # 100 frames a second: a tenth of them may pass
            progress.tick()
    assert 15 <= len(passed) <= 25
    starts = [(s.file, s.file_done) for s in passed if s.file_done == 0]
    assert starts == [("a.mov", 0), ("b.mov", 0)]
    ends = [s for s in passed if s.file_done == s.file_units]
    assert [s.file for s in ends] == ["a.mov", "b.mov"]
    assert passed[-1].done == passed[-1].total == 200


def test_throttle_passes_everything_that_comes_slowly():
    clock = FakeClock()
    passed: list[ExportStatus] = []
    progress = Progress(10, on_status=Throttle(passed.append, interval=0.1, clock=clock), file_count=1)
    progress.begin("movie", file="m.mov", units=10)
    for _ in range(10):
        clock.now += 0.5  # a big frame every half second: each is news
        progress.tick()
    assert [s.file_done for s in passed] == list(range(11))
