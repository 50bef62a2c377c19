"""CLI commands that run the engine: ``keyframes`` and ``render``.

They run an engine in this process, print progress to stderr, end with a summary, and on
Ctrl-C cancel the running job cleanly (what already finished is kept in the project).
With ``--ray ADDRESS`` the engine's jobs run as tasks on a Ray cluster instead (see
:mod:`engine.farm`); progress, results and the summary are the same.
"""

from __future__ import annotations

import argparse
import math
import queue
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from app import engine_service as S
from app.clip_state import needs_render
from app.document import Project, Shot
from app.errors import PinframeError
from app.paths import user_cache_dir
from app.session import ProjectSession
from engine.backend_registry import backends, get_backend
from engine.errors import EngineError
from engine.events import Cancelled, Failed, Finished, Progress, Started
from engine.jobs import DEFAULT_STRENGTH, SEED_MAX, Job, ModelSpec, Result

if TYPE_CHECKING:  # torch comes with these: imported when an engine is made, so --help and --version stay quick
    from engine.runtime import Engine

# The ranges of the CLI's numbers; a number outside one is a usage error (exit 2) that says the range.
STEPS_MAX = int(max(s.maximum or 0 for b in backends() for s in b.settings if s.name == "steps"))
WORK_PIXELS_MAX = 3840 * 2160  # a 4K UHD frame
VARIATIONS_MAX = 64
RAY_CPUS_MAX = 4096


def int_in(option: str, low: int, high: int, note: str = "") -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high``, else an error that gives the range."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} '{text}' is not a whole number; use {low} to {high}{note}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{option} {value} is out of range; use {low} to {high}{note}")
        return value

    parse.__name__ = "whole number"
    return parse


def float_in(
    option: str, low: float, high: float, *, above_low: bool = False, note: str = ""
) -> Callable[[str], float]:
    """An argparse ``type``: a finite number from ``low`` (or more than it) up to ``high``, else the range."""
    span = f"more than {low:g} up to {high:g}" if above_low else f"{low:g} to {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} '{text}' is not a number; use {span}{note}") from None
        inside = value > low if above_low else value >= low
        if not (math.isfinite(value) and inside and value <= high):
            raise argparse.ArgumentTypeError(f"{option} {text.strip()} is out of range; use {span}{note}")
        return value

    parse.__name__ = "number"
    return parse


def _device(text: str) -> str:
    """An argparse ``type`` for --device; the list comes from engine.devices, imported only when one is given."""
    from engine.devices import DEVICES

    if text not in DEVICES:
        raise argparse.ArgumentTypeError(f"--device '{text}' is unknown; use one of {', '.join(DEVICES)}")
    return text


_SEED = int_in("--seed", 0, SEED_MAX)
_STEPS = int_in("--steps", 0, STEPS_MAX, " (0: the model's default)")


