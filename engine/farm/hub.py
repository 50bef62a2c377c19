"""The progress/cancel hub: a small Ray actor that jobs push to and the engine drains."""

from __future__ import annotations


class FarmHub:
    """Jobs push begin/progress messages here; the engine drains them and sets cancel flags."""

    def __init__(self) -> None:
        self._messages: list[tuple] = []
        self._cancelled: set[str] = set()

    def begin(self, job_id: str, pid: int, node_id: str, node: str) -> None:
        self._messages.append(("begin", job_id, pid, node_id, node))

    def progress(self, job_id: str, step: int, total: int, eta: float | None, preview_png: bytes | None) -> None:
        self._messages.append(("progress", job_id, step, total, eta, preview_png))

    def flush(self, job_id: str) -> None:
        """Called (and waited for) by a job before it returns: its earlier messages are all here."""

    def cancel(self, job_id: str) -> None:
        self._cancelled.add(job_id)

    def is_cancelled(self, job_id: str) -> bool:
        return job_id in self._cancelled

    def forget(self, job_id: str) -> None:
        self._cancelled.discard(job_id)

    def drain(self) -> list[tuple]:
        messages, self._messages = self._messages, []
        return messages
