"""Timeline files (FCP7 XML, EDL, .otio, .otioz, AAF) written and read back by OpenTimelineIO.

Every case exports real movies into a folder whose path has spaces and non-ASCII letters,
writes each timeline, reads it back with the same adapter, and compares it with the plan:
shot order, clip names, source and record points, total length, markers and media paths.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from app.document import Project, Scene, Shot, new_id
from app.errors import ExportError
from app.export.otio_aaf import aaf_refusal
from app.export.otio_timeline import build_timeline, clip_source_in
from app.export.plan import ExportOptions, ExportPlan, build_plan, day_frames
from app.export.timelines import edl_ascii, edl_reel_name, write_aaf, write_edl, write_fcp7, write_otio, write_otioz
from app.timecode import FrameRate, timecode_to_frames
from app.video import encode_frames
from tests.app.export.project_factory import clip_frame, make_export_project

# Apple's xmeml DTD, copied from the team's shared reference folder (see SOURCES.md there).
DTD = Path(__file__).resolve().parents[2] / "data" / "xmeml" / "xmeml_v4.dtd"


@dataclass(frozen=True)
class Case:
    rate: FrameRate
    start: str  # record timecode of the cut's first frame
    drop_frame: bool = False
    handles: int | None = None  # None: the factory's per-shot handles (2 frames on shot 1A only)

    @property
    def id(self) -> str:
        return f"{self.rate}{'-df' if self.drop_frame else ''}"


CASES = [
    # Starts at 00:00:00:00 with 2 handles on shot 1A: its movie starts on the previous day (23:59:59:22).
    Case(FrameRate(24), "00:00:00:00"),
    Case(FrameRate(25), "10:00:00:00", handles=3),
    Case(FrameRate(24000, 1001), "01:00:00:00"),
    Case(FrameRate(30000, 1001), "01:00:00:00", handles=1),
    Case(FrameRate(30000, 1001), "01:00:00;00", drop_frame=True, handles=2),
]


@dataclass
class Export:
    plan: ExportPlan
    export_dir: Path
    case: Case


def make_export(root: Path, case: Case, codec: str = "h264", width: int = 128, height: int = 72) -> Export:
    start = timecode_to_frames(case.start, case.rate, drop_frame=case.drop_frame)
    ep = make_export_project(root, case.rate, width=width, height=height, handles=2,
                             drop_frame=case.drop_frame, start_frame=start, audio=False)  # fmt: skip
    plan = build_plan(ep.project, ExportOptions(codec=codec, handles=case.handles))
    export_dir = root / "Über Export" / "my cut"
    for shot in plan.shots:
        movie = export_dir / plan.movie_file(shot)
        movie.parent.mkdir(parents=True, exist_ok=True)
        frames = (clip_frame(i, width, height) for i in range(shot.media_frames))
        if codec == "dnxhr":
            _encode_dnxhr(frames, movie, case.rate.fps, width, height)
        else:
            encode_frames(frames, movie, case.rate.fps)
    return Export(plan, export_dir, case)


def _encode_dnxhr(frames, path: Path, rate: Fraction, width: int, height: int) -> None:
    """A DNxHR HQ .mxf like the movie writer's (PyAV, OP1a)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("dnxhd", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv422p"
        stream.time_base = 1 / rate
        stream.options = {"profile": "dnxhr_hq"}
        for i, frame in enumerate(frames):
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            video_frame.pts = i
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c.id)
def export(request, tmp_path_factory) -> Export:
    return make_export(tmp_path_factory.mktemp("tl"), request.param)


def frames(t: otio.opentime.RationalTime) -> int:
    value = t.to_frames()
    assert value == t.value, f"{t} is not a whole frame"
    return value


def check_record_points(timeline: otio.schema.Timeline, plan: ExportPlan, ascii_names: bool = False) -> None:
    clips = list(timeline.find_clips())
    # An EDL is 7-bit ASCII (issue 18): its clip names are the shot numbers transliterated.
    assert [c.name for c in clips] == [edl_ascii(s.number) if ascii_names else s.number for s in plan.shots]
    previous_out = 0
    for clip, shot in zip(clips, plan.shots, strict=True):
        record = clip.range_in_parent()
        assert frames(record.start_time) == previous_out == shot.record_in
        assert frames(record.duration) == shot.duration
        previous_out = frames(record.end_time_exclusive())
    assert previous_out == frames(timeline.duration()) == sum(s.duration for s in plan.shots)


