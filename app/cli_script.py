"""``pinframe import-script NAME.pinframe SCRIPT``: scenes and shots from a screenplay or a shot list."""

from __future__ import annotations

import argparse

from app.errors import BundleError
from app.script.importer import import_command, preview_import
from app.script.load import SCRIPT_SUFFIXES, load_script
from app.script.timing import TimingError, TimingSettings
from app.session import ProjectSession


def add_parsers(sub) -> None:
    imp = sub.add_parser(
        "import-script",
        help="make scenes and shots from a screenplay (.fountain, .fdx) or a shot list (.csv); re-import to update",
    )
    imp.add_argument("path", help="NAME.pinframe")
    imp.add_argument("script", help=f"the script file ({', '.join(SCRIPT_SUFFIXES)})")
    defaults = TimingSettings()
    imp.add_argument("--action-wps", type=float, default=defaults.action_wps,
                     help="words of action per second of screen time (default %(default)s)")  # fmt: skip
    imp.add_argument("--dialogue-wps", type=float, default=defaults.dialogue_wps,
                     help="words of dialogue per second (default %(default)s)")  # fmt: skip
    imp.add_argument("--min-seconds", type=float, default=defaults.minimum_seconds,
                     help=f"shortest shot in seconds, at most {longest_shot():g} (default %(default)s)")  # fmt: skip
    imp.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")


def longest_shot() -> float:
    """The longest shot an estimate makes (seconds): the shortest can't be longer."""
    return TimingSettings().maximum_seconds or 60.0


def cmd_import_script(args: argparse.Namespace) -> int:
    # Checked here, so the message names the option given rather than the maximum nobody set.
    if not 0 < args.min_seconds <= longest_shot():
        raise TimingError(
            f"--min-seconds {args.min_seconds:g} is out of range; give more than 0 and at most {longest_shot():g} "
            "seconds (the longest shot an estimate makes)"
        )
    timing = TimingSettings(action_wps=args.action_wps, dialogue_wps=args.dialogue_wps,
                            minimum_seconds=args.min_seconds)  # fmt: skip
    session = ProjectSession.open(args.path)
    try:
        doc = load_script(args.script, session.project.rate)
        preview = preview_import(session.project, doc, timing)
        print(preview.summary())
        for line in preview.report():
            print(f"  {line}")
        if args.dry_run:
            print("dry run: the project was not changed")
        elif preview.changed:
            session.do(import_command(preview))
            print(f"imported {args.script} into {args.path} (one undo step in the app: Edit > Undo Import Script)")
        else:
            print("nothing changed: the project already matches the script")
    finally:
        if not session.close():
            raise BundleError(f"saving {args.path} failed ({session.autosaver.error}); the import was not saved")
    return 0


COMMANDS = {"import-script": cmd_import_script}
