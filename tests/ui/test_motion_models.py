"""Motion models chosen in the window: Render ▸ Motion Model, the shot form's Motion combo, the
Models dialog's backends, rendering with each shot's choice, and placing a clip's sound.

The expected entries are built here from the two registries (engine.backend_registry and the
model list), never from a list of the window's own: a backend or model added there must show up.
"""

from __future__ import annotations

import wave
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from app import commands as C
from app.cli.models import registry
from app.document import Project, new_id
from app.session import ProjectSession
from app.timecode import FrameRate
from engine.backend_registry import backends, get_backend
from engine.jobs import ModelSpec
from tests.ui.conftest import run_until, small_project
from ui.models_dialog import KNOWN_COLUMNS, LOCAL_COLUMNS
from ui.motion_models import batch_summary, resolve_shot_models

MOTION = backends("motion")


@pytest.fixture
def window(qtbot, loop, tmp_path, monkeypatch):
    import huggingface_hub.constants as hub
    from PySide6.QtCore import QSettings

    # The user's model list and Hub cache stay out of it: an empty cache, no folders added.
    monkeypatch.setenv("PINFRAME_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(tmp_path / "hub"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    from engine.devices import DeviceSettings
    from engine.runtime import Engine
    from ui.app import create_application
    from ui.main_window import MainWindow

    app = create_application()
    app.setQuitOnLastWindowClosed(False)
    w = MainWindow(Engine(tmp_path / "engine-cache", DeviceSettings(device="cpu", precision="fp32")))
    w.show()
    yield w
    settle(loop, w)
    loop.run_until_complete(w.close_project())
    if w.models_dialog is not None:
        run_until(loop, lambda: not w.models_dialog._tasks, timeout=10)
    w.close()
    w.bridge.shutdown()
    w.deleteLater()


def settle(loop, window) -> None:
    """Let the window's background work (model list reads, renders being queued) finish."""
    run_until(loop, lambda: not window._tasks, timeout=30)


def make_bundle(tmp_path: Path, name: str = "Motion", **project_fields) -> Path:
    path = tmp_path / f"{name}.pinframe"
    session = ProjectSession.create(path, Project(name, FrameRate(24), width=320, height=180))
    project = replace(small_project(session.media, tmp_path), name=name, **project_fields)
    session.bundle.save(project)
    session.close()
    return path


def open_bundle(loop, window, path: Path) -> None:
    assert loop.run_until_complete(window.open_project(path))
    settle(loop, window)  # the model list is read when a project opens


def menu_texts(window) -> list[str]:
    return [a.text() for a in window.motion_menu.actions() if not a.isSeparator()]


def combo_texts(window) -> list[str]:
    combo = window.shots.shot_form.motion
    # Separators are items without text in a QComboBox.
    return [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)]


def expected_entries() -> list[str]:
    """What the registries say the menus must offer, in registry order (an empty Hub cache: every
    known model is not installed; local folders are)."""
    reg = registry()
    texts = []
    for info in MOTION:
        if not info.needs_model:
            texts.append(info.display_name)
            continue
        known = [m for m in reg.known() if m.kind == "motion" and m.backend == info.name]
        local = [m for m in reg.local() if m.kind == "motion" and m.backend == info.name]
        texts += [f"{info.display_name} · {m.id} — not installed" for m in known]
        texts += [f"{info.display_name} · {m.id}" for m in local]
        if not known and not local:
            texts.append(f"{info.display_name} — no model yet (add one…)")
    return texts


def shot(window, number: str):
    return next(s for s in window.state.project.shots() if s.number == number)


def pick_in_combo(window, choice: str) -> None:
    """Choose an entry in the shot form's Motion combo, as a click in its list does."""
    combo = window.shots.shot_form.motion
    index = combo.findData(choice)
    assert index >= 0, f"{choice} is not offered"
    combo.setCurrentIndex(index)


def action_for(window, text: str):
    return next(a for a in window.motion_menu.actions() if a.text() == text)


