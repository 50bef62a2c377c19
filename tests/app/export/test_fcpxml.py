"""FCPXML export: validated against Apple's DTDs, read back and compared with the project.

The expectations are worked out from the project document (shot durations, handles, pins,
dialogue) rather than from the export plan, so a plan bug and a writer bug can't cancel out.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from fractions import Fraction
from math import gcd
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from lxml import etree

from app.errors import ExportError
from app.export.fcpxml import fcp_time, format_name, frame_duration_text, write_fcpxml
from app.export.plan import ExportOptions, Marker, build_plan, day_frames
from app.timecode import FrameRate, all_rates, frames_to_timecode, timecode_to_frames
from tests.app.export.project_factory import NUMBERS, make_export_project

# Apple's DTDs live beside the repository (see DESIGN.md, "Reference material").
# Apple's DTDs, copied from the team's shared reference folder (see SOURCES.md there).
DTD_DIR = Path(__file__).resolve().parents[2] / "data" / "fcpxml"
NEWER_VERSIONS = ("1.11", "1.12", "1.13", "1.14")
TIME_ATTRS = ("offset", "start", "duration", "tcStart", "frameDuration")
_TIME_RE = re.compile(r"^(\d+)(?:/(\d+))?s$")


@dataclass(frozen=True)
class Case:
    rate: FrameRate
    drop_frame: bool = False
    start_tc: str = "00:00:00:00"
    handles: int | None = None  # export option; None keeps each shot's own
    shot_handles: int = 0  # the factory's handles on shot 1A


CASES = {
    "24": Case(FrameRate(24)),
    "25-own-handles": Case(FrameRate(25), start_tc="10:00:00:00", shot_handles=3),
    "23.976": Case(FrameRate(24000, 1001), start_tc="01:00:00:00", handles=8),
    # Handles before 00:00:00:00 wrap the first movie's start to the previous day.
    "29.97-ndf-wrap": Case(FrameRate(30000, 1001), handles=2),
    "29.97-df": Case(FrameRate(30000, 1001), drop_frame=True, start_tc="01:00:00;00", handles=5),
}


def parse_time(text: str) -> Fraction:
    match = _TIME_RE.match(text)
    assert match, f"{text!r} is not an FCPXML time"
    return Fraction(int(match[1]), int(match[2] or 1))


def to_frames(text: str, rate: FrameRate) -> int:
    frames = parse_time(text) / rate.frame_duration
    assert frames.denominator == 1, f"{text} is not a whole number of frames at {rate.label}"
    return frames.numerator


def dtd(version: str) -> etree.DTD:
    path = DTD_DIR / f"FCPXMLv{version.replace('.', '_')}.dtd"
    assert path.is_file(), f"Apple's FCPXML DTD is missing at {path}"
    return etree.DTD(str(path))


def assert_valid(doc: etree._ElementTree, version: str) -> None:
    schema = dtd(version)
    assert schema.validate(doc), f"not valid FCPXML {version}: {schema.error_log.filter_from_errors()}"


@pytest.fixture(params=list(CASES), scope="module")
def exported(request, tmp_path_factory):
    case = CASES[request.param]
    root = tmp_path_factory.mktemp("fcpxml")
    start = timecode_to_frames(case.start_tc, case.rate, drop_frame=case.drop_frame)
    ep = make_export_project(root, case.rate, handles=case.shot_handles, drop_frame=case.drop_frame,
                             start_frame=start, audio=False)  # fmt: skip
    plan = build_plan(ep.project, ExportOptions(handles=case.handles))
    export_dir = root / "Schnitt ä" / "export für Anna"
    export_dir.mkdir(parents=True)
    final = export_dir / "Export Test.fcpxml"
    notes = write_fcpxml(plan, export_dir, final)
    return case, ep.project, plan, export_dir, final, notes


def test_validates_against_fcpxml_dtds(exported):
    _, _, _, export_dir, final, _ = exported
    assert [p.name for p in export_dir.iterdir()] == [final.name]  # no partial file left beside it
    raw = final.read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n')
    doc = etree.parse(str(final))
    assert doc.getroot().get("version") == "1.10"
    assert_valid(doc, "1.10")
    # The content also fits newer DTDs, which differ only in the fixed version number.
    for version in NEWER_VERSIONS:
        newer = copy.deepcopy(doc)
        newer.getroot().set("version", version)
        assert_valid(newer, version)


def test_dtd_check_catches_misordered_clip_children(exported):
    """The DTD puts a clip's note before its markers; the validator must notice the opposite."""
    final = exported[4]
    doc = etree.parse(str(final))
    clip = doc.find(".//asset-clip")
    note = clip.find("note")
    assert note is not None and clip.find("marker") is not None
    clip.remove(note)
    clip.append(note)
    assert not dtd("1.10").validate(doc)


