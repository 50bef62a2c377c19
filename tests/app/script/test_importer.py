"""Script import into a project: first import, re-import after edits, user work kept, one undo."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.document import KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.errors import EditError
from app.history import History
from app.media_ref import MediaRef
from app.script.importer import field_prints, import_command, preview_import
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
    # Between 2A and 2B, so it sorts where it stands; existing numbers never change under the user.
    assert street.shots[1].number == "2AA"
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


# --- re-import after real edits (each of these once lost or misplaced a director's work) ---------
def retime(project: Project, scene_index: int, shot_index: int, duration: int) -> Project:
    scene = project.scenes[scene_index]
    shots = list(scene.shots)
    shots[shot_index] = replace(shots[shot_index], duration=duration)
    scenes = list(project.scenes)
    scenes[scene_index] = replace(scene, shots=tuple(shots))
    return replace(project, scenes=tuple(scenes))


def all_numbers(project: Project) -> list[str]:
    return [s.number for s in project.shots()]


def test_a_scene_inserted_above_a_namesake_does_not_take_over_its_shots():
    doc = script(sc("INT. KITCHEN - DAY", "Breakfast."), sc("EXT. YARD - DAY", "A dog."),
                 sc("INT. KITCHEN - DAY", "Lunch."))  # fmt: skip
    project, _ = imported(fresh(), doc)
    project = retime(pin_first_shot(project, 2), 2, 0, 100)  # "Lunch." pinned and retimed
    lunch = project.scenes[2].shots[0]
    edited = script(sc("INT. KITCHEN - DAY", "Dawn."), *doc.scenes)
    after, _ = imported(project, edited)
    assert [s.shots[0].action for s in after.scenes] == ["Dawn.", "Breakfast.", "A dog.", "Lunch."]
    assert after.scenes[3].shots[0] is lunch
    assert len(set(all_numbers(after))) == len(all_numbers(after))  # no shot number twice


def test_renumbered_scenes_are_found_by_their_content():
    doc = script(*(sc(f"INT. ROOM {n} - DAY", f"Beat {n}.", number=str(n)) for n in (1, 2, 3)))
    project, _ = imported(fresh(), doc)
    project = pin_first_shot(project, 1)
    pinned = project.scenes[1].shots[0]
    renumbered = script(doc.scenes[0], sc("INT. NEW - DAY", "Inserted.", number="2"),
                        replace(doc.scenes[1], number="3"), replace(doc.scenes[2], number="4"))  # fmt: skip
    preview = preview_import(project, renumbered)
    after = preview.scenes
    assert [s.heading for s in after] == [
        "INT. ROOM 1 - DAY",
        "INT. NEW - DAY",
        "INT. ROOM 2 - DAY",
        "INT. ROOM 3 - DAY",
    ]
    assert after[2].shots[0] is pinned
    assert [c.kind for c in preview.changes].count("add") == 1


def test_an_edited_paragraph_updates_its_shot_in_place_and_keeps_the_directors_changes():
    project, _ = imported(fresh(), BASE)
    project = retime(pin_first_shot(project, 0), 0, 0, 300)
    shot = project.scenes[0].shots[0]
    edited = script(sc("INT. KITCHEN - NIGHT", "Anna slams the fridge shut.", "The light flickers.",
                       dialogue=(DialogueLine("ANNA", "Who's there?"),)), *BASE.scenes[1:])  # fmt: skip
    after, _ = imported(project, edited)
    kitchen = after.scenes[0]
    assert len(kitchen.shots) == 2  # updated, not duplicated
    updated = kitchen.shots[0]
    assert updated.id == shot.id and updated.pins == shot.pins and updated.keyframe_takes == shot.keyframe_takes
    assert updated.action == "Anna slams the fridge shut."
    assert updated.duration == 300  # the director's retime wins over the new estimate
    assert "slams" in updated.prompt  # the drafted prompt follows the new text
    assert kitchen.shots[1] is project.scenes[0].shots[1]


def test_a_heading_change_redrafts_prompts_but_not_ones_the_director_wrote():
    project, _ = imported(fresh(), BASE)
    scene = project.scenes[1]
    mine = replace(scene.shots[1], prompt="my own prompt")
    project = replace(project, scenes=(project.scenes[0], replace(scene, shots=(scene.shots[0], mine)),
                                       project.scenes[2]))  # fmt: skip
    edited = script(BASE.scenes[0], replace(BASE.scenes[1], heading="EXT. STREET - NIGHT"), BASE.scenes[2])
    after, _ = imported(project, edited)
    street = after.scenes[1]
    assert "night" in street.shots[0].prompt.lower() and "daylight" not in street.shots[0].prompt.lower()
    assert street.shots[1].prompt == "my own prompt"


def test_a_dropped_shot_someone_worked_on_stays_in_its_place():
    doc = script(sc("INT. HALL", "One.", "Two.", "Three."))
    project, _ = imported(fresh(), doc)
    project = retime(project, 0, 1, 99)  # "Two." retimed: that is work
    after, _ = imported(project, script(sc("INT. HALL", "One!", "Three.")))
    assert [s.action for s in after.scenes[0].shots] == ["One!", "Two.", "Three."]
    dup = replace(after.scenes[0].shots[2], id=new_id(), script_key="", script_fields="")  # a hand-made copy
    project = replace(after, scenes=(replace(after.scenes[0], shots=after.scenes[0].shots + (dup,)),))
    again, _ = imported(project, script(sc("INT. HALL", "One!")))
    assert [s.action for s in again.scenes[0].shots] == ["One!", "Two.", "Three."]  # the copy stays


def test_reordering_scenes_in_the_script_reorders_the_project_and_says_so():
    project, _ = imported(fresh(), BASE)
    preview = preview_import(project, script(BASE.scenes[1], BASE.scenes[0], BASE.scenes[2]))
    assert preview.changed and preview.reordered
    assert [s.id for s in preview.scenes] == [project.scenes[i].id for i in (1, 0, 2)]
    assert any("order" in line for line in preview.report())


def test_importing_the_same_script_again_is_not_a_change():
    project, _ = imported(fresh(), BASE)
    hand_made = Scene(new_id(), "INT. VAN - NIGHT", shots=(Shot(new_id(), "X1", 24),))
    project = replace(project, scenes=project.scenes + (hand_made,))
    preview = preview_import(project, BASE)
    assert not preview.changed and preview.scenes == project.scenes


def test_letters_never_run_out():
    from itertools import islice

    from app.script.numbers import _letters

    names = list(islice(_letters(), 26 * 40 + 2))
    assert names[:3] == ["A", "B", "C"] and names[25:28] == ["Z", "ZA", "ZB"] and names[-1] == "Z" * 40 + "B"
    assert names == sorted(names) and len(set(names)) == len(names)  # in order as they sort, never twice


def test_continuous_scenes_keep_the_light_of_the_scene_before_even_a_later_one():
    doc = script(sc("EXT. YARD - NIGHT", "Owls."), sc("EXT. PARK - DAY - LATER", "Kids play."),
                 sc("EXT. STREET - CONTINUOUS", "A van waits."))  # fmt: skip
    project, _ = imported(fresh(), doc)
    street = project.scenes[2].shots[0].prompt.lower()
    assert "daylight" in street and "night" not in street


def test_new_shots_are_numbered_where_they_stand():
    from app.script.numbers import shot_number_key

    project, _ = imported(fresh(), BASE)  # 1A 1B | 2A 2B | 3A
    kitchen = BASE.scenes[0]
    new = [ScriptShot(action=a) for a in ("A cat on the counter.", "Milk spills.", "Anna wipes it up.")]
    edited = script(
        replace(kitchen, shots=(new[0], kitchen.shots[0], new[1], kitchen.shots[1], new[2])),
        sc("EXT. STREET - DAY", "A bus passes.", "A cyclist swerves.", "A dog barks.", "Rain starts."),
        sc("EXT. ROOF - NIGHT", "Pigeons scatter."),  # a new scene between two old ones
        sc("INT. KITCHEN - NIGHT", "Anna comes back."),
    )  # fmt: skip
    after, _ = imported(project, edited)
    numbers = [s.number for s in after.shots()]
    assert [[s.number for s in scene.shots] for scene in after.scenes] == [
        ["1", "1A", "1AA", "1B", "1C"],  # before 1A; between 1A and 1B; after 1B
        ["2A", "2AA", "2AB", "2B"],
        ["2C"],  # the new scene's shot: after 2B, before 3A
        ["3A"],
    ]
    assert numbers == sorted(numbers, key=shot_number_key)
    assert len(set(numbers)) == len(numbers)
    # Shot lists keep the numbers a person gave them; a first import letters scenes in order.
    assert shot_number_key("12") < shot_number_key("12A") < shot_number_key("12AA") < shot_number_key("12B")
    assert shot_number_key("9Z") < shot_number_key("10A") and shot_number_key("1Z") < shot_number_key("1ZA")


def test_a_first_import_of_a_long_scene_is_numbered_in_sort_order():
    from app.script.numbers import shot_number_key

    long = sc("INT. HALL - DAY", *(f"Shot {i} happens." for i in range(30)))
    project, _ = imported(fresh(), script(long))
    numbers = [s.number for s in project.shots()]
    assert numbers[25:28] == ["1Z", "1ZA", "1ZB"]
    assert numbers == sorted(numbers, key=shot_number_key)


def test_a_pinned_shot_whose_text_changed_is_kept_and_reported():
    project, _ = imported(fresh(), BASE)
    project = pin_first_shot(project, 0)  # 1A: pinned (and retimed)
    project = pin_first_shot(project, 1)  # 2A: pinned, its text stays
    pinned = project.scenes[0].shots[0]
    edited = script(
        sc("INT. KITCHEN - NIGHT", "Anna slams the fridge shut.", "The light flickers.",
           dialogue=(DialogueLine("ANNA", "Who's there?"),)),
        sc("EXT. STREET - DAY", "A bus passes.", "Rain starts heavily."),
        BASE.scenes[2],
    )  # fmt: skip
    preview = preview_import(project, edited)
    assert preview.pinned_changed == ("1A",)
    assert "shot 1A is pinned and its text changed: check its keyframes" in preview.report()
    after, _ = imported(project, edited)
    shot = after.scenes[0].shots[0]
    assert shot.id == pinned.id and shot.pins == pinned.pins and shot.keyframe_takes == pinned.keyframe_takes
    assert shot.duration == pinned.duration and shot.action == "Anna slams the fridge shut."
    # A heading change is a text change for every pinned shot in the scene; several are listed together.
    project = pin_first_shot(after, 2)
    renamed = script(replace(edited.scenes[0], heading="INT. KITCHEN - DAWN"), edited.scenes[1],
                     replace(edited.scenes[2], heading="INT. KITCHEN - DAWN"))  # fmt: skip
    preview = preview_import(project, renamed)
    assert preview.pinned_changed == ("1A", "3A")
    assert "shots 1A, 3A are pinned and their text changed: check their keyframes" in preview.report()


def test_a_pinned_shot_keeps_its_length_when_new_text_would_end_it_before_a_pin():
    project, _ = imported(fresh(), BASE)
    scene = project.scenes[0]
    shot = scene.shots[1]  # the light flickers, and Anna speaks
    take = KeyframeTake(new_id(), MediaRef("ab" * 32, "png"), 64, 36)
    pinned = replace(shot, keyframe_takes=(take,), pins=(Pin(shot.duration - 1, take.id),))
    pinned = replace(pinned, script_fields=field_prints(pinned))  # as imported: nothing retimed
    project = replace(project, scenes=(replace(scene, shots=(scene.shots[0], pinned)), *project.scenes[1:]))
    edited = script(sc("INT. KITCHEN - NIGHT", "Anna opens the fridge.", "The light flickers."), *BASE.scenes[1:])
    after, _ = imported(project, edited)  # the shorter text alone would end the shot before its pin
    kept = after.scenes[0].shots[1]
    assert (kept.id, kept.duration, kept.pins, kept.dialogue) == (shot.id, shot.duration, pinned.pins, "")