# --- the lists ---------------------------------------------------------------------------------
def test_the_menu_the_shot_combo_and_the_models_dialog_offer_the_registries_entries(
    window, loop, tmp_path, tiny_ltx_dir
):
    local = registry().add_local(tiny_ltx_dir)  # a real tiny LTX folder, as a user adds one
    assert local.backend == "ltx" and local.kind == "motion"
    open_bundle(loop, window, make_bundle(tmp_path))

    wanted = expected_entries()
    assert len(wanted) >= len(MOTION)
    assert menu_texts(window) == wanted
    assert f"{get_backend('ltx').display_name} · {local.id}" in wanted  # the local folder, by name
    for name in ("ltx-2", "wan2.2-i2v-a14b", "wan2.2-ti2v-5b", "wan2.1-vace-1.3b", "wan2.1-vace-14b"):
        assert any(f"· {name} — not installed" in t for t in wanted), name
    # Only what can be chosen now is checkable; the project's choice (flow) is checked.
    checkable = {a.text() for a in window.motion_menu.actions() if a.isCheckable()}
    assert checkable == {t for t in wanted if "—" not in t}
    assert [a.text() for a in window.motion_menu.actions() if a.isChecked()] == [get_backend("flow").display_name]

    form = window.shots.shot_form
    assert combo_texts(window) == [f"Project default ({get_backend('flow').display_name})", *wanted]
    assert form.motion.currentIndex() == 0

    dialog = window.show_models()
    run_until(loop, lambda: not dialog._tasks, timeout=10)
    table = dialog.known_table
    cell = {name: KNOWN_COLUMNS.index(name) for name in ("Model", "Kind", "Backend")}
    rows = [tuple(table.item(r, cell[c]).text() for c in ("Model", "Kind", "Backend")) for r in range(table.rowCount())]
    known = registry().known()
    assert rows == [(m.id, m.kind, get_backend(m.backend).display_name) for m in known]
    # Every motion backend that needs a model has a model in the dialog; the rest are named as built in.
    motion_backends = {b for _, kind, b in rows if kind == "motion"}
    assert motion_backends == {b.display_name for b in MOTION if b.needs_model}
    assert all(b.display_name in dialog.built_in_label.text() for b in MOTION if not b.needs_model)
    local_backend = dialog.local_table.item(0, LOCAL_COLUMNS.index("Backend")).text()
    assert local_backend == get_backend("ltx").display_name
    assert not hasattr(dialog, "kind_combo"), "the kind is read from the folder, not picked"


def test_a_local_model_removed_in_the_models_dialog_leaves_the_menus(window, loop, tmp_path, tiny_ltx_dir):
    local = registry().add_local(tiny_ltx_dir)
    open_bundle(loop, window, make_bundle(tmp_path))
    label = f"{get_backend('ltx').display_name} · {local.id}"
    action_for(window, label).trigger()
    assert window.state.project.motion_model == local.id
    models = resolve_shot_models(window.state.project, [shot(window, "1").id])
    assert models.specs[shot(window, "1").id].backend == "ltx"
    assert Path(models.specs[shot(window, "1").id].path) == Path(tiny_ltx_dir).resolve()

    dialog = window.show_models()
    task = dialog.remove_local(local.id)
    run_until(loop, task.done, timeout=10)
    settle(loop, window)  # the dialog's models_changed re-reads the list for the menus
    assert label not in menu_texts(window)
    # The project still names it: shown, checked, and said to be missing, never silently switched.
    checked = [a.text() for a in window.motion_menu.actions() if a.isChecked()]
    assert checked == [f"{local.id} (not in the model list)"]
    assert window.state.project.motion_model == local.id


