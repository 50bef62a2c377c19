"""Engine errors. Messages are for a person: what failed, on which input, what to do."""

from __future__ import annotations


class EngineError(Exception):
    """A job or model problem with a message a person can act on."""


class JobCancelled(EngineError):
    """Raised inside a running job when it was cancelled; the worker turns it into an event."""


class ModelFolderError(EngineError):
    """A model folder that can't be loaded: missing or unreadable file, pickled weights..."""


class OutOfMemory(EngineError):
    """The device ran out of memory; the message says what to lower or turn on."""