def check_media(clip: otio.schema.Clip, export: Export, shot) -> None:
    plan = export.plan
    url = clip.media_reference.target_url
    assert url.isascii() and " " not in url, url  # percent-encoded
    path = Path(otio.url_utils.filepath_from_url(url))
    assert path == export.export_dir / plan.movie_file(shot)
    assert path.is_file()
    available = clip.media_reference.available_range
    assert frames(available.start_time) == plan.source_start(shot)
    assert frames(available.duration) == shot.media_frames


# --- the model -------------------------------------------------------------------------


def test_timeline_frames_round_trip_exactly(export: Export) -> None:
    plan = export.plan
    timeline = build_timeline(plan, export.export_dir)
    assert frames(timeline.global_start_time) == plan.start_frame
    check_record_points(timeline, plan)
    assert any(s.handles for s in plan.shots)
    for clip, shot in zip(timeline.find_clips(), plan.shots, strict=True):
        assert frames(clip.source_range.start_time) == plan.source_start(shot) + shot.handles
        assert frames(clip.source_range.duration) == shot.duration
        check_media(clip, export, shot)
        assert clip.metadata["pinframe"]["dialogue"] == shot.shot.dialogue


@pytest.mark.parametrize("rate", [FrameRate(24000, 1001), FrameRate(30000, 1001)], ids=str)
def test_ntsc_frame_counts_survive_otio_json(rate: FrameRate) -> None:
    # A float rate must never turn a frame count into a neighbour, even a day into the cut.
    counts = [0, 1, 1001, 107892, 2_589_410, day_frames(rate, False) - 1]
    serialized = otio.adapters.write_to_string(
        otio.schema.Marker(metadata={"t": [otio.opentime.RationalTime(n, rate.num / rate.den) for n in counts]}),
        adapter_name="otio_json",
    )
    marker = otio.adapters.read_from_string(serialized, adapter_name="otio_json")
    back = marker.metadata["t"]
    assert [t.to_frames() for t in back] == counts
    assert [t.rate for t in back] == [rate.num / rate.den] * len(counts)


# --- OpenTimelineIO files --------------------------------------------------------------


def test_otio_file_reads_back(export: Export, tmp_path: Path) -> None:
    plan = export.plan
    target = tmp_path / "cut.otio"
    assert write_otio(plan, export.export_dir, target)
    timeline = otio.adapters.read_from_file(str(target))
    assert frames(timeline.global_start_time) == plan.start_frame
    check_record_points(timeline, plan)
    for clip, shot in zip(timeline.find_clips(), plan.shots, strict=True):
        check_media(clip, export, shot)
        assert frames(clip.source_range.start_time) == clip_source_in(plan, shot)
        got = [(frames(m.marked_range.start_time), m.name, m.comment, m.color) for m in clip.markers]
        colors = {"pin": "GREEN", "note": "BLUE", "dialogue": "YELLOW"}
        want = [(clip_source_in(plan, shot) + m.frame, m.name, m.comment, colors[m.kind]) for m in shot.markers]
        assert got == want
        assert clip.metadata["pinframe"]["notes"] == shot.shot.notes
        assert clip.metadata["pinframe"]["action"] == shot.shot.action


def test_otioz_bundles_the_movies(export: Export, tmp_path: Path) -> None:
    plan = export.plan
    target = tmp_path / "cut.otioz"
    write_otioz(plan, export.export_dir, target)
    with zipfile.ZipFile(target) as z:
        names = set(z.namelist())
    movies = {f"media/{Path(plan.movie_file(s)).name}" for s in plan.shots}
    assert movies <= names and "content.otio" in names

    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    timeline = otio.adapters.read_from_file(str(target), extract_to_directory=str(unpacked))
    check_record_points(timeline, plan)
    for clip, shot in zip(timeline.find_clips(), plan.shots, strict=True):
        inside = unpacked / otio.url_utils.filepath_from_url(clip.media_reference.target_url)
        original = export.export_dir / plan.movie_file(shot)
        assert inside.read_bytes() == original.read_bytes()
        assert frames(clip.source_range.start_time) == clip_source_in(plan, shot)
        assert [m.name for m in clip.markers] == [m.name for m in shot.markers]


# --- FCP7 XML --------------------------------------------------------------------------


