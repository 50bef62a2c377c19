"""Render ▸ Send to Farm: a batch of shots rendered on a real (local) Ray cluster from the window.

The farm jobs must behave as local ones do: they show in the Jobs panel, cancel, and store their
clips into the project; and they must leave the shared result cache so that a local render of
the same shot afterwards is a cache hit.
"""

from __future__ import annotations

import asyncio
import sys

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

from app import commands as C
from engine.backend_registry import get_backend
from engine.jobs import ModelSpec
from tests.ui.conftest import run_until
from ui.farm_dialog import FarmDialog, saved_addresses
from ui.jobs_panel import describe_job

FLOW = ModelSpec("flow")


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path):
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings().clear()


@pytest.fixture
def farm_bridge(bridge, loop):
    yield bridge
    if bridge.farm is not None:
        loop.run_until_complete(bridge.disconnect_farm(cancel_jobs=True))


def ended(bridge, ids) -> bool:
    return all(bridge.jobs[i].status in ("done", "failed", "cancelled") for i in ids)


def test_a_batch_sent_to_a_local_ray_cluster_lands_in_the_project_like_a_local_render(editor, farm_bridge, loop):
    import ray

    bridge = farm_bridge
    pinned = [s.id for s in editor.project.shots() if s.pins]
    # Shot 2 chose its own motion model; shot 1 follows the project's (flow).
    assert editor.edit(C.set_shot_fields, pinned[1], motion_model="crossfade")
    dialog = FarmDialog(editor, bridge, selected=[])
    assert not dialog.choice_buttons["selected"].isEnabled(), "nothing is selected"
    assert dialog.which == "stale" and dialog.counts == {"selected": 0, "stale": 2, "all": 2}
    loop.run_until_complete(dialog.models_ready)
    flow, crossfade = get_backend("flow").display_name, get_backend("crossfade").display_name
    assert dialog.models_label.text() == f"{flow} for 1 shot, {crossfade} for 1"
    dialog.address.setText("local")
    dialog.show()
    loop.run_until_complete(dialog.send())
    assert dialog.status.text() == "" and dialog.result() == QDialog.DialogCode.Accepted
    assert len(dialog.sent) == 2 and bridge.farm is not None and bridge.farm_address == "local"
    assert "CPU" in bridge.farm_description
    assert saved_addresses()[0] == "local"
    infos = [bridge.jobs[i] for i in dialog.sent]
    assert all(i.farm == "local" and describe_job(i).endswith("on the farm") for i in infos)

    run_until(loop, lambda: ended(bridge, dialog.sent), timeout=120)
    assert [i.status for i in infos] == ["done", "done"], [i.message for i in infos]
    for shot_id in pinned:
        shot = editor.project.shot(shot_id)
        assert shot.current_clip is not None and not editor.project.is_stale(shot)
    assert [editor.project.shot(i).current_clip_take.backend for i in pinned] == ["flow", "crossfade"]

    # Same cache keys: this machine's engine finds the farm's render of shot 1 in the cache.
    (local,) = bridge.render([pinned[0]], FLOW)
    run_until(loop, lambda: ended(bridge, [local]))
    assert bridge.jobs[local].status == "done" and bridge.jobs[local].cached
    assert not bridge.jobs[local].farm

    # Device settings applied here since connecting go with the next farm jobs.
    from engine.devices import DeviceSettings

    tiled = DeviceSettings(device="cpu", precision="fp32", vae_tiling=True)
    configured = bridge.engine.configure(tiled)
    run_until(loop, lambda: bridge.engine.settings == tiled and configured not in bridge.engine.queued_jobs())

    # Cancel reaches the farm's engine. The farm takes no jobs for the moment, so this one stays
    # queued there (a job already on a worker is cancelled through the same call: test_farm.py).
    bridge.farm.executor.max_in_flight = 0
    (farmed,) = bridge.render([pinned[0]], ModelSpec("crossfade"), farm=True)
    assert farmed in bridge.farm.queued_jobs()
    run_until(loop, lambda: bridge.farm.settings == tiled)
    bridge.cancel(farmed)
    run_until(loop, lambda: ended(bridge, [farmed]), timeout=60)
    assert bridge.jobs[farmed].status == "cancelled"
    bridge.farm.executor.max_in_flight = 2

    loop.run_until_complete(bridge.disconnect_farm())
    assert bridge.farm is None and not ray.is_initialized(), "the local cluster the bridge started is stopped"