def test_timeline_matches_project(exported):
    case, project, plan, _, final, _ = exported
    rate = case.rate
    root = ET.parse(final).getroot()
    fmt = root.find("resources/format")
    assert fmt.get("frameDuration") == frame_duration_text(rate)
    assert parse_time(fmt.get("frameDuration")) == rate.frame_duration
    assert (fmt.get("width"), fmt.get("height")) == ("128", "72")
    assert fmt.get("name") is None  # 128x72 is no FCP preset

    start = timecode_to_frames(case.start_tc, rate, drop_frame=case.drop_frame)
    shots = [shot for scene in project.scenes for shot in scene.shots]
    sequence = root.find("library/event/project/sequence")
    assert sequence.get("format") == fmt.get("id")
    assert sequence.get("tcFormat") == ("DF" if case.drop_frame else "NDF")
    assert to_frames(sequence.get("tcStart"), rate) == start
    assert to_frames(sequence.get("duration"), rate) == sum(s.duration for s in shots)

    clips = list(sequence.find("spine"))
    assert [c.tag for c in clips] == ["asset-clip"] * len(shots)
    assert [c.get("name") for c in clips] == list(NUMBERS) == [s.number for s in shots]
    assets = {a.get("id"): a for a in root.iter("asset")}
    assert len(assets) == len(shots)

    record = start
    for clip, shot in zip(clips, shots, strict=True):
        handles = case.handles if case.handles is not None else shot.handles
        offset = to_frames(clip.get("offset"), rate)
        assert offset == record, f"shot {shot.number} starts at {offset}, not right after the previous one"
        assert to_frames(clip.get("duration"), rate) == shot.duration
        asset = assets[clip.get("ref")]
        asset_start = to_frames(asset.get("start"), rate)
        # Source timecode equals record timecode less the handles; an hour later instead of
        # wrapping past midnight when the first handles would start before 00:00:00:00.
        hour = timecode_to_frames("01:00:00:00", rate, drop_frame=case.drop_frame)
        assert plan.source_offset == (hour if start - max(case.handles or 0, case.shot_handles) < 0 else 0)
        assert asset_start == record - handles + plan.source_offset
        assert to_frames(asset.get("duration"), rate) == shot.duration + 2 * handles
        clip_start = to_frames(clip.get("start"), rate)
        assert clip_start - asset_start == handles
        assert asset.get("hasVideo") == "1" and asset.get("hasAudio") is None
        assert asset.get("format") == fmt.get("id")
        record += shot.duration
    first_tc = frames_to_timecode(to_frames(clips[0].get("offset"), rate), rate, drop_frame=case.drop_frame)
    assert first_tc == case.start_tc


def test_markers_and_notes(exported):
    case, project, _, _, final, _ = exported
    rate = case.rate
    root = ET.parse(final).getroot()
    shots = [shot for scene in project.scenes for shot in scene.shots]
    for clip, shot in zip(root.iter("asset-clip"), shots, strict=True):
        # What the editor should see, frame by frame, straight from the document.
        expected: dict[int, list[tuple[str, str]]] = {}
        if shot.dialogue:
            expected.setdefault(0, []).append(("Dialogue", shot.dialogue))
        if shot.notes:
            expected.setdefault(0, []).append(("Note", shot.notes))
        for pin in shot.pins:
            expected.setdefault(pin.frame, []).append((f"Pin {pin.frame}", shot.keyframe(pin.take_id).origin))

        clip_start = to_frames(clip.get("start"), rate)
        found: dict[int, list[tuple[str, str]]] = {}
        for marker in clip.findall("marker"):
            frame = to_frames(marker.get("start"), rate) - clip_start
            assert 0 <= frame < shot.duration
            assert to_frames(marker.get("duration"), rate) == 1
            names = marker.get("value").split(" / ")
            note = marker.get("note", "")
            if len(names) == 1:
                found[frame] = [(names[0], note)]
            else:  # several on one frame: the note has a "name: comment" line for each
                lines = dict(line.split(": ", 1) for line in note.split("\n"))
                found[frame] = [(name, lines.get(name, "")) for name in names]
        assert found == expected, f"markers of shot {shot.number}"

        note = clip.findtext("note")
        assert note.startswith(f"Scene {1 if shot.number in NUMBERS[:2] else 2}: ")
        for text in (shot.dialogue, shot.notes):
            assert text in note


def test_asset_urls_decode_to_movie_paths(exported):
    _, _, plan, export_dir, final, _ = exported
    root = ET.parse(final).getroot()
    ext = {"prores": "mov"}[plan.options.codec]
    srcs = [a.find("media-rep").get("src") for a in root.iter("asset")]
    for src, number in zip(srcs, NUMBERS, strict=True):
        assert src.isascii() and " " not in src, src
        url = urlparse(src)
        assert url.scheme == "file" and url.netloc == ""
        path = Path(unquote(url.path))
        assert path.is_absolute()
        assert path.parent == export_dir.resolve() / "media"
        assert path.suffix == f".{ext}"
        assert number in path.stem  # the shot number, "3 Ü" included, survives the round trip
    assert "%C3%9C" in srcs[2] and "%20" in srcs[2]  # UTF-8 percent-encoding of "Ü" and the space


def test_every_time_is_whole_frames(exported):
    case, _, _, _, final, _ = exported
    count = 0
    for element in ET.parse(final).getroot().iter():
        for attr in TIME_ATTRS:
            if attr in element.attrib:
                to_frames(element.get(attr), case.rate)
                count += 1
    assert count > 30


