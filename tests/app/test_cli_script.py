"""`pinframe import-script`: a screenplay into a project, re-imported after edits, bad files refused."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from app.bundle import Bundle
from app.cli import main
from app.document import KeyframeTake, Pin, new_id
from app.media_ref import MediaRef

SCRIPTS = Path(__file__).resolve().parents[1] / "data" / "scripts"


def load(path: Path):
    bundle, project, _ = Bundle.open(path, readonly=True)
    bundle.close()
    return project


def test_import_then_reimport_an_edited_script(tmp_path, capsys):
    film = tmp_path / "Film.pinframe"
    assert main(["new", str(film), "--fps", "24"]) == 0
    script = tmp_path / "last train.fountain"
    shutil.copy(SCRIPTS / "last_train.fountain", script)
    assert main(["import-script", str(film), str(script)]) == 0
    out = capsys.readouterr().out
    assert "2 new" in out
    project = load(film)
    assert [s.heading for s in project.scenes] == ["EXT. STATION PLATFORM - NIGHT", "INT. WAITING ROOM - CONTINUOUS"]
    assert all(shot.duration >= 24 and shot.prompt for shot in project.shots())
    assert project.scenes[0].shots[0].number == "1A"

    # The director pins a keyframe in scene 1 and retimes it; the writer then edits scene 2 only.
    bundle, project, _ = Bundle.open(film)
    shot = project.scenes[0].shots[0]
    take = KeyframeTake(new_id(), MediaRef("ef" * 32, "png"), 64, 36)
    worked = replace(shot, keyframe_takes=(take,), pins=(Pin(3, take.id),), duration=shot.duration + 12)
    scene1 = replace(project.scenes[0], shots=(worked,) + project.scenes[0].shots[1:])
    bundle.save(replace(project, scenes=(scene1,) + project.scenes[1:]))
    bundle.close()
    text = script.read_text(encoding="utf-8")
    script.write_text(text.replace("Every line reads CANCELLED.", "Every line reads DELAYED."), encoding="utf-8")

    assert main(["import-script", str(film), str(script), "--dry-run"]) == 0
    assert "1 changed" in capsys.readouterr().out
    assert load(film).scenes[1].shots == project.scenes[1].shots  # a dry run changes nothing

    assert main(["import-script", str(film), str(script)]) == 0
    after = load(film)
    assert after.scenes[0].shots[0] == worked  # pins, takes and retiming survive the re-import
    assert any("DELAYED" in s.action for s in after.scenes[1].shots)
    assert not any("CANCELLED" in s.action for s in after.scenes[1].shots)


def test_a_bad_script_changes_nothing_and_says_why(tmp_path, capsys):
    film = tmp_path / "Film.pinframe"
    assert main(["new", str(film)]) == 0
    before = load(film)
    bad = tmp_path / "notes.fountain"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    assert main(["import-script", str(film), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "notes.fountain" in err and "Traceback" not in err
    assert load(film) == before


def test_a_shortest_shot_longer_than_the_longest_is_refused(tmp_path, capsys):
    film = tmp_path / "Film.pinframe"
    assert main(["new", str(film)]) == 0
    before = load(film)
    script = SCRIPTS / "last_train.fountain"
    assert main(["import-script", str(film), str(script), "--min-seconds", "45"]) == 1
    err = capsys.readouterr().err
    assert "--min-seconds 45 is out of range; give more than 0 and at most 30 seconds" in err
    assert load(film) == before
    assert main(["import-script", str(film), str(script), "--min-seconds", "30", "--dry-run"]) == 0
