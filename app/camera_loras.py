"""Which camera LoRA a shot's render loads: the installed LoRA made for the shot's camera move.

Lightricks publishes camera-control LoRAs for LTX-2 19B (dolly in / out / left / right, jib up / down,
static); they are known models of kind "motion-lora" (engine.models.registry.CAMERA_LORAS), each naming the
move it makes by its engine.camera_move name. A shot's move field is free text ("slow push in on her
hands"), read with :func:`engine.camera_move.read_move`, so every synonym that module knows finds its LoRA.
A LoRA that isn't downloaded is simply not used: the move still reaches the model through the prompt.

This reads the Hub cache (a ``refs`` file and one safetensors header a LoRA), and only for a backend that
loads LoRAs and a move that has one.
"""

from __future__ import annotations

import re

from engine.backend_registry import get_backend
from engine.camera_move import SYNONYMS, parse_move, read_move
from engine.errors import EngineError
from engine.jobs import ModelSpec
from engine.models.registry import KnownModel, ModelRegistry, lora_file

STATIC = "static"


def _static_words() -> re.Pattern[str]:
    """ "static", "locked off", "locked-off"...: read_move drops a static camera (it has no 2D move), so a
    static shot is found by its words, the ones engine.camera_move knows for it."""
    words = [STATIC, *(k for k, v in SYNONYMS.items() if v == STATIC)]
    alternatives = "|".join(r"[\s\-_]+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


_STATIC_WORDS = _static_words()


def shot_moves(move_text: str) -> tuple[str, ...]:
    """The canonical moves a shot's free-text move names, "static" included ("slow push in" -> dolly in)."""
    moves = tuple(dict.fromkeys(part.move.name for part in parse_move(read_move(move_text))))
    if not moves and _STATIC_WORDS.search(move_text):
        return (STATIC,)
    return moves


def camera_loras(
    model: ModelSpec, move_text: str, registry: ModelRegistry | None = None
) -> tuple[tuple[str, float], ...]:
    """The (LoRA file, weight) pairs a render of a shot with this move loads: one per move that has an
    installed LoRA for ``model``'s backend; () when the backend loads no LoRAs or none is installed."""
    if not get_backend(model.backend).loras or not move_text.strip():
        return ()
    moves = shot_moves(move_text)
    if not moves:
        return ()
    if registry is None:
        from app.cli.models import registry as user_registry

        try:
            registry = user_registry()
        except EngineError:
            return ()  # a damaged model list: `pinframe models` explains it; the render goes on without LoRAs
    chosen = []
    for lora in _loras_for(registry, model.backend):
        if lora.camera_move in moves:
            path = _installed_file(registry, lora)
            if path:
                # Weight 1: what Lightricks recommends; the move's speed word reaches the prompt.
                chosen.append((path, 1.0))
    return tuple(chosen)


def _loras_for(registry: ModelRegistry, backend: str) -> list[KnownModel]:
    return [m for m in registry.known() if m.kind == "motion-lora" and m.backend == backend and m.camera_move]


def _installed_file(registry: ModelRegistry, lora: KnownModel) -> str:
    """The LoRA's file when it is fully downloaded and sound; "" otherwise (it is simply not used)."""
    try:
        status = registry.installed(lora)
        if not status.complete or status.path is None:
            return ""
        return str(lora_file(status.path))
    except (OSError, EngineError):
        return ""
