"""The document's invariants, every edit command, and unlimited undo/redo (no Qt)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from app import commands as C
from app.document import Camera, ClipTake, KeyframeTake, Pin, Project, Scene, Shot, new_id
from app.errors import EditError
from app.history import History
from app.media_ref import MediaRef
from app.render_inputs import shot_inputs_hash
from app.timecode import FrameRate


def ref(n: int) -> MediaRef:
    return MediaRef(f"{n:064x}", "png")


def take(n: int) -> KeyframeTake:
    return KeyframeTake(new_id(), ref(n), 64, 36)


def shot_with_pins(frames: list[int], duration: int = 48, number: str = "1") -> Shot:
    takes = tuple(take(i + 1) for i in range(len(frames)))
    return Shot(
        new_id(),
        number,
        duration,
        keyframe_takes=takes,
        pins=tuple(Pin(f, t.id) for f, t in zip(frames, takes, strict=True)),
    )


def one_shot_project(shot: Shot) -> Project:
    return Project("P", FrameRate(24), scenes=(Scene(new_id(), "S", shots=(shot,)),))


# --- invariants ---------------------------------------------------------------------------
def test_pin_outside_shot_is_refused():
    t = take(1)
    with pytest.raises(EditError, match="outside the shot"):
        Shot(new_id(), "1", 10, keyframe_takes=(t,), pins=(Pin(10, t.id),))


def test_two_pins_on_one_frame_are_refused():
    t = take(1)
    with pytest.raises(EditError, match="distinct frames"):
        Shot(new_id(), "1", 10, keyframe_takes=(t,), pins=(Pin(3, t.id), Pin(3, t.id)))


def test_pin_must_show_a_take_of_its_shot():
    with pytest.raises(EditError, match="doesn't have"):
        Shot(new_id(), "1", 10, pins=(Pin(0, "nope"),))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": "HUGE"}, "shot size"),
        ({"angle": "sideways"}, "camera angle"),
        ({"lens_mm": 0}, "lens"),
    ],
)
def test_camera_values_are_checked(kwargs, message):
    with pytest.raises(EditError, match=message):
        Camera(**kwargs)


@pytest.mark.parametrize("size", [(1921, 1080), (8, 8), (10000, 1080)])
def test_project_resolution_is_checked(size):
    with pytest.raises(EditError, match="resolution"):
        Project("P", FrameRate(24), width=size[0], height=size[1])


def test_drop_frame_needs_an_ntsc_rate():
    with pytest.raises(EditError, match="drop-frame"):
        Project("P", FrameRate(25), drop_frame=True)
    assert Project("P", FrameRate(30000, 1001), drop_frame=True).drop_frame


def test_running_time_and_shot_start(project):
    shots = list(project.shots())
    assert project.running_time == sum(s.duration for s in shots)
    assert project.shot_start(shots[2].id) == shots[0].duration + shots[1].duration


# --- retiming and pins --------------------------------------------------------------------
def test_shortening_moves_last_outside_pin_to_new_end_and_drops_others():
    shot = shot_with_pins([0, 20, 40, 47], duration=48)
    h = History(one_shot_project(shot))
    h.do(C.retime_shot(h.project, shot.id, 30))
    after = h.project.shot(shot.id)
    assert after.duration == 30
    # 0 and 20 still fit; of 40 and 47 the last (47's take) lands on frame 29; 40 is unpinned.
    assert [(p.frame, p.take_id) for p in after.pins] == [
        (0, shot.pins[0].take_id),
        (20, shot.pins[1].take_id),
        (29, shot.pins[3].take_id),
    ]
    # The unpinned take stays in the history: nothing is lost.
    assert {t.id for t in after.keyframe_takes} == {t.id for t in shot.keyframe_takes}
    h.undo()
    assert h.project.shot(shot.id) == shot


def test_shortening_keeps_existing_pin_on_new_last_frame():
    shot = shot_with_pins([0, 29, 40], duration=48)
    h = History(one_shot_project(shot))
    h.do(C.retime_shot(h.project, shot.id, 30))
    assert [p.frame for p in h.project.shot(shot.id).pins] == [0, 29]
    assert C.unpinned_by_retime(one_shot_project(shot), shot.id, 30) == [shot.pins[2]]


def test_trimming_head_shifts_pins_and_mirrors_the_rule():
    shot = shot_with_pins([2, 5, 30], duration=40)
    h = History(one_shot_project(shot))
    h.do(C.retime_shot(h.project, shot.id, 30, edge="head"))  # 10 frames off the start
    after = h.project.shot(shot.id)
    # 2 and 5 fall off the head: the first one (2, the opening pose) lands on frame 0; 30 shifts to 20.
    assert [(p.frame, p.take_id) for p in after.pins] == [(0, shot.pins[0].take_id), (20, shot.pins[2].take_id)]
    h.do(C.retime_shot(h.project, shot.id, 35, edge="head"))  # extend the head by 5
    assert [p.frame for p in h.project.shot(shot.id).pins] == [5, 25]


def test_lengthening_keeps_pins_where_they_are():
    shot = shot_with_pins([0, 47])
    h = History(one_shot_project(shot))
    h.do(C.retime_shot(h.project, shot.id, 96))
    assert [p.frame for p in h.project.shot(shot.id).pins] == [0, 47]


def test_retime_to_zero_is_refused_and_changes_nothing():
    shot = shot_with_pins([0])
    h = History(one_shot_project(shot))
    with pytest.raises(EditError, match="at least 1 frame"):
        h.do(C.retime_shot(h.project, shot.id, 0))
    assert not h.can_undo and h.project.shot(shot.id) == shot


def test_set_move_and_remove_pins():
    shot = shot_with_pins([0, 10])
    h = History(one_shot_project(shot))
    t0, t1 = (p.take_id for p in shot.pins)
    h.do(C.set_pin(h.project, shot.id, 10, t0))  # replaces the pin on frame 10
    assert h.project.shot(shot.id).pin_at(10).take_id == t0
    assert h.undo_label == "Replace Pin"
    with pytest.raises(EditError, match="already has a pin"):
        C.move_pin(h.project, shot.id, 0, 10)
    with pytest.raises(EditError, match="outside shot"):
        C.move_pin(h.project, shot.id, 0, 48)
    h.do(C.move_pin(h.project, shot.id, 0, 5))
    h.do(C.remove_pin(h.project, shot.id, 10))
    assert [p.frame for p in h.project.shot(shot.id).pins] == [5]
    for _ in range(3):
        h.undo()
    assert h.project.shot(shot.id) == shot
    assert h.project.shot(shot.id).pin_at(10).take_id == t1


def test_dragging_a_pin_is_one_undo_step():
    shot = shot_with_pins([0])
    h = History(one_shot_project(shot))
    for frame in range(1, 20):
        h.do(C.move_pin(h.project, shot.id, frame - 1, frame, merge=True))
    h.close_merge()
    h.do(C.move_pin(h.project, shot.id, 19, 30, merge=True))
    assert h.project.shot(shot.id).pins[0].frame == 30
    h.undo()
    assert h.project.shot(shot.id).pins[0].frame == 19
    h.undo()
    assert h.project.shot(shot.id).pins[0].frame == 0
    assert not h.can_undo


def test_typing_in_one_field_merges_but_another_field_does_not():
    shot = shot_with_pins([])
    h = History(one_shot_project(shot))
    for text in ("a", "ab", "abc"):
        h.do(C.set_shot_fields(h.project, shot.id, prompt=text))
    h.do(C.set_shot_fields(h.project, shot.id, notes="n"))
    h.undo()
    assert h.project.shot(shot.id).prompt == "abc"
    h.undo()
    assert h.project.shot(shot.id).prompt == ""


def test_set_shot_fields_refuses_structural_fields():
    shot = shot_with_pins([0])
    with pytest.raises(EditError, match="can't be set"):
        C.set_shot_fields(one_shot_project(shot), shot.id, duration=3)


def test_removing_a_keyframe_take_removes_its_pins_and_undo_restores_both():
    shot = shot_with_pins([0, 10])
    h = History(one_shot_project(shot))
    h.do(C.remove_keyframe_take(h.project, shot.id, shot.pins[0].take_id))
    assert [p.frame for p in h.project.shot(shot.id).pins] == [10]
    h.undo()
    assert h.project.shot(shot.id) == shot


# --- shots and scenes ---------------------------------------------------------------------
def test_add_shot_numbers_like_a_storyboard(project):
    h = History(project)
    scene = h.project.scenes[0]
    h.do(C.add_shot(h.project, scene.id))  # appended: one past the highest number
    assert h.project.scenes[0].shots[-1].number == "4"
    h.do(C.add_shot(h.project, scene.id, 1))  # between 1 and 2
    h.do(C.add_shot(h.project, scene.id, 2))  # between 1A and 2
    assert [s.number for s in h.project.scenes[0].shots] == ["1", "1A", "1B", "2", "4"]


def test_duplicate_gets_fresh_ids_and_repointed_pins(project):
    h = History(project)
    original = h.project.scenes[0].shots[0]
    h.do(C.duplicate_shots(h.project, [original.id]))
    copy = h.project.scenes[0].shots[1]
    assert copy.id != original.id and copy.number == "1A"
    assert copy.keyframe_takes[0].id != original.keyframe_takes[0].id
    assert copy.keyframe_takes[0].image == original.keyframe_takes[0].image
    assert copy.pins[0].take_id == copy.keyframe_takes[0].id


def test_move_shots_between_scenes_keeps_their_order(project):
    h = History(project)
    s1, s2 = h.project.scenes
    ids = [s1.shots[1].id, s1.shots[0].id]
    h.do(C.move_shots(h.project, ids, s2.id, 0))
    assert [s.number for s in h.project.scenes[1].shots] == ["1", "2", "3"]
    assert h.project.scenes[0].shots == ()
    h.undo()
    assert h.project == project


def test_moving_a_selection_past_its_neighbours_keeps_it_together():
    shots = tuple(Shot(new_id(), n, 10) for n in "abcde")
    p = Project("P", FrameRate(24), scenes=(Scene(new_id(), "S", shots=shots),))
    h = History(p)
    h.do(C.move_shots(h.project, [shots[1].id, shots[2].id], p.scenes[0].id, 2))  # after d, among a, d, e
    assert [s.number for s in h.project.shots()] == ["a", "d", "b", "c", "e"]
    h.undo()
    assert h.project == p


def test_remove_and_reorder_scenes(project):
    h = History(project)
    second = h.project.scenes[1].id
    h.do(C.move_scene(h.project, second, 0))
    assert h.project.scenes[0].id == second
    h.do(C.remove_scene(h.project, second))
    assert [s.number for s in h.project.shots()] == ["1", "2"]
    h.do(C.set_scene_fields(h.project, h.project.scenes[0].id, heading="EXT. STREET - DAY"))
    assert h.project.scenes[0].heading == "EXT. STREET - DAY"
    while h.undo():
        pass
    assert h.project == project


def test_project_settings_change_rate_and_drop_frame():
    h = History(Project("P", FrameRate(30000, 1001), drop_frame=True))
    h.do(C.set_project_settings(h.project, rate="25"))
    assert h.project.rate == FrameRate(25) and not h.project.drop_frame
    with pytest.raises(EditError, match="resolution"):
        C.set_project_settings(h.project, width=1921)
    h.undo()
    assert h.project.drop_frame


def test_audio_clips(project):
    h = History(project)
    h.do(C.add_audio(h.project, MediaRef("cd" * 32, "wav"), 24, "temp score", -6.0))
    clip = h.project.audio[0]
    h.do(C.move_audio(h.project, clip.id, 48))
    h.do(C.set_audio_gain(h.project, clip.id, -3.0))
    assert (h.project.audio[0].start, h.project.audio[0].gain_db) == (48, -3.0)
    with pytest.raises(EditError, match="gain"):
        C.set_audio_gain(h.project, clip.id, 40.0)
    h.do(C.remove_audio(h.project, clip.id))
    assert h.project.audio == ()
    while h.undo():
        pass
    assert h.project == project


# --- staleness ----------------------------------------------------------------------------
def test_clip_goes_stale_when_its_inputs_change_and_back_on_undo(project):
    h = History(project)
    shot = h.project.scenes[0].shots[0]
    clip = ClipTake(
        new_id(), MediaRef("ef" * 32, "mov"), shot_inputs_hash(shot, h.project), shot.duration, backend="flow"
    )
    h.do(C.add_clip_take(h.project, shot.id, clip))
    current = lambda: h.project.shot(shot.id)  # noqa: E731
    assert not h.project.is_stale(current())

    h.do(C.set_shot_fields(h.project, shot.id, notes="only a note", action="and action", number="1X"))
    assert not h.project.is_stale(current()), "notes, action and number don't change the pixels"

    for make in (
        lambda: C.set_shot_fields(h.project, shot.id, prompt="a different prompt"),
        lambda: C.move_pin(h.project, shot.id, 0, 5),
        lambda: C.retime_shot(h.project, shot.id, 60),
        lambda: C.set_shot_fields(h.project, shot.id, camera=Camera("CU")),
        lambda: C.set_project_settings(h.project, rate="25"),
        lambda: C.set_project_settings(h.project, width=1280, height=720),
    ):
        h.do(make())
        assert h.project.is_stale(current())
        h.undo()
        assert not h.project.is_stale(current())


def test_set_current_clip_checks_the_take(project):
    shot = project.scenes[0].shots[0]
    with pytest.raises(EditError, match="no clip take"):
        C.set_current_clip(project, shot.id, "missing")


def test_relink_replaces_every_use(project):
    h = History(project)
    old = project.scenes[0].shots[0].keyframe_takes[0].image
    h.do(C.relink_media(h.project, old, ref(99)))
    assert h.project.scenes[0].shots[0].keyframe_takes[0].image == ref(99)
    assert old not in h.project.media_refs()
    with pytest.raises(EditError, match="no take"):
        C.relink_media(h.project, old, ref(98))


# --- unlimited undo/redo over random edits ------------------------------------------------
def random_command(rng: random.Random, p: Project):
    shots = list(p.shots())
    choice = rng.randrange(11)
    scene = rng.choice(p.scenes)
    if choice == 0 or not shots:
        return C.add_shot(p, scene.id, rng.randrange(-1, len(scene.shots) + 1), duration=rng.randrange(1, 100))
    shot = rng.choice(shots)
    if choice == 1:
        return C.retime_shot(p, shot.id, rng.randrange(1, 120), edge=rng.choice(["head", "tail"]))
    if choice == 2:
        t = take(rng.randrange(10**6))
        return C.add_keyframe_take(p, shot.id, t, pin_frame=rng.randrange(shot.duration))
    if choice == 3 and shot.pins:
        pin = rng.choice(shot.pins)
        free = [f for f in range(shot.duration) if shot.pin_at(f) is None]
        if free:
            return C.move_pin(p, shot.id, pin.frame, rng.choice(free))
    if choice == 4 and shot.pins:
        return C.remove_pin(p, shot.id, rng.choice(shot.pins).frame)
    if choice == 5:
        return C.set_shot_fields(p, shot.id, prompt=f"prompt {rng.random()}", dialogue="line")
    if choice == 6:
        target = rng.choice(p.scenes)
        return C.move_shot(p, shot.id, target.id, rng.randrange(len(target.shots) + 1))
    if choice == 7 and len(shots) > 1:
        return C.remove_shots(p, [shot.id])
    if choice == 8:
        return C.duplicate_shots(p, [shot.id])
    if choice == 9:
        return C.add_scene(p, rng.randrange(len(p.scenes) + 1), heading="INT. NEW")
    return C.set_shot_fields(p, shot.id, camera=Camera(rng.choice(["", "WS", "CU"]), lens_mm=rng.choice([None, 35.0])))


def test_random_edits_undo_to_the_start_and_redo_to_the_end(project):
    rng = random.Random(1234)
    h = History(project)
    states = [h.project]
    for _ in range(300):
        h.do(random_command(rng, h.project))
        h.close_merge()  # typing merges are tested above; here every edit is its own step
        states.append(h.project)
    for expected in reversed(states[:-1]):
        assert h.undo()
        assert h.project == expected
    assert not h.undo()
    for expected in states[1:]:
        assert h.redo()
        assert h.project == expected
    assert not h.redo()


def test_a_new_edit_clears_redo(project):
    h = History(project)
    shot = project.scenes[0].shots[0]
    h.do(C.set_shot_fields(h.project, shot.id, notes="x"))
    h.undo()
    assert h.can_redo
    h.do(C.set_shot_fields(h.project, shot.id, dialogue="y"))
    assert not h.can_redo


def test_listeners_hear_every_change(project):
    h = History(project)
    heard = []
    h.add_listener(lambda p, rev, label: heard.append((rev, label)))
    shot = project.scenes[0].shots[0]
    h.do(C.retime_shot(h.project, shot.id, 10))
    h.undo()
    h.redo()
    assert heard == [(1, "Retime Shot 1"), (2, "Undo Retime Shot 1"), (3, "Redo Retime Shot 1")]


def test_shot_ids_stay_unique_in_a_project(project):
    shot = project.scenes[0].shots[0]
    from app.edits import InsertShot

    with pytest.raises(EditError, match="already exists"):
        InsertShot(project.scenes[1].id, 0, replace(shot, number="9")).apply(project)
