"""Thumbnails of pinned keyframes for the timeline: decoded small on a worker thread, cached by media reference."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QImageReader

from app.media_ref import MediaRef

THUMB_H = 96  # decode height in logical pixels; painting scales down from here
THUMB_CACHE = 600  # ~40 MB of small RGB32 images
MAX_DECODES = 3  # the loop's executor also saves projects: don't queue a hundred decodes ahead of that


def _decode_thumbnail(path: str, height: int) -> QImage:
    """Read an image scaled to ``height`` (runs on a worker thread; a QImage is safe there)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and size.height() > height:
        # Scaled decoding lets JPEG skip most of the work instead of decoding full size.
        reader.setScaledSize(QSize(max(1, round(size.width() * height / size.height())), height))
    image = reader.read()
    return image if image.isNull() else image.convertToFormat(QImage.Format.Format_RGB32)


class Thumbnails:
    """Small pictures of pinned keyframes by media reference, decoded off the GUI thread."""

    def __init__(self, on_ready: Callable[[], None], height: Callable[[], int]) -> None:
        self._on_ready, self._height = on_ready, height
        self._images: OrderedDict[MediaRef, QImage] = OrderedDict()
        self._wanted: OrderedDict[MediaRef, str] = OrderedDict()
        self._running: set[MediaRef] = set()

    def get(self, ref: MediaRef, path: Callable[[MediaRef], object]) -> QImage | None:
        """The thumbnail, or None while it loads (the request is queued, newest first)."""
        image = self._images.get(ref)
        if image is not None:
            self._images.move_to_end(ref)
            return image
        if ref not in self._running:
            self._wanted[ref] = str(path(ref))  # a path join, not a disk read
            self._wanted.move_to_end(ref)
            while len(self._wanted) > 256:  # what scrolled away is asked for again when painted
                self._wanted.popitem(last=False)
            self._start()
        return None

    @property
    def pending(self) -> int:
        return len(self._wanted) + len(self._running)

    def __contains__(self, ref: MediaRef) -> bool:
        return ref in self._images

    def clear(self) -> None:
        self._images.clear()
        self._wanted.clear()

    def _start(self) -> None:
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:  # no loop (a bare widget in a script): thumbnails stay placeholders
            return
        while self._wanted and len(self._running) < MAX_DECODES and not loop.is_closed():
            ref, path = self._wanted.popitem(last=True)  # what was painted last is what's on screen
            self._running.add(ref)
            future = loop.run_in_executor(None, _decode_thumbnail, path, self._height())
            future.add_done_callback(partial(self._done, ref))

    def _done(self, ref: MediaRef, future: asyncio.Future) -> None:
        self._running.discard(ref)
        try:
            image = future.result()
        except Exception:  # noqa: BLE001 - an unreadable file shows as a "missing" placeholder
            image = QImage()
        self._images[ref] = image
        while len(self._images) > THUMB_CACHE:
            self._images.popitem(last=False)
        self._start()
        try:
            self._on_ready()
        except RuntimeError:  # the widget was closed while this decoded
            pass