@cache
def xmeml_dtd() -> dict[str, tuple[frozenset[str], bool]]:
    """Element -> (allowed child elements, text allowed), from Apple's xmeml v4 DTD.

    All but two content models in it are ``(a | b | ...)*``, so the set of allowed children
    is the whole structural rule; attributes are not checked (real writers add undeclared ones).
    """
    text = DTD.read_text()
    rules = {}
    for name, model in re.findall(r"<!ELEMENT\s+(\S+)\s+(.*?)>", text, re.S):
        words = set(re.findall(r"#?[A-Za-z_][\w.-]*", model))
        rules[name] = (frozenset(w for w in words if not w.startswith("#") and w != "EMPTY"), "#PCDATA" in words)
    return rules


def dtd_errors(element: ET.Element, path: str = "") -> list[str]:
    rules = xmeml_dtd()
    here = f"{path}/{element.tag}"
    if element.tag not in rules:
        return [f"{here}: undeclared element"]
    children, text_ok = rules[element.tag]
    errors = []
    if not text_ok and (element.text or "").strip():
        errors.append(f"{here}: text not allowed")
    for child in element:
        if child.tag not in children:
            errors.append(f"{here}: <{child.tag}> not allowed")
        errors += dtd_errors(child, here)
    return errors


def test_fcp7_xml_reads_back_and_fits_the_dtd(export: Export, tmp_path: Path) -> None:
    plan = export.plan
    target = tmp_path / "cut.xml"
    write_fcp7(plan, export.export_dir, target)

    root = ET.parse(target).getroot()
    assert dtd_errors(root) == []
    sequence = root.find("./project/children/sequence")
    assert int(sequence.findtext("duration")) == plan.length
    ntsc = "TRUE" if plan.rate.is_ntsc else "FALSE"
    assert (sequence.findtext("rate/timebase"), sequence.findtext("rate/ntsc")) == (str(plan.rate.timebase), ntsc)
    sc = sequence.find("media/video/format/samplecharacteristics")
    assert (sc.findtext("width"), sc.findtext("height")) == ("128", "72")
    assert (sc.findtext("rate/timebase"), sc.findtext("rate/ntsc")) == (str(plan.rate.timebase), ntsc)
    seq_tc = sequence.find("timecode")
    assert seq_tc.findtext("string") == export.case.start
    assert seq_tc.findtext("displayformat") == ("DF" if plan.drop_frame else "NDF")
    for item, shot in zip(sequence.iterfind("media/video/track/clipitem"), plan.shots, strict=True):
        assert int(item.findtext("in")) == shot.handles
        assert int(item.findtext("out")) == shot.handles + shot.duration
        assert int(item.findtext("duration")) == int(item.findtext("file/duration")) == shot.media_frames
        assert item.findtext("file/timecode/string") == plan.timecode(plan.source_start(shot))
        assert item.find("file/media/audio") is None  # the shot movies are silent
        movie_sc = item.find("file/media/video/samplecharacteristics")
        assert (movie_sc.findtext("width"), movie_sc.findtext("height")) == ("128", "72")
        markers = [(int(m.findtext("in")), m.findtext("name"), m.findtext("comment")) for m in item.iter("marker")]
        assert markers == [(shot.handles + m.frame, m.name, m.comment or None) for m in shot.markers]

    timeline = otio.adapters.read_from_file(str(target), adapter_name="fcp_xml")
    assert frames(timeline.global_start_time) == plan.start_frame
    check_record_points(timeline, plan)
    for clip, shot in zip(timeline.find_clips(), plan.shots, strict=True):
        check_media(clip, export, shot)
        assert frames(clip.source_range.start_time) == clip_source_in(plan, shot)
        assert frames(clip.source_range.duration) == shot.duration
        # FCP7 counts clip markers from the start of the media, like the clip's <in>.
        got = [(frames(m.marked_range.start_time), m.name, m.metadata["fcp_xml"].get("comment")) for m in clip.markers]
        assert got == [(shot.handles + m.frame, m.name, m.comment or None) for m in shot.markers]


# --- CMX3600 EDL -----------------------------------------------------------------------


