"""Script import into a project: first import, re-import after edits, user work kept, one undo."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.document import KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.errors import EditError
from app.history import History
from app.media_ref import MediaRef
from app.script.importer import import_command, preview_import
from app.script.model import DialogueLine, ScriptDocument, ScriptScene, ScriptShot
from app.timecode import FrameRate


def script(*scenes: ScriptScene) -> ScriptDocument:
    return ScriptDocument("Test", tuple(scenes), "fountain")


def sc(heading: str, *actions: str, number: str = "", dialogue: tuple[DialogueLine, ...] = ()) -> ScriptScene:
    shots = [ScriptShot(action=a) for a in actions]
    if dialogue:
        shots[-1] = replace(shots[-1], dialogue=dialogue)
    return ScriptScene(heading, number, "", tuple(shots))


BASE = script(
    sc("INT. KITCHEN - NIGHT", "Anna opens the fridge.", "The light flickers.",
       dialogue=(DialogueLine("ANNA", "Who's there?"),)),
    sc("EXT. STREET - DAY", "A bus passes.", "Rain starts."),
    sc("INT. KITCHEN - NIGHT", "Anna comes back.", number=""),
)  # fmt: skip


def fresh() -> Project:
    return Project("P", FrameRate(24), scenes=(Scene(new_id(), "Scene 1"),))


def imported(project: Project, doc: ScriptDocument) -> tuple[Project, History]:
    history = History(project)
    history.do(import_command(preview_import(project, doc)))
    return history.project, history


def pin_first_shot(project: Project, scene_index: int) -> Project:
    scene = project.scenes[scene_index]
    shot = scene.shots[0]
    take = KeyframeTake(new_id(), MediaRef("cd" * 32, "png"), 64, 36)
    pinned = replace(shot, keyframe_takes=(take,), pins=(Pin(0, take.id),), duration=shot.duration + 10)
    scenes = list(project.scenes)
    scenes[scene_index] = replace(scene, shots=(pinned,) + scene.shots[1:])
    return replace(project, scenes=tuple(scenes))


def test_first_import_builds_numbered_timed_prompted_shots_and_drops_the_empty_default_scene():
    project, history = imported(fresh(), BASE)
    assert [s.heading for s in project.scenes] == ["INT. KITCHEN - NIGHT", "EXT. STREET - DAY", "INT. KITCHEN - NIGHT"]
    assert [[shot.number for shot in s.shots] for s in project.scenes] == [["1A", "1B"], ["2A", "2B"], ["3A"]]
    first = project.scenes[0].shots[1]
    assert first.action == "The light flickers." and first.dialogue == "ANNA: Who's there?"
    assert first.duration >= 24  # at least the minimum length, in frames
    assert "kitchen" in first.prompt.lower() and "night" in first.prompt.lower()
    assert "Who's there" not in first.prompt  # dialogue never goes into a picture prompt
    assert all(s.script_key and s.script_hash for s in project.scenes)
    # One step undoes all of it, and redo brings the same scenes back.
    assert history.undo()
    assert [s.heading for s in history.project.scenes] == ["Scene 1"] and not history.project.scenes[0].shots
    assert history.redo() and history.project.scenes == project.scenes


def test_reimporting_the_same_script_changes_nothing():
    project, _ = imported(fresh(), BASE)
    preview = preview_import(project, BASE)
    assert not preview.changed and preview.scenes == project.scenes
    assert preview.count("same") == 3


def test_reimport_keeps_work_in_unchanged_scenes_and_updates_changed_ones():
    project, _ = imported(fresh(), BASE)
    project = pin_first_shot(project, 0)  # pinned and retimed: user work in scene 1
    project = pin_first_shot(project, 1)  # and in scene 2
    kept_kitchen = project.scenes[0]
    street_pinned = project.scenes[1].shots[0]
    edited = script(
        BASE.scenes[0],  # unchanged
        sc("EXT. STREET - DAY", "A bus passes.", "A cyclist swerves.", "Rain starts."),  # a shot inserted
        sc("EXT. ROOF - NIGHT", "Pigeons scatter."),  # new scene; the second kitchen scene is gone
    )
    preview = preview_import(project, edited)
    kinds = [c.kind for c in preview.changes]
    assert kinds.count("same") == 1 and kinds.count("update") == 1 and kinds.count("add") == 1
    assert "gone-removed" in kinds  # the untouched second kitchen scene left the script
    after, _ = imported(project, edited)
    assert after.scenes[0] is kept_kitchen  # identical object: nothing in it was touched
    street = after.scenes[1]
    assert street.shots[0] is street_pinned  # its pin, take and retiming survive
    assert [s.action for s in street.shots] == ["A bus passes.", "A cyclist swerves.", "Rain starts."]
    assert street.shots[1].number == "2C"  # a new letter; existing numbers never change under the user
    assert [s.heading for s in after.scenes] == ["INT. KITCHEN - NIGHT", "EXT. STREET - DAY", "EXT. ROOF - NIGHT"]
    assert any("A cyclist" in line or "added" in line for line in preview.report())


def test_scenes_with_work_that_leave_the_script_are_kept_and_reported():
    project, _ = imported(fresh(), BASE)
    project = pin_first_shot(project, 2)
    edited = script(BASE.scenes[0], BASE.scenes[1])
    preview = preview_import(project, edited)
    assert [c.kind for c in preview.changes if c.kind.startswith("gone")] == ["gone-kept"]
    assert len(preview.scenes) == 3 and preview.scenes[2].shots[0].pins
    assert any("no longer in the script" in line for line in preview.report())


def test_a_changed_scene_keeps_pinned_shots_the_script_dropped_and_hand_made_shots():
    project, _ = imported(fresh(), BASE)
    project = pin_first_shot(project, 1)
    street = project.scenes[1]
    by_hand = Shot(new_id(), "2X", 30, action="An insert the director added")
    project = replace(project, scenes=(project.scenes[0], replace(street, shots=street.shots + (by_hand,)),
                                       project.scenes[2]))  # fmt: skip
    edited = script(BASE.scenes[0], sc("EXT. STREET - DAY", "Rain starts."), BASE.scenes[2])
    after, _ = imported(project, edited)
    numbers = [s.number for s in after.scenes[1].shots]
    assert numbers == ["2A", "2B", "2X"]  # 2A kept (pinned), 2B unchanged, 2X made by hand
    change = next(c for c in preview_import(project, edited).changes if c.kind == "update")
    assert change.kept_shots == ("2A",)


def test_scene_numbers_in_the_script_are_the_identity():
    numbered = script(
        sc("INT. KITCHEN - NIGHT", "Anna opens the fridge.", number="12"),
        sc("EXT. STREET - DAY", "A bus passes.", number="13"),
    )
    project, _ = imported(fresh(), numbered)
    assert [s.shots[0].number for s in project.scenes] == ["12A", "13A"]
    renamed = script(replace(numbered.scenes[0], heading="INT. KITCHEN - LATER"), numbered.scenes[1])
    preview = preview_import(project, renamed)
    assert [c.kind for c in preview.changes] == ["update", "same"]  # same scene 12, new heading
    assert preview.scenes[0].id == project.scenes[0].id
    twice = script(numbered.scenes[0], replace(numbered.scenes[1], number="12"))
    with pytest.raises(EditError, match="12"):
        preview_import(project, twice)


def test_explicit_shot_list_fields_win_over_estimates():
    doc = script(ScriptScene("INT. HALL", "4", "", (
        ScriptShot(action="She turns.", number="4C", duration=40, prompt="a hallway, tungsten light", size="CU",
                   angle="low", lens_mm=35.0, move="dolly in"),
    )))  # fmt: skip
    project, _ = imported(fresh(), doc)
    shot = project.scenes[0].shots[0]
    assert (shot.number, shot.duration, shot.prompt) == ("4C", 40, "a hallway, tungsten light")
    assert (shot.camera.size, shot.camera.angle, shot.camera.lens_mm, shot.camera.move) == (
        "CU",
        "low",
        35.0,
        "dolly in",
    )


def test_an_empty_script_is_refused():
    with pytest.raises(EditError, match="no scenes"):
        preview_import(fresh(), ScriptDocument())
