"""Errors a person can act on.

Every error that reaches a user derives from :class:`PinframeError`. Its message is one
complete sentence (or two) that names the input and says what to do, so the CLI can print it
on one line and the UI can show it in a dialog without a traceback.
"""

from __future__ import annotations


class PinframeError(Exception):
    """An error caused by the user's input or data, with a message meant for them."""


class TimecodeError(PinframeError, ValueError):
    """A frame rate, timecode or frame count that can't be used."""


class EditError(PinframeError, ValueError):
    """An edit that would break the document (a pin outside its shot, two pins on a frame...)."""


class BundleError(PinframeError):
    """A project bundle that can't be opened or written."""


class NotABundleError(BundleError):
    """The path is not a Pinframe project bundle."""


class NewerVersionError(BundleError):
    """The bundle was written by a newer Pinframe with a schema this build can't read."""


class CorruptBundleError(BundleError):
    """project.db is damaged, truncated, or holds data Pinframe would never write."""


class MediaError(PinframeError):
    """A media file can't be stored, found or read."""


class ExportError(PinframeError):
    """An export that can't be written (a full disk, a destination that can't be created...)."""


class ExportCancelled(ExportError):
    """The person cancelled the export; nothing half-written is left under a final name."""


class ScriptError(PinframeError, ValueError):
    """A screenplay or shot list that can't be imported; the message names the file and line or row."""
