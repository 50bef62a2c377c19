"""One selection: the current shot and the playhead agree, whoever moves either; and the shot menu.

The small project (tests/ui/conftest.py): shot 1 is frames 0-47, shot 2 is 48-71 (scene 1),
shot 3 is 72-95 (scene 2).
"""

from __future__ import annotations

from app import commands


def shot_id(editor, number: str) -> str:
    return next(s.id for s in editor.project.shots() if s.number == number)


def numbers(editor) -> list[str]:
    return [s.number for s in editor.project.shots()]


class Recorder:
    """What the state said, in order, and where the playhead was when each signal came."""

    def __init__(self, editor) -> None:
        self.events: list[tuple] = []
        editor.current_shot_changed.connect(lambda s: self.events.append(("current", s, editor.playhead)))
        editor.selection_changed.connect(lambda ids: self.events.append(("selection", list(ids))))
        editor.playhead_changed.connect(lambda f: self.events.append(("playhead", f, editor.current_shot)))

    def kinds(self) -> list[str]:
        return [e[0] for e in self.events]


# --- selecting a shot moves the playhead -------------------------------------------------------------
def test_selecting_a_shot_puts_the_playhead_at_its_start(editor):
    two, three = shot_id(editor, "2"), shot_id(editor, "3")
    assert editor.playhead == 0 and editor.current_shot == shot_id(editor, "1")
    editor.set_current_shot(three)
    assert editor.playhead == 72 and editor.selection == [three]
    editor.set_current_shot(two)
    assert editor.playhead == 48
    assert editor.shot_at_playhead() == (two, 0)


def test_selecting_the_shot_the_playhead_is_in_leaves_the_playhead(editor):
    one, two = shot_id(editor, "1"), shot_id(editor, "2")
    editor.set_playhead(60)
    editor.set_selection([one, two])
    editor.set_current_shot(one)  # elsewhere in the selection: to its start
    assert editor.playhead == 0
    editor.set_playhead(30)
    editor.set_current_shot(one)
    assert editor.playhead == 30


def test_one_pick_is_one_signal_each_and_listeners_see_both_agree(editor):
    three = shot_id(editor, "3")
    seen = Recorder(editor)
    editor.set_current_shot(three)
    assert seen.kinds() == ["playhead", "current", "selection"]
    assert seen.events[0] == ("playhead", 72, three)  # the playhead's listeners already see shot 3
    assert seen.events[1] == ("current", three, 72)


# --- moving the playhead selects the shot ------------------------------------------------------------
def test_scrubbing_into_a_shot_selects_it(editor):
    two = shot_id(editor, "2")
    seen = Recorder(editor)
    editor.set_playhead(50)
    assert editor.current_shot == two and editor.selection == [two]
    assert sorted(seen.kinds()) == ["current", "playhead", "selection"]
    assert ("current", two, 50) in seen.events
    seen.events.clear()
    editor.set_playhead(51)  # inside the same shot: only the playhead moves
    assert seen.kinds() == ["playhead"]


def test_scrubbing_inside_a_multi_selection_keeps_it(editor):
    one, two, three = (shot_id(editor, n) for n in "123")
    editor.set_selection([one, two])
    editor.set_playhead(60)
    assert editor.current_shot == two and editor.selection == [one, two]
    editor.set_playhead(80)  # out of the selection: the shot under the playhead alone
    assert editor.current_shot == three and editor.selection == [three]


def test_playback_off_the_end_of_a_shot_selects_the_next(editor):
    for frame in range(40, 80):
        editor.set_playhead(frame)
        assert editor.shot_at_playhead()[0] == editor.current_shot


# --- edits keep them together -----------------------------------------------------------------------
def test_an_edit_that_moves_the_current_shot_takes_the_playhead_along(editor):
    one, two = shot_id(editor, "1"), shot_id(editor, "2")
    editor.set_playhead(53)  # shot 2, frame 5
    editor.edit(commands.retime_shot, one, 24)  # shot 2 now starts at 24
    assert editor.current_shot == two and editor.playhead == 29
    editor.undo()
    assert editor.current_shot == two and editor.playhead == 53
    editor.edit(commands.move_shots, [two], editor.project.scenes[1].id, 1)  # to the end of the cut
    assert numbers(editor) == ["1", "3", "2"]
    assert editor.current_shot == two and editor.playhead == 48 + 24 + 5