# --- choosing ----------------------------------------------------------------------------------
def test_choosing_in_the_menu_sets_the_projects_model_undo_restores_it_and_it_is_saved(window, loop, tmp_path):
    path = make_bundle(tmp_path, "First")
    other = make_bundle(tmp_path, "Second", motion_model="crossfade")
    open_bundle(loop, window, path)
    hold, flow = get_backend("hold").display_name, get_backend("flow").display_name

    def checked() -> list[str]:
        return [a.text() for a in window.motion_menu.actions() if a.isChecked()]

    action_for(window, hold).trigger()
    assert window.state.project.motion_model == "hold" and checked() == [hold]
    assert window.act_undo.text() == "&Undo Motion Model"
    assert window.shots.shot_form.motion.itemText(0) == f"Project default ({hold})"
    window.act_undo.trigger()
    assert window.state.project.motion_model == "flow" and checked() == [flow]
    window.act_redo.trigger()
    assert checked() == [hold]
    assert loop.run_until_complete(window.save())

    open_bundle(loop, window, other)
    assert checked() == [get_backend("crossfade").display_name]
    open_bundle(loop, window, path)
    assert window.state.project.motion_model == "hold" and checked() == [hold], "saved with the project"


def test_a_not_installed_entry_opens_the_models_dialog_and_changes_nothing(window, loop, tmp_path):
    open_bundle(loop, window, make_bundle(tmp_path))
    label = f"{get_backend('ltx2').display_name} · ltx-2 — not installed"
    action = action_for(window, label)
    assert not action.isCheckable()
    action.trigger()
    dialog = window.models_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.selected_known().id == "ltx-2"
    assert window.state.project.motion_model == "flow" and not window.session.history.can_undo

    dialog.hide()
    form = window.shots.shot_form
    combo = form.motion
    index = combo.findText(label)
    assert index > 0 and combo.itemData(index) is None
    combo.setCurrentIndex(index)  # a pick in the shot form does the same
    assert dialog.isVisible() and dialog.selected_known().id == "ltx-2"
    assert combo.currentIndex() == 0, "the combo goes back to what the shot renders with"
    assert window.state.project.shot(window.state.current_shot).motion_model == ""


# --- rendering ---------------------------------------------------------------------------------
def test_a_render_from_the_window_uses_each_shots_own_choice(window, loop, tmp_path):
    open_bundle(loop, window, make_bundle(tmp_path))
    one, two = shot(window, "1"), shot(window, "2")
    window.state.set_current_shot(two.id)
    form = window.shots.shot_form
    pick_in_combo(window, "hold")
    assert window.state.project.shot(two.id).motion_model == "hold"
    assert window.act_undo.text() == "&Undo Edit Motion Model"
    window.act_undo.trigger()
    assert window.state.project.shot(two.id).motion_model == "" and form.motion.currentIndex() == 0
    window.act_redo.trigger()
    assert form.motion.currentData() == "hold"

    ids = loop.run_until_complete(window.render_shots("all"))  # project: flow; shot 2: hold
    assert len(ids) == 2
    run_until(loop, lambda: all(window.bridge.jobs[i].status in ("done", "failed") for i in ids), timeout=120)
    assert [window.bridge.jobs[i].status for i in ids] == ["done", "done"], [window.bridge.jobs[i].message for i in ids]
    project = window.state.project
    takes = [project.shot(s.id).current_clip_take for s in (one, two)]
    assert [t.backend for t in takes] == ["flow", "hold"]

    # The jobs panel says which model rendered each, and what the backend said when done.
    titles = [window.jobs.rows[i].title.text() for i in ids]
    assert titles == [f"Shot {n} · render · {get_backend(b).display_name}" for n, b in (("1", "flow"), ("2", "hold"))]
    notes = window.jobs.rows[ids[1]].notes
    assert notes.isVisibleTo(window.jobs) and notes.text() == takes[1].notes and takes[1].notes
    # The shot form shows what made the shot's clip.
    assert f"made by {takes[1].made_by}" in form.clip_info.text()


def test_a_shot_whose_model_cant_be_used_is_said_and_the_others_render(window, loop, tmp_path):
    open_bundle(loop, window, make_bundle(tmp_path))
    one, two = shot(window, "1"), shot(window, "2")
    assert window.state.edit(C.set_shot_fields, two.id, motion_model="ltx-video")  # known, not downloaded
    ids = loop.run_until_complete(window.render_shots("all"))
    assert [window.bridge.jobs[i].shot_id for i in ids] == [one.id]
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1
    text = boxes[0].text()
    assert "shot 2" in text and "ltx-video" in text and "Models ▸ Models and Settings" in text
    assert "shot 2" in window.statusBar().currentMessage()
    boxes[0].close()
    window.bridge.cancel_all()
    run_until(loop, lambda: not window.bridge.jobs[ids[0]].active, timeout=60)


