"""Drag-and-drop formats shared by panels (a keyframe candidate dragged onto the timeline)."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData

TAKE_MIME = "application/x-pinframe-take"


def take_mime(shot_id: str, take_id: str) -> QMimeData:
    data = QMimeData()
    data.setData(TAKE_MIME, json.dumps({"shot_id": shot_id, "take_id": take_id}).encode())
    return data


def read_take(mime: QMimeData) -> tuple[str, str] | None:
    if not mime.hasFormat(TAKE_MIME):
        return None
    try:
        value = json.loads(bytes(mime.data(TAKE_MIME).data()).decode())
        return value["shot_id"], value["take_id"]
    except (ValueError, KeyError):
        return None
