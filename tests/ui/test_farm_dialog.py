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
from ui.farm_dialog import FarmDialog, saved_addresses, saved_options
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


def test_a_batch_sent_to_a_local_ray_cluster_lands_in_the_project_like_a_local_render(
    editor, farm_bridge, loop, tmp_path
):
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
    # The clips come back through a shared folder (on one machine any folder is "shared").
    shared = tmp_path / "farm-shared"
    dialog.shared.setText(str(shared))
    dialog.show()
    loop.run_until_complete(dialog.send())
    assert "isn't a folder on this machine" in dialog.status.text() and bridge.farm is None, "checked first"
    shared.mkdir()
    loop.run_until_complete(dialog.send())
    assert dialog.status.text() == "" and dialog.result() == QDialog.DialogCode.Accepted
    assert len(dialog.sent) == 2 and bridge.farm is not None and bridge.farm_address == "local"
    assert bridge.farm.executor.shared_root == shared and bridge.farm_options == {"shared_root": str(shared)}
    assert "CPU" in bridge.farm_description
    assert saved_addresses()[0] == "local"
    assert saved_options() == {"gpu_type": "", "min_vram_gb": 0.0, "shared_root": str(shared)}
    again = FarmDialog(editor, bridge, selected=[])
    assert again.shared.text() == str(shared) and again.options()["shared_root"] == str(shared)
    assert again.gpus.summary.text().startswith("no GPUs"), "connected: the table reads the farm's GPUs"
    again.close()
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


def test_a_clip_whose_file_was_deleted_counts_as_stale_once_the_dialog_has_looked(editor, bridge, loop):
    """Render Stale re-renders a clip whose file is gone; the farm dialog's Stale count must agree
    (it looks on a worker thread, so the count is right once models_ready is done)."""
    from app import engine_service as S
    from app.document import ClipTake, new_id
    from app.media_ref import MediaRef

    shot = next(s for s in editor.project.shots() if s.pins)
    current = S.current_inputs_hash(editor.project, shot.id)
    # A current clip (its inputs hash is the shot's) whose file was never written: missing.
    missing = ClipTake(new_id(), MediaRef("ef" * 32, "mov"), current, 24, backend="flow")
    assert editor.edit(C.add_clip_take, shot.id, missing)
    assert not editor.project.is_stale(editor.project.shot(shot.id))
    dialog = FarmDialog(editor, bridge, selected=[])
    loop.run_until_complete(dialog.models_ready)
    assert dialog.counts["stale"] == dialog.counts["all"] == 2
    assert dialog.choice_buttons["stale"].text() == "Stale shots (2)"
    dialog.close()


# --- GPUs: a local multi-node cluster whose GPUs are fake (a custom resource) ----------------------
FAKE_GPU = "pinframe_gpu"


@pytest.fixture
def fake_gpu_cluster(monkeypatch):
    """Head (1 CPU, no GPU) + node A (2 fake 24 GB L4s) + node B (2 fake 80 GB H100s)."""
    from pathlib import Path

    from ray.cluster_utils import Cluster

    root = str(Path(__file__).resolve().parents[2])
    monkeypatch.setenv("PYTHONPATH", root)  # the nodes' workers import Pinframe from here
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    for kind, vram in (("L4", "24"), ("H100", "80")):
        cluster.add_node(
            num_cpus=1,
            resources={FAKE_GPU: 2, f"accelerator_type:{kind}": 1},
            env_vars={"PINFRAME_FAKE_VRAM_GB": vram, "PYTHONPATH": root},
        )
    cluster.wait_for_nodes()
    yield cluster
    import ray

    ray.shutdown()  # a test that failed half-way may still be connected; the cluster refuses to stop then
    cluster.shutdown()


def test_the_dialog_lists_the_farms_gpus_per_node_and_what_each_is_doing(
    fake_gpu_cluster, editor, farm_bridge, loop, tiny_sd_dir
):  # the cluster first: it must outlive the bridge's connection to it
    from engine.farm import ray_engine
    from engine.jobs import KeyframeJob

    bridge = farm_bridge
    seen: list[dict] = []

    def fake_gpu_engine(address, cache_dir, settings, **options):
        seen.append(options)  # what the dialog asked for, as the executor gets it
        return ray_engine(address, cache_dir, settings, gpu_resource=FAKE_GPU, **options)

    bridge._farm_factory = fake_gpu_engine
    dialog = FarmDialog(editor, bridge, selected=[])
    assert dialog.gpus.summary.text().startswith("not connected") and dialog.gpus.rows == []
    loop.run_until_complete(dialog.models_ready)
    dialog.address.setText(fake_gpu_cluster.address)
    dialog.gpu_type.setText("H100")
    dialog.min_vram.setValue(40)
    dialog.show()
    loop.run_until_complete(dialog.send())
    assert dialog.status.text() == "" and bridge.farm is not None, dialog.status.text()
    assert seen == [{"accelerator_type": "H100", "min_vram_gb": 40.0}]
    assert saved_options() == {"gpu_type": "H100", "min_vram_gb": 40.0, "shared_root": ""}

    # Only node B's GPUs pass the filters; the dialog (still open here) counts and lists them.
    table = dialog.gpus
    assert table.timer.isActive()
    run_until(loop, lambda: len(table.rows) == 2)
    assert table.summary.text() == "2 GPUs on 1 node: 0 busy, 2 idle", "flow shots take CPU slots, not GPUs"
    (node,) = {row[0] for row in table.rows}
    assert [row[1] for row in table.rows] == ["0", "1"] and {row[3] for row in table.rows} == {"80 GB"}
    assert bridge.farm.executor.nodes()[node] == 2

    # A model job on the farm: the table says which GPU is doing it, then that the model stays loaded.
    job = KeyframeJob(ModelSpec("text2image", str(tiny_sd_dir), "tiny-sd"), "a red car", (3,), 64, 64, steps=2)
    bridge.farm.submit(job)
    run_until(loop, lambda: any(row[5] != "—" for row in table.rows), timeout=180)
    run_until(loop, lambda: all(row[4] == "idle" for row in table.rows), timeout=180)
    loaded = [row for row in table.rows if row[5] != "—"]
    assert len(loaded) == 1 and "tiny-sd" in loaded[0][5], table.rows
    assert bridge.farm.executor.model_loads == 1
    dialog.close()
    run_until(loop, lambda: ended(bridge, dialog.sent), timeout=120)  # the flow shots sent with it
    run_until(loop, lambda: not bridge._tasks)  # ...and their clips stored in the project

    # Changing the GPU fields makes a new connection (the executor holds its filters).
    again = FarmDialog(editor, bridge, selected=[])
    assert again.gpu_type.text() == "H100" and again.min_vram.value() == 40
    assert len(again.gpus.rows) == 2, "already connected: the table is filled at once"
    again.gpu_type.setText("")
    again.min_vram.setValue(0)
    loop.run_until_complete(again.send())
    assert again.status.text() == "" and seen[-1] == {}
    run_until(loop, lambda: len(again.gpus.rows) == 4)
    assert again.gpus.summary.text().startswith("4 GPUs on 2 nodes")
    again.close()
