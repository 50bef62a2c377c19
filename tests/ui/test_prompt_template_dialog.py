"""Project ▸ Prompt Template in the real window: a live preview, refused templates, one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from app import commands as C
from app.document import Camera
from app.prompt_template import DEFAULT_TEMPLATE
from tests.ui.test_main_window import ARTIFACTS


def open_dialog(window, loop):
    assert not window.act_prompt_template.isEnabled(), "no project, no template to edit"
    assert loop.run_until_complete(window.open_demo())
    assert window.act_prompt_template.isEnabled()
    window.act_prompt_template.trigger()
    dialog = window.prompt_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_the_dialog_previews_refuses_and_applies_a_template(window, loop, qtbot):
    dialog = open_dialog(window, loop)
    state = window.state
    shot = state.project.shot(state.current_shot)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.text() == DEFAULT_TEMPLATE
    assert f"shot {shot.number}" in dialog.preview_box.title()
    assert dialog.keyframe_preview.text().startswith(shot.prompt)

    # The preview follows the shot's camera as it changes elsewhere in the window.
    assert state.do(C.set_shot_fields(state.project, shot.id, camera=Camera(size="MS", move="slow push in")))
    assert "medium shot" in dialog.keyframe_preview.text() and "slow push in" not in dialog.keyframe_preview.text()
    assert dialog.motion_preview.text().endswith("slow push in, " + shot.style)

    dialog.template.clear()
    qtbot.keyClicks(dialog.template, "{size}: {prompt}, {camera}")
    assert dialog.error.isVisible() and "unknown placeholder {camera}" in dialog.error.text()
    assert "{lens}" in dialog.error.text() and not ok.isEnabled()
    assert dialog.keyframe_preview.text() == "", "no preview of a template that can't be used"

    dialog.template.clear()
    qtbot.keyClicks(dialog.template, "{size}: {prompt}. Camera: ")
    qtbot.mouseClick(dialog.placeholder_buttons["move"], Qt.MouseButton.LeftButton)
    assert dialog.text() == "{size}: {prompt}. Camera: {move}"
    assert not dialog.error.isVisible() and ok.isEnabled()
    # No move in a keyframe prompt: "Camera:" goes with it; the full stop that ended the prompt stays.
    assert dialog.keyframe_preview.text() == f"medium shot: {shot.prompt}."
    assert dialog.motion_preview.text() == f"medium shot: {shot.prompt}. Camera: slow push in"
    ARTIFACTS.mkdir(exist_ok=True)
    dialog.grab().save(str(ARTIFACTS / "prompt_template_dialog.png"))

    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert state.project.prompt_template == "{size}: {prompt}. Camera: {move}"
    assert state.session.history.undo_label == "Project Settings"
    state.undo()
    assert state.project.prompt_template == ""


def test_cancel_changes_nothing_and_the_built_in_button_resets(window, loop, qtbot):
    dialog = open_dialog(window, loop)
    dialog.template.setPlainText("{prompt} ({style})")
    dialog.reject()
    assert window.state.project.prompt_template == ""
    assert window.state.do(C.set_project_settings(window.state.project, prompt_template="{prompt}; {style}"))
    window.act_prompt_template.trigger()
    assert dialog.text() == "{prompt}; {style}", "opening again shows the project's template"
    qtbot.mouseClick(dialog.reset_button, Qt.MouseButton.LeftButton)
    assert dialog.text() == DEFAULT_TEMPLATE
    assert dialog.apply()
    assert window.state.project.prompt_template == "", "the built-in template is stored as none"
