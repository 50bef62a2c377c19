"""Regression: the Qt binding must not over-release None.

PySide6 6.12.0 dropped a reference to None in every Python override of a Qt virtual
(paintEvent, mouse events, timerEvent: which qasync's timers use) and in QTimer.singleShot.
On Python 3.11, where None is not immortal, the app then died with "deallocating None"
after some tens of thousands of events. requirements.txt pins a release without the bug.
"""

from __future__ import annotations

import asyncio
import sys

from PySide6.QtCore import QObject, QTimer


def test_virtual_overrides_and_timers_leave_none_alone(qapp):
    class Ticker(QObject):
        count = 0

        def timerEvent(self, event) -> None:
            self.count += 1
            self.killTimer(event.timerId())
            if self.count < 400:
                self.startTimer(0)

    ticker = Ticker()
    before = sys.getrefcount(None)
    ticker.startTimer(0)
    shots = [0]

    def single_shot() -> None:
        shots[0] += 1
        if shots[0] < 400:
            QTimer.singleShot(0, single_shot)

    QTimer.singleShot(0, single_shot)
    while ticker.count < 400 or shots[0] < 400:
        qapp.processEvents()
    assert sys.getrefcount(None) - before > -100, "Qt callbacks released None references they never held"


def test_the_asyncio_loop_leaves_none_alone(loop):
    async def spin() -> None:
        for _ in range(400):
            await asyncio.sleep(0)
            await loop.run_in_executor(None, int)

    before = sys.getrefcount(None)
    loop.run_until_complete(spin())
    assert sys.getrefcount(None) - before > -100
