"""The process the crash test kills: it edits a real bundle through a real session as fast
as it can, and prints ``<edit index> <monotonic time>`` after each edit is applied.

Edit ``i`` adds shot ``i`` (every 4th with a stored keyframe pinned in it) and, every 3rd,
revises the notes of shot ``i - 1``, in one command. So the document after ``k`` edits is
fully known (:func:`expected_state`), and any state found after a kill can be checked for
being exactly one of them.

Run as ``python -m tests.app.crash_child BUNDLE QUIET MAX_DELAY``.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import replace

from app.document import KeyframeTake, Pin, Project, Shot
from app.edits import Command, InsertShot, ReplaceShot
from app.session import ProjectSession
from tests.helpers import png_bytes


def shot_duration(i: int) -> int:
    return 12 + i % 17


def expected_state(k: int) -> list[tuple[str, int, str, list[int], str]]:
    """(number, duration, notes, pin frames, keyframe seed) of each shot after k edits."""
    rows = []
    for i in range(1, k + 1):
        revised = (i + 1) % 3 == 0 and i + 1 <= k
        pinned = i % 4 == 0
        rows.append(
            (
                str(i),
                shot_duration(i),
                f"revised by {i + 1}" if revised else "",
                [i % shot_duration(i)] if pinned else [],
                str(i) if pinned else "",
            )
        )
    return rows


def observed_state(project: Project) -> list[tuple[str, int, str, list[int], str]]:
    rows = []
    for shot in project.shots():
        seed = shot.keyframe_takes[0].imported_from if shot.keyframe_takes else ""
        rows.append((shot.number, shot.duration, shot.notes, [p.frame for p in shot.pins], seed))
    return rows


def edit(session: ProjectSession, i: int) -> None:
    project = session.project
    scene_id = project.scenes[0].id
    duration = shot_duration(i)
    shot = Shot(id=f"shot{i:06d}", number=str(i), duration=duration)
    if i % 4 == 0:
        # The picture reaches the disk before any row refers to it.
        ref = session.media.put_bytes(png_bytes(i), "png")
        take = KeyframeTake(f"take{i:06d}", ref, 4, 2, imported_from=str(i))
        shot = replace(shot, keyframe_takes=(take,), pins=(Pin(i % duration, take.id),))
    ops: list = [InsertShot(scene_id, len(project.scenes[0].shots), shot)]
    if i % 3 == 0 and i > 1:
        previous = project.shot(f"shot{i - 1:06d}")
        ops.append(ReplaceShot(replace(previous, notes=f"revised by {i}")))
    session.do(Command(f"edit {i}", tuple(ops)))


def main() -> None:
    path, quiet, max_delay = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    session = ProjectSession.open(path, quiet=quiet, max_delay=max_delay)
    i = session.project.shot_count()
    rng = random.Random()
    print("ready", flush=True)
    while True:
        i += 1
        edit(session, i)
        print(i, time.monotonic(), flush=True)
        time.sleep(rng.random() * 0.02)


if __name__ == "__main__":
    main()
