"""``pinframe import-script NAME.pinframe SCRIPT``: scenes and shots from a screenplay or a shot list."""

from __future__ import annotations

import argparse
import math
import os
import sys

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
    imp.add_argument("--action-wps", type=_timing("action_wps"), default=defaults.action_wps,
                     help="words of action per second of screen time (default %(default)s)")  # fmt: skip
    imp.add_argument("--dialogue-wps", type=_timing("dialogue_wps"), default=defaults.dialogue_wps,
                     help="words of dialogue per second (default %(default)s)")  # fmt: skip
    imp.add_argument("--min-seconds", type=_number, default=defaults.minimum_seconds,
                     help=f"shortest shot in seconds, at most {longest_shot():g} (default %(default)s)")  # fmt: skip
    imp.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")


def _number(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds or words a second") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def _timing(name: str):
    """An argparse ``type`` for a words-a-second option: TimingSettings' own check gives the range."""

    def parse(text: str) -> float:
        value = _number(text)
        try:
            TimingSettings(**{name: value})
        except TimingError as exc:
            raise argparse.ArgumentTypeError(f"--{name.replace('_', '-')} {text.strip()}: {exc}") from None
        return value

    parse.__name__ = "number"
    return parse


class _Output:
    """stdout that a reader may close (``import-script ... | head``): the import goes on, printing stops."""

    def __init__(self) -> None:
        self.closed = False

    def __call__(self, text: str = "") -> None:
        if self.closed:
            return
        try:
            print(text, flush=True)
        except BrokenPipeError:
            self.closed = True
            # Python flushes stdout again at exit and would report the broken pipe there: point it at nothing.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


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
    say = _Output()
    try:
        doc = load_script(args.script, session.project.rate)
        preview = preview_import(session.project, doc, timing)
        say(preview.summary())
        for line in preview.report():
            say(f"  {line}")
        if args.dry_run:
            say("dry run: the project was not changed")
        elif preview.changed:
            session.do(import_command(preview))
            say(f"imported {args.script} into {args.path} (one undo step in the app: Edit > Undo Import Script)")
        else:
            say("nothing changed: the project already matches the script")
    finally:
        if not session.close():
            raise BundleError(f"saving {args.path} failed ({session.autosaver.error}); the import was not saved")
    return 0


COMMANDS = {"import-script": cmd_import_script}
