"""``pinframe import-script NAME.pinframe SCRIPT``: scenes and shots from a screenplay or a shot list."""

from __future__ import annotations

import argparse
import math
import os
import sys

from app.cli.common import EXIT_USAGE, float_in
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
                     help="pace of action, words a second (the default %(default)s plays a page a minute)")  # fmt: skip
    imp.add_argument("--dialogue-wps", type=_timing("dialogue_wps"), default=defaults.dialogue_wps,
                     help="pace of dialogue, words a second (default %(default)s: a page a minute)")  # fmt: skip
    imp.add_argument("--min-seconds", type=_seconds("--min-seconds", MINIMUM_MAX),
                     default=defaults.minimum_seconds,
                     help="shortest shot in seconds, at most the longest (default %(default)s)")  # fmt: skip
    imp.add_argument("--max-seconds", type=_seconds("--max-seconds", MAXIMUM_MAX),
                     default=longest_shot(),
                     help="longest shot in seconds: longer estimates are clipped and reported "
                          "(default %(default)s)")  # fmt: skip
    imp.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")


# TimingSettings' own limits on the shortest and the longest shot.
MINIMUM_MAX = 60
MAXIMUM_MAX = 3600


def _number(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds or words a second") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value


def _seconds(option: str, high: float):
    """An argparse ``type`` for a shot length: more than 0 up to ``high`` seconds (app.cli.common's range check)."""
    in_range = float_in(option, 0, high, above_low=True)

    def parse(text: str) -> float:
        try:
            if not math.isfinite(float(text.strip())):
                _number(text)  # "nan" and "inf" are not numbers of seconds at all: it says so
        except ValueError:
            pass  # the range check says it's not a number, and what to give
        return in_range(text)

    parse.__name__ = "number"
    return parse


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
    """The default longest shot an estimate makes (seconds), as TimingSettings defines it."""
    longest = TimingSettings().maximum_seconds
    assert longest is not None
    return longest


def cmd_import_script(args: argparse.Namespace) -> int:
    # The two options limit each other, so this range is checked once both are read: a usage
    # error (exit 2) worded like the parser's own, naming the option given.
    if args.min_seconds > args.max_seconds:
        print(
            f"pinframe import-script: --min-seconds {args.min_seconds:g} is out of range; use more than 0 up to "
            f"{args.max_seconds:g} (the longest shot, --max-seconds) (see pinframe import-script --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    timing = TimingSettings(action_wps=args.action_wps, dialogue_wps=args.dialogue_wps,
                            minimum_seconds=args.min_seconds, maximum_seconds=args.max_seconds)  # fmt: skip
    session = ProjectSession.open(args.path)
    say = _Output()
    try:
        doc = load_script(args.script, session.project.rate)
        preview = preview_import(session.project, doc, timing)
        say(preview.summary())
        say(preview.running.headline())
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
