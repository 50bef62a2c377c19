"""Sketch keyframes: a clearly labelled placeholder card, no model needed.

So that the whole app works on a machine with nothing downloaded, the sketch backend draws a
card: the prompt text, a "SKETCH" label, a rule-of-thirds grid, safe-area frame and a
stand-in figure sized by the shot size (tiny in a wide shot, filling the frame in a close-up).
The seed varies the figure's placement and the card's tint, deterministically.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import cv2
import numpy as np

from engine.backends.fit import write_png
from engine.jobs import KeyframeJob, KeyframeResult
from engine.progress import StepReporter

# Height of the figure as a fraction of the frame height, by shot size.
FIGURE_SCALE = {
    "EWS": 0.12,
    "WS": 0.3,
    "FS": 0.8,
    "MWS": 1.0,
    "MS": 1.4,
    "MCU": 2.0,
    "CU": 2.8,
    "ECU": 4.5,
    "OTS": 1.6,
    "POV": 0.6,
    "INS": 0.0,
    "2S": 1.2,
    "": 0.7,
}


class SketchBackend:
    name = "sketch"

    def memory_bytes(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def generate(self, job: KeyframeJob, out_dir: Path, reporter: StepReporter) -> tuple[KeyframeResult, ...]:
        results = []
        for index, seed in enumerate(job.seeds, 1):
            card = draw_card(job, seed)
            path = out_dir / f"sketch_{seed}.png"
            write_png(path, card)
            results.append(
                KeyframeResult(
                    str(path),
                    seed,
                    job.width,
                    job.height,
                    "sketch",
                    generated_width=job.width,
                    generated_height=job.height,
                )
            )
            reporter.step(index, len(job.seeds), card if reporter.wants_preview(index, len(job.seeds)) else None)
        return tuple(results)


def draw_card(job: KeyframeJob, seed: int) -> np.ndarray:
    rng = random.Random(seed)
    w, h = job.width, job.height
    tint = np.array([rng.randint(28, 48), rng.randint(28, 48), rng.randint(34, 56)], dtype=np.uint8)
    card = np.empty((h, w, 3), dtype=np.uint8)
    card[:] = tint
    grid = (80, 80, 90)
    line = max(1, round(h / 540))
    for k in (1, 2):  # rule of thirds
        cv2.line(card, (w * k // 3, 0), (w * k // 3, h), grid, line)
        cv2.line(card, (0, h * k // 3), (w, h * k // 3), grid, line)
    # 90% action-safe frame, as broadcast monitors draw it.
    cv2.rectangle(card, (w // 20, h // 20), (w - w // 20, h - h // 20), (110, 110, 120), line)

    scale = FIGURE_SCALE.get(job.shot_size, 0.7)
    if scale > 0:
        fig_h = int(h * scale)
        cx = int(w * rng.uniform(0.3, 0.7))
        ground = int(h * (0.92 if scale < 1 else 0.5 + scale * 0.55))
        head_r = max(2, fig_h // 9)
        colour = (150 + rng.randint(0, 60), 90, 70)
        head_y = ground - fig_h + head_r
        cv2.circle(card, (cx, head_y), head_r, colour, -1, cv2.LINE_AA)
        body = np.array(
            [
                (cx - head_r, head_y + head_r),
                (cx + head_r, head_y + head_r),
                (cx + int(head_r * 1.6), ground),
                (cx - int(head_r * 1.6), ground),
            ],
            dtype=np.int32,
        )
        cv2.fillPoly(card, [body], colour, cv2.LINE_AA)

    font = cv2.FONT_HERSHEY_SIMPLEX
    unit = h / 1080
    title = f"SKETCH  {job.label}".strip() + (f"  {job.shot_size}" if job.shot_size else "") + f"  seed {seed}"
    cv2.putText(
        card,
        title,
        (int(w * 0.06), int(h * 0.12)),
        font,
        1.1 * unit * 1.6,
        (230, 200, 120),
        max(1, round(2 * unit)),
        cv2.LINE_AA,
    )
    chars = max(20, int(w / (22 * unit * 1.3)))
    y = int(h * 0.2)
    for text_line in textwrap.wrap(job.prompt or "(no prompt)", chars)[:6]:
        cv2.putText(
            card,
            text_line,
            (int(w * 0.06), y),
            font,
            0.9 * unit * 1.3,
            (220, 220, 225),
            max(1, round(2 * unit)),
            cv2.LINE_AA,
        )
        y += int(48 * unit * 1.3)
    return card
