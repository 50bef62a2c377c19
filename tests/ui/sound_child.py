"""Plays a project in a real viewer for a few seconds; run by test_sound.py in its own process.

A process of its own, so the sound server it talks to (PULSE_SERVER) is chosen before
QtMultimedia starts, and a hang in a sound driver fails one test instead of the run.
Prints one JSON line: what the sound player did.

Options (argv[5:]): ``freeze=S`` blocks the GUI thread for S seconds one second into playing;
``slow-decode=S`` makes decoding the soundtrack take S seconds longer (so play is pressed
before the sound is ready).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from PySide6.QtWidgets import QApplication


def main() -> None:
    bundle, frame, seconds, muted = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == "mute"
    options = dict(arg.split("=", 1) for arg in sys.argv[5:])
    app = QApplication(sys.argv[:1])
    import qasync

    from app.audio_mix import AudioMix
    from app.session import ProjectSession
    from ui.state import EditorState
    from ui.viewer import ViewerWidget

    if "slow-decode" in options:
        delay, decode = float(options["slow-decode"]), AudioMix._decode

        def slow(self, ref):
            time.sleep(delay)  # the slow decode under test (on the decoding worker thread), not a wait
            return decode(self, ref)

        AudioMix._decode = slow

    loop = qasync.QEventLoop(app, already_running=False)
    asyncio.set_event_loop(loop)
    session = ProjectSession.open(bundle)
    state = EditorState()
    state.attach(session)
    viewer = ViewerWidget(state)
    viewer.sound.set_muted(muted)
    shown: list[int] = []
    viewer.frame_shown.connect(shown.append)

    async def run() -> dict:
        deadline = time.monotonic() + 30
        if "slow-decode" not in options:
            while not viewer.sound.ready:  # the soundtrack decodes on a worker thread
                if time.monotonic() > deadline:
                    raise SystemExit("the soundtrack never finished decoding")
                await asyncio.sleep(0.01)
        state.set_playhead(frame)
        viewer.play(1)
        started = time.monotonic()
        # These sleeps are the scenario, not waits: play for about a second, stall the GUI thread (a
        # blocking sleep: the player must catch up after it), then play out the requested length.
        if "freeze" in options:
            await asyncio.sleep(1.0)
            time.sleep(float(options["freeze"]))  # a GUI thread busy with something else
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
        sound = viewer.sound
        result = {
            "status": sound.status,
            "playing_sound": sound.playing,
            "start_sample": sound.start_sample,
            "samples_written": sound.samples_written,
            "played_seconds": sound.played_seconds(),
            "sync_error": sound.sync_error(),
            "resyncs": sound.resyncs,
            "picture_frames": len(set(shown)),
            "elapsed": time.monotonic() - started,
        }
        viewer.stop()
        result["stopped"] = not sound.playing
        return result

    result = loop.run_until_complete(run())
    state.attach(None)
    session.close()
    loop.close()  # joins qasync's executor threads, as the app does on quit
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