def test_report_notes(exported):
    case, _, plan, _, _, notes = exported
    assert notes and "FCPXML 1.10" in notes[0]
    assert plan.record_timecode(0) in notes[0] and case.rate.label in notes[0]


@pytest.mark.parametrize("rate", all_rates(), ids=str)
def test_fcp_time_is_reduced_whole_frames(rate):
    counts = [*range(0, 3000, 7), 1, 1001, 24000, 30000, 107892, day_frames(rate, False), 10**9 + 3]
    for frames in counts:
        text = fcp_time(frames, rate)
        match = _TIME_RE.match(text)
        assert match, text
        num, den = int(match[1]), int(match[2] or 1)
        assert gcd(num, den) == 1 and (match[2] is None or den > 1), f"{text} is not reduced"
        assert Fraction(num, den) == frames * rate.frame_duration
        assert to_frames(text, rate) == frames
    assert fcp_time(0, rate) == "0s"
    assert fcp_time(rate.num, rate) == f"{rate.den}s"  # whole seconds stay whole


def test_fcp_time_examples():
    assert fcp_time(1, FrameRate(24000, 1001)) == "1001/24000s"
    assert fcp_time(24, FrameRate(24000, 1001)) == "1001/1000s"
    assert fcp_time(12, FrameRate(24)) == "1/2s"
    assert fcp_time(50, FrameRate(25)) == "2s"
    assert frame_duration_text(FrameRate(25)) == "100/2500s"
    assert frame_duration_text(FrameRate(30000, 1001)) == "1001/30000s"
    for bad in (-1, 1.5, True):
        with pytest.raises(ExportError):
            fcp_time(bad, FrameRate(24))  # type: ignore[arg-type]


def test_format_names():
    assert format_name(1920, 1080, FrameRate(24000, 1001)) == "FFVideoFormat1080p2398"
    assert format_name(1920, 1080, FrameRate(25)) == "FFVideoFormat1080p25"
    assert format_name(1280, 720, FrameRate(30000, 1001)) == "FFVideoFormat720p2997"
    assert format_name(3840, 2160, FrameRate(60000, 1001)) == "FFVideoFormat3840x2160p5994"
    assert format_name(1920, 800, FrameRate(24)) is None
    assert format_name(640, 480, FrameRate(60)) is None


def test_standard_format_is_named(tmp_path):
    ep = make_export_project(tmp_path, FrameRate(24000, 1001))  # with a sound clip
    plan = replace(build_plan(ep.project), width=1920, height=1080)
    final = tmp_path / "cut.fcpxml"
    notes = write_fcpxml(plan, tmp_path / "export", final)
    assert any("sound is in the reference movie" in note for note in notes)
    fmt = ET.parse(final).getroot().find("resources/format")
    assert fmt.get("name") == "FFVideoFormat1080p2398"
    assert fmt.get("frameDuration") == "1001/24000s"
    assert_valid(etree.parse(str(final)), "1.10")


def test_failed_write_leaves_nothing(tmp_path):
    ep = make_export_project(tmp_path, FrameRate(24), audio=False)
    plan = build_plan(ep.project)
    final = tmp_path / "missing folder" / "cut.fcpxml"
    with pytest.raises(ExportError, match="missing folder"):
        write_fcpxml(plan, tmp_path, final)
    assert not final.parent.exists()


@dataclass(frozen=True)
class Facts:
    has_audio: bool


def test_movie_with_sound_and_awkward_text(tmp_path):
    """Probed facts mark a movie with sound; text with XML specials and control characters stays valid."""
    ep = make_export_project(tmp_path, FrameRate(25), audio=False)
    plan = build_plan(ep.project)
    first = replace(plan.shots[0], markers=(Marker(3, "Note", 'bell\x07 & <tag> "q"\nline 2', "note"),))
    plan = replace(plan, shots=(first, *plan.shots[1:]))
    final = tmp_path / "cut.fcpxml"
    write_fcpxml(
        plan, tmp_path / "export", final, {first.media_name: Facts(True), plan.shots[1].media_name: Facts(False)}
    )
    assert_valid(etree.parse(str(final)), "1.10")
    root = ET.parse(final).getroot()
    assets = list(root.iter("asset"))
    assert [a.get("hasAudio") for a in assets] == ["1", None, None, None]
    clip = root.find(".//asset-clip")
    (marker,) = clip.findall("marker")
    assert marker.get("note") == 'bell & <tag> "q"\nline 2'
    assert to_frames(marker.get("start"), plan.rate) - to_frames(clip.get("start"), plan.rate) == 3
    assert 'Note: bell & <tag> "q"\nline 2' in clip.findtext("note")


def test_empty_plan_is_refused(tmp_path):
    ep = make_export_project(tmp_path, FrameRate(24), audio=False)
    plan = replace(build_plan(ep.project), shots=())
    final = tmp_path / "cut.fcpxml"
    with pytest.raises(ExportError, match="no shots"):
        write_fcpxml(plan, tmp_path, final)
    assert not final.exists()