def add_parsers(sub) -> None:
    kf = sub.add_parser("keyframes", help="generate keyframe takes for a shot")
    kf.add_argument("path", help="NAME.pinframe")
    kf.add_argument("--shot", required=True, help="shot number, e.g. 1A")
    kf.add_argument("--model", default="sketch", help=f"{_choices('keyframe')}")
    kf.add_argument(
        "--variations",
        type=int_in("--variations", 1, VARIATIONS_MAX),
        default=4,
        help=f"how many takes, 1 to {VARIATIONS_MAX} (default 4)",
    )
    kf.add_argument("--seed", type=_SEED, help="first seed (0..2^32-1); the others follow it (default: random)")
    kf.add_argument(
        "--pin", type=int_in("--pin", 0, 10**9), metavar="FRAME", help="pin the first take at this frame of the shot"
    )
    kf.add_argument("--upscale", help="DeepFloyd IF stage II folder or id (default: if-ii-l when installed)")
    kf.add_argument("--steps", type=_STEPS, default=0, help=f"denoising steps, 1 to {STEPS_MAX} (default: the model's)")
    kf.add_argument(
        "--device", default="auto", type=_device, help="where the model runs: auto, a GPU or cpu (default auto)"
    )
    start = kf.add_mutually_exclusive_group()
    start.add_argument("--from-take", metavar="TAKE_ID", help="start from this keyframe take (sketch -> keyframe)")
    start.add_argument("--from-image", metavar="PATH", help="start from this image: a drawing, a photo (PNG, JPEG)")
    kf.add_argument(
        "--strength",
        type=float_in("--strength", 0, 1, above_low=True, note=" (0.3 keeps the picture, 1 repaints it)"),
        default=0.0,
        help=f"with --from-*: how much may change, more than 0 up to 1 (default {DEFAULT_STRENGTH:g}; low keeps more)",
    )
    kf.add_argument("--mask", metavar="MASK.png", help="with --from-*: repaint only the white part (same size)")
    _add_ray_option(kf)

    rd = sub.add_parser("render", help="render the motion of shots between their pins")
    rd.add_argument("path", help="NAME.pinframe")
    rd.add_argument("--shots", help="comma-separated shot numbers (default: every shot with pins)")
    rd.add_argument(
        "--stale", action="store_true", help="only shots whose clip is missing, stale or a draft (fewer steps, smaller)"
    )
    rd.add_argument("--keep-drafts", action="store_true", help="with --stale: leave draft clips as they are")
    rd.add_argument(
        "--model",
        help=f"{_choices('motion')} (default: each shot's motion model, else the project's; see `pinframe motion`)",
    )
    rd.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the motion backend, e.g. sound=true (`pinframe models --backends` lists them)",
    )
    rd.add_argument(
        "--place-sound", action="store_true", help="put the sound a model makes with a clip on the audio lane"
    )
    rd.add_argument("--seed", type=_SEED, default=0, help=f"seed for ML motion models, 0 to {SEED_MAX} (default 0)")
    rd.add_argument("--steps", type=_STEPS, default=0, help=f"denoising steps, 1 to {STEPS_MAX} (default: the model's)")
    rd.add_argument(
        "--work-pixels",
        type=int_in("--work-pixels", 0, WORK_PIXELS_MAX, " (0: the model's default size)"),
        default=0,
        help=f"render ML motion at about this many pixels a frame, up to {WORK_PIXELS_MAX} (default: the model's)",
    )
    rd.add_argument(
        "--device", default="auto", type=_device, help="where the model runs: auto, a GPU or cpu (default auto)"
    )
    _add_ray_option(rd)

    mo = sub.add_parser("motion", help="show or choose the motion model of the project or of a shot")
    mo.add_argument("path", help="NAME.pinframe")
    mo.add_argument("model", nargs="?", help=f"{_choices('motion')}; leave out to show the choices made")
    mo.add_argument("--shot", help="choose for this shot only (overrides the project's)")
    mo.add_argument("--clear", action="store_true", help="with --shot: follow the project's motion model again")


def _choices(kind: str) -> str:
    """The backends of ``kind`` as the CLI help lists them, from the one registry."""
    names = [b.name for b in backends(kind)]  # type: ignore[arg-type]
    return f"a built-in backend or model id or folder ({', '.join(names)})"


def _add_ray_option(parser) -> None:
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run the jobs on a Ray cluster: ray://HOST:10001, auto (this machine is a cluster node) "
        "or local (start one here to try it)",
    )
    parser.add_argument(
        "--ray-cpus",
        type=int_in("--ray-cpus", 1, RAY_CPUS_MAX),
        metavar="N",
        help="with --ray local: CPUs the local cluster gets",
    )


def find_shot(project: Project, number: str) -> Shot:
    matches = [s for s in project.shots() if s.number == number]
    if not matches:
        numbers = ", ".join(s.number for s in project.shots()) or "none"
        raise PinframeError(f"there is no shot '{number}' in {project.name}; shots: {numbers}")
    return matches[0]


