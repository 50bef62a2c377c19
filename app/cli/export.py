"""``pinframe export NAME.pinframe --to DIR``: the Export dialog's work, from a terminal.

Progress goes to stderr (one line per stage, a percentage on a terminal); Ctrl-C cancels and
leaves only whole files; the last lines are the report's summary and where it is.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

from app.bundle import Bundle
from app.errors import ExportCancelled, ExportError
from app.export.files import ExportStatus
from app.export.formats import default_keys, format_keys
from app.export.plan import MOVIE_CODECS, PANELS_PER_ROW, PAPER_SIZES, ExportOptions
from app.export.run import REPORT_NAME, export_project


def add_parsers(sub) -> None:
    ex = sub.add_parser("export", help="export movies, timelines and boards for an editor")
    ex.add_argument("path", help="NAME.pinframe")
    ex.add_argument("--to", required=True, metavar="DIR", help="folder to write into (created if missing)")
    ex.add_argument(
        "--formats",
        default=",".join(k for k in format_keys() if k in default_keys()),
        help=f"comma-separated, from: {', '.join(format_keys())}, or 'all' (default: %(default)s)",
    )
    ex.add_argument("--codec", default="prores", choices=list(MOVIE_CODECS), help="shot movies (default prores)")
    ex.add_argument(
        "--handles", type=_handles, help="frames each side of every shot, 0 to 1000 (default: each shot's own)"
    )
    tc = ex.add_mutually_exclusive_group()
    tc.add_argument("--drop-frame", dest="drop_frame", action="store_true", default=None, help="drop-frame timecode")
    tc.add_argument("--non-drop-frame", dest="drop_frame", action="store_false", help="non-drop-frame timecode")
    ex.add_argument("--no-dialogue", action="store_true", help="no dialogue subtitles in the reference movie")
    ex.add_argument("--paper", default="letter", choices=PAPER_SIZES, help="storyboard paper (default letter)")
    ex.add_argument("--per-row", type=int, default=2, choices=PANELS_PER_ROW, help="storyboard panels per row")


def _handles(text: str) -> int:
    """An argparse ``type`` for --handles: the range is ExportOptions' own, said in its message."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"--handles '{text}' is not a whole number of frames") from None
    try:
        ExportOptions(handles=value)
    except ExportError as exc:
        raise argparse.ArgumentTypeError(f"--handles {value}: {exc}") from None
    return value


def check_target(text: str) -> None:
    """Refuse a --to folder that can't be written before anything is read or rendered, naming it."""
    target = Path(text).expanduser()
    if target.exists() and not target.is_dir():
        raise ExportError(f"--to {text} is a file, not a folder; choose a folder to export into")
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # the nearest folder that exists: the export creates the rest in it
    kwargs = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK, **kwargs):
        where = "" if existing == target else f" (to create {target} in it)"
        raise ExportError(
            f"can't export into {existing}: the folder is read-only{where}; choose another folder with --to, "
            "or make this one writable"
        )


def parse_formats(text: str) -> frozenset[str]:
    if text.strip().lower() == "all":
        return frozenset(format_keys())
    return frozenset(f.strip().lower() for f in text.split(",") if f.strip())


def cmd_export(args: argparse.Namespace) -> int:
    options = ExportOptions(
        formats=parse_formats(args.formats),
        codec=args.codec,
        handles=args.handles,
        drop_frame=args.drop_frame,
        burn_dialogue=not args.no_dialogue,
        paper=args.paper,
        panels_per_row=args.per_row,
    )
    check_target(args.to)
    # Read-only: exporting never changes the project, and works while the app has it open.
    bundle, project, _report = Bundle.open(args.path, readonly=True)
    cancel = threading.Event()
    shown_stage, shown_percent = "", -1  # what the terminal shows now
    tty = sys.stderr.isatty()

    def progress(status: ExportStatus) -> None:
        nonlocal shown_stage, shown_percent
        # One line a file ("exporting shot 1 movie (media/001_1.mov, 1 of 11)"), a percentage on a terminal.
        total, done = status.total, status.done
        percent = 100 * done // total if total else 0
        where = f" ({status.file}, {status.file_number} of {status.file_count})" if status.file else ""
        stage = f"{status.stage}{where}"
        if stage != shown_stage:
            shown_stage = stage
            print(
                ("\n" if tty and shown_percent >= 0 else "") + f"exporting {stage}",
                file=sys.stderr,
                end="" if tty else "\n",
            )
        if tty and percent != shown_percent:
            print(f"\rexporting {stage}  {percent}%", file=sys.stderr, end="", flush=True)
        shown_percent = percent

    try:
        report = export_project(project, bundle.media, args.to, options, on_status=progress, cancel=cancel)
    except KeyboardInterrupt:
        cancel.set()
        raise ExportCancelled("export cancelled; files finished before it were kept, none half-written") from None
    except OSError as exc:  # anything the writers did not already name: still the folder, never "internal error"
        raise ExportError(
            f"can't export into {args.to}: {exc.strerror or exc}; choose another folder with --to"
        ) from None
    finally:
        bundle.close()
        if tty:
            print(file=sys.stderr)
    print(f"wrote {len(report.written)} file(s) to {report.folder}")
    for note in report.notes:
        print(f"  note: {note}")
    print(f"report: {report.folder / REPORT_NAME}")
    return 0


COMMANDS = {"export": cmd_export}
