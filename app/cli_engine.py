"""CLI commands that run the engine: ``keyframes`` and ``render``.

They run an engine in this process, print progress to stderr, end with a summary, and on
Ctrl-C cancel the running job cleanly (what already finished is kept in the project).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace

from app import engine_service as S
from app.document import Project, Shot
from app.errors import PinframeError
from app.paths import user_cache_dir
from app.session import ProjectSession
from engine.devices import DeviceSettings
from engine.events import Cancelled, Failed, Finished, Progress, Started
from engine.jobs import SEED_MAX, Job, Result
from engine.runtime import Engine


def add_parsers(sub) -> None:
    kf = sub.add_parser("keyframes", help="generate keyframe takes for a shot")
    kf.add_argument("path", help="NAME.pinframe")
    kf.add_argument("--shot", required=True, help="shot number, e.g. 1A")
    kf.add_argument("--model", default="sketch", help="sketch (no model) or a diffusers model folder")
    kf.add_argument("--variations", type=int, default=4, help="how many takes (default 4)")
    kf.add_argument("--seed", type=int, help="first seed (0..2^32-1); the others follow it (default: random)")
    kf.add_argument("--pin", type=int, metavar="FRAME", help="pin the first take at this frame of the shot")
    kf.add_argument("--upscale", help="DeepFloyd IF stage II folder or id (default: if-ii-l when installed)")
    kf.add_argument("--steps", type=int, default=0, help="denoising steps (default: the model's)")
    kf.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")

    rd = sub.add_parser("render", help="render the motion of shots between their pins")
    rd.add_argument("path", help="NAME.pinframe")
    rd.add_argument("--shots", help="comma-separated shot numbers (default: every shot with pins)")
    rd.add_argument("--stale", action="store_true", help="only shots whose clip is missing or stale")
    rd.add_argument("--model", default="flow", help="flow, hold, crossfade, or a LTX/Wan model folder")
    rd.add_argument("--seed", type=int, default=0, help="seed for ML motion models (default 0)")
    rd.add_argument("--steps", type=int, default=0, help="denoising steps (default: the model's)")
    rd.add_argument("--work-pixels", type=int, default=0, help="render ML motion at about this many pixels a frame")
    rd.add_argument("--device", default="auto", help="auto, cuda, mps or cpu")


def find_shot(project: Project, number: str) -> Shot:
    matches = [s for s in project.shots() if s.number == number]
    if not matches:
        numbers = ", ".join(s.number for s in project.shots()) or "none"
        raise PinframeError(f"there is no shot '{number}' in {project.name}; shots: {numbers}")
    return matches[0]


def run_jobs(engine: Engine, jobs: Sequence[Job]) -> list[tuple[Result, ...] | None]:
    """Run jobs to the end, printing progress; Ctrl-C cancels them.

    Returns each job's outputs in submission order (None for a job that failed or was cancelled).
    """
    stream = engine.events()
    ids = [engine.submit(job) for job in jobs]
    labels = dict(zip(ids, (j.label for j in jobs), strict=True))
    outputs: dict[str, tuple[Result, ...]] = {}
    failures: list[str] = []
    pending = set(ids)
    last_print = 0.0
    try:
        while pending:
            event = stream.get()
            label = labels.get(event.job_id, "")
            if isinstance(event, Started):
                _status(f"{label}: started")
            elif isinstance(event, Progress) and time.monotonic() - last_print > 0.5:
                last_print = time.monotonic()
                eta = f", about {event.eta_seconds:.0f} s left" if event.eta_seconds is not None else ""
                _status(f"{label}: step {event.step}/{event.total}{eta}")
            elif isinstance(event, Finished):
                outputs[event.job_id] = event.outputs
                _status(f"{label}: done{' (from cache)' if event.cached else ''}")
            elif isinstance(event, Failed):
                failures.append(f"{label}: {event.message}")
                _status(f"{label}: failed: {event.message}")
            elif isinstance(event, Cancelled):
                _status(f"{label}: cancelled")
            if event.terminal:
                pending.discard(event.job_id)
    except KeyboardInterrupt:
        _status("cancelling…")
        engine.cancel_all()
        for event in stream.until_done(pending, timeout=60):
            if isinstance(event, Finished):
                outputs[event.job_id] = event.outputs
        stream.close()
        raise
    stream.close()
    if failures and not outputs:
        raise PinframeError(failures[0])
    return [outputs.get(job_id) for job_id in ids]


def _status(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def make_engine(device: str) -> Engine:
    return Engine(user_cache_dir() / "engine", DeviceSettings(device=device))


def cmd_keyframes(args: argparse.Namespace) -> int:
    if args.variations < 1 or args.variations > 64:
        raise PinframeError(f"--variations {args.variations} is out of range; ask for 1 to 64")
    if args.seed is not None and not 0 <= args.seed <= SEED_MAX:
        raise PinframeError(f"--seed {args.seed} is out of range; use 0 to {SEED_MAX}")
    model = S.resolve_model(args.model, kind="keyframe", upscale=args.upscale)
    session = ProjectSession.open(args.path)
    engine = None
    try:
        shot = find_shot(session.project, args.shot)
        if args.pin is not None and not 0 <= args.pin < shot.duration:
            raise PinframeError(f"--pin {args.pin} is outside shot {shot.number} (frames 0-{shot.duration - 1})")
        seeds = (
            tuple((args.seed + i) % (SEED_MAX + 1) for i in range(args.variations))
            if args.seed is not None
            else S.random_seeds(args.variations)
        )
        engine = make_engine(args.device)
        job = S.keyframe_job(session.project, shot, model, seeds, steps=args.steps)
        results = run_jobs(engine, [job])[0] or ()
        session.do(S.keyframe_takes_command(session.bundle, session.project, shot.id, results, pin_frame=args.pin))
        pinned = f", pinned seed {results[0].seed} at frame {args.pin}" if args.pin is not None and results else ""
        seeds_text = ", ".join(str(r.seed) for r in results)
        print(f"shot {shot.number}: {len(results)} keyframe takes (seeds {seeds_text}){pinned}")
        return 0
    finally:
        if engine is not None:
            engine.shutdown()
        session.close()


def cmd_render(args: argparse.Namespace) -> int:
    model = S.resolve_model(args.model, kind="clip")
    session = ProjectSession.open(args.path)
    engine = None
    try:
        project = session.project
        if args.shots:
            shots = [find_shot(project, n.strip()) for n in args.shots.split(",") if n.strip()]
        else:
            shots = [s for s in project.shots() if s.pins]
        if args.stale:
            shots = [s for s in shots if s.current_clip is None or project.is_stale(s)]
        unpinned = [s.number for s in shots if not s.pins]
        if unpinned:
            raise PinframeError(f"shot(s) {', '.join(unpinned)} have no pinned keyframe; pin one before rendering")
        if not shots:
            print("nothing to render: every shot's clip is current")
            return 0
        jobs, hashes = [], []
        for shot in shots:
            command = S.render_settings_command(session.project, shot.id, model, args.seed)
            if command is not None:
                session.do(command)
            current = session.project.shot(shot.id)
            job = S.clip_job(session.project, session.bundle, current, model)
            jobs.append(replace(job, steps=args.steps, work_pixels=args.work_pixels))
            hashes.append(S.current_inputs_hash(session.project, shot.id))
        engine = make_engine(args.device)
        outputs = run_jobs(engine, jobs)
        done = 0
        for shot, job_outputs, inputs_hash in zip(shots, outputs, hashes, strict=True):
            if job_outputs:
                command = S.clip_take_command(session.bundle, session.project, shot.id, job_outputs[0], inputs_hash)
                session.do(command)
                done += 1
        print(f"rendered {done} of {len(shots)} shot(s) with {model.backend}")
        return 0 if done == len(shots) else 1
    finally:
        if engine is not None:
            engine.shutdown()
        session.close()


COMMANDS = {"keyframes": cmd_keyframes, "render": cmd_render}
