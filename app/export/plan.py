"""What an export writes, decided once from the project: one :class:`ExportShot` per shot.

Every writer (movies, timelines, boards) reads the same plan, so shot order, names, record
in/out points, handles and markers can't disagree between the files of one export.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from app.document import SHOT_SIZES, AudioClip, Project, Shot
from app.errors import ExportError
from app.export.formats import default_keys, export_formats, format_keys, written
from app.media_ref import MediaRef
from app.timecode import FrameRate, frames_to_timecode, timecode_to_frames

# Movie codecs: (label, file extension). The movie writer knows how to encode each.
MOVIE_CODECS: dict[str, tuple[str, str]] = {
    "prores": ("ProRes 422 HQ (.mov)", "mov"),
    "h264": ("H.264 (.mp4)", "mp4"),
    "dnxhr": ("DNxHR HQ (.mxf, Avid)", "mxf"),
}

# Views of the format table (app.export.formats), for scripts that want a plain mapping; code
# that can run after a test changed the table reads app.export.formats itself.
FORMATS: dict[str, str] = {f.key: f.label for f in export_formats()}
DEFAULT_FORMATS = default_keys()

PAPER_SIZES = ("letter", "a4")
PANELS_PER_ROW = (1, 2, 3)


@dataclass(frozen=True)
class ExportOptions:
    formats: frozenset[str] = DEFAULT_FORMATS
    codec: str = "prores"
    # Extra frames each side of every shot's movie; None uses each shot's own handles.
    handles: int | None = None
    # Drop-frame timecode in timelines and burn-ins; None follows the project setting.
    drop_frame: bool | None = None
    burn_dialogue: bool = True
    paper: str = "letter"
    panels_per_row: int = 2

    def __post_init__(self) -> None:
        keys = format_keys()
        unknown = set(self.formats) - set(keys)
        if unknown:
            raise ExportError(f"unknown export format(s) {', '.join(sorted(unknown))}; use {', '.join(keys)}")
        if not self.formats:
            raise ExportError("choose at least one export format")
        if self.codec not in MOVIE_CODECS:
            raise ExportError(f"unknown movie codec '{self.codec}'; use one of {', '.join(MOVIE_CODECS)}")
        if self.handles is not None and not 0 <= self.handles <= 1000:
            raise ExportError(f"handles of {self.handles} frames are out of range; use 0 to 1000")
        if self.paper not in PAPER_SIZES:
            raise ExportError(f"paper size '{self.paper}' is unknown; use letter or a4")
        if self.panels_per_row not in PANELS_PER_ROW:
            raise ExportError(f"{self.panels_per_row} panels per row is not a layout; use 1, 2 or 3")

    @property
    def writes_movies(self) -> bool:
        """Whether the shot movies are written: asked for, or linked by a chosen timeline."""
        return any(f.key == "movies" for f in written(self.formats))


@dataclass(frozen=True)
class Marker:
    """Something an editor should see at a frame of a shot (0 = the shot's first frame, after handles)."""

    frame: int
    name: str
    comment: str = ""
    kind: str = "note"  # "pin", "note" or "dialogue"


@dataclass(frozen=True)
class PinnedImage:
    frame: int
    image: MediaRef


@dataclass(frozen=True)
class ExportShot:
    index: int  # position in the cut, from 0
    shot: Shot
    scene_number: int  # from 1
    scene_heading: str
    record_in: int  # first frame on the cut, from 0 (add plan.start_frame for timecode)
    handles: int
    # "clip" (a current rendered clip), "pins" (held or crossfaded pins), "slate" (nothing pinned).
    source: str
    media_name: str  # file stem shared by this shot's movie, PNG folder and timeline clip media
    markers: tuple[Marker, ...] = ()
    pinned: tuple[PinnedImage, ...] = ()

    @property
    def number(self) -> str:
        return self.shot.number

    @property
    def duration(self) -> int:
        return self.shot.duration

    @property
    def record_out(self) -> int:
        return self.record_in + self.shot.duration

    @property
    def media_frames(self) -> int:
        """Frames in this shot's movie: the shot plus its handles each side."""
        return self.shot.duration + 2 * self.handles

    @property
    def camera_text(self) -> str:
        cam = self.shot.camera
        parts = [SHOT_SIZES[cam.size] if cam.size else "", cam.angle]
        if cam.lens_mm:
            parts.append(f"{cam.lens_mm:g}mm")
        parts.append(cam.move)
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True)
class ExportPlan:
    name: str
    rate: FrameRate
    width: int
    height: int
    start_frame: int  # record timecode of the cut's first frame, as a frame count
    drop_frame: bool
    shots: tuple[ExportShot, ...]
    audio: tuple[AudioClip, ...] = ()
    options: ExportOptions = field(default_factory=ExportOptions)
    # Added to every shot movie's start timecode; one hour when handles would otherwise start a
    # movie before 00:00:00:00 (timecode that wraps past midnight breaks conforming by timecode).
    source_offset: int = 0
    notes: tuple[str, ...] = ()  # for the export report

    @property
    def length(self) -> int:
        return sum(s.duration for s in self.shots)

    @property
    def movie_ext(self) -> str:
        return MOVIE_CODECS[self.options.codec][1]

    def timecode(self, frames: int) -> str:
        """Timecode label of an absolute frame count (wrapping at 24 hours, as tape did)."""
        return frames_to_timecode(frames % day_frames(self.rate, self.drop_frame), self.rate,
                                  drop_frame=self.drop_frame)  # fmt: skip

    def record_timecode(self, cut_frame: int) -> str:
        return self.timecode(self.start_frame + cut_frame)

    def source_start(self, shot: ExportShot) -> int:
        """Start timecode (frame count) embedded in a shot's movie: its record timecode less the handles.

        Source and record timecode then agree, so an editor can conform by timecode alone;
        ``source_offset`` (see there) is the one exception.
        """
        return self.start_frame + shot.record_in - shot.handles + self.source_offset

    def movie_file(self, shot: ExportShot) -> str:
        """Path of a shot's movie relative to the export folder."""
        return f"media/{shot.media_name}.{self.movie_ext}"


