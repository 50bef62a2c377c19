"""``pinframe prompt NAME.pinframe``: show or set the project's prompt template, and preview a shot's prompts."""

from __future__ import annotations

import argparse
import json

from app import commands as C
from app.bundle import Bundle
from app.cli.common import find_shot
from app.document import Project
from app.errors import PinframeError
from app.prompt_template import DEFAULT_TEMPLATE, PLACEHOLDERS, check_template, effective_template, shot_prompts
from app.session import ProjectSession


def add_parsers(sub) -> None:
    cmd = sub.add_parser(
        "prompt",
        help="show or set the prompt template that turns a shot's prompt, style and camera into model prompts",
    )
    cmd.add_argument("path", help="NAME.pinframe")
    change = cmd.add_mutually_exclusive_group()
    change.add_argument(
        "--template",
        metavar="TEXT",
        help=f"set the template, e.g. '{DEFAULT_TEMPLATE}' (placeholders: {', '.join(PLACEHOLDERS)})",
    )
    change.add_argument("--default", action="store_true", help="go back to the built-in template")
    cmd.add_argument("--shot", metavar="NUMBER", help="also show the keyframe and motion prompts of this shot")
    cmd.add_argument("--json", action="store_true", help="print machine-readable JSON")


def describe(project: Project, shot_number: str | None) -> dict:
    data: dict = {
        "template": effective_template(project),
        "default": not project.prompt_template,
        "placeholders": dict(PLACEHOLDERS),
    }
    if shot_number is not None:
        shot = find_shot(project, shot_number)
        prompts = shot_prompts(project, shot)
        data["shot"] = {"number": shot.number, "keyframe_prompt": prompts.keyframe, "motion_prompt": prompts.motion}
    return data


def format_description(data: dict) -> str:
    lines = [f"prompt template  {data['template']}{'  (built in)' if data['default'] else ''}", "placeholders"]
    lines += [f"  {{{name}}}".ljust(12) + text for name, text in data["placeholders"].items()]
    shot = data.get("shot")
    if shot:
        lines += [
            f"shot {shot['number']}",
            f"  keyframe prompt  {shot['keyframe_prompt']}",
            f"  motion prompt    {shot['motion_prompt']}",
        ]
    return "\n".join(lines)


def cmd_prompt(args: argparse.Namespace) -> int:
    if args.template is None and not args.default:
        bundle, project, _report = Bundle.open(args.path, readonly=True)
        bundle.close()
    else:
        # Checked before the project opens: a typo in the template changes nothing.
        template = "" if args.default else check_template(args.template)
        session = ProjectSession.open(args.path)
        try:
            if args.shot is not None:
                find_shot(session.project, args.shot)  # a wrong number changes nothing either
            if session.project.prompt_template != template:
                session.do(C.set_project_settings(session.project, prompt_template=template))
            project = session.project
        finally:
            if not session.close():
                raise PinframeError(f"the new prompt template could not be saved to {args.path}")
    data = describe(project, args.shot)
    print(json.dumps(data, indent=2) if args.json else format_description(data))
    return 0


COMMANDS = {"prompt": cmd_prompt}
