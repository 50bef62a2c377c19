"""Project ▸ References and LoRAs… and the shot form's References row, on real widgets and a real bundle."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app import engine_service as S
from engine.jobs import ModelSpec
from tests.app.test_references import lora_file
from tests.engine.test_runtime import pin_file
from tests.ui.conftest import run_until


def make_dialog(qtbot, editor):
    from ui.references_dialog import ReferencesDialog

    dialog = ReferencesDialog(editor)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_adding_pictures_and_loras_copies_them_in_off_the_gui_thread_and_undo_takes_them_out(
    qtbot, editor, loop, messages, tmp_path
):
    dialog = make_dialog(qtbot, editor)
    assert dialog.refs.empty.isVisible() and dialog.refs.list.count() == 0
    anna = pin_file(tmp_path, "anna.png", 1, size=(64, 64))
    again = tmp_path / "again"
    again.mkdir()
    anna_too = pin_file(again, "anna.png", 2, size=(64, 64))
    junk = tmp_path / "notes.png"
    junk.write_text("not a picture")
    added = loop.run_until_complete(dialog.add_references([anna, str(junk), anna_too]))
    assert added == 2
    assert [r.name for r in editor.project.references] == ["anna", "anna 2"], "a second 'anna' gets its own name"
    assert any("notes.png" in m for m in messages), "the non-picture is refused with its name in the status bar"
    assert dialog.refs.list.count() == 2 and not dialog.refs.empty.isVisible()
    assert all((editor.session.bundle.path / r.image.relpath).is_file() for r in editor.project.references)
    run_until(loop, lambda: not dialog.refs.list.item(0).icon().isNull())

    ckpt = tmp_path / "style.ckpt"
    ckpt.write_bytes(b"\x80\x04")
    good = lora_file(tmp_path / "ink.safetensors")
    assert loop.run_until_complete(dialog.add_loras([str(ckpt), str(good)])) == 1
    assert any("not a .safetensors file" in m for m in messages)
    assert [(lo.name, lo.weight) for lo in editor.project.loras] == [("ink", 1.0)]
    assert dialog.loras.list.item(0).text() == "ink · weight 1"

    editor.undo()
    assert editor.project.loras == () and dialog.loras.list.count() == 0, "the list follows undo"
    editor.undo()
    assert [r.name for r in editor.project.references] == ["anna"]


def test_renaming_kind_weight_and_remove_are_undoable_edits(qtbot, editor, loop, messages, tmp_path):
    dialog = make_dialog(qtbot, editor)
    paths = [pin_file(tmp_path, f"{n}.png", i, size=(48, 48)) for i, n in enumerate(("anna", "diner"))]
    loop.run_until_complete(dialog.add_references(paths))
    dialog.refs.list.setCurrentRow(1)
    assert dialog.refs.name.text() == "diner"
    dialog.refs.name.setText("The Diner")
    dialog.refs.name.editingFinished.emit()
    dialog.ref_kind.setCurrentIndex(dialog.ref_kind.findData("location"))
    dialog.refs.weight.setValue(0.35)
    diner = editor.project.references[1]
    assert (diner.name, diner.kind, diner.weight) == ("The Diner", "location", 0.35)
    assert dialog.refs.list.item(1).text().startswith("The Diner\nlocation · weight 0.35")

    dialog.refs.name.setText("ANNA")  # another reference's name: refused, the field shows the real name
    dialog.refs.name.editingFinished.emit()
    assert "share a name" in messages[-1] and editor.project.references[1].name == "The Diner"
    assert dialog.refs.name.text() == "The Diner"

    dialog.refs.list.setFocus()
    qtbot.keyClick(dialog.refs.list, Qt.Key.Key_Delete)
    assert [r.name for r in editor.project.references] == ["anna"]
    editor.undo()
    assert editor.project.references[1].name == "The Diner"
    editor.undo()  # the weight
    assert editor.project.references[1].weight == 0.6


def test_the_shot_form_chooses_a_shots_references_and_the_job_takes_them(qtbot, editor, loop, tmp_path):
    from ui.shot_forms import ShotForm

    dialog = make_dialog(qtbot, editor)
    paths = [pin_file(tmp_path, f"{n}.png", i, size=(48, 48)) for i, n in enumerate(("anna", "bo", "diner"))]
    loop.run_until_complete(dialog.add_references(paths))
    form = ShotForm(editor)
    qtbot.addWidget(form)
    form.show()
    project = editor.project
    shot = next(project.shots())
    form.show_shot(project, shot)
    rows = form.references.list
    assert rows.isVisible() and rows.count() == 3 and form.references.checked() == []
    rows.item(2).setCheckState(Qt.CheckState.Checked)
    rows.item(0).setCheckState(Qt.CheckState.Checked)
    ids = [r.id for r in editor.project.references]
    assert editor.project.shot(shot.id).references == (ids[2], ids[0]), "in the order they were ticked"
    rows.item(2).setCheckState(Qt.CheckState.Unchecked)
    assert editor.project.shot(shot.id).references == (ids[0],)

    job = S.keyframe_job(
        editor.project, editor.project.shot(shot.id), ModelSpec("text2image", "/m"), (1,), bundle=editor.session.bundle
    )
    assert job.references == ((str(editor.session.media.path(editor.project.references[0].image)), 0.6),)

    # Removing the reference in the dialog unticks it in the form; one undo brings both back.
    dialog.refs.list.setCurrentRow(0)
    dialog.remove_reference()
    form.show_shot(editor.project, editor.project.shot(shot.id))
    assert rows.count() == 2 and form.references.checked() == []
    editor.undo()
    form.show_shot(editor.project, editor.project.shot(shot.id))
    assert form.references.checked() == [ids[0]]


def test_a_project_without_references_shows_where_to_add_them(qtbot, editor):
    from ui.shot_forms import ShotForm

    form = ShotForm(editor)
    qtbot.addWidget(form)
    form.show()
    form.show_shot(editor.project, next(editor.project.shots()))
    assert form.references.hint.isVisible() and not form.references.list.isVisible()
    assert "Project ▸ References and LoRAs" in form.references.hint.text()


def test_the_project_menu_opens_the_dialog_on_the_open_project(window, loop):
    assert not window.act_references.isEnabled(), "no project, nothing to refer to"
    assert loop.run_until_complete(window.open_demo())
    assert window.act_references.isEnabled()
    assert window.act_references in window.project_menu.actions()
    window.act_references.trigger()
    dialog = window.references_dialog
    assert dialog.isVisible() and dialog.refs.list.count() == len(window.state.project.references)
