"""How long opening (and saving) a 1,000-shot project takes.

Builds a realistic bundle: 1,000 shots in 20 scenes, each with 3 keyframe takes (real PNG files
in media/), 2 pins and a rendered clip take. Then times, over several repeats:

- open: Bundle.open (integrity check, full load, validation, missing-media scan); target < 1 s
- incremental save after one edit, against a full rewrite of every shot measured in the same run

Run: .venv/bin/python benchmarks/open_project.py [--shots 1000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import commands as C
from app.bundle import Bundle
from app.document import Camera, ClipTake, KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.history import History
from app.render_inputs import shot_inputs_hash
from app.timecode import FrameRate
from tests.helpers import png_bytes


def build(path: Path, shots: int) -> Project:
    base = Project("Bench", FrameRate(24000, 1001), scenes=tuple(Scene(new_id(), f"SCENE {i}") for i in range(20)))
    bundle = Bundle.create(path, base)
    scenes = []
    per_scene = shots // 20
    n = 0
    for scene in base.scenes:
        scene_shots = []
        for _ in range(per_scene):
            n += 1
            takes = tuple(
                KeyframeTake(new_id(), bundle.media.put_bytes(png_bytes(n * 3 + k), "png"), 1024, 576) for k in range(3)
            )
            shot = Shot(
                new_id(),
                str(n),
                48 + n % 50,
                action="Action " * 10,
                prompt="a prompt " * 12,
                camera=Camera("MS", "eye level", 35.0, "dolly in"),
                keyframe_takes=takes,
                pins=(Pin(0, takes[0].id), Pin(47, takes[1].id)),
            )
            clip = ClipTake(new_id(), bundle.media.put_bytes(f"clip {n}".encode(), "mov"), "", shot.duration)
            shot = replace(shot, clip_takes=(clip,), current_clip=clip.id)
            scene_shots.append(shot)
        scenes.append(replace(scene, shots=tuple(scene_shots)))
    project = replace(base, scenes=tuple(scenes))
    # Make every clip current (not stale) so `info`-style staleness checks do real work.
    project = replace(
        project,
        scenes=tuple(
            replace(
                sc,
                shots=tuple(
                    replace(s, clip_takes=(replace(s.clip_takes[0], inputs_hash=shot_inputs_hash(s, project)),))
                    for s in sc.shots
                ),
            )
            for sc in project.scenes
        ),
    )
    bundle.save(project)
    bundle.close()
    return project


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shots", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Bench.pinframe"
        t0 = time.perf_counter()
        project = build(path, args.shots)
        print(
            f"built {project.shot_count()} shots, {len(project.media_refs())} media files "
            f"in {time.perf_counter() - t0:.2f} s; project.db {(path / 'project.db').stat().st_size / 1e6:.2f} MB"
        )

        def open_close():
            bundle, loaded, report = Bundle.open(path)
            bundle.close()
            assert loaded.shot_count() == project.shot_count() and not report.missing_media

        opens = timed(open_close, args.repeats)
        print(
            f"open {args.shots}-shot project: median {statistics.median(opens) * 1000:.1f} ms, "
            f"worst {max(opens) * 1000:.1f} ms (target < 1000 ms)"
        )

        bundle, loaded, _ = Bundle.open(path)
        h = History(loaded)
        shot_id = next(loaded.shots()).id

        def one_edit_save():
            h.do(C.set_shot_fields(h.project, shot_id, notes=str(time.perf_counter())))
            bundle.save(h.project)

        def full_rewrite():
            bundle._saved_shots = {}  # forget what is on disk: every shot is written again
            bundle.save(h.project)

        incremental = statistics.median(timed(one_edit_save, args.repeats))
        full = statistics.median(timed(full_rewrite, args.repeats))
        bundle.close()
        print(
            f"save after one edit: {incremental * 1000:.1f} ms; full rewrite: {full * 1000:.1f} ms "
            f"(incremental is {full / incremental:.0f}x faster)"
        )


if __name__ == "__main__":
    main()