def run_jobs(
    engine: Engine, jobs: Sequence[Job], on_finished: Callable[[int, tuple[Result, ...]], None] | None = None
) -> list[tuple[Result, ...] | None]:
    """Run jobs to the end, printing progress, calling ``on_finished(index, outputs)`` as each ends.

    Importing each result as soon as it exists means a later failure or a Ctrl-C never costs
    finished work. Ctrl-C cancels what is left, then re-raises KeyboardInterrupt. Returns each
    job's outputs in submission order (None for a job that failed or was cancelled).
    """
    stream = engine.events()
    ids = [engine.submit(job) for job in jobs]
    index_of = {job_id: i for i, job_id in enumerate(ids)}
    outputs: list[tuple[Result, ...] | None] = [None] * len(jobs)
    failures: list[str] = []
    pending = set(ids)
    last_print = 0.0

    def handle(event) -> None:
        nonlocal last_print
        if event.job_id not in index_of:
            return
        i = index_of[event.job_id]
        label = jobs[i].label
        if isinstance(event, Started):
            _status(f"{label}: started")
        elif isinstance(event, Progress) and time.monotonic() - last_print > 0.5:
            last_print = time.monotonic()
            eta = f", about {event.eta_seconds:.0f} s left" if event.eta_seconds is not None else ""
            _status(f"{label}: step {event.step}/{event.total}{eta}")
        elif isinstance(event, Finished):
            outputs[i] = event.outputs
            _status(f"{label}: done{' (from cache)' if event.cached else ''}")
            if on_finished is not None:
                on_finished(i, event.outputs)
        elif isinstance(event, Failed):
            failures.append(f"{label}: {event.message}")
            _status(f"{label}: failed: {event.message}")
        elif isinstance(event, Cancelled):
            _status(f"{label}: cancelled")
        if event.terminal:
            pending.discard(event.job_id)

    try:
        while pending:
            handle(stream.get())
    except KeyboardInterrupt:
        _status("cancelling…")
        engine.cancel_all()
        try:
            while pending:
                handle(stream.get(timeout=60))
        except queue.Empty:
            _status("the running job did not stop within a minute; leaving it")
        stream.close()
        raise
    stream.close()
    if failures and not any(outputs):
        raise PinframeError(failures[0])
    return outputs