def test_edl_reads_back_with_locators_and_frame_mode(export: Export, tmp_path: Path) -> None:
    plan = export.plan
    target = tmp_path / "cut.edl"
    write_edl(plan, export.export_dir, target)
    text = target.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[1] == ("FCM: DROP FRAME" if plan.drop_frame else "FCM: NON-DROP FRAME")
    # Drop-frame labels (';') only where the plan asks for them.
    assert (";" in text) == plan.drop_frame

    events = [line for line in lines if re.match(r"^\d{3} ", line)]
    assert len(events) == len(plan.shots)
    previous_rec_out = None
    for number, (line, shot) in enumerate(zip(events, plan.shots, strict=True), start=1):
        fields = line.split()
        assert fields[0] == f"{number:03d}"
        reel = edl_reel_name(plan, shot)
        assert fields[1] == reel and re.fullmatch(r"[A-Z0-9]{1,8}", reel)
        src_in, src_out, rec_in, rec_out = fields[4:8]
        start = clip_source_in(plan, shot)
        assert (src_in, src_out) == (plan.timecode(start), plan.timecode(start + shot.duration))
        assert (rec_in, rec_out) == (plan.record_timecode(shot.record_in), plan.record_timecode(shot.record_out))
        assert previous_rec_out in (None, rec_in)
        previous_rec_out = rec_out
    assert events[0].split()[6] == export.case.start
    assert len({edl_reel_name(plan, s) for s in plan.shots}) == len(plan.shots)

    blocks = re.split(r"(?m)^(?=\d{3} )", text)[1:]
    for block, shot in zip(blocks, plan.shots, strict=True):
        assert f"* FROM CLIP NAME:  {edl_ascii(shot.number)}\n" in block
        locs = re.findall(r"(?m)^\* LOC: (\S+) (\w+)\s+(.*)$", block)
        want = [
            (plan.timecode(clip_source_in(plan, shot) + m.frame), f"{m.name}: {m.comment}".upper())
            for m in shot.markers
        ]
        assert [(tc, comment) for tc, _color, comment in locs] == want

    fps = plan.rate.num / plan.rate.den
    timeline = otio.adapters.read_from_file(str(target), adapter_name="cmx_3600", rate=fps)
    check_record_points(timeline, plan, ascii_names=True)
    day = day_frames(plan.rate, plan.drop_frame)
    for clip, shot in zip(timeline.find_clips(), plan.shots, strict=True):
        # EDL labels wrap at 24 hours; the movie of a shot starting at midnight begins the day before.
        assert frames(clip.source_range.start_time) == clip_source_in(plan, shot) % day
        assert frames(clip.source_range.duration) == shot.duration
        check_media_url(clip.media_reference.target_url, export, shot)
        if not plan.drop_frame:  # the adapter's locator reader only knows ':' timecode
            got = [(frames(m.marked_range.start_time), m.name) for m in clip.markers]
            want = [
                ((clip_source_in(plan, shot) + m.frame) % day, f"{m.name}: {m.comment}".upper()) for m in shot.markers
            ]
            assert got == want


def check_media_url(url: str, export: Export, shot) -> None:
    assert url.isascii() and " " not in url
    assert Path(otio.url_utils.filepath_from_url(url)) == export.export_dir / export.plan.movie_file(shot)


# --- failures --------------------------------------------------------------------------


@pytest.mark.parametrize("writer", [write_fcp7, write_edl, write_otio, write_otioz], ids=lambda w: w.__name__)
def test_missing_movie_is_an_error_and_leaves_no_file(export: Export, tmp_path: Path, writer) -> None:
    plan = export.plan
    empty = tmp_path / "no movies"
    target = tmp_path / "cut.timeline"
    with pytest.raises(ExportError, match=f"movie of shot {plan.shots[0].number}"):
        writer(plan, empty, target)
    assert list(tmp_path.iterdir()) == []


# --- AAF -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dnxhr_export(tmp_path_factory) -> Export:
    # DNxHR needs at least 256 pixels across.
    case = Case(FrameRate(25), "10:00:00:00", handles=2)
    return make_export(tmp_path_factory.mktemp("aaf"), case, codec="dnxhr", width=256, height=144)