def test_the_batch_summary_counts_shots_per_model():
    ltx2 = ModelSpec("ltx2", "/models/ltx-2", "ltx-2")
    specs = {"a": ltx2, "b": ModelSpec("flow"), "c": ltx2, "d": ltx2}
    flow = get_backend("flow").display_name
    assert batch_summary(specs) == f"{get_backend('ltx2').display_name} (ltx-2) for 3 shots, {flow} for 1"
    assert batch_summary({"a": ModelSpec("flow")}) == f"{flow} for 1 shot"
    assert batch_summary({}) == ""


# --- the clip's sound --------------------------------------------------------------------------
def test_place_clip_sound_puts_the_sound_on_the_audio_lane_in_one_undo_step(window, loop, tmp_path):
    open_bundle(loop, window, make_bundle(tmp_path, motion_model="hold"))
    one = shot(window, "1")
    window.state.set_current_shot(one.id)
    assert not window.act_place_sound.isEnabled(), "no clip yet"
    (job_id,) = loop.run_until_complete(window.render_shots("selected"))
    run_until(loop, lambda: window.bridge.jobs[job_id].status in ("done", "failed"), timeout=60)
    assert not window.act_place_sound.isEnabled(), "a hold render makes no sound"

    # A take with sound, as LTX-2 with its Sound setting on makes: a WAV stored with the clip.
    wav = tmp_path / "sound.wav"
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x01\x00" * 8000 * 3)
    session = window.session
    take = replace(session.project.shot(one.id).current_clip_take, id=new_id(), audio=session.media.put_file(wav))
    session.do(C.add_clip_take(session.project, one.id, take))
    assert window.act_place_sound.isEnabled()

    window.act_place_sound.trigger()
    run_until(loop, lambda: len(window.state.project.audio) == 1, timeout=30)
    settle(loop, window)
    (clip,) = window.state.project.audio
    assert clip.start == window.state.project.shot_start(one.id)
    assert "Shot 1" in clip.name and "audio lane" in window.statusBar().currentMessage()
    window.act_undo.trigger()
    assert window.state.project.audio == ()


# --- a current video model, end to end in the window ---------------------------------------------
def test_an_ltx2_folder_added_chosen_set_and_rendered_from_the_window(window, loop, tmp_path, tiny_ltx2_dir):
    """The director's path with a real (tiny) LTX-2 folder: add it, choose it in Render ▸ Motion
    Model, turn Sound on in the shot's settings, render, and put the clip's sound on the lane."""
    local = registry().add_local(tiny_ltx2_dir)
    open_bundle(loop, window, make_bundle(tmp_path))
    one = shot(window, "1")
    window.state.set_current_shot(one.id)
    form = window.shots.shot_form
    assert set(form.motion_settings.fields) == set(), "flow has no settings"

    action_for(window, f"{get_backend('ltx2').display_name} · {local.id}").trigger()
    assert window.state.project.motion_model == local.id
    fields = form.motion_settings.fields
    assert list(fields) == [s.name for s in get_backend("ltx2").settings], "the fields are the table's settings"
    assert fields["steps"].value() == get_backend("ltx2").setting("steps").default
    assert (fields["strength"].minimum(), fields["strength"].maximum()) == (0.0, 1.0)
    fields["steps"].setValue(2)
    fields["sound"].setChecked(True)
    render = window.state.project.shot(one.id).render
    assert (render.backend, render.model_id, dict(render.params)) == ("ltx2", local.id, {"steps": "2", "sound": "true"})
    window.act_undo.trigger()
    assert dict(window.state.project.shot(one.id).render.params) == {"steps": "2"}
    assert not fields["sound"].isChecked(), "the field follows undo"
    window.act_redo.trigger()
    assert fields["sound"].isChecked()

    (job_id,) = loop.run_until_complete(window.render_shots("selected"))
    run_until(loop, lambda: window.bridge.jobs[job_id].status in ("done", "failed"), timeout=240)
    info = window.bridge.jobs[job_id]
    assert info.status == "done", info.message
    assert window.jobs.rows[job_id].title.text() == f"Shot 1 · render · {get_backend('ltx2').display_name} ({local.id})"
    clip = window.state.project.shot(one.id).current_clip_take
    assert (clip.backend, clip.model_id, clip.audio is not None) == ("ltx2", local.id, True)
    assert dict(clip.settings)["steps"] == 2 and dict(clip.settings)["sound"] is True
    assert not window.state.project.is_stale(window.state.project.shot(one.id))
    assert "with sound" in form.clip_info.text() and local.id in form.clip_info.text()

    assert window.act_place_sound.isEnabled()
    window.act_place_sound.trigger()
    run_until(loop, lambda: len(window.state.project.audio) == 1, timeout=30)
    settle(loop, window)
    (lane,) = window.state.project.audio
    with wave.open(str(window.session.media.path(lane.media)), "rb") as placed:
        assert placed.getnframes() / placed.getframerate() == pytest.approx(one.duration / 24, abs=1e-3)

    fields["sound"].setChecked(False)  # back to the default: the clip no longer matches
    assert window.state.project.is_stale(window.state.project.shot(one.id))


