"""Ctrl-C in the command line: held back while finished work is being saved, then honoured.

A KeyboardInterrupt raised in the middle of storing a clip would lose a clip that had already been
rendered (and leave its job's end unseen, so the caller waits for it). Inside :func:`held` a Ctrl-C
is remembered instead, and raised as soon as the saving is done.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, carrying one line that says what was kept and what was cancelled."""


@contextmanager
def held() -> Iterator[None]:
    """Run the body to its end even if Ctrl-C is pressed; raise KeyboardInterrupt after it if it was."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are only ever delivered to the main thread
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt
