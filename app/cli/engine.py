"""CLI commands that run the engine: ``keyframes``, ``render`` (and ``motion``, which chooses its model).

They run an engine in this process, print progress to stderr, end with a summary, and on
Ctrl-C cancel the running job cleanly (what already finished is kept in the project).
With ``--ray ADDRESS`` the engine's jobs run on a Ray cluster instead (see :mod:`engine.farm`):
model jobs one per GPU (``--gpu-type``, ``--min-vram`` choose which), files through a shared
folder (``--farm-shared``) or streamed; progress, results and the summary are the same.
Making the engine and following its jobs is :mod:`app.cli.engine_jobs`.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace

from app import engine_service as S
from app.cli.common import find_shot, float_in, int_in, status
from app.cli.engine_jobs import farm_only_model, make_engine, resolve_model, run_jobs
from app.clip_state import needs_render
from app.document import Project, Shot
from app.errors import PinframeError
from app.session import ProjectSession
from engine.backend_registry import BackendKind, backends, get_backend
from engine.errors import EngineError
from engine.jobs import DEFAULT_STRENGTH, SEED_MAX, KeyframeResult, ModelSpec

# The ranges of the CLI's numbers; a number outside one is a usage error (exit 2) that says the range.
STEPS_MAX = int(max(s.maximum or 0 for b in backends() for s in b.settings if s.name == "steps"))
WORK_PIXELS_MAX = 3840 * 2160  # a 4K UHD frame
VARIATIONS_MAX = 64
RAY_CPUS_MAX = 4096
MIN_VRAM_MAX = 4096  # GB


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


def _choices(kind: BackendKind) -> str:
    """The backends of ``kind`` as the CLI help lists them, from the one registry."""
    names = [b.name for b in backends(kind)]
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
    parser.add_argument(
        "--gpu-type",
        type=_gpu_type,
        metavar="TYPE",
        help="with --ray: only GPUs of this Ray accelerator type (H100, A100, L4, ...)",
    )
    parser.add_argument(
        "--min-vram",
        type=int_in("--min-vram", 1, MIN_VRAM_MAX, " GB"),
        metavar="GB",
        help="with --ray: only GPUs with at least this much memory",
    )
    parser.add_argument(
        "--farm-shared",
        metavar="PATH",
        help="with --ray: a folder every worker mounts at this same path; clips travel through it",
    )


def _gpu_type(text: str) -> str:
    """An argparse ``type`` for --gpu-type: a Ray accelerator type name."""
    value = text.strip()
    if not value or not all(c.isalnum() or c in "-_." for c in value):
        raise argparse.ArgumentTypeError(
            f"--gpu-type '{text}' is not an accelerator type; use a name such as H100, A100 or L4"
        )
    return value


def farm_options(args) -> dict:
    """The RayExecutor options the --ray flags ask for."""
    if not args.ray and (args.gpu_type or args.min_vram or args.farm_shared):
        raise PinframeError("--gpu-type, --min-vram and --farm-shared go with --ray ADDRESS; add it, or leave them out")
    return {
        "num_cpus": args.ray_cpus,
        "accelerator_type": args.gpu_type,
        "min_vram_gb": args.min_vram,
        "shared_root": args.farm_shared,
    }


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
        engine = make_engine(args.device, args.ray, **farm_options(args))
        # A keyframe job's outputs are keyframes.
        results = tuple(r for r in run_jobs(engine, [job])[0] or () if isinstance(r, KeyframeResult))
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
            status(f"kept {kept} draft clip(s) (--keep-drafts); leave it out to render them in full")
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
        engine = make_engine(args.device, args.ray, **farm_options(args))
        jobs, hashes = [], []
        for shot, model in zip(shots, models, strict=True):
            # Nothing changes in the project until a clip exists: the job is built against the
            # shot as it will be once its render settings name this model.
            job, inputs_hash = S.render_plan(session.project, session.bundle, shot.id, model, args.seed, settings)
            # --steps overrides the shot's steps setting only when given: 0 would reset it to the default.
            jobs.append(replace(job, steps=args.steps or job.steps, work_pixels=args.work_pixels))
            hashes.append(inputs_hash)
            status(f"{job.label}: {_describe(job)}")
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
                    status(f"shot {shot.number}: made by {made.made_by}" + (f"; {made.notes}" if made.notes else ""))
                if args.place_sound and stored.audio is not None:
                    session.do(S.place_clip_sound(session.bundle, session.project, shot.id))
                    status(f"shot {shot.number}: its sound is on the audio lane")
            except (PinframeError, EngineError) as exc:
                problems.append(f"shot {shot.number}: {exc}")
                status(f"pinframe: shot {shot.number} rendered but could not be stored: {exc}")

        try:
            run_jobs(engine, jobs, on_finished=import_clip)
        finally:
            if imported:
                status(f"kept clips for shot(s) {', '.join(imported)}")
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
        spec = farm_only_model(choice, "motion") if farm else None
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
                spec = farm_only_model(args.model, "motion")  # downloaded on the farm's workers only
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
