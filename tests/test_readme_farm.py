"""The README's farm section names only options that exist.

Every command in its code blocks (and every `.venv/bin/…` command quoted inline) is parsed with
the real parsers: Pinframe's (:func:`app.cli.build_parser`) for `main.py …`, Ray's own click
commands for `ray …`. Parsing only: nothing connects, starts or renders.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
HEADING = "## Rendering on a Ray cluster"


def farm_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(HEADING + "\n")
    end = text.find("\n## ", start + len(HEADING))
    return text[start : end if end != -1 else len(text)]


def commands(section: str) -> list[str]:
    """Shell lines of the section's code blocks (continuations joined) and inline `.venv/bin/…` commands."""
    out: list[str] = []
    for block in re.findall(r"```(?:bash|sh)?\n(.*?)```", section, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                out.append(line)
    outside = re.sub(r"```.*?```", "", section, flags=re.DOTALL)
    out += [c for c in re.findall(r"`([^`\n]+)`", outside) if c.startswith((".venv/bin/", "RAY_AUTH_MODE="))]
    return out


def argv_of(line: str, program: str) -> list[str] | None:
    """The arguments after ``program`` (``main.py`` or ``ray``), env assignments skipped; None if not that."""
    words = shlex.split(line)
    while words and re.match(r"^[A-Z_]+=", words[0]):
        words.pop(0)
    for i, word in enumerate(words):
        if word == program or word.endswith("/" + program):
            return words[i + 1 :]
        if not word.startswith(".venv/bin/python"):
            return None
    return None


SECTION = farm_section()
PINFRAME = [(line, argv) for line in commands(SECTION) if (argv := argv_of(line, "main.py")) is not None]
RAY = [(line, argv) for line in commands(SECTION) if (argv := argv_of(line, "ray")) is not None]


def test_the_farm_section_has_the_commands_it_must_show():
    joined = "\n".join(line for line, _ in PINFRAME + RAY)
    for needed in ("--gpu-type", "--min-vram", "--farm-shared", "ray://", "RAY_AUTH_MODE=token", "get-auth-token"):
        assert needed in joined + "\n".join(commands(SECTION)), f"the README's farm section doesn't show {needed}"
    assert len(PINFRAME) >= 5 and len(RAY) >= 4, (PINFRAME, RAY)
    assert all("RAY_AUTH_MODE=token" in line for line, argv in RAY if argv[:1] == ["start"]), (
        "every `ray start` in the README must set RAY_AUTH_MODE=token: Ray 2.60 clusters use token auth"
    )


@pytest.mark.parametrize("line,argv", PINFRAME, ids=[" ".join(a[:2]) for _, a in PINFRAME])
def test_a_pinframe_command_in_the_readme_parses(line, argv):
    from app.cli import build_parser

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"the README's farm section says `{line}`, which Pinframe's parser refuses (exit {exc.code})")
    assert args.command


@pytest.mark.parametrize("line,argv", RAY, ids=[" ".join(a[:2]) for _, a in RAY])
def test_a_ray_command_in_the_readme_parses(line, argv):
    import click

    pytest.importorskip("ray")
    from ray.scripts.scripts import cli

    name, rest = argv[0], argv[1:]
    command = cli.commands.get(name)
    assert command is not None, f"`{line}`: Ray has no `ray {name}` command"
    try:
        command.make_context(f"ray {name}", list(rest))
    except click.UsageError as exc:
        pytest.fail(f"the README's farm section says `{line}`, which Ray refuses: {exc}")