def day_frames(rate: FrameRate, drop_frame: bool) -> int:
    """Frames in 24 hours of timecode at this rate."""
    tb = rate.timebase
    if not drop_frame:
        return tb * 86400
    drop = 2 * (tb // 30)
    return (tb * 600 - 9 * drop) * 144


# Names Windows reserves for devices, whatever the extension ("CON.edl" can't be created).
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
# File names are limited to 255 bytes; leave room for ".partial", a suffix like " storyboard.pdf"
# and the frame number of a PNG sequence.
MAX_NAME_BYTES = 120


def safe_name(text: str, fallback: str = "shot") -> str:
    """A file-name-safe spelling that keeps letters of any script ("Szene 12Ä" stays readable).

    Path separators, characters Windows forbids, control and invisible formatting characters
    (DEL, right-to-left overrides) become "-"; the name is cut to ``MAX_NAME_BYTES`` of UTF-8.
    """
    text = unicodedata.normalize("NFC", text).strip()
    text = "".join("-" if unicodedata.category(c) in ("Cc", "Cf") else c for c in text)
    text = re.sub(r"[\\/:*?\"<>|]+", "-", text)
    text = re.sub(r"-{2,}", "-", re.sub(r"\s+", " ", text)).strip(" .-")
    data = text.encode("utf-8")
    if len(data) > MAX_NAME_BYTES:
        text = data[:MAX_NAME_BYTES].decode("utf-8", errors="ignore").rstrip(" .-")
    if text.split(".")[0].upper() in _RESERVED:
        text = f"{text}_"
    return text or fallback


def build_plan(project: Project, options: ExportOptions | None = None) -> ExportPlan:
    options = options or ExportOptions()
    drop = project.drop_frame if options.drop_frame is None else options.drop_frame
    if drop and not project.rate.supports_drop_frame:
        raise ExportError(f"drop-frame timecode is only for 29.97 and 59.94 fps, not {project.rate.label}")
    # The start is a timecode the person typed; keep its label when the export counts differently.
    start = project.start_frame
    if drop != project.drop_frame:
        label = frames_to_timecode(start, project.rate, drop_frame=project.drop_frame)
        start = timecode_to_frames(label, project.rate, drop_frame=drop)
    shots: list[ExportShot] = []
    used_names: set[str] = set()
    record = 0
    index = 0
    for scene_number, scene in enumerate(project.scenes, start=1):
        for shot in scene.shots:
            handles = shot.handles if options.handles is None else options.handles
            clip = shot.current_clip_take
            current = clip is not None and not project.is_stale(shot)
            source = "clip" if current else ("pins" if shot.pins else "slate")
            # Zero-padded cut position first, so the media folder sorts in cut order.
            base = f"{index + 1:03d}_{safe_name(shot.number or 'shot')}"
            name, n = base, 2
            while name.casefold() in used_names:
                name, n = f"{base}-{n}", n + 1
            used_names.add(name.casefold())
            shots.append(
                ExportShot(
                    index=index,
                    shot=shot,
                    scene_number=scene_number,
                    scene_heading=scene.heading,
                    record_in=record,
                    handles=handles,
                    source=source,
                    media_name=name,
                    markers=_markers(shot),
                    pinned=tuple(PinnedImage(p.frame, shot.keyframe(p.take_id).image) for p in shot.pins),
                )
            )
            record += shot.duration
            index += 1
    notes: list[str] = [n for n in map(missing_handles_note, shots) if n]
    earliest = min((start + s.record_in - s.handles for s in shots), default=0)
    offset = 0
    if earliest < 0:
        offset = timecode_to_frames("01:00:00:00", project.rate, drop_frame=drop)
        notes.append(
            "shot movies start one hour later in timecode than the cut (source 01:00:00:00 = record "
            f"{frames_to_timecode(start, project.rate, drop_frame=drop)}): the first shot's handles would "
            "otherwise start before 00:00:00:00; start the project at 01:00:00:00 to keep them equal"
        )
    return ExportPlan(
        name=project.name,
        rate=project.rate,
        width=project.width,
        height=project.height,
        start_frame=start,
        drop_frame=drop,
        shots=tuple(shots),
        audio=project.audio,
        options=options,
        source_offset=offset,
        notes=tuple(notes),
    )


def rendered_handles(shot: ExportShot) -> int | None:
    """Handle frames each side the shot's current clip has, when fewer than this export's; else None.

    A clip rendered before the shot had handles (or with fewer) can't fill them with motion:
    its handles are held frames however the export gets its pictures.
    """
    clip = shot.shot.current_clip_take
    if clip is None or not shot.handles or clip.frame_count >= shot.media_frames:
        return None
    return max(0, (clip.frame_count - shot.duration) // 2)


def missing_handles_note(shot: ExportShot) -> str:
    """The export report's line for a shot whose clip lacks handles (see :func:`rendered_handles`), or ""."""
    have = rendered_handles(shot)
    if have is None:
        return ""
    want = shot.handles
    what = f"without its {want} handle frames" if not have else f"with {have} of its {want} handle frames"
    # Export handles longer than the shot's own: rendering again only helps once the shot asks for them.
    fix = "render it again" if want <= shot.shot.handles else f"give the shot {want} handles and render it again"
    return f"shot {shot.number}: clip rendered {what} each side; handles are held frames — {fix} for motion"


def _markers(shot: Shot) -> tuple[Marker, ...]:
    markers: list[Marker] = []
    if shot.dialogue.strip():
        markers.append(Marker(0, "Dialogue", shot.dialogue.strip(), "dialogue"))
    if shot.notes.strip():
        markers.append(Marker(0, "Note", shot.notes.strip(), "note"))
    for pin in shot.pins:
        take = shot.keyframe(pin.take_id)
        markers.append(Marker(pin.frame, f"Pin {pin.frame}", take.origin, "pin"))
    return tuple(sorted(markers, key=lambda m: (m.frame, m.kind != "dialogue", m.kind != "note")))