def test_aaf_embeds_dnxhr_and_reads_back(dnxhr_export: Export, tmp_path: Path) -> None:
    import aaf2

    plan = dnxhr_export.plan
    target = tmp_path / "cut.aaf"
    report = write_aaf(plan, dnxhr_export.export_dir, target)
    assert "embedded" in report[0]
    assert [p.name for p in tmp_path.iterdir()] == ["cut.aaf"]  # the raw essence copies are gone

    timeline = otio.adapters.read_from_file(str(target), adapter_name="AAF")
    assert frames(timeline.global_start_time) == plan.start_frame
    check_record_points(timeline, plan)
    for clip, shot in zip(timeline.find_clips(), plan.shots, strict=True):
        assert frames(clip.source_range.start_time) == clip_source_in(plan, shot)
        assert frames(clip.source_range.duration) == shot.duration

    dnxhr_hq = aaf2.auid.AUID("04010202-7126-0000-060e-2b340401010d")
    with aaf2.open(str(target)) as f:
        assert len(list(f.content.essencedata)) == len(plan.shots)
        composition = next(f.content.toplevel())
        picture = next(s for s in composition.slots if s.media_kind == "Picture")
        assert picture.edit_rate == 25
        for clip, shot in zip(picture.segment.components, plan.shots, strict=True):
            master = clip.mob
            assert master.name == shot.number
            assert clip.start == shot.handles and clip.length == shot.duration
            slot = master.slots[0]
            assert (slot["MarkIn"].value, slot["MarkOut"].value) == (shot.handles, shot.handles + shot.duration)
            file_mob = slot.segment.mob
            descriptor = file_mob.descriptor
            assert descriptor["Compression"].value == dnxhr_hq
            assert descriptor["SampleRate"].value == 25
            assert descriptor["Length"].value == shot.media_frames
            assert (descriptor["StoredWidth"].value, descriptor["StoredHeight"].value) == (256, 144)
            tape_clip = file_mob.slots[0].segment
            assert tape_clip.start == plan.source_start(shot)


def test_aaf_is_refused_where_avid_would_get_wrong_media(export: Export, tmp_path: Path) -> None:
    target = tmp_path / "cut.aaf"
    report = write_aaf(export.plan, export.export_dir, target)
    assert len(report) == 1 and report[0].startswith("AAF not written")
    assert "EDL" in report[0]
    assert not target.exists() and list(tmp_path.iterdir()) == []
    as_dnxhr = replace(export.plan, options=ExportOptions(codec="dnxhr"))
    # Every rate, NTSC included, gets an AAF from DNxHR movies (issue 18; see test_hardening_aaf.py).
    assert aaf_refusal(as_dnxhr) is None


def long_cut_plan(count: int, shot_numbers: dict[int, str]) -> ExportPlan:
    """A feature-length cut of one-frame shots (no media: the EDL only needs the movies to exist)."""
    shots = tuple(Shot(new_id(), shot_numbers.get(i, f"{i + 1}X"), 1) for i in range(count))
    project = Project(
        "Long Cut", FrameRate(24), 128, 72, start_frame=24 * 3600, scenes=(Scene(new_id(), "INT. A", shots=shots),)
    )
    return build_plan(project, ExportOptions(formats=frozenset({"edl"})))


def test_edl_of_more_than_999_shots_numbers_events_on_and_keeps_reels_unique(tmp_path: Path) -> None:
    # Position 100 numbered "01A" and position 1000 numbered "1A": both would be reel 10001A if
    # the position had 3 digits up to 999 and 4 after.
    plan = long_cut_plan(1005, {99: "01A", 999: "1A", 1001: "Ü-Ä long name 12"})
    export_dir = tmp_path / "Über Export"
    for shot in plan.shots:
        movie = export_dir / plan.movie_file(shot)
        movie.parent.mkdir(parents=True, exist_ok=True)
        movie.touch()
    target = tmp_path / "long.edl"
    notes = write_edl(plan, export_dir, target)
    assert any("1000 and up" in note for note in notes)

    lines = target.read_text(encoding="utf-8").splitlines()
    events = [line.split() for line in lines if re.match(r"^\d{3,} ", line)]
    assert [e[0] for e in events] == [f"{n:03d}" for n in range(1, 1006)]
    reels = [edl_reel_name(plan, shot) for shot in plan.shots]
    assert [e[1] for e in events] == reels
    assert all(re.fullmatch(r"[A-Z0-9]{1,8}", reel) for reel in reels)
    assert len(set(reels)) == len(reels)
    assert (reels[99], reels[999], reels[1001]) == ("010001A", "10001A", "1002UALO")
    # Record timecode runs on without a gap to the end, relabelled from the plan.
    assert events[-1][6:8] == [plan.record_timecode(1004), plan.record_timecode(1005)]

    timeline = otio.adapters.read_from_file(str(target), adapter_name="cmx_3600", rate=24)
    check_record_points(timeline, plan, ascii_names=True)
    assert [c.name for c in timeline.find_clips()] == [edl_ascii(s.number) for s in plan.shots]


def test_reels_of_a_short_cut_keep_three_digits(tmp_path: Path) -> None:
    plan = long_cut_plan(4, {2: "3 Ü"})
    assert [edl_reel_name(plan, s) for s in plan.shots] == ["0011X", "0022X", "0033U", "0044X"]