# --- a backend added by one module and one table entry --------------------------------------------
class TestDissolve:
    """A motion backend of its own (the one module a new backend is): the crossfade, said as its own."""

    __test__ = False  # a backend, not a test class

    def __init__(self) -> None:
        from engine.backends.cpu_motion import CrossfadeMotion

        self._inner = CrossfadeMotion()
        self.last_notes = ""

    def memory_bytes(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def render(self, job, pins, reporter):
        frames = self._inner.render(job, pins, reporter)
        self.last_notes = "a test dissolve"
        return frames


def test_a_new_backend_is_one_module_and_one_table_entry(window, loop, tmp_path, monkeypatch):
    """Issue 20's done-when for backends: with only its class and its BackendInfo added to the registry,
    the CLI offers it, the app resolves it, the window's menus list it, and a render uses it."""
    from app.cli import build_parser
    from app.engine_service import resolve_model
    from engine import backend_registry as R

    info = R.BackendInfo(
        name="test-dissolve", kind="motion", display_name="Test dissolve", code=f"{__name__}:TestDissolve",
        licence=R.BUILT_IN_LICENCE, description="Dissolves, for the registry test.", frame_rule=R.FrameRule(),
        ignores=("prompt", "negative_prompt", "seed", "steps", "guidance", "work_pixels", "params"),
    )  # fmt: skip
    monkeypatch.setattr(R, "BACKENDS", (*R.BACKENDS, info))
    monkeypatch.setitem(R._BY_NAME, info.name, info)

    render_help = next(
        sub.format_help()
        for action in build_parser()._subparsers._group_actions
        for name, sub in action.choices.items()
        if name == "render"
    )
    assert "test-dissolve" in render_help
    assert resolve_model("test-dissolve", kind="motion").backend == "test-dissolve"

    open_bundle(loop, window, make_bundle(tmp_path))
    assert any(text.startswith("Test dissolve") for text in menu_texts(window))
    two = shot(window, "2")
    window.state.set_current_shot(two.id)
    pick_in_combo(window, "test-dissolve")
    ids = loop.run_until_complete(window.render_shots("selected", [two.id]))
    run_until(loop, lambda: all(window.bridge.jobs[i].status in ("done", "failed") for i in ids), timeout=120)
    assert [window.bridge.jobs[i].status for i in ids] == ["done"], [window.bridge.jobs[i].message for i in ids]
    take = window.state.project.shot(two.id).current_clip_take
    assert take.backend == "test-dissolve" and take.notes == "a test dissolve"