def test_an_unreachable_farm_is_said_in_the_dialog_and_nothing_is_sent(editor, farm_bridge, loop):
    dialog = FarmDialog(editor, farm_bridge, selected=[next(editor.project.shots()).id])
    assert dialog.which == "selected" and dialog.counts["selected"] == 1
    loop.run_until_complete(dialog.models_ready)
    dialog.address.setText("ray://127.0.0.1:9")
    dialog.show()
    QTest.keyClick(dialog.address, Qt.Key.Key_Return)  # Return sends
    assert dialog._task is not None
    loop.run_until_complete(dialog._task)
    text = dialog.status.text()
    assert "ray://127.0.0.1:9" in text and "ray start --head" in text, text
    assert dialog.isVisible() and not dialog.busy and dialog.send_button.isEnabled()
    assert farm_bridge.farm is None and farm_bridge.jobs == {} and saved_addresses() == []


def test_without_ray_installed_the_dialog_says_how_to_get_it(editor, farm_bridge, loop, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails, as in the standalone build
    dialog = FarmDialog(editor, farm_bridge, selected=[])
    loop.run_until_complete(dialog.models_ready)
    dialog.address.setText("local")
    loop.run_until_complete(dialog.send())
    assert "needs Ray" in dialog.status.text() and "README" in dialog.status.text()
    assert farm_bridge.farm is None and farm_bridge.jobs == {}


def test_a_farm_render_is_refused_before_connecting(editor, farm_bridge):
    from app.errors import PinframeError

    with pytest.raises(PinframeError, match="Send to Farm"):
        farm_bridge.render([next(editor.project.shots()).id], FLOW, farm=True)


def test_closing_the_connection_ends_its_jobs_and_is_refused_while_they_run(editor, farm_bridge, loop):
    from app.errors import PinframeError

    bridge = farm_bridge
    ended_ids: list[str] = []
    bridge.job_ended.connect(ended_ids.append)
    loop.run_until_complete(bridge.connect_farm("local"))
    bridge.farm.executor.max_in_flight = 0  # the job stays queued on the farm
    (job_id,) = bridge.render([next(editor.project.shots()).id], FLOW, farm=True)
    with pytest.raises(PinframeError, match="still run on the farm"):
        loop.run_until_complete(bridge.disconnect_farm())
    assert bridge.farm is not None

    loop.run_until_complete(bridge.disconnect_farm(cancel_jobs=True))
    run_until(loop, lambda: job_id in ended_ids)
    assert bridge.jobs[job_id].status == "cancelled" and ended_ids.count(job_id) == 1
    assert bridge.farm is None and bridge.farm_jobs_active() == 0
    # A new connection to the same address starts clean: nothing old holds it.
    loop.run_until_complete(bridge.connect_farm("local"))
    loop.run_until_complete(bridge.disconnect_farm())
    assert bridge.farm is None


def main_window(tmp_path):
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.main_window import MainWindow

    window = MainWindow(Engine(tmp_path / "engine-cache", DeviceSettings(device="cpu", precision="fp32")))
    window.show()
    return window


def test_quitting_closes_the_project_cancels_its_farm_jobs_and_lets_the_cluster_go(qapp, loop, tmp_path):
    import ray

    from app.document import Project
    from app.session import ProjectSession
    from app.timecode import FrameRate
    from tests.ui.conftest import small_project

    path = tmp_path / "Farm.pinframe"
    session = ProjectSession.create(path, Project("Farm", FrameRate(24), width=320, height=180))
    session.bundle.save(small_project(session.media, tmp_path))
    session.close()
    window = main_window(tmp_path)
    assert loop.run_until_complete(window.open_project(path))
    loop.run_until_complete(window.bridge.connect_farm("local"))
    assert window.act_disconnect_farm.isEnabled() and "local" in window.act_disconnect_farm.text()
    window.bridge.farm.executor.max_in_flight = 0
    (job_id,) = window.bridge.render([next(window.state.project.shots()).id], FLOW, farm=True)

    assert not window.close(), "closing waits for the save and the cluster, off the GUI thread"
    run_until(loop, lambda: not window.isVisible(), timeout=60)
    assert window.bridge.jobs[job_id].status == "cancelled"
    assert window.bridge.farm is None and not ray.is_initialized()
    window.bridge.shutdown()
    window.deleteLater()


def test_quitting_while_a_connection_is_being_made_waits_for_it_then_lets_it_go(qapp, loop, tmp_path):
    import time

    import ray

    from ui.engine_bridge import _ray_engine

    window = main_window(tmp_path)

    def slow_connect(*args):
        time.sleep(1.0)  # a cluster far away
        return _ray_engine(*args)

    window.bridge._farm_factory = slow_connect
    connecting = asyncio.ensure_future(window.bridge.connect_farm("local"))
    run_until(loop, lambda: window.bridge.farm_busy)
    assert not window.close()
    run_until(loop, lambda: not window.isVisible(), timeout=60)
    assert connecting.done() and window.bridge.farm is None and not ray.is_initialized()
    window.bridge.shutdown()
    window.deleteLater()
