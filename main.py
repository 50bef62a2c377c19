"""Pinframe entry point: parse arguments, then start the window or a CLI command."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:  # answered before the CLI's modules (numpy, cv2, the registry) load
        from app import __version__

        print(f"Pinframe {__version__}")
        return 0
    from app.cli import build_parser, run  # no torch: that comes only with a command that runs a model
    from app.log_file import setup_logging

    setup_logging()  # every job, error and traceback, in the user data folder (Help ▸ Show Log)

    # `pinframe` alone opens the window; `pinframe NAME.pinframe` opens that project
    # (also written `NAME.pinframe/`, as shell completion of the folder leaves it).
    if not argv or (argv[0].rstrip("/\\").endswith(".pinframe") and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    args = build_parser().parse_args(argv)
    if args.command == "gui":
        from ui.app import run_gui  # Qt is imported only when a window is wanted

        return run_gui(project=args.project, demo=args.demo)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