def _status(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def make_engine(device: str, ray: str | None = None, ray_cpus: int | None = None) -> Engine:
    """An engine in this process, or one whose jobs run on the Ray cluster at ``ray``.

    A device that isn't there, or a cluster that can't be reached, is a user error said in one
    line. Farm results land in the same cache as local ones, so they are local cache hits later.
    """
    from engine.devices import DeviceSettings
    from engine.runtime import Engine

    try:
        settings = DeviceSettings(device=device)
        if ray:
            from engine.farm import RayExecutor

            _status(f"connecting to Ray at {ray}…")
            executor = RayExecutor(ray, num_cpus=ray_cpus)
            _status(f"farm: {executor.describe()}")
            return Engine(user_cache_dir() / "engine", settings, executor=executor)
        settings.resolve_device()
        return Engine(user_cache_dir() / "engine", settings)
    except EngineError as exc:
        raise PinframeError(str(exc)) from None


def resolve_model(text: str, *, kind: str, upscale: str | None = None, farm: bool = False) -> ModelSpec:
    """As :func:`app.engine_service.resolve_model`; for the farm, also a known model id that is
    downloaded on the workers but not here (the workers find it by id and revision)."""
    try:
        return S.resolve_model(text, kind=kind, upscale=upscale)
    except PinframeError:
        spec = _farm_only_model(text, kind) if farm else None
        if spec is None:
            raise
        _status(f"{text} is not downloaded here; the farm workers must have it")
        return spec


def _farm_only_model(text: str, kind: str) -> ModelSpec | None:
    from app.cli_models import registry
    from engine.models.registry import KnownModel, is_companion

    try:
        model = registry().get(text)
    except (EngineError, KeyError):
        return None
    if not isinstance(model, KnownModel):
        return None
    kind = "motion" if kind == "clip" else kind
    if get_backend(model.backend).kind != kind or is_companion(model):
        raise PinframeError(f"{text} can't make {'keyframes' if kind == 'keyframe' else 'clips'}")
    return ModelSpec(model.backend, "", model.id, revision=model.revision)


def _check_start_options(args: argparse.Namespace) -> None:
    starts = bool(args.from_take or args.from_image)
    if args.strength and not (math.isfinite(args.strength) and 0 < args.strength <= 1):
        raise PinframeError(
            f"--strength {args.strength:g} is out of range; use more than 0 up to 1 "
            "(0.3 keeps the picture, 1 repaints it)"
        )
    if (args.strength or args.mask) and not starts:
        given = "--mask" if args.mask else "--strength"
        raise PinframeError(f"{given} needs a picture to start from: add --from-take TAKE_ID or --from-image PATH")
    if starts and args.ray:
        raise PinframeError(
            "keyframes from a picture run on this machine, not on the farm (the picture doesn't travel there yet); "
            "leave out --ray"
        )


def cmd_keyframes(args: argparse.Namespace) -> int:
    if args.variations < 1 or args.variations > 64:
        raise PinframeError(f"--variations {args.variations} is out of range; ask for 1 to 64")
    if args.seed is not None and not 0 <= args.seed <= SEED_MAX:
        raise PinframeError(f"--seed {args.seed} is out of range; use 0 to {SEED_MAX}")
    _check_start_options(args)
    model = resolve_model(args.model, kind="keyframe", upscale=args.upscale, farm=bool(args.ray))
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
        init_image = args.from_image or ""
        if args.from_take:
            init_image = S.start_image_path(session.bundle, session.project, args.from_take)
        if init_image:
            from engine.backends.start_picture import check_start_files  # cv2: not for every CLI command

            try:  # headers only: a wrong mask or a huge file is refused before a model loads
                check_start_files(init_image, args.mask or "")
            except EngineError as exc:
                raise PinframeError(str(exc)) from None
        job = S.keyframe_job(
            session.project,
            shot,
            model,
            seeds,
            steps=args.steps,
            init_image=init_image,
            strength=args.strength,
            mask_image=args.mask or "",
            bundle=session.bundle,  # the shot's references and the project's LoRAs, where the model takes them
        )
        engine = make_engine(args.device, args.ray, args.ray_cpus)
        results = run_jobs(engine, [job])[0] or ()
        session.do(S.keyframe_takes_command(session.bundle, session.project, shot.id, job, results, pin_frame=args.pin))
        pinned = f", pinned seed {results[0].seed} at frame {args.pin}" if args.pin is not None and results else ""
        seeds_text = ", ".join(str(r.seed) for r in results)
        made = ""
        if results and results[0].strength:
            source = f"take {args.from_take}" if args.from_take else args.from_image
            made = f" from {source} at strength {results[0].strength:g}" + (", inpainted" if args.mask else "")
        print(f"shot {shot.number}: {len(results)} keyframe takes{made} (seeds {seeds_text}){pinned}")
        return 0
    finally:
        if engine is not None:
            engine.shutdown()
        session.close()


def cmd_render(args: argparse.Namespace) -> int:
    if not 0 <= args.seed <= SEED_MAX:
        raise PinframeError(f"--seed {args.seed} is out of range; use 0 to {SEED_MAX}")
    if args.steps < 0 or args.work_pixels < 0:
        raise PinframeError("--steps and --work-pixels can't be negative; leave them out for the model's defaults")
    given = resolve_model(args.model, kind="motion", farm=bool(args.ray)) if args.model else None
    session = ProjectSession.open(args.path)
    engine = None
    try:
        project = session.project
        if args.shots:
            shots = [find_shot(project, n.strip()) for n in args.shots.split(",") if n.strip()]
        else:
            shots = [s for s in project.shots() if s.pins]
        kept = 0
        if args.stale:
            # A chosen shot without pins stays in, to be refused by name below.
            # A clip whose file was deleted is missing: rendered again (session.media finds it gone).
            media = session.media
            wanted = [s for s in shots if not s.pins or needs_render(project, s, media=media)]
            shots = [s for s in wanted if needs_render(project, s, keep_drafts=args.keep_drafts, media=media)]
            kept = len(wanted) - len(shots)
        elif args.keep_drafts:
            raise PinframeError("--keep-drafts goes with --stale (it leaves draft clips out of a stale render)")
        unpinned = [s.number for s in shots if not s.pins]
        if unpinned:
            raise PinframeError(f"shot(s) {', '.join(unpinned)} have no pinned keyframe; pin one before rendering")
        if kept:
            _status(f"kept {kept} draft clip(s) (--keep-drafts); leave it out to render them in full")
        if not shots:
            print("nothing to render: every shot's clip is current" + (" or a kept draft" if kept else ""))
            return 0
        models = [given or _shot_model(project, shot, bool(args.ray)) for shot in shots]
        backends_used = {m.backend for m in models}
        if args.set and len(backends_used) > 1:
            raise PinframeError(
                f"--set applies to one backend, but these shots render with {', '.join(sorted(backends_used))}; "
                "render them separately with --shots"
            )
        settings = S.parse_settings(args.set, models[0].backend) if args.set else None
        engine = make_engine(args.device, args.ray, args.ray_cpus)
        jobs, hashes = [], []
        for shot, model in zip(shots, models, strict=True):
            # Nothing changes in the project until a clip exists: the job is built against the
            # shot as it will be once its render settings name this model.
            job, inputs_hash = S.render_plan(session.project, session.bundle, shot.id, model, args.seed, settings)
            # --steps overrides the shot's steps setting only when given: 0 would reset it to the default.
            jobs.append(replace(job, steps=args.steps or job.steps, work_pixels=args.work_pixels))
            hashes.append(inputs_hash)
            _status(f"{job.label}: {_describe(job)}")
        imported: list[str] = []
        problems: list[str] = []

        def import_clip(index: int, outputs) -> None:
            shot = shots[index]
            try:
                stored = S.store_clip(session.bundle, outputs[0])
                session.do(
                    S.render_result_command(session.project, shot.id, jobs[index], stored, hashes[index], settings)
                )
                imported.append(shot.number)
                made = session.project.shot(shot.id).current_clip_take
                if made is not None:
                    _status(f"shot {shot.number}: made by {made.made_by}" + (f"; {made.notes}" if made.notes else ""))
                if args.place_sound and stored.audio is not None:
                    session.do(S.place_clip_sound(session.bundle, session.project, shot.id))
                    _status(f"shot {shot.number}: its sound is on the audio lane")
            except (PinframeError, EngineError) as exc:
                problems.append(f"shot {shot.number}: {exc}")
                _status(f"pinframe: shot {shot.number} rendered but could not be stored: {exc}")

        try:
            run_jobs(engine, jobs, on_finished=import_clip)
        finally:
            if imported:
                _status(f"kept clips for shot(s) {', '.join(imported)}")
        names = ", ".join(sorted({get_backend(m.backend).display_name for m in models}))
        print(f"rendered {len(imported)} of {len(shots)} shot(s) with {names}")
        return 0 if len(imported) == len(shots) else 1
    finally:
        if engine is not None:
            engine.shutdown()
        session.close()


def _shot_model(project: Project, shot: Shot, farm: bool) -> ModelSpec:
    """The shot's motion model (its own, else the project's); on the farm also a model only the workers have."""
    choice = project.motion_model_of(shot)
    try:
        return S.motion_model(project, shot)
    except PinframeError:
        spec = _farm_only_model(choice, "motion") if farm else None
        if spec is None:
            raise
        return spec


def _describe(job) -> str:
    info = get_backend(job.model.backend)
    name = info.display_name + (f" ({job.model.model_id})" if job.model.model_id else "")
    settings = ", ".join(f"{k} {v}" for k, v in job.params)
    return f"{name}{', ' + settings if settings else ''}, {job.frame_count} frames"


def cmd_motion(args: argparse.Namespace) -> int:
    from app import commands as C

    session = ProjectSession.open(args.path)
    try:
        project = session.project
        if args.clear and not args.shot:
            raise PinframeError("--clear needs --shot: the project always has a motion model")
        if args.model is None and not args.clear:
            print(f"project: {project.motion_model}")
            for shot in project.shots():
                if shot.motion_model:
                    print(f"shot {shot.number}: {shot.motion_model}")
            return 0
        choice = ""
        if not args.clear:
            # Checked now, so a typo is said here rather than at render time; a folder joins
            # the model list and is stored by its id.
            try:
                choice = S.motion_choice(args.model)
            except PinframeError:
                spec = _farm_only_model(args.model, "motion")  # downloaded on the farm's workers only
                if spec is None:
                    raise
                choice = spec.model_id
        if args.shot:
            shot = find_shot(project, args.shot)
            session.do(C.set_shot_fields(project, shot.id, motion_model=choice))
            print(f"shot {shot.number}: {choice or 'follows the project (' + project.motion_model + ')'}")
        else:
            session.do(C.set_project_settings(project, motion_model=choice))
            print(f"project: {choice}")
        return 0
    finally:
        session.close()


COMMANDS = {"keyframes": cmd_keyframes, "render": cmd_render, "motion": cmd_motion}