def test_deleting_the_current_shot_selects_the_shot_that_takes_its_place(editor):
    two, three = shot_id(editor, "2"), shot_id(editor, "3")
    editor.set_playhead(50)
    editor.edit(commands.remove_shots, [two])
    assert editor.current_shot == three and editor.shot_at_playhead()[0] == three
    editor.undo()
    editor.set_playhead(80)
    editor.edit(commands.remove_shots, [three])  # the last shot: the one before it
    assert editor.current_shot == two and editor.shot_at_playhead()[0] == two


# --- the shot menu -------------------------------------------------------------------------------------
def action(menu, text: str):
    for a in menu.actions():
        if a.text() == text:
            return a
        if a.menu() is not None and (found := action(a.menu(), text)) is not None:
            return found
    return None


def test_render_asks_the_window_for_the_shots(editor, qtbot):
    from ui.shot_menu import shot_menu

    ids = [shot_id(editor, "1"), shot_id(editor, "3")]
    menu = shot_menu(editor, ids)
    with qtbot.waitSignal(editor.render_requested, timeout=500) as asked:
        action(menu, "Render 2 shots").trigger()
    assert asked.args == [ids]


def test_motion_model_is_set_and_cleared_for_every_shot_in_one_step(editor):
    from ui.shot_menu import shot_menu

    ids = [shot_id(editor, "1"), shot_id(editor, "2")]
    entry = editor.motion_models[0]
    menu = shot_menu(editor, ids)
    motion = action(menu, "Motion Model").menu()
    labels = [a.text() for a in motion.actions() if not a.isSeparator()]
    assert labels[0].startswith("Follow Project") and labels[1:] == [e.label for e in editor.motion_models]
    assert motion.actions()[0].isChecked()  # both follow the project now
    action(menu, entry.label).trigger()
    assert [editor.project.shot(i).motion_model for i in ids] == [entry.choice] * 2
    assert editor.project.shot(shot_id(editor, "3")).motion_model == ""
    menu = shot_menu(editor, ids)
    assert action(menu, entry.label).isChecked()
    action(menu, next(a.text() for a in action(menu, "Motion Model").menu().actions())).trigger()  # Follow Project
    assert [editor.project.shot(i).motion_model for i in ids] == ["", ""]
    editor.undo()
    assert [editor.project.shot(i).motion_model for i in ids] == [entry.choice] * 2
    editor.undo()  # both shots in one step
    assert [editor.project.shot(i).motion_model for i in ids] == ["", ""]


def test_insert_before_and_after_land_next_to_the_shots(editor):
    from ui.shot_menu import shot_menu

    one, two = shot_id(editor, "1"), shot_id(editor, "2")
    menu = shot_menu(editor, [two])  # held: a menu without a parent goes with its last reference
    action(menu, "Insert Shot After").trigger()
    scene = editor.project.scenes[0]
    assert [s.id for s in scene.shots][:2] == [one, two] and len(scene.shots) == 3
    made = scene.shots[2].id
    assert editor.current_shot == made and editor.playhead == 72  # selected, playhead at its start
    menu = shot_menu(editor, [one])
    action(menu, "Insert Shot Before").trigger()
    assert editor.project.scenes[0].shots[1].id == one and editor.playhead == 0


def test_delete_and_duplicate_from_the_menu_are_undoable(editor):
    from ui.shot_menu import shot_menu

    ids = [shot_id(editor, "1"), shot_id(editor, "2")]
    menu = shot_menu(editor, ids)
    action(menu, "Duplicate 2 shots").trigger()
    assert len(numbers(editor)) == 5 and editor.selection not in ([], ids)
    editor.undo()
    messages = []
    editor.message.connect(messages.append)
    menu = shot_menu(editor, ids)
    action(menu, "Delete 2 shots").trigger()
    assert numbers(editor) == ["3"] and editor.current_shot == shot_id(editor, "3")
    assert messages and "Undo" in messages[-1]
    editor.undo()
    assert numbers(editor) == ["1", "2", "3"]
